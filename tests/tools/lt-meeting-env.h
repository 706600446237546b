/* lt-meeting-env.h: a real meeting for black-box media tests, shared by the suites
 * that run one (cascade, quality-stepdown, weak-link): the built signald on a
 * loopback port with a temporary state folder, lienthong-mcu nodes registered
 * through it, and sites played by tests/tools/lt-webrtc-client joined through it,
 * each printing an interim JSON report every second. One meeting per test process: the state is in statics.
 * Also: a hall in headless Chromium (tests/browser/site.mjs), coturn from the deploy
 * sample, and the legs signald reports. Include it once, after lt-test.h. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char *signald_bin, *mcu_bin, *client_bin;

typedef struct
{
  const char *name, *unit;
  int tone;
  GSubprocess *proc;
  GDataInputStream *out;
  JsonObject *last; /* its latest interim report */
  guint reports;    /* how many it has printed */
  char *token;
  gint64 site_id;
} Site;

typedef struct
{
  const char *id, *unit, *address; /* each node on its own loopback address */
  GSubprocess *proc;
  const char *const *extra; /* more options of lienthong-mcu, NULL-terminated */
} Node;

static char *tmp, *base, *admin;
static GSubprocess *signald;
static SoupSession *http;

/* One request as the admin; fails the test unless the status is @want. Returns the
 * parsed body (NULL when it is not JSON). */
static JsonNode *
api (const char *method, const char *path, const char *type, const char *body, guint want)
{
  g_autofree char *url = g_strdup_printf ("%s%s", base, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autofree char *auth = g_strdup_printf ("Bearer %s", admin);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                auth);
  if (body)
    {
      g_autoptr (GBytes) b = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, type, b);
    }
  g_autoptr (GBytes) reply = soup_session_send_and_read (http, msg, NULL, NULL);
  ck_assert_msg (soup_message_get_status (msg) == want, "%s %s: %u %.*s", method, path,
                 soup_message_get_status (msg), reply ? (int)g_bytes_get_size (reply) : 0,
                 reply ? (const char *)g_bytes_get_data (reply, NULL) : "");
  g_autoptr (JsonParser) p = json_parser_new ();
  if (!json_parser_load_from_data (p, g_bytes_get_data (reply, NULL),
                                   (gssize)g_bytes_get_size (reply), NULL))
    return NULL;
  return json_node_copy (json_parser_get_root (p));
}

static char *
make_token (const char *role, const char *scope, const char *unit)
{
  g_autofree char *body
      = unit ? g_strdup_printf ("{\"role\":\"%s\",\"scope\":\"%s\",\"unit\":\"%s\"}",
                                role, scope, unit)
             : g_strdup_printf ("{\"role\":\"%s\",\"scope\":\"%s\"}", role, scope);
  g_autoptr (JsonNode) r = api ("POST", "/api/v1/tokens", "application/json", body, 201);
  return g_strdup (json_object_get_string_member (json_node_get_object (r), "token"));
}

static char *
read_file_wait (const char *path)
{
  char *text = NULL;
  for (int i = 0; i < 200 && text == NULL; i++)
    if (!g_file_get_contents (path, &text, NULL, NULL))
      g_usleep (25000);
  ck_assert_msg (text != NULL, "%s never appeared", path);
  return g_strstrip (text);
}

/* LT_TEST_LOGS=1 shows the logs of signald, the nodes and the sites, for debugging a
 * failed run; they are silenced otherwise. */
static GSubprocessFlags
env_log_flags (void)
{
  return g_getenv ("LT_TEST_LOGS") ? G_SUBPROCESS_FLAGS_NONE
                                   : G_SUBPROCESS_FLAGS_STDERR_SILENCE;
}

/* Runs the main context until @cond holds or @ms pass; returns whether it held. */
static gboolean
wait_for (gboolean (*cond) (gpointer), gpointer data, guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;
  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  return TRUE;
}

/* Runs the main context for @ms (the sites' reports keep coming). */
G_GNUC_UNUSED static void
run_for (guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64)ms * 1000;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE), g_usleep (5000);
}

/* Starts signald in a new temporary folder with @conf_text as its configuration and
 * imports @units_csv. */
static void
env_start (const char *prefix, const char *conf_text, const char *units_csv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *templ = g_strdup_printf ("%s-XXXXXX", prefix);
  tmp = g_dir_make_tmp (templ, &error);
  ck_assert_msg (tmp != NULL, "%s", error ? error->message : "");
  g_autofree char *sdir = g_build_filename (tmp, "signald", NULL);
  g_mkdir_with_parents (sdir, 0700);
  g_autofree char *conf = g_build_filename (sdir, "signald.conf", NULL);
  ck_assert (g_file_set_contents (conf, conf_text, -1, NULL));
  signald = g_subprocess_new (env_log_flags (), &error, signald_bin, "--config", conf,
                              "--listen", "127.0.0.1:0", "--state-dir", sdir, NULL);
  ck_assert_msg (signald != NULL, "%s", error ? error->message : "");
  g_autofree char *addr_file = g_build_filename (sdir, "signald.addr", NULL);
  g_autofree char *tok_file = g_build_filename (sdir, "admin.token", NULL);
  g_autofree char *addr = read_file_wait (addr_file);
  admin = read_file_wait (tok_file);
  base = g_strdup_printf ("http://%s", addr);
  http = soup_session_new ();
  g_autofree char *csv = NULL;
  ck_assert (g_file_get_contents (units_csv, &csv, NULL, NULL));
  g_autoptr (JsonNode) imp = api ("POST", "/api/v1/units/import", "text/csv", csv, 200);
}

static gboolean
nodes_up (gpointer want)
{
  g_autoptr (JsonNode) r = api ("GET", "/api/v1/nodes", NULL, NULL, 200);
  JsonArray *a = json_object_get_array_member (json_node_get_object (r), "nodes");
  guint up = 0;
  for (guint i = 0; i < json_array_get_length (a); i++)
    up += g_str_equal (
        json_object_get_string_member (json_array_get_object_element (a, i), "state"),
        "up");
  return up >= GPOINTER_TO_UINT (want);
}

static void
start_node (Node *n)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (tmp, n->id, NULL);
  g_mkdir_with_parents (dir, 0700);
  g_autofree char *tokfile = g_build_filename (dir, "node.token", NULL);
  if (!g_file_test (tokfile, G_FILE_TEST_EXISTS))
    {
      g_autofree char *tok = make_token ("node", n->id, n->unit);
      ck_assert (g_file_set_contents (tokfile, tok, -1, NULL));
    }
  const char *fixed[]
      = { mcu_bin,  "--signald", base,           "--node-id", n->id,
          "--unit", n->unit,     "--token-file", tokfile,     "--state-dir",
          dir,      "--address", n->address };
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (argv, (gpointer)fixed[i]);
  for (const char *const *e = n->extra; e && *e; e++)
    g_ptr_array_add (argv, (gpointer)*e);
  g_ptr_array_add (argv, NULL);
  n->proc
      = g_subprocess_newv ((const char *const *)argv->pdata, env_log_flags (), &error);
  ck_assert_msg (n->proc != NULL, "%s", error ? error->message : "");
}

/* Books a meeting from now + 2 min to + 62 min (its lobby opens at once) with the
 * chair @chair and the participants' JSON array; returns its first occurrence. */
static gint64
book_now (const char *chair, const char *participants)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) start = g_date_time_add_minutes (now, 2);
  g_autoptr (GDateTime) end = g_date_time_add_minutes (now, 62);
  g_autofree char *s1 = g_date_time_format_iso8601 (start);
  g_autofree char *s2 = g_date_time_format_iso8601 (end);
  g_autofree char *book = g_strdup_printf (
      "{\"title\":\"Họp liên thông\",\"chair\":\"%s\",\"starts_at\":\"%s\","
      "\"ends_at\":\"%s\",\"participants\":%s}",
      chair, s1, s2, participants);
  g_autoptr (JsonNode) booked
      = api ("POST", "/api/v1/meetings", "application/json", book, 201);
  JsonArray *occs
      = json_object_get_array_member (json_node_get_object (booked), "occurrences");
  ck_assert_uint_ge (json_array_get_length (occs), 1);
  JsonNode *o0 = json_array_get_element (occs, 0);
  return JSON_NODE_HOLDS_OBJECT (o0)
             ? json_object_get_int_member (json_node_get_object (o0), "id")
             : json_node_get_int (o0);
}

/* Finishes reading one line of a child's output as a JSON object.
 * Returns: (transfer full) (nullable): the object, NULL for another line; *@eof is
 * set at the end of the output. */
static JsonObject *
json_line_finish (GObject *src, GAsyncResult *res, gboolean *eof)
{
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (
      G_DATA_INPUT_STREAM (src), res, NULL, NULL);
  *eof = line == NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  if (line == NULL || !json_parser_load_from_data (p, line, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return NULL;
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

static void
on_line (GObject *src, GAsyncResult *res, gpointer data)
{
  Site *s = data;
  gboolean eof;
  JsonObject *o = json_line_finish (src, res, &eof);
  if (eof)
    return;
  if (o)
    {
      g_clear_pointer (&s->last, json_object_unref);
      s->last = o;
      s->reports++;
    }
  g_data_input_stream_read_line_async (s->out, G_PRIORITY_DEFAULT, NULL, on_line, s);
}

/* The site's id (the first site of its unit) and a site token for it. */
static void
site_credentials (Site *s)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/units/%s", s->unit);
  g_autoptr (JsonNode) u = api ("GET", path, NULL, NULL, 200);
  JsonArray *ss = json_object_get_array_member (json_node_get_object (u), "sites");
  s->site_id = json_object_get_int_member (json_array_get_object_element (ss, 0), "id");
  g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, s->site_id);
  s->token = make_token ("site", scope, NULL);
}

/* Joins @s to @occurrence with its tone, listening for @tones ("500,700"), plus the
 * NULL-terminated @extra options of lt-webrtc-client. */
static void
start_site (Site *s, gint64 occurrence, const char *tones, const char *const *extra)
{
  g_autoptr (GError) error = NULL;
  if (s->token == NULL)
    site_credentials (s);
  g_autofree char *occ = g_strdup_printf ("%" G_GINT64_FORMAT, occurrence);
  g_autofree char *tone = g_strdup_printf ("%d", s->tone);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *fixed[]
      = { client_bin, "--signald", base,  "--token",        s->token, "--join",
          occ,        "--tone",    tone,  "--listen-tones", tones,    "--report-ms",
          "1000",     "--timeout", "300", "--hold",         "300" };
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (argv, (gpointer)fixed[i]);
  for (const char *const *e = extra; e && *e; e++)
    g_ptr_array_add (argv, (gpointer)*e);
  g_ptr_array_add (argv, NULL);
  s->proc = g_subprocess_newv ((const char *const *)argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | env_log_flags (), &error);
  ck_assert_msg (s->proc != NULL, "%s", error ? error->message : "");
  s->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (s->proc));
  g_data_input_stream_read_line_async (s->out, G_PRIORITY_DEFAULT, NULL, on_line, s);
}

static void
stop_site (Site *s)
{
  if (s->proc == NULL)
    return;
  g_subprocess_send_signal (s->proc, SIGTERM);
  g_subprocess_wait (s->proc, NULL, NULL);
  g_clear_object (&s->proc);
  g_clear_object (&s->out);
  g_clear_pointer (&s->last, json_object_unref);
  g_clear_pointer (&s->token, g_free);
}

static void
stop_node (Node *n)
{
  if (n->proc == NULL)
    return;
  g_subprocess_send_signal (n->proc, SIGTERM);
  g_subprocess_wait (n->proc, NULL, NULL);
  g_clear_object (&n->proc);
}

/* Stops signald and removes the temporary folder. */
static void
env_stop (void)
{
  g_subprocess_send_signal (signald, SIGINT);
  g_subprocess_wait (signald, NULL, NULL);
  g_clear_object (&signald);
  g_clear_object (&http);
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", tmp);
  ck_assert_int_eq (system (rm), 0);
  g_clear_pointer (&tmp, g_free);
  g_clear_pointer (&base, g_free);
  g_clear_pointer (&admin, g_free);
}

G_GNUC_UNUSED static gint64
site_frames (Site *s)
{
  return s->last ? json_object_get_int_member (s->last, "video_frames") : 0;
}

/* The share of what @s heard in its last report at @tone Hz; -1 before any report. */
G_GNUC_UNUSED static double
site_hears (Site *s, int tone)
{
  if (s->last == NULL)
    return -1;
  g_autofree char *key = g_strdup_printf ("%d", tone);
  return json_object_get_double_member (json_object_get_object_member (s->last, "tones"),
                                        key);
}

/* ---- a hall in headless Chromium (tests/browser/site.mjs) ---- */

static const char *node_bin, *site_js; /* node(1) and site.mjs, when browsers are on */

typedef struct
{
  const char *name, *unit;
  const char *size; /* the camera's WxH, NULL for site.mjs's default */
  char *camera;     /* a .y4m file of that size the fake camera plays, or NULL */
  GSubprocess *proc;
  GDataInputStream *out;
  JsonObject *last; /* the "browser" object of its latest line */
  guint reports;
  GArray *vout_kbps; /* double: its sent video's bit rate, one a second */
  /* with the content transceiver (site.mjs's LT_SITE_CONTENT), reporting every
   * 100 ms; the signald messages it printed as events, each with when it came */
  gboolean content;
  GPtrArray *events; /* JsonObject*, "t_us" added: the test's monotonic time */
} BrowserSite;

static void
on_browser_line (GObject *src, GAsyncResult *res, gpointer data)
{
  BrowserSite *b = data;
  gboolean eof;
  g_autoptr (JsonObject) line = json_line_finish (src, res, &eof);
  if (eof)
    return;
  JsonObject *o = line && json_object_has_member (line, "browser")
                      ? json_object_get_object_member (line, "browser")
                      : NULL;
  JsonObject *ev = line && json_object_has_member (line, "event")
                       ? json_object_get_object_member (line, "event")
                       : NULL;
  if (ev && b->events)
    {
      json_object_set_int_member (ev, "t_us", g_get_monotonic_time ());
      g_ptr_array_add (b->events, json_object_ref (ev));
    }
  if (o)
    {
      g_clear_pointer (&b->last, json_object_unref);
      b->last = json_object_ref (o);
      b->reports++;
      if (json_object_has_member (o, "vout_kbps"))
        {
          double k = json_object_get_double_member (o, "vout_kbps");
          g_array_append_val (b->vout_kbps, k);
        }
    }
  g_data_input_stream_read_line_async (b->out, G_PRIORITY_DEFAULT, NULL, on_browser_line,
                                       b);
}

/* Joins @b, in Chromium, to @occurrence with a site token of its unit's first site. */
G_GNUC_UNUSED static void
start_browser_site (BrowserSite *b, gint64 occurrence)
{
  g_autoptr (GError) error = NULL;
  Site creds = { .unit = b->unit };
  site_credentials (&creds);
  g_autofree char *occ = g_strdup_printf ("%" G_GINT64_FORMAT, occurrence);
  b->vout_kbps = g_array_new (FALSE, FALSE, sizeof (double));
  b->events = g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDIN_PIPE | env_log_flags ());
  if (b->content)
    {
      g_subprocess_launcher_setenv (l, "LT_SITE_CONTENT", "1", TRUE);
      g_subprocess_launcher_setenv (l, "LT_SITE_REPORT_MS", "100", TRUE);
    }
  b->proc = g_subprocess_launcher_spawn (l, &error, node_bin, "--experimental-websocket",
                                         site_js, base, creds.token, occ,
                                         b->size ? b->size : "320x240", b->camera, NULL);
  g_free (creds.token);
  ck_assert_msg (b->proc != NULL, "%s", error ? error->message : "");
  b->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (b->proc));
  g_data_input_stream_read_line_async (b->out, G_PRIORITY_DEFAULT, NULL, on_browser_line,
                                       b);
}

G_GNUC_UNUSED static void
stop_browser_site (BrowserSite *b)
{
  if (b->proc == NULL)
    return;
  g_subprocess_send_signal (b->proc, SIGTERM);
  g_subprocess_wait (b->proc, NULL, NULL);
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  g_clear_object (&b->proc);
  g_clear_object (&b->out);
  g_clear_pointer (&b->last, json_object_unref);
  g_clear_pointer (&b->vout_kbps, g_array_unref);
  g_clear_pointer (&b->events, g_ptr_array_unref);
}

/* Sends a command line ("present", "stop") to a content hall's site.mjs. */
G_GNUC_UNUSED static void
browser_cmd (BrowserSite *b, const char *cmd)
{
  g_autofree char *line = g_strdup_printf ("%s\n", cmd);
  GOutputStream *in = g_subprocess_get_stdin_pipe (b->proc);
  ck_assert (g_output_stream_write_all (in, line, strlen (line), NULL, NULL, NULL));
  ck_assert (g_output_stream_flush (in, NULL, NULL));
}

/* The arguments of a suite that runs a meeting: SIGNALD MCU CLIENT UNITS.csv, then
 * NODE SITE.mjs for Chromium halls (required when @browsers). Sets the binaries
 * and *@units; prints the usage and returns FALSE when arguments are missing. */
G_GNUC_UNUSED static gboolean
env_args (int argc, char **argv, gboolean browsers, const char **units)
{
  if (argc < (browsers ? 7 : 5))
    {
      g_printerr ("usage: %s SIGNALD MCU CLIENT UNITS.csv %s\n", argv[0],
                  browsers ? "NODE SITE.mjs" : "[NODE SITE.mjs]");
      return FALSE;
    }
  signald_bin = argv[1];
  mcu_bin = argv[2];
  client_bin = argv[3];
  *units = argv[4];
  if (argc >= 7)
    {
      node_bin = argv[5];
      site_js = argv[6];
    }
  return TRUE;
}

/* ---- coturn, in the foreground, from the deploy sample ---- */

static GSubprocess *turn;
static char *turn_pidfile, *turn_log, *turn_user;

G_GNUC_UNUSED static guint16
free_udp_port (void)
{
  g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                        G_SOCKET_PROTOCOL_UDP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  ck_assert (g_socket_bind (s, any, FALSE, NULL));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (s, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Starts coturn's @turnserver on 127.0.0.1:@port from the deploy sample
 * @turn_sample, with loopback addresses and the test's files; loopback peers
 * allowed (the sample denies them, right for production; the node is on loopback). */
G_GNUC_UNUSED static void
start_turn (const char *turnserver, const char *turn_sample, guint16 port)
{
  g_autofree char *sample = NULL;
  ck_assert (g_file_get_contents (turn_sample, &sample, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (sample, "\n", -1);
  g_autoptr (GString) conf = g_string_new (NULL);
  turn_log = g_build_filename (tmp, "turn.log", NULL);
  turn_pidfile = g_build_filename (tmp, "turnserver.pid", NULL);
  for (guint i = 0; lines[i]; i++)
    {
      const char *l = lines[i];
      if (g_str_has_prefix (l, "listening-port="))
        g_string_append_printf (conf, "listening-port=%u\n", port);
      else if (g_str_has_prefix (l, "listening-ip="))
        g_string_append (conf, "listening-ip=127.0.0.1\n");
      else if (g_str_has_prefix (l, "relay-ip="))
        g_string_append (conf, "relay-ip=127.0.0.1\n");
      else if (g_str_has_prefix (l, "denied-peer-ip=127."))
        continue;
      else if (g_str_has_prefix (l, "log-file="))
        g_string_append_printf (conf, "log-file=%s\n", turn_log);
      else
        {
          if (g_str_has_prefix (l, "user="))
            turn_user = g_strdup (l + 5);
          g_string_append_printf (conf, "%s\n", l);
        }
    }
  ck_assert_msg (turn_user != NULL, "the sample has no user= line");
  g_string_append_printf (conf,
                          "allow-loopback-peers\nallowed-peer-ip=127.0.0.1\npidfile=%s\n"
                          "userdb=%s/turndb\nno-tls\nno-dtls\n",
                          turn_pidfile, tmp);
  g_autofree char *path = g_build_filename (tmp, "turnserver.conf", NULL);
  ck_assert (g_file_set_contents (path, conf->str, -1, NULL));
  /* under a shell of its own: coturn signals its parent when it stops */
  g_autoptr (GError) error = NULL;
  turn = g_subprocess_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, "sh",
      "-c", "\"$0\" -c \"$1\" || true", turnserver, path, NULL);
  ck_assert_msg (turn != NULL, "%s", error ? error->message : "");
  for (int i = 0; i < 200; i++)
    {
      g_autofree char *log = NULL;
      if (g_file_get_contents (turn_log, &log, NULL, NULL)
          && (strstr (log, "listener opened") || strstr (log, "Total General servers")))
        return;
      g_usleep (25000);
    }
  ck_abort_msg ("turnserver did not start");
}

G_GNUC_UNUSED static void
stop_turn (void)
{
  g_autofree char *pid = NULL;
  if (g_file_get_contents (turn_pidfile, &pid, NULL, NULL) && atoi (pid) > 0)
    kill (atoi (pid), SIGTERM);
  g_subprocess_wait (turn, NULL, NULL);
  g_clear_object (&turn);
  g_clear_pointer (&turn_pidfile, g_free);
  g_clear_pointer (&turn_log, g_free);
  g_clear_pointer (&turn_user, g_free);
}

/* ---- what signald says of a meeting's legs ---- */

/* The leg of @site_id (or, with @site_id 0, the node link reported by @node_id) in
 * GET /meetings/{id}/links. Returns: (transfer full) (nullable): its object. */
G_GNUC_UNUSED static JsonObject *
meeting_leg (gint64 meeting, gint64 site_id, const char *node_id)
{
  g_autofree char *path
      = g_strdup_printf ("/api/v1/meetings/%" G_GINT64_FORMAT "/links", meeting);
  g_autoptr (JsonNode) r = api ("GET", path, NULL, NULL, 200);
  JsonArray *a = json_object_get_array_member (json_node_get_object (r), "links");
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (site_id > 0
          && json_object_get_int_member_with_default (o, "site_id", 0) == site_id)
        return json_object_ref (o);
      if (site_id == 0 && node_id
          && g_str_equal (json_object_get_string_member_with_default (o, "kind", ""),
                          "link")
          && g_str_equal (json_object_get_string_member_with_default (o, "node_id", ""),
                          node_id))
        return json_object_ref (o);
    }
  return NULL;
}
