/* sig-test-util.h: what the black-box suites of signald share besides the daemon
 * runner: the small unit list, booking and token helpers over HTTP, and WebSocket
 * peers (a dashboard, a site or a fake media node) driven from the test's main loop.
 * Every helper fails the test on an unexpected answer. */
#pragma once

#include "sig-test-daemon.h"

G_GNUC_UNUSED static const char tiny_csv[] = "code,name,tier,parent_code\n"
                                             "VN,Việt Nam,central,\n"
                                             "08,Tỉnh Tuyên Quang,province,VN\n"
                                             "070,Thành phố Tuyên Quang,district,08\n"
                                             "076,Huyện Sơn Dương,district,08\n"
                                             "02215,Phường Phan Thiết,commune,070\n"
                                             "02536,Thị trấn Sơn Dương,commune,076\n"
                                             "02539,Xã Trung Yên,commune,076\n"
                                             "10,Tỉnh Lào Cai,province,VN\n"
                                             "080,Thành phố Lào Cai,district,10\n"
                                             "02600,Phường Duyên Hải,commune,080\n";

#define DAY1 "2026-12-01T"
#define TZ "+07:00"

G_GNUC_UNUSED static void
import_tiny (SdDaemon *d)
{
  guint st;
  g_autofree char *r = sd_http_full (d, "POST", "/api/v1/units/import", d->admin,
                                     "text/csv", tiny_csv, -1, NULL, &st, NULL);
  ck_assert_msg (st == 200, "import: %u %s", st, r);
}

G_GNUC_UNUSED static char *
book (SdDaemon *d, const char *token, const char *title, const char *chair,
      const char *from, const char *to, const char *participants, const char *key,
      guint *status)
{
  g_autofree char *body = g_strdup_printf (
      "{\"title\":\"%s\",\"chair\":\"%s\",\"starts_at\":\"%s\",\"ends_at\":\"%s\","
      "\"participants\":%s}",
      title, chair, from, to, participants);
  g_autofree char *hdr = key ? g_strconcat ("Idempotency-Key: ", key, NULL) : NULL;
  const char *headers[] = { hdr, NULL };
  return sd_http_full (d, "POST", "/api/v1/meetings", token, NULL, body, -1,
                       key ? headers : NULL, status, NULL);
}

/* Creates a token through the API and returns its secret. */
G_GNUC_UNUSED static char *
make_token (SdDaemon *d, const char *role, const char *scope, const char *expires)
{
  g_autofree char *sc
      = scope ? g_strdup_printf (",\"scope\":\"%s\"", scope) : g_strdup ("");
  g_autofree char *ex
      = expires ? g_strdup_printf (",\"expires_at\":\"%s\"", expires) : g_strdup ("");
  g_autofree char *body = g_strdup_printf ("{\"role\":\"%s\"%s%s}", role, sc, ex);
  guint st;
  g_autofree char *r = sd_http (d, "POST", "/api/v1/tokens", d->admin, body, &st);
  ck_assert_msg (st == 201, "token %s: %u %s", body, st, r);
  g_autoptr (JsonNode) n = sd_json (r);
  return g_strdup (json_object_get_string_member (json_node_get_object (n), "token"));
}

/* Creates a node token for node @id serving @unit; returns its secret. */
G_GNUC_UNUSED static char *
make_node_token (SdDaemon *d, const char *id, const char *unit)
{
  g_autofree char *body = g_strdup_printf (
      "{\"role\":\"node\",\"scope\":\"%s\",\"unit\":\"%s\"}", id, unit);
  guint st;
  g_autofree char *r = sd_http (d, "POST", "/api/v1/tokens", d->admin, body, &st);
  ck_assert_msg (st == 201, "token %s: %u %s", body, st, r);
  g_autoptr (JsonNode) n = sd_json (r);
  return g_strdup (json_object_get_string_member (json_node_get_object (n), "token"));
}

G_GNUC_UNUSED static gint64
site_of (SdDaemon *d, const char *unit)
{
  guint st;
  g_autofree char *path = g_strconcat ("/api/v1/units/", unit, NULL);
  g_autofree char *r = sd_http (d, "GET", path, d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) n = sd_json (r);
  JsonArray *sites = json_object_get_array_member (json_node_get_object (n), "sites");
  ck_assert_uint_ge (json_array_get_length (sites), 1);
  return json_object_get_int_member (json_array_get_object_element (sites, 0), "id");
}

/* ---- WebSocket peers ---- */

typedef struct
{
  GMainLoop *loop;
  SoupWebsocketConnection *conn;
  GError *error;
  GQueue msgs; /* JsonNode* */
  gboolean closed;
} WsPeer;

G_GNUC_UNUSED static void
ws_connected_cb (GObject *src, GAsyncResult *res, gpointer data)
{
  WsPeer *p = data;
  p->conn = soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &p->error);
  g_main_loop_quit (p->loop);
}

G_GNUC_UNUSED static void
ws_message_cb (SoupWebsocketConnection *c, gint type, GBytes *msg, gpointer data)
{
  WsPeer *p = data;
  gsize n;
  const char *t = g_bytes_get_data (msg, &n);
  g_autofree char *text = g_strndup (t, n);
  g_queue_push_tail (&p->msgs, sd_json (text));
  g_main_loop_quit (p->loop);
}

G_GNUC_UNUSED static void
ws_closed_cb (SoupWebsocketConnection *c, gpointer data)
{
  WsPeer *p = data;
  p->closed = TRUE;
  g_main_loop_quit (p->loop);
}

/* Opens a WebSocket (token in the Authorization header); returns FALSE when the
 * handshake is refused. */
G_GNUC_UNUSED static gboolean
ws_open (WsPeer *p, SoupSession *session, SdDaemon *d, const char *path,
         const char *token, const char *origin)
{
  memset (p, 0, sizeof *p);
  g_queue_init (&p->msgs);
  p->loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *uri = g_strconcat (d->base, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", uri);
  if (token)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
      soup_message_headers_replace (soup_message_get_request_headers (msg),
                                    "Authorization", auth);
    }
  soup_session_websocket_connect_async (session, msg, origin, NULL, G_PRIORITY_DEFAULT,
                                        NULL, ws_connected_cb, p);
  g_main_loop_run (p->loop);
  if (p->conn == NULL)
    return FALSE;
  g_signal_connect (p->conn, "message", G_CALLBACK (ws_message_cb), p);
  g_signal_connect (p->conn, "closed", G_CALLBACK (ws_closed_cb), p);
  return TRUE;
}

/* Waits for the next message of @type (skipping others); NULL when closed first. */
G_GNUC_UNUSED static JsonNode *
ws_wait (WsPeer *p, const char *type)
{
  for (;;)
    {
      while (!g_queue_is_empty (&p->msgs))
        {
          JsonNode *n = g_queue_pop_head (&p->msgs);
          const char *t = json_object_get_string_member_with_default (
              json_node_get_object (n), "type", "");
          if (strcmp (t, type) == 0)
            return n;
          json_node_unref (n);
        }
      if (p->closed)
        return NULL;
      g_main_loop_run (p->loop);
    }
}

G_GNUC_UNUSED static void
ws_send (WsPeer *p, const char *text)
{
  soup_websocket_connection_send_text (p->conn, text);
}

G_GNUC_UNUSED static void
ws_close (WsPeer *p)
{
  if (p->conn)
    {
      if (soup_websocket_connection_get_state (p->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        {
          soup_websocket_connection_close (p->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
          while (!p->closed)
            g_main_loop_run (p->loop);
        }
      g_signal_handlers_disconnect_by_data (p->conn, p);
    }
  g_clear_object (&p->conn);
  g_clear_error (&p->error);
  g_queue_clear_full (&p->msgs, (GDestroyNotify)json_node_unref);
  g_main_loop_unref (p->loop);
}

/* Takes the first message of @type, leaving the others queued in order (a fake node
 * gets several kinds at once); waits for one; NULL when the socket closed first. */
G_GNUC_UNUSED static JsonNode *
ws_take (WsPeer *p, const char *type)
{
  for (;;)
    {
      for (GList *l = p->msgs.head; l != NULL; l = l->next)
        {
          const char *t = json_object_get_string_member_with_default (
              json_node_get_object (l->data), "type", "");
          if (strcmp (t, type) == 0)
            {
              JsonNode *n = l->data;
              g_queue_delete_link (&p->msgs, l);
              return n;
            }
        }
      if (p->closed)
        return NULL;
      g_main_loop_run (p->loop);
    }
}

/* How many messages of @type are queued now. */
G_GNUC_UNUSED static guint
ws_count (WsPeer *p, const char *type)
{
  guint n = 0;
  for (GList *l = p->msgs.head; l != NULL; l = l->next)
    n += strcmp (json_object_get_string_member_with_default (
                     json_node_get_object (l->data), "type", ""),
                 type)
         == 0;
  return n;
}

/* Makes sure every message signald sent this socket before now has arrived: one
 * socket is one ordered stream, so the answer to a message sent now comes after
 * them. A node's unknown type and a site's ping both get a prompt answer. */
G_GNUC_UNUSED static void
ws_barrier (WsPeer *p, gboolean node)
{
  ws_send (p, node ? "{\"type\":\"barrier\"}" : "{\"type\":\"ping\"}");
  for (;;)
    {
      JsonNode *n = ws_take (p, node ? "error" : "pong");
      ck_assert_ptr_nonnull (n);
      const char *msg = json_object_get_string_member_with_default (
          json_node_get_object (n), "message", "");
      gboolean mine = !node || strstr (msg, "barrier") != NULL;
      json_node_unref (n);
      if (mine)
        return;
    }
}

/* Member accessors that fail the test when the member is missing. */
G_GNUC_UNUSED static gint64
jint (JsonNode *n, const char *name)
{
  ck_assert_ptr_nonnull (n);
  JsonObject *o = json_node_get_object (n);
  ck_assert_msg (json_object_has_member (o, name), "no %s", name);
  return json_object_get_int_member (o, name);
}

G_GNUC_UNUSED static const char *
jstr (JsonNode *n, const char *name)
{
  ck_assert_ptr_nonnull (n);
  JsonObject *o = json_node_get_object (n);
  ck_assert_msg (json_object_has_member (o, name), "no %s", name);
  JsonNode *m = json_object_get_member (o, name);
  return JSON_NODE_HOLDS_NULL (m) ? NULL : json_node_get_string (m);
}

/* Drops every queued message of @type. */
G_GNUC_UNUSED static void
ws_drop (WsPeer *p, const char *type)
{
  while (ws_count (p, type) > 0)
    json_node_unref (ws_take (p, type));
}

/* A fake node @id serving @unit: its token made, its socket open, registered (its
 * fingerprint "sha-256 <id>"). */
G_GNUC_UNUSED static void
node_connect (SdDaemon *d, SoupSession *s, WsPeer *p, const char *id, const char *unit)
{
  g_autofree char *tok = make_node_token (d, id, unit);
  ck_assert (ws_open (p, s, d, "/api/v1/nodes/ws", tok, NULL));
  g_autofree char *reg = g_strdup_printf (
      "{\"v\":1,\"type\":\"register\",\"node_id\":\"%s\",\"unit\":\"%s\","
      "\"capacity\":50,\"fingerprint\":\"sha-256 %s\"}",
      id, unit, id);
  ws_send (p, reg);
  json_node_unref (ws_take (p, "registered"));
}
