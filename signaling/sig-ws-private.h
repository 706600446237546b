/* sig-ws-private.h: the WebSocket side's state, shared by sig-ws.c and
 * sig-cascade.c (meeting legs and cascade links). */
#pragma once

#include "sig-server-private.h"
#include "sig-ws-stream.h"
#include "sig-ws.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

typedef struct _SigWsClient WsClient;
struct _SigWsClient
{
  SigWs *ws;
  SoupWebsocketConnection *conn;
  SigWsStream *stream; /* what conn reads through: bounds a message's bytes */
  SigPrincipal *principal;
  GHashTable *subscriptions; /* gint64* meeting id set */
  char *node_id;             /* nodes: once registered */
  gint64 site_id;            /* sites: their own site, or 0 */
  gint64 joined_occurrence;  /* sites: the occurrence joined, or 0 */
  char *echo_node;           /* sites: the node running their echo test, or NULL */
  char *media_node;          /* sites: the node their join's offer went to, or NULL */
  gboolean revoked;          /* its credential was revoked or expired: closing */
  double bucket;             /* messages it may still send now (rate limit) */
  gint64 bucket_us;          /* when @bucket was last filled (monotonic) */
  gint64 limited_us;         /* when it was last told it is rate-limited */
};

/* A message handler: @type is the message's own (one handler may serve two). */
typedef gboolean (*SigWsHandler) (WsClient *c, JsonObject *o, const char *type,
                                  GError **error);

typedef struct
{
  char *id;
  WsClient *client; /* (nullable) while disconnected */
  gint64 last_heartbeat_us;
  gboolean up;
  char *fingerprint; /* as registered: signald vouches for it to the node's peers */
} NodeState;

struct _SigWs
{
  SigServer *server;
  GPtrArray *clients;       /* WsClient*, every open socket */
  GHashTable *subscribers;  /* meeting id (gint64*) -> GPtrArray of WsClient* */
  GHashTable *site_clients; /* site id (gint64*) -> GPtrArray of its WsClient* */
  GHashTable *nodes;        /* node id -> NodeState* */
  guint heartbeat_source;
  guint credential_source; /* expiry of open sockets' tokens, every second */
  GHashTable *legs;        /* occurrence id (gint64*) -> leg (sig-cascade.c) */
};

/* Sends one JSON message on a client's socket. */
void sig_ws_send_json (WsClient *c, JsonNode *node);

/* Sends @event (a meeting's event) to the sockets of @site_id joined to
 * @occurrence_id that are not subscribed to @meeting_id (those had it published). */
void sig_ws_tell_site (SigWs *ws, gint64 meeting_id, gint64 occurrence_id, gint64 site_id,
                       JsonNode *event);

/* The node hosting @site_id in @occurrence_id now: the node its join went to, else
 * the one a join would go to (sig_cascade_node_for_site); NULL when none is up. */
const char *sig_ws_site_node (SigWs *ws, gint64 occurrence_id, gint64 site_id);

/* sig-cascade.c */
void sig_cascade_init (SigWs *ws);
void sig_cascade_clear (SigWs *ws);
/* A node registered: legs without a plan yet are opened, its legs given again, its
 * children told to redial it, and a leg it is new to takes it when that only adds. */
void sig_cascade_node_up (SigWs *ws, const char *node_id);
/* A node went down: the floor is told again (its way may change with re-homing). */
void sig_cascade_node_down (SigWs *ws, const char *node_id);
void sig_cascade_dial (SigWs *ws, gint64 occurrence_id, const char *child);
/* The node hosting @site_id in an open leg: planned, or re-homed above it. */
const char *sig_cascade_node_for_site (SigWs *ws, gint64 occurrence_id, gint64 site_id);
gboolean sig_cascade_relay_link (SigWs *ws, const char *from, JsonObject *o,
                                 GError **error);
/* Keeps a node's endpoint.state, publishes it, redials a failed uplink and gives a
 * reconnected site its mute again. SIG_ERROR_BAD_REQUEST when fields are missing. */
gboolean sig_cascade_endpoint_state (SigWs *ws, const char *node_id, JsonObject *o,
                                     GError **error);
/* (nullable): the level pinned for @site_id, for its next site.offer. */
const char *sig_cascade_site_level (SigWs *ws, gint64 occurrence_id, gint64 site_id);
/* A site's offer went to @node_id: that node hosts the site in the leg from now on
 * (until another offer goes elsewhere), and the floor is told again when it is the
 * floor's. */
void sig_cascade_site_routed (SigWs *ws, gint64 occurrence_id, gint64 site_id,
                              const char *node_id);
/* Returns: %TRUE when the last offer of @site_id in the running leg of
 * @occurrence_id went to @node_id: the one node that may speak for that site. */
gboolean sig_cascade_node_hosts_site (SigWs *ws, gint64 occurrence_id,
                                      const char *node_id, gint64 site_id);
/* Returns: %TRUE when @node_id may report on @endpoint in the running leg of
 * @occurrence_id: "site:<id>" of a site it hosts, or "node:<id>" of its parent or
 * child in the leg's plan. Everything else a node says about is refused. */
gboolean sig_cascade_node_speaks_for (SigWs *ws, gint64 occurrence_id,
                                      const char *node_id, const char *endpoint);
/* Publishes {type, occurrence_id, site_id[, bool_name: value], meeting_id} to the
 * subscribers of the leg's meeting (hand, speaker); nothing without a leg. */
void sig_cascade_event (SigWs *ws, gint64 occurrence_id, const char *type, gint64 site_id,
                        const char *bool_name, gboolean value);
