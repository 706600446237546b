/* node.h: McuNode, everything one lienthong-mcu process serves: its DTLS identity,
 * its echo sessions and meeting legs, the control channel to signald, and an optional
 * HTTP endpoint on loopback for echo tests without signald. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _McuNode McuNode;

/* Strings and arrays are copied by mcu_node_new(). */
typedef struct
{
  const char *state_dir;                 /* certificate and key live here */
  const char *node_id, *unit;            /* as registered with signald */
  guint capacity;                        /* sites, for signald's plans; 0 = 500 */
  const char *const *addresses;          /* ICE host addresses; NULL = all */
  const char *stun_server, *turn_server; /* IP addresses, or NULL */
  guint stun_port, turn_port;
  const char *turn_username, *turn_password;
  guint consent_timeout_ms; /* 0 = 30000 (RFC 7675) */
  guint opus_complexity;    /* of the mixers' encoders, 1-10; 0 = the mixer's default */
  gboolean
      no_retransmission; /* no rtx or NACKs in any leg (mcu_leg_set_retransmission) */
  /* where signald's record.start puts recordings, <dir>/<recording_id>/; NULL:
   * this node refuses to record */
  const char *recordings_dir;
} McuNodeConfig;

McuNode *mcu_node_new (GMainContext *context, const McuNodeConfig *config,
                       GError **error);
void mcu_node_free (McuNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuNode, mcu_node_free)

const char *mcu_node_get_fingerprint (McuNode *node);

typedef void (*McuNodeAnswerFunc) (const char *answer, const GError *error,
                                   gpointer user_data);

/**
 * mcu_node_echo_async:
 * @key: (nullable): replaces an earlier echo session with the same key (a site
 *   testing again); NULL for a new one
 * @offer: (transfer none): the site's SDP offer
 *
 * Starts an echo session and calls @callback with the SDP answer or an error.
 */
void mcu_node_echo_async (McuNode *node, const char *key, const char *offer,
                          McuNodeAnswerFunc callback, gpointer user_data);
guint mcu_node_n_echoes (McuNode *node);

/**
 * mcu_node_connect_signald:
 * @url: signald's base URL, "http://127.0.0.1:8480"
 * @token: a node token whose scope is this node's id
 *
 * Opens the control channel (signaling/PROTOCOL.md) and registers; redials with
 * backoff whenever it drops, while the legs keep running.
 */
gboolean mcu_node_connect_signald (McuNode *node, const char *url, const char *token,
                                   GError **error);
/* TRUE once signald has answered this node's registration. */
gboolean mcu_node_is_registered (McuNode *node);
guint mcu_node_n_legs (McuNode *node);

/**
 * mcu_node_listen_http:
 * @address: "127.0.0.1:0" style; port 0 picks a free port
 * @bound: (out) (transfer full) (optional): "127.0.0.1:PORT" actually bound
 *
 * Serves `POST /api/v1/echo` (body: an SDP offer, application/sdp; answer 201 with
 * the SDP answer) and `GET /healthz`. For tests and a site's "test my line" on a
 * node reached without signald; bind it to loopback.
 */
gboolean mcu_node_listen_http (McuNode *node, const char *address, char **bound,
                               GError **error);

G_END_DECLS
