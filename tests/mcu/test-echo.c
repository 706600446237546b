/* Suite mcu-echo: proves "test my line" end to end with real processes: the node
 * daemon (lienthong-mcu --http) answers a webrtcbin site's offer, ICE and DTLS-SRTP
 * connect, and the site decodes its own video and hears its own tone (and no other)
 * coming back through the node. Bad requests to the echo endpoint are refused with
 * a clear status and leave no session behind. */
#include "lt-test.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

static const char *mcu_path, *client_path; /* the built binaries, from argv */
static char *state_dir;
static GSubprocess *node;
static char *base_url;

static void
start_node (void)
{
  g_autoptr (GError) error = NULL;
  const char *mcu = mcu_path;
  state_dir = g_dir_make_tmp ("lt-echo-XXXXXX", &error);
  ck_assert_ptr_nonnull (state_dir);
  node = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, mcu, "--http",
                           "127.0.0.1:0", "--state-dir", state_dir, "--address",
                           "127.0.0.1", NULL);
  ck_assert_msg (node != NULL, "%s", error ? error->message : "");
  g_autofree char *addr_file = g_build_filename (state_dir, "mcu-http.addr", NULL);
  g_autofree char *addr = NULL;
  for (int i = 0; i < 200 && addr == NULL; i++)
    {
      if (!g_file_get_contents (addr_file, &addr, NULL, NULL))
        g_usleep (25000);
    }
  ck_assert_msg (addr != NULL, "the node never wrote %s", addr_file);
  g_strstrip (addr);
  base_url = g_strdup_printf ("http://%s", addr);
}

static void
stop_node (void)
{
  g_subprocess_send_signal (node, SIGTERM);
  ck_assert (g_subprocess_wait (node, NULL, NULL));
  ck_assert (g_subprocess_get_if_exited (node));
  ck_assert_int_eq (g_subprocess_get_exit_status (node), 0);
  g_clear_object (&node);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", state_dir);
  ck_assert_int_eq (system (cmd), 0);
  g_clear_pointer (&state_dir, g_free);
  g_clear_pointer (&base_url, g_free);
}

static JsonObject *
run_client (const char *const *extra)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *whip = g_strdup_printf ("%s/api/v1/echo", base_url);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer)client_path);
  g_ptr_array_add (argv, "--whip");
  g_ptr_array_add (argv, whip);
  for (guint i = 0; extra[i]; i++)
    g_ptr_array_add (argv, (gpointer)extra[i]);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GSubprocess) client = g_subprocess_newv (
      (const char *const *)argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  ck_assert_msg (client != NULL, "%s", error ? error->message : "");
  g_autofree char *out = NULL;
  ck_assert (g_subprocess_communicate_utf8 (client, NULL, NULL, &out, NULL, &error));
  g_print ("client: %s", out);
  g_autoptr (JsonParser) parser = json_parser_new ();
  ck_assert_msg (json_parser_load_from_data (parser, out, -1, &error), "%s", out);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

START_TEST (test_echo_webrtcbin)
{
  start_node ();
  const char *const args[] = { "--tone",
                               "440",
                               "--listen-tones",
                               "440,1000",
                               "--expect-video",
                               "--expect-audio",
                               "--hold",
                               "2",
                               "--timeout",
                               "20",
                               NULL };
  g_autoptr (JsonObject) r = run_client (args);
  ck_assert_msg (json_object_get_boolean_member (r, "ok"), "error: %s",
                 json_object_get_string_member (r, "error"));
  ck_assert_str_eq (json_object_get_string_member (r, "dtls"), "connected");
  const char *ice = json_object_get_string_member (r, "ice");
  ck_assert (g_str_equal (ice, "connected") || g_str_equal (ice, "completed"));
  ck_assert_int_gt (json_object_get_int_member (r, "video_frames"), 5);
  ck_assert_int_gt (json_object_get_int_member (r, "audio_buffers"), 10);
  /* it hears its own 440 Hz back, and not a tone nobody sent */
  JsonObject *tones = json_object_get_object_member (r, "tones");
  ck_assert_double_gt (json_object_get_double_member (tones, "440"), 0.5);
  ck_assert_double_lt (json_object_get_double_member (tones, "1000"), 0.05);
  stop_node ();
}
END_TEST

static guint
post (SoupSession *s, const char *method, const char *path, const char *type,
      const char *body, gsize len)
{
  g_autofree char *url = g_strdup_printf ("%s%s", base_url, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  if (body)
    {
      g_autoptr (GBytes) b = g_bytes_new (body, len);
      soup_message_set_request_body_from_bytes (msg, type, b);
    }
  g_autoptr (GBytes) reply = soup_session_send_and_read (s, msg, NULL, NULL);
  return soup_message_get_status (msg);
}

START_TEST (test_echo_bad_requests)
{
  start_node ();
  g_autoptr (SoupSession) s = soup_session_new ();
  const char garbage[] = "this is not SDP";
  ck_assert_uint_eq (
      post (s, "POST", "/api/v1/echo", "application/sdp", garbage, sizeof garbage - 1),
      400);
  ck_assert_uint_eq (post (s, "POST", "/api/v1/echo", "application/sdp", "", 0), 400);
  const char nul[] = "v=0\0o=- 1 1 IN IP4 0.0.0.0";
  ck_assert_uint_eq (post (s, "POST", "/api/v1/echo", "application/sdp", nul, sizeof nul),
                     400);
  g_autofree char *big = g_malloc0 (70 * 1024);
  memset (big, 'a', 70 * 1024 - 1);
  ck_assert_uint_eq (
      post (s, "POST", "/api/v1/echo", "application/sdp", big, 70 * 1024 - 1), 413);
  ck_assert_uint_eq (post (s, "GET", "/api/v1/echo", NULL, NULL, 0), 405);
  ck_assert_uint_eq (post (s, "GET", "/nowhere", NULL, NULL, 0), 404);
  ck_assert_uint_eq (post (s, "GET", "/healthz", NULL, NULL, 0), 200);
  /* nothing was left behind by the refused offers */
  g_autofree char *url = g_strdup_printf ("%s/api/v1/echo/stats", base_url);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GBytes) reply = soup_session_send_and_read (s, msg, NULL, NULL);
  ck_assert_uint_eq (soup_message_get_status (msg), 200);
  ck_assert (g_strstr_len (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply),
                           "\"sessions\":0,")
             != NULL);
  stop_node ();
}
END_TEST

int
main (int argc, char **argv)
{
  if (argc < 3)
    {
      g_printerr ("usage: %s LIENTHONG-MCU LT-WEBRTC-CLIENT\n", argv[0]);
      return 2;
    }
  mcu_path = argv[1];
  client_path = argv[2];
  Suite *s = suite_create ("mcu-echo");
  TCase *tc = tcase_create ("echo");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_echo_webrtcbin);
  tcase_add_test (tc, test_echo_bad_requests);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
