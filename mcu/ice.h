/* ice.h: McuIce, one libnice agent for one peer: full ICE (RFC 8445/5245), one
 * stream with one component (rtcp-mux and BUNDLE put everything on one transport),
 * trickle both ways, ICE restart, and consent freshness (RFC 7675) with a
 * configurable expiry. Everything runs on the GMainContext given at creation. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _McuIce McuIce;

typedef enum
{
  MCU_ICE_STATE_NEW,
  MCU_ICE_STATE_CHECKING,  /* gathering or connectivity checks running */
  MCU_ICE_STATE_CONNECTED, /* a pair is selected and consent holds */
  MCU_ICE_STATE_FAILED,    /* checks failed, or consent expired */
  MCU_ICE_STATE_CLOSED,
  /* connected, but nothing authenticated came for a third of the consent timeout;
   * back to CONNECTED on the next authenticated packet */
  MCU_ICE_STATE_DISCONNECTED,
} McuIceState;

const char *mcu_ice_state_name (McuIceState state);

/* Read when mcu_ice_new() runs; strings are copied. */
typedef struct
{
  gboolean controlling; /* TRUE: we nominate (node-to-node dialer); browsers control */
  /* NULL-terminated IP addresses to gather host candidates on; NULL = every
   * interface libnice finds. Tests pass { "127.0.0.1", NULL }. */
  const char *const *local_addresses;
  const char *stun_server; /* IP address (libnice does not resolve names), or NULL */
  guint stun_port;         /* 0 = 3478 */
  const char *turn_server; /* IP address, or NULL */
  guint turn_port;         /* 0 = 3478; UDP relay */
  const char *turn_username, *turn_password;
  /* Use TURN relayed candidates only (a browser's iceTransportPolicy "relay"): for
   * sites whose policy forbids direct paths, and for testing TURN. */
  gboolean relay_only;
  /* Consent freshness: the session ends when nothing authenticated arrived from
   * the peer for this long. 0 = 30000 (RFC 7675). */
  guint consent_timeout_ms;
} McuIceConfig;

/* A callback table; all members may be NULL. Called on the agent's context. */
typedef struct
{
  /* One new local candidate, as an SDP attribute value "candidate:..." (no "a="). */
  void (*local_candidate) (McuIce *ice, const char *candidate, gpointer user_data);
  void (*gathering_done) (McuIce *ice, gpointer user_data);
  void (*state_changed) (McuIce *ice, McuIceState state, gpointer user_data);
  /* One datagram that is not STUN (libnice answers STUN itself). @buf is writable
   * and valid only during the call. Packet path: keep it cheap. */
  void (*receive) (McuIce *ice, guint8 *buf, gsize len, gpointer user_data);
} McuIceCallbacks;

/**
 * mcu_ice_new:
 * @context: (transfer none) (nullable): where the agent and the callbacks run, NULL =
 *   the global default context
 * @config: (transfer none): the settings, copied
 * @callbacks: (transfer none): copied
 * @user_data: passed to the callbacks
 * @error: MCU_ERROR_INVALID for an address that does not parse, MCU_ERROR_ICE when
 *   libnice refuses the stream
 *
 * Creates the agent (RFC 5245 compatibility, UPnP off, UDP only, keepalive
 * connectivity checks on) and its one stream. Nothing is sent until
 * mcu_ice_gather().
 * Returns: (transfer full) (nullable): the agent, free with mcu_ice_free().
 */
McuIce *mcu_ice_new (GMainContext *context, const McuIceConfig *config,
                     const McuIceCallbacks *callbacks, gpointer user_data,
                     GError **error);

/**
 * mcu_ice_free:
 * Closes the agent; no callback runs afterwards. NULL is accepted. TURN
 * allocations are released asynchronously on the agent's context, which must keep
 * being iterated until mcu_ice_pending_closes() is 0 (a daemon's shutdown waits
 * for that; the agent is freed then).
 */
void mcu_ice_free (McuIce *ice);

/** mcu_ice_pending_closes: Returns: agents freed whose close has not finished. */
guint mcu_ice_pending_closes (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuIce, mcu_ice_free)

/**
 * mcu_ice_gather:
 * Starts gathering; local_candidate then gathering_done callbacks follow.
 * Returns: FALSE with MCU_ERROR_ICE when libnice cannot start.
 */
gboolean mcu_ice_gather (McuIce *ice, GError **error);

/** mcu_ice_get_local_ufrag: Returns: (transfer none): our current ICE ufrag. */
const char *mcu_ice_get_local_ufrag (McuIce *ice);
/** mcu_ice_get_local_pwd: Returns: (transfer none): our current ICE password. */
const char *mcu_ice_get_local_pwd (McuIce *ice);

/**
 * mcu_ice_set_remote_credentials:
 * Returns: FALSE with MCU_ERROR_INVALID when @ufrag or @pwd is empty or refused.
 */
gboolean mcu_ice_set_remote_credentials (McuIce *ice, const char *ufrag, const char *pwd,
                                         GError **error);

/**
 * mcu_ice_add_remote_candidate:
 * @candidate: (transfer none): "candidate:..." with or without a leading "a="; an
 *   empty string means end-of-candidates (as mcu_ice_remote_gathering_done())
 *
 * Returns: FALSE with MCU_ERROR_INVALID for a line libnice cannot parse or a
 *   component other than 1. A TCP candidate is ignored (TRUE): we gather UDP only.
 */
gboolean mcu_ice_add_remote_candidate (McuIce *ice, const char *candidate,
                                       GError **error);

/** mcu_ice_remote_gathering_done: the peer sent end-of-candidates; checks may now
 * fail for good instead of waiting for more candidates. */
void mcu_ice_remote_gathering_done (McuIce *ice);

/**
 * mcu_ice_restart:
 * Generates new local credentials and restarts the checks (RFC 8445 section 9); the
 * caller signals the new ufrag/pwd to the peer and sets its new remote credentials.
 * Returns: FALSE with MCU_ERROR_ICE when libnice refuses.
 */
gboolean mcu_ice_restart (McuIce *ice, GError **error);

/** mcu_ice_get_state: Returns: the current state. */
McuIceState mcu_ice_get_state (McuIce *ice);

/**
 * mcu_ice_send:
 * Sends one datagram on the selected pair, from any thread. On a UDP pair that is
 * not a TURN relay it goes straight to the pair's socket (see ice.c), otherwise
 * through libnice. Packet path: no allocation.
 * Returns: TRUE when the datagram was handed to the kernel (or to libnice); FALSE
 * before a pair is selected, after failure, or when the socket would block.
 */
gboolean mcu_ice_send (McuIce *ice, const guint8 *buf, gsize len);

/* What became of the datagrams given to mcu_ice_send(), each counted once. */
typedef struct
{
  guint64 direct;        /* sent on the selected pair's socket */
  guint64 via_agent;     /* sent by libnice (TURN, or no direct target) */
  guint64 refused;       /* not connected: no pair, failed, restarting, closed */
  guint64 would_block;   /* direct: the socket's buffer was full (EAGAIN, ENOBUFS) */
  guint64 error;         /* direct: any other error of the kernel */
  guint64 agent_refused; /* libnice did not take it (no pair, would block, ...) */
} McuIceSendCounters;

/** mcu_ice_get_send_counters: @out: (out caller-allocates): a copy, from any
 * thread. */
void mcu_ice_get_send_counters (McuIce *ice, McuIceSendCounters *out);

typedef struct
{
  char local_type[8], remote_type[8];         /* "host", "srflx", "prflx", "relay" */
  char local_address[64], remote_address[64]; /* "IP:port" ("[IP]:port" for v6) */
} McuIcePair;

/**
 * mcu_ice_get_selected_pair:
 * @out: (out caller-allocates): filled when a pair is selected
 * Returns: TRUE when a pair is selected.
 */
gboolean mcu_ice_get_selected_pair (McuIce *ice, McuIcePair *out);

/**
 * mcu_ice_get_pair_types:
 * @local_type: (out) (optional) (transfer none): our candidate's type
 * @remote_type: (out) (optional) (transfer none): the peer's candidate's type
 *
 * The types of the selected pair as static strings: "host", "srflx", "prflx" or
 * "relay" ("" before a pair is selected). No copy, no allocation: cheap enough for
 * every statistics report.
 * Returns: TRUE when a pair is selected.
 */
gboolean mcu_ice_get_pair_types (McuIce *ice, const char **local_type,
                                 const char **remote_type);

/**
 * mcu_ice_consent_refresh:
 * Records evidence of the peer's consent: a packet that arrived on the selected
 * pair and passed authentication (a DTLS message or record that OpenSSL accepted
 * as part of our association, an SRTP or SRTCP packet whose tag verified). See ice.c for why this stands in for the
 * STUN responses of RFC 7675. Packet path: a clock read and a store.
 */
void mcu_ice_consent_refresh (McuIce *ice);

/**
 * mcu_ice_consent_age_ms:
 * Returns: milliseconds since the last consent evidence (0 before connecting).
 */
gint64 mcu_ice_consent_age_ms (McuIce *ice);

/**
 * mcu_ice_set_drop_incoming:
 * Test hook: while @drop is TRUE every received non-STUN datagram is discarded
 * before the receive callback, as if the peer had gone silent.
 */
void mcu_ice_set_drop_incoming (McuIce *ice, gboolean drop);

/** mcu_ice_get_consent_expired: Returns: TRUE when the FAILED state came from consent
 * expiry rather than failed checks. */
gboolean mcu_ice_get_consent_expired (McuIce *ice);

G_END_DECLS
