/* sig-ws.h: the two WebSocket endpoints of signald: /api/v1/ws for sites and
 * dashboards, /api/v1/nodes/ws for media nodes (signaling/PROTOCOL.md). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "sig-server.h"

G_BEGIN_DECLS

typedef struct _SigWs SigWs;

/* One WebSocket message type signald takes: who may send it (SigRole bits) and its
 * handler (a SigWsHandler, private to sig-ws.c). */
typedef struct
{
  const char *type;
  guint roles;
  gpointer handler;
} SigWsMessage;

/* Returns: (transfer none): every message type, for the abuse suite's matrix. */
const SigWsMessage *sig_ws_messages_get (guint *n);

/* Returns: (transfer full): the WebSocket side of @server, its handlers installed. */
SigWs *sig_ws_new (SigServer *server);
void sig_ws_free (SigWs *ws);

/**
 * sig_ws_publish:
 * @meeting_id: the meeting the event is about
 * @event: (transfer none): the event object (its "type" set)
 *
 * Sends @event to every socket subscribed to @meeting_id.
 */
void sig_ws_publish (SigWs *ws, gint64 meeting_id, JsonNode *event);

/* Returns: the number of sites joined. */
guint sig_ws_count_sites_connected (SigWs *ws);

/* Returns: %TRUE when a socket of @site_id is open now (its hall page is open, joined
 * or not): the hall is there, ready to join. */
gboolean sig_ws_site_online (SigWs *ws, gint64 site_id);

/* A token was deleted: every socket opened with it is closed (1008) at once and
 * nothing it still sends is acted on. Returns: the number of sockets closed. */
guint sig_ws_revoke_token (SigWs *ws, const char *token_id);

/* A node was retired (its tokens deleted, its registration removed): its socket is
 * closed, its sites re-homed, and it is forgotten. */
void sig_ws_retire_node (SigWs *ws, const char *node_id);

G_END_DECLS
