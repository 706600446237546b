/* sig-ws-private.h: the WebSocket transport's state: its sockets and what it indexes
 * them by. Private to sig-ws.c (tests of the message table read SigWsMessage from
 * sig-ws.h). */
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

struct _SigWs
{
  SigServer *server;
  SigRuntime *rt;           /* what the sockets' messages drive; ws is its sink */
  GPtrArray *clients;       /* WsClient*, every open socket */
  GHashTable *subscribers;  /* meeting id (gint64*) -> GPtrArray of WsClient* */
  GHashTable *site_clients; /* site id (gint64*) -> GPtrArray of its WsClient* */
  GHashTable *node_clients; /* node id -> its current channel's WsClient* */
  guint credential_source;  /* expiry of open sockets' tokens, every second */
};

/* Sends @event (a meeting's event) to the sockets of @site_id joined to
 * @occurrence_id that are not subscribed to @meeting_id (those had it published). */
void sig_ws_tell_site (SigWs *ws, gint64 meeting_id, gint64 occurrence_id, gint64 site_id,
                       JsonNode *event);

/* The fuzz target's way in (tests/fuzz/fuzz-ws.c), no network: a socket of
 * @principal (taken) over @stream, as if its upgrade had just completed... */
WsClient *sig_ws_open_for_testing (SigWs *ws, SigPrincipal *principal, GIOStream *stream);
/* ...and one text message from it, taken as every message is, except for the rate
 * limit, which would drop nearly every input of a fuzzer. */
void sig_ws_receive_for_testing (WsClient *c, const guint8 *data, gsize len);
