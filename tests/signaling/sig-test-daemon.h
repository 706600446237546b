/* sig-test-daemon.h: runs the real lienthong-signald for black-box tests.
 *
 * The daemon is started as a user would start it (--config, --listen 127.0.0.1:0,
 * --state-dir in a temporary folder); the helper waits for its "listening on" log line
 * (an event, not a sleep), reads signald.addr and admin.token, and talks to it with a
 * synchronous libsoup session. A thread keeps reading the daemon's log so the pipe
 * never fills, and tests can wait for a given line. */
#pragma once

#include <check.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <string.h>

typedef struct
{
  char *binary;
  char *dir;       /* the temporary folder (owned by the test) */
  char *state_dir; /* dir/state */
  char *conf_path; /* dir/signald.conf */
  GSubprocess *proc;
  GThread *reader;
  GMutex lock;
  GCond cond;
  GString *log;
  gboolean eof;
  char *base; /* http://ADDR */
  char *admin;
  SoupSession *session;
} SdDaemon;

static char *sd_binary_path;

static gpointer
sd_reader (gpointer data)
{
  SdDaemon *d = data;
  GInputStream *in = g_subprocess_get_stderr_pipe (d->proc);
  char buf[4096];
  for (;;)
    {
      gssize n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL);
      g_mutex_lock (&d->lock);
      if (n <= 0)
        {
          d->eof = TRUE;
          g_cond_broadcast (&d->cond);
          g_mutex_unlock (&d->lock);
          break;
        }
      g_string_append_len (d->log, buf, n);
      g_cond_broadcast (&d->cond);
      g_mutex_unlock (&d->lock);
    }
  return NULL;
}

/* Blocks until the daemon's log contains @needle (after offset @from); FALSE at EOF. */
static gboolean
sd_wait_log (SdDaemon *d, const char *needle, gsize from)
{
  gboolean found;
  g_mutex_lock (&d->lock);
  while (!(found = d->log->len > from && strstr (d->log->str + from, needle) != NULL)
         && !d->eof)
    g_cond_wait (&d->cond, &d->lock);
  g_mutex_unlock (&d->lock);
  return found;
}

G_GNUC_UNUSED static gsize
sd_log_len (SdDaemon *d)
{
  g_mutex_lock (&d->lock);
  gsize n = d->log->len;
  g_mutex_unlock (&d->lock);
  return n;
}

/* The clock every daemon of these suites runs on unless its configuration sets
 * `[testing] now` itself: 2026-11-30T00:00:00Z, the day before the suites' meetings
 * (DAY1 in sig-test-util.h). Why frozen: the suites book on fixed dates, and with the
 * real clock those dates fall into the past and bookings get refused. */
#define SD_FROZEN_NOW "1795996800"

/* Writes @conf (may be NULL) as the daemon's configuration file. Every daemon also
 * gets, unless @conf says otherwise:
 * - scrypt at N = 2^10 instead of 2^15 (`[testing] scrypt-log-n`): the suites sign
 *   in hundreds of times, and the production cost made that most of their run;
 * - `[testing] now-file` = DIR/now: while that file holds a number, it is the clock
 *   (sd_set_now), so tests of waits move time forward instead of sleeping.
 * (A repeated [testing] group adds to the first one.) */
static void
sd_write_conf (SdDaemon *d, const char *conf)
{
  gboolean own_clock = conf != NULL && strstr (conf, "[testing]") != NULL;
  gboolean own_cost = conf != NULL && strstr (conf, "scrypt-log-n") != NULL;
  g_autofree char *now_file = g_build_filename (d->dir, "now", NULL);
  g_autofree char *text = g_strdup_printf (
      "[server]\ndrain-grace=1\n%s\n%s[testing]\nnow-file=%s\n%s", conf ? conf : "",
      own_clock ? "" : "[testing]\nnow=" SD_FROZEN_NOW "\n", now_file,
      own_cost ? "" : "scrypt-log-n=10\n");
  ck_assert (g_file_set_contents (d->conf_path, text, -1, NULL));
}

/* Sets the daemon's clock to @now (UTC unix seconds) from its next request on. */
G_GNUC_UNUSED static void
sd_set_now (SdDaemon *d, gint64 now)
{
  g_autofree char *path = g_build_filename (d->dir, "now", NULL);
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT "\n", now);
  ck_assert (g_file_set_contents (path, text, -1, NULL));
}

/* A failed assertion ends the test process at once; the daemon must not outlive it. */
static void
sd_child_setup (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
sd_launch (SdDaemon *d)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_unsetenv (l, "NOTIFY_SOCKET");
  g_subprocess_launcher_set_child_setup (l, sd_child_setup, NULL, NULL);
  d->log = g_string_new (NULL);
  d->eof = FALSE;
  d->proc = g_subprocess_launcher_spawn (l, &error, d->binary, "--config", d->conf_path,
                                         "--listen", "127.0.0.1:0", "--state-dir",
                                         d->state_dir, NULL);
  ck_assert_msg (d->proc != NULL, "spawn: %s", error ? error->message : "");
  d->reader = g_thread_new ("sd-log", sd_reader, d);
  ck_assert_msg (sd_wait_log (d, "listening on", 0), "daemon did not start:\n%s",
                 d->log->str);

  g_autofree char *addr = NULL, *tok = NULL, *p1 = NULL, *p2 = NULL;
  p1 = g_build_filename (d->state_dir, "signald.addr", NULL);
  p2 = g_build_filename (d->state_dir, "admin.token", NULL);
  ck_assert (g_file_get_contents (p1, &addr, NULL, NULL));
  ck_assert (g_file_get_contents (p2, &tok, NULL, NULL));
  g_free (d->base);
  g_free (d->admin);
  d->base = g_strconcat ("http://", g_strstrip (addr), NULL);
  d->admin = g_strdup (g_strstrip (tok));
  if (d->session == NULL)
    d->session = soup_session_new_with_options ("timeout", 30, NULL);
}

/* Starts a daemon in a fresh temporary state folder. */
static SdDaemon *
sd_start (const char *conf)
{
  SdDaemon *d = g_new0 (SdDaemon, 1);
  g_mutex_init (&d->lock);
  g_cond_init (&d->cond);
  d->binary = g_strdup (sd_binary_path);
  d->dir = g_dir_make_tmp ("lt-signald-XXXXXX", NULL);
  ck_assert (d->dir != NULL);
  d->state_dir = g_build_filename (d->dir, "state", NULL);
  d->conf_path = g_build_filename (d->dir, "signald.conf", NULL);
  sd_write_conf (d, conf);
  sd_launch (d);
  return d;
}

static void
sd_reap (SdDaemon *d, int expected_status)
{
  g_autoptr (GError) error = NULL;
  ck_assert (g_subprocess_wait (d->proc, NULL, &error));
  g_thread_join (d->reader);
  d->reader = NULL;
  ck_assert_msg (g_subprocess_get_if_exited (d->proc), "daemon died:\n%s", d->log->str);
  ck_assert_msg (g_subprocess_get_exit_status (d->proc) == expected_status,
                 "daemon exit status %d:\n%s", g_subprocess_get_exit_status (d->proc),
                 d->log->str);
  g_clear_object (&d->proc);
  g_string_free (d->log, TRUE);
  d->log = NULL;
}

/* Stops the daemon at once (SIGINT) and checks it exits cleanly. */
static void
sd_stop (SdDaemon *d)
{
  g_subprocess_send_signal (d->proc, SIGINT);
  sd_reap (d, 0);
}

/* Stops and starts again on the same state folder, with a new configuration. */
G_GNUC_UNUSED static void
sd_restart (SdDaemon *d, const char *conf)
{
  sd_stop (d);
  sd_write_conf (d, conf);
  sd_launch (d);
}

static void
sd_free (SdDaemon *d)
{
  if (d->proc != NULL)
    sd_stop (d);
  g_clear_object (&d->session);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", d->dir);
  ck_assert (system (cmd) == 0);
  g_free (d->binary);
  g_free (d->dir);
  g_free (d->state_dir);
  g_free (d->conf_path);
  g_free (d->base);
  g_free (d->admin);
  g_mutex_clear (&d->lock);
  g_cond_clear (&d->cond);
  g_free (d);
}

/* One HTTP exchange. @token and @ctype may be NULL; @headers: "Name: value" lines
 * (NULL-terminated, nullable). Returns the body; *status gets the HTTP status and
 * *resp_headers (optional) the response headers. */
static char *
sd_http_full (SdDaemon *d, const char *method, const char *path, const char *token,
              const char *ctype, const char *body, gssize body_len,
              const char *const *headers, guint *status,
              SoupMessageHeaders **resp_headers)
{
  g_autofree char *uri = g_strconcat (d->base, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, uri);
  ck_assert_msg (msg != NULL, "bad uri %s", uri);
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  if (token != NULL)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
      soup_message_headers_replace (h, "Authorization", auth);
    }
  for (const char *const *l = headers; l && *l; l++)
    {
      g_auto (GStrv) kv = g_strsplit (*l, ": ", 2);
      soup_message_headers_replace (h, kv[0], kv[1]);
    }
  if (body != NULL)
    {
      g_autoptr (GBytes) b
          = g_bytes_new (body, body_len < 0 ? strlen (body) : (gsize)body_len);
      soup_message_set_request_body_from_bytes (msg, ctype ? ctype : "application/json",
                                                b);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) resp = soup_session_send_and_read (d->session, msg, NULL, &error);
  ck_assert_msg (resp != NULL, "%s %s: %s", method, path, error ? error->message : "");
  *status = soup_message_get_status (msg);
  if (resp_headers)
    *resp_headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  gsize n;
  const char *data = g_bytes_get_data (resp, &n);
  return g_strndup (data ? data : "", n);
}

static char *
sd_http (SdDaemon *d, const char *method, const char *path, const char *token,
         const char *body, guint *status)
{
  return sd_http_full (d, method, path, token, NULL, body, -1, NULL, status, NULL);
}

/* Parses @text as a JSON object (fails the test otherwise). */
static JsonNode *
sd_json (const char *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  ck_assert_msg (json_parser_load_from_data (p, text, -1, NULL), "not JSON: %s", text);
  JsonNode *root = json_parser_get_root (p);
  ck_assert_msg (root && JSON_NODE_HOLDS_OBJECT (root), "not an object: %s", text);
  return json_node_copy (root);
}

/* A canonical text of every table of the daemon's database (read-only, beside the
 * running daemon: WAL lets readers in), to prove refused requests changed nothing. */
G_GNUC_UNUSED static char *
sd_dump_db (SdDaemon *d)
{
  g_autofree char *path = g_build_filename (d->state_dir, "lienthong.db", NULL);
  sqlite3 *db = NULL;
  ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  GString *out = g_string_new (NULL);
  sqlite3_stmt *tables = NULL;
  ck_assert_int_eq (
      sqlite3_prepare_v2 (db,
                          "SELECT name FROM sqlite_master WHERE type='table' "
                          "ORDER BY name",
                          -1, &tables, NULL),
      SQLITE_OK);
  while (sqlite3_step (tables) == SQLITE_ROW)
    {
      const char *name = (const char *)sqlite3_column_text (tables, 0);
      g_autofree char *sql = g_strdup_printf ("SELECT * FROM \"%s\" ORDER BY 1", name);
      sqlite3_stmt *rows = NULL;
      if (sqlite3_prepare_v2 (db, sql, -1, &rows, NULL) != SQLITE_OK)
        continue;
      g_string_append_printf (out, "== %s\n", name);
      while (sqlite3_step (rows) == SQLITE_ROW)
        {
          for (int c = 0; c < sqlite3_column_count (rows); c++)
            {
              const unsigned char *v = sqlite3_column_text (rows, c);
              g_string_append_printf (out, "%s|", v ? (const char *)v : "NULL");
            }
          g_string_append_c (out, '\n');
        }
      sqlite3_finalize (rows);
    }
  sqlite3_finalize (tables);
  sqlite3_close (db);
  return g_string_free (out, FALSE);
}
