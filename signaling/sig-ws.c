/* sig-ws.c: placeholder of the WebSocket side while it is written: no endpoint is
 * installed yet, so nothing subscribes, no node is up and no site is connected. */
#include "sig-ws.h"

struct _SigWs
{
  SigServer *server;
};

SigWs *
sig_ws_new (SigServer *server)
{
  SigWs *ws = g_new0 (SigWs, 1);
  ws->server = server;
  return ws;
}

void
sig_ws_free (SigWs *ws)
{
  g_free (ws);
}

void
sig_ws_publish (SigWs *ws, gint64 meeting_id, JsonNode *event)
{
}

guint
sig_ws_count_nodes_up (SigWs *ws)
{
  return 0;
}

guint
sig_ws_count_sites_connected (SigWs *ws)
{
  return 0;
}

gboolean
sig_ws_node_is_up (SigWs *ws, const char *node_id)
{
  return FALSE;
}
