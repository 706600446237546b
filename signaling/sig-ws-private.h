/* sig-ws-private.h: the WebSocket side's state, shared by sig-ws.c and
 * sig-cascade.c (meeting legs and cascade links). */
#pragma once

#include "sig-server-private.h"
#include "sig-ws.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

typedef struct
{
  SigWs *ws;
  SoupWebsocketConnection *conn;
  SigPrincipal *principal;
  GHashTable *subscriptions; /* gint64* meeting id set */
  char *node_id;             /* nodes: once registered */
  gint64 site_id;            /* sites: their own site, or 0 */
  gint64 joined_occurrence;  /* sites: the occurrence joined, or 0 */
  char *echo_node;           /* sites: the node running their echo test, or NULL */
} WsClient;

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
  GPtrArray *clients; /* WsClient*, every open socket */
  GHashTable *nodes;  /* node id -> NodeState* */
  guint heartbeat_source;
  GHashTable *legs;   /* occurrence id (gint64*) -> leg (sig-cascade.c) */
  GHashTable *redial; /* "occurrence:child" -> attempts, for uplink backoff */
};

/* Sends one JSON message on a client's socket. */
void sig_ws_send_json (WsClient *c, JsonNode *node);

/* sig-cascade.c */
void sig_cascade_init (SigWs *ws);
void sig_cascade_clear (SigWs *ws);
void sig_cascade_node_up (SigWs *ws, const char *node_id);
void sig_cascade_dial (SigWs *ws, gint64 occurrence_id, const char *child);
/* The node hosting @site_id in an open leg: planned, or re-homed above it. */
const char *sig_cascade_node_for_site (SigWs *ws, gint64 occurrence_id, gint64 site_id);
gboolean sig_cascade_relay_link (SigWs *ws, const char *from, JsonObject *o,
                                 GError **error);
/* The node @node dials in an open leg, or NULL. */
const char *sig_cascade_parent_of (SigWs *ws, gint64 occurrence_id, const char *node);
/* Whether the plan of an open leg puts @site_id on @node. */
gboolean sig_cascade_planned_on (SigWs *ws, gint64 occurrence_id, gint64 site_id,
                                 const char *node);
