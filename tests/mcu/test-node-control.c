/* Suite mcu-node-control: proves the node's recording commands (issue 17) as signald
 * sends them, over the node's real control channel: a fake signald (a SoupServer
 * WebSocket on loopback) takes the node's registration and talks to it.
 *  - a node without --recordings-dir refuses record.start with a clear error;
 *  - bad input (a segment length out of 2..3600, ids under 1 or not integers, a
 *    missing part, an unknown occurrence, a pause or stop of a recording that does
 *    not run, a pause that is no boolean) is answered with an error and creates
 *    nothing;
 *  - record.start makes <dir>/<recording_id>/ (mode 0750) with the manifest
 *    p<part>.manifest.json and answers record.started, again for a repeat; a start
 *    of another part ends the first (record.stopped "stopped") before it starts;
 *    record.stop answers record.stopped "stopped"; leg.close of a recording leg
 *    sends record.stopped "closed" before leg.closed;
 *  - a folder that cannot be made is answered with record.stopped "error". */
#include "mcu-error.h"
#include "node.h"
#include "lt-test.h"

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/stat.h>

static const char *const lo[] = { "127.0.0.1", NULL };

typedef struct
{
  SoupServer *server;
  SoupWebsocketConnection *ws; /* the node's control channel, once it dialled */
  GQueue in;                   /* JsonNode*: what the node sent, oldest first */
  char *url;
} Signald;

static void
on_node_message (SoupWebsocketConnection *ws, int kind, GBytes *message, gpointer data)
{
  Signald *s = data;
  gsize len = 0;
  const char *text = g_bytes_get_data (message, &len);
  g_autoptr (JsonParser) p = json_parser_new ();
  ck_assert (json_parser_load_from_data (p, text, (gssize)len, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  const char *type = json_object_get_string_member (o, "type");
  if (g_str_equal (type, "heartbeat") || g_str_equal (type, "register"))
    return;
  g_queue_push_tail (&s->in, json_node_copy (json_parser_get_root (p)));
}

static void
on_ws (SoupServer *server, SoupServerMessage *msg, const char *path,
       SoupWebsocketConnection *ws, gpointer data)
{
  Signald *s = data;
  g_clear_object (&s->ws);
  s->ws = g_object_ref (ws);
  g_signal_connect (ws, "message", G_CALLBACK (on_node_message), s);
  soup_websocket_connection_send_text (ws, "{\"v\":1,\"type\":\"registered\"}");
}

static void
signald_start (Signald *s)
{
  memset (s, 0, sizeof *s);
  g_autoptr (GError) error = NULL;
  s->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (s->server, "/api/v1/nodes/ws", NULL, NULL, on_ws, s,
                                     NULL);
  ck_assert_msg (
      soup_server_listen_local (s->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error), "%s",
      error ? error->message : "");
  GSList *uris = soup_server_get_uris (s->server);
  s->url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
}

static void
signald_stop (Signald *s)
{
  g_queue_clear_full (&s->in, (GDestroyNotify)json_node_unref);
  if (s->ws)
    g_signal_handlers_disconnect_by_data (s->ws, s);
  g_clear_object (&s->ws);
  soup_server_disconnect (s->server);
  g_clear_object (&s->server);
  g_free (s->url);
}

static void
run_until (gboolean (*cond) (Signald *), Signald *s, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;
  while (!cond (s) && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
connected (Signald *s)
{
  return s->ws != NULL;
}

static gboolean
has_message (Signald *s)
{
  return !g_queue_is_empty (&s->in);
}

static void
send_json (Signald *s, const char *json)
{
  soup_websocket_connection_send_text (s->ws, json);
}

/* The node's next message, which must be of @type; (transfer full). */
static JsonNode *
expect (Signald *s, const char *type)
{
  run_until (has_message, s, 15000);
  ck_assert_msg (has_message (s), "no %s from the node", type);
  JsonNode *n = g_queue_pop_head (&s->in);
  g_autofree char *text = json_to_string (n, FALSE);
  ck_assert_msg (
      g_str_equal (json_object_get_string_member (json_node_get_object (n), "type"),
                   type),
      "want %s, got %s", type, text);
  g_print ("node: %s\n", text);
  return n;
}

static const char *member_str (JsonNode *n, const char *name);

/* As expect(), after the record.segment events that may come first (the segments
 * a stop finishes are reported before it is answered); they must name @prefix. */
static JsonNode *
expect_after_segments (Signald *s, const char *type, const char *prefix)
{
  for (;;)
    {
      run_until (has_message, s, 15000);
      ck_assert_msg (has_message (s), "no %s from the node", type);
      JsonNode *n = g_queue_peek_head (&s->in);
      if (!g_str_equal (member_str (n, "type"), "record.segment"))
        return expect (s, type);
      ck_assert (g_str_has_prefix (member_str (n, "file"), prefix));
      ck_assert_uint_eq (strlen (member_str (n, "sha256")), 64);
      json_node_unref (g_queue_pop_head (&s->in));
    }
}

static const char *
member_str (JsonNode *n, const char *name)
{
  return json_object_get_string_member (json_node_get_object (n), name);
}

static gint64
member_int (JsonNode *n, const char *name)
{
  return json_object_get_int_member (json_node_get_object (n), name);
}

/* The node answers @json with an error naming @field in its message. */
static void
expect_error (Signald *s, const char *json, const char *field)
{
  send_json (s, json);
  g_autoptr (JsonNode) n = expect (s, "error");
  ck_assert_msg (strstr (member_str (n, "message"), field) != NULL, "%s: %s", json,
                 member_str (n, "message"));
}

static McuNode *
node_start (Signald *s, const char *recordings_dir)
{
  /* the node logs every command it refuses as a warning, and refusals are what
   * these tests provoke: only criticals stay fatal here */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL);
  McuNodeConfig cfg = {
    .node_id = "node-rec", .unit = "08", .addresses = lo, .recordings_dir = recordings_dir
  };
  g_autoptr (GError) error = NULL;
  McuNode *node = mcu_node_new (NULL, &cfg, &error);
  ck_assert_msg (node != NULL, "%s", error ? error->message : "");
  ck_assert (mcu_node_connect_signald (node, s->url, "token", &error));
  run_until (connected, s, 10000);
  ck_assert (connected (s));
  send_json (s, "{\"v\":1,\"type\":\"leg.open\",\"occurrence_id\":7}");
  g_autoptr (JsonNode) opened = expect (s, "leg.opened");
  return node;
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name (d))
    n++;
  return n;
}

static void
remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *f;
  while (d && (f = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, f, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        remove_tree (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

START_TEST (test_without_recordings_dir)
{
  gst_init (NULL, NULL);
  Signald s;
  signald_start (&s);
  McuNode *node = node_start (&s, NULL);
  send_json (&s, "{\"v\":1,\"type\":\"record.start\",\"occurrence_id\":7,"
                 "\"recording_id\":5,\"part\":1,\"segment_s\":60}");
  g_autoptr (JsonNode) n = expect (&s, "error");
  ck_assert_str_eq (member_str (n, "code"), "unsupported");
  ck_assert (strstr (member_str (n, "message"), "--recordings-dir") != NULL);
  mcu_node_free (node);
  signald_stop (&s);
}
END_TEST

START_TEST (test_bad_commands_change_nothing)
{
  gst_init (NULL, NULL);
  g_autofree char *dir = g_dir_make_tmp ("lt-noderec-XXXXXX", NULL);
  Signald s;
  signald_start (&s);
  McuNode *node = node_start (&s, dir);
  static const struct
  {
    const char *json, *field;
  } bad[] = {
    { "{\"type\":\"record.start\",\"occurrence_id\":7,\"recording_id\":5,\"part\":1,"
      "\"segment_s\":1}",
      "segment_s" },
    { "{\"type\":\"record.start\",\"occurrence_id\":7,\"recording_id\":5,\"part\":1,"
      "\"segment_s\":3601}",
      "segment_s" },
    { "{\"type\":\"record.start\",\"occurrence_id\":7,\"recording_id\":5,\"part\":1,"
      "\"segment_s\":2.5}",
      "segment_s" },
    { "{\"type\":\"record.start\",\"occurrence_id\":7,\"recording_id\":0,\"part\":1,"
      "\"segment_s\":60}",
      "recording_id" },
    { "{\"type\":\"record.start\",\"occurrence_id\":7,\"recording_id\":\"5\","
      "\"part\":1,\"segment_s\":60}",
      "recording_id" },
    { "{\"type\":\"record.start\",\"occurrence_id\":7,\"recording_id\":5,\"part\":-1,"
      "\"segment_s\":60}",
      "part" },
    { "{\"type\":\"record.start\",\"occurrence_id\":7,\"recording_id\":5,"
      "\"segment_s\":60}",
      "part" },
    { "{\"type\":\"record.start\",\"occurrence_id\":8,\"recording_id\":5,\"part\":1,"
      "\"segment_s\":60}",
      "occurrence 8" },
    { "{\"type\":\"record.pause\",\"occurrence_id\":7,\"recording_id\":5,"
      "\"paused\":true}",
      "no recording 5" },
    { "{\"type\":\"record.stop\",\"occurrence_id\":7,\"recording_id\":5}",
      "no recording 5" },
    { "{\"type\":\"record.stop\",\"occurrence_id\":7}", "recording_id" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    expect_error (&s, bad[i].json, bad[i].field);
  ck_assert_uint_eq (count_entries (dir), 0);

  /* a valid one, then a pause that is no boolean and a pause of another id */
  send_json (&s, "{\"type\":\"record.start\",\"occurrence_id\":7,\"recording_id\":5,"
                 "\"part\":1,\"segment_s\":60}");
  g_autoptr (JsonNode) started = expect (&s, "record.started");
  expect_error (&s,
                "{\"type\":\"record.pause\",\"occurrence_id\":7,\"recording_id\":5,"
                "\"paused\":\"yes\"}",
                "paused");
  expect_error (&s,
                "{\"type\":\"record.pause\",\"occurrence_id\":7,\"recording_id\":6,"
                "\"paused\":true}",
                "no recording 6");
  /* only its own folder was made */
  ck_assert_uint_eq (count_entries (dir), 1);
  mcu_node_free (node);
  signald_stop (&s);
  remove_tree (dir);
}
END_TEST

START_TEST (test_start_pause_stop_close)
{
  gst_init (NULL, NULL);
  g_autofree char *dir = g_dir_make_tmp ("lt-noderec-XXXXXX", NULL);
  Signald s;
  signald_start (&s);
  McuNode *node = node_start (&s, dir);
  const char *start = "{\"type\":\"record.start\",\"occurrence_id\":7,"
                      "\"recording_id\":5,\"part\":1,\"segment_s\":2}";
  send_json (&s, start);
  g_autoptr (JsonNode) st = expect (&s, "record.started");
  ck_assert_int_eq (member_int (st, "occurrence_id"), 7);
  ck_assert_int_eq (member_int (st, "recording_id"), 5);
  ck_assert_int_eq (member_int (st, "part"), 1);
  g_autofree char *rdir = g_build_filename (dir, "5", NULL);
  GStatBuf sb;
  ck_assert (g_stat (rdir, &sb) == 0 && S_ISDIR (sb.st_mode));
  ck_assert_int_eq (sb.st_mode & 0777, 0750);
  g_autofree char *manifest = g_build_filename (rdir, "p1.manifest.json", NULL);
  ck_assert (g_file_test (manifest, G_FILE_TEST_IS_REGULAR));
  /* what runs already is confirmed again, not restarted */
  send_json (&s, start);
  g_autoptr (JsonNode) again = expect (&s, "record.started");
  /* a pause has no reply: the next command's reply comes next */
  send_json (&s, "{\"type\":\"record.pause\",\"occurrence_id\":7,\"recording_id\":5,"
                 "\"paused\":true}");
  send_json (&s, "{\"type\":\"record.pause\",\"occurrence_id\":7,\"recording_id\":5,"
                 "\"paused\":false}");
  /* another part: the first ends before the second starts */
  send_json (&s, "{\"type\":\"record.start\",\"occurrence_id\":7,\"recording_id\":5,"
                 "\"part\":2,\"segment_s\":2}");
  g_autoptr (JsonNode) end1 = expect_after_segments (&s, "record.stopped", "p1-");
  ck_assert_int_eq (member_int (end1, "part"), 1);
  ck_assert_str_eq (member_str (end1, "reason"), "stopped");
  g_autoptr (JsonNode) st2 = expect (&s, "record.started");
  ck_assert_int_eq (member_int (st2, "part"), 2);
  send_json (&s, "{\"type\":\"record.stop\",\"occurrence_id\":7,\"recording_id\":5}");
  g_autoptr (JsonNode) end2 = expect_after_segments (&s, "record.stopped", "p2-");
  ck_assert_int_eq (member_int (end2, "part"), 2);
  ck_assert_str_eq (member_str (end2, "reason"), "stopped");
  g_autofree char *manifest2 = g_build_filename (rdir, "p2.manifest.json", NULL);
  g_autofree char *text = NULL;
  ck_assert (g_file_get_contents (manifest2, &text, NULL, NULL));
  ck_assert (strstr (text, "\"complete\": true") != NULL);

  /* a folder that cannot be made: record.stopped with the reason */
  g_autofree char *blocker = g_build_filename (dir, "9", NULL);
  ck_assert (g_file_set_contents (blocker, "", 0, NULL));
  send_json (&s, "{\"type\":\"record.start\",\"occurrence_id\":7,\"recording_id\":9,"
                 "\"part\":1,\"segment_s\":60}");
  g_autoptr (JsonNode) failed = expect (&s, "record.stopped");
  ck_assert_int_eq (member_int (failed, "recording_id"), 9);
  ck_assert_str_eq (member_str (failed, "reason"), "error");
  ck_assert (strstr (member_str (failed, "message"), "cannot create") != NULL);

  /* closing a recording leg ends the recording first */
  send_json (&s, "{\"type\":\"record.start\",\"occurrence_id\":7,\"recording_id\":6,"
                 "\"part\":3,\"segment_s\":60}");
  g_autoptr (JsonNode) st3 = expect (&s, "record.started");
  send_json (&s, "{\"type\":\"leg.close\",\"occurrence_id\":7}");
  g_autoptr (JsonNode) end3 = expect_after_segments (&s, "record.stopped", "p3-");
  ck_assert_int_eq (member_int (end3, "recording_id"), 6);
  ck_assert_int_eq (member_int (end3, "part"), 3);
  ck_assert_str_eq (member_str (end3, "reason"), "closed");
  g_autoptr (JsonNode) closed = expect (&s, "leg.closed");
  mcu_node_free (node);
  signald_stop (&s);
  remove_tree (dir);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-node-control");
  TCase *tc = tcase_create ("recording");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_without_recordings_dir);
  tcase_add_test (tc, test_bad_commands_change_nothing);
  tcase_add_test (tc, test_start_pause_stop_close);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
