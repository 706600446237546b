/* lt-ws-probe: opens one lienthong WebSocket (ws:// or wss://), waits for signald's
 * hello, sends a ping and waits for the pong. Used by the deploy suite to prove that
 * a TLS proxy in front of signald passes the upgrade and the frames both ways.
 *
 *   lt-ws-probe [--ca PEM] [--token T] [--origin O] URL
 *
 * With --ca the server certificate must chain to PEM and match the URL's host (no
 * "accept anything" shortcut). Prints one line per message received and, on a
 * refused handshake, "refused HTTP <status>". Exit status: 0 hello and pong seen,
 * 1 refused or failed, 2 usage.
 */
#include <gio/gio.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  GMainLoop *loop;
  SoupWebsocketConnection *conn;
  gboolean hello, pong;
  int rc;
} Probe;

static void
on_message (SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  Probe *p = data;
  gsize len = 0;
  const char *text = g_bytes_get_data (message, &len);
  g_print ("%.*s\n", (int)len, text);
  if (g_strstr_len (text, len, "\"type\":\"hello\"") && !p->hello)
    {
      p->hello = TRUE;
      soup_websocket_connection_send_text (conn, "{\"type\":\"ping\"}");
    }
  else if (g_strstr_len (text, len, "\"type\":\"pong\""))
    {
      p->pong = TRUE;
      p->rc = 0;
      soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    }
}

static void
on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  Probe *p = data;
  g_main_loop_quit (p->loop);
}

static void
on_connected (GObject *source, GAsyncResult *res, gpointer data)
{
  Probe *p = data;
  g_autoptr (GError) error = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), res);
  p->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), res, &error);
  if (p->conn == NULL)
    {
      guint status = msg ? soup_message_get_status (msg) : 0;
      if (status != 0 && status != SOUP_STATUS_SWITCHING_PROTOCOLS)
        g_print ("refused HTTP %u\n", status);
      else
        g_print ("failed: %s\n", error->message);
      g_main_loop_quit (p->loop);
      return;
    }
  g_signal_connect (p->conn, "message", G_CALLBACK (on_message), p);
  g_signal_connect (p->conn, "closed", G_CALLBACK (on_closed), p);
}

static gboolean
on_timeout (gpointer data)
{
  Probe *p = data;
  g_print ("failed: timed out (hello %s, pong %s)\n", p->hello ? "yes" : "no",
           p->pong ? "yes" : "no");
  g_main_loop_quit (p->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autofree char *ca = NULL, *token = NULL, *origin = NULL;
  int timeout_s = 10;
  GOptionEntry entries[]
      = { { "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, "Trust only this CA/certificate",
            "PEM" },
          { "token", 0, 0, G_OPTION_ARG_STRING, &token, "Bearer token", "TOKEN" },
          { "origin", 0, 0, G_OPTION_ARG_STRING, &origin,
            "Send this Origin, like a browser", "ORIGIN" },
          { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s, "Give up after (s)", "S" },
          { NULL } };
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("URL - lienthong WebSocket probe");
  g_autoptr (GError) error = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2)
    {
      g_printerr ("lt-ws-probe: %s\n", error ? error->message : "need one URL");
      return 2;
    }

  Probe p = { .rc = 1 };
  p.loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (SoupSession) session = soup_session_new ();
  if (ca)
    {
      g_autoptr (GTlsDatabase) db = g_tls_file_database_new (ca, &error);
      if (db == NULL)
        {
          g_printerr ("lt-ws-probe: %s\n", error->message);
          return 2;
        }
      soup_session_set_tls_database (session, db);
    }
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", argv[1]);
  if (msg == NULL)
    {
      g_printerr ("lt-ws-probe: bad URL %s\n", argv[1]);
      return 2;
    }
  if (token)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", token);
      soup_message_headers_replace (soup_message_get_request_headers (msg),
                                    "Authorization", auth);
    }
  soup_session_websocket_connect_async (session, msg, origin, NULL, G_PRIORITY_DEFAULT,
                                        NULL, on_connected, &p);
  guint t = g_timeout_add_seconds ((guint)MAX (timeout_s, 1), on_timeout, &p);
  g_main_loop_run (p.loop);
  g_source_remove (t);
  g_clear_object (&p.conn);
  g_main_loop_unref (p.loop);
  return p.hello && p.pong ? 0 : 1;
}
