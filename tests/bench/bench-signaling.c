/* bench-signaling: requests/s and p99 latency of lienthong-signald for unit search and
 * for booking, with 50 concurrent keep-alive connections on loopback, against a
 * baseline in the same run: a bare libsoup server (same library, same machine)
 * answering a fixed body. The ratio to the baseline is the figure that travels
 * between machines.
 *
 * usage: bench-signaling PATH-TO-lienthong-signald [UNITS.csv]
 *
 * Clients are plain blocking sockets, one thread each, so the client side costs as
 * little as possible and the same for both servers. */
#include <gio/gio.h>
#include <libsoup/soup.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define N_CONN 50

typedef struct
{
  guint16 port;
  const char *token;
  int kind; /* 0 fixed GET, 1 search, 2 booking */
  guint n_requests;
  guint index;
  gint64 *latencies; /* us */
  guint failures;
} Worker;

static gboolean
read_response (int fd, char *buf, gsize cap, guint *status)
{
  gsize have = 0;
  char *end = NULL;
  while (end == NULL)
    {
      if (have == cap - 1)
        return FALSE;
      ssize_t r = read (fd, buf + have, cap - 1 - have);
      if (r <= 0)
        return FALSE;
      have += (gsize)r;
      buf[have] = '\0';
      end = strstr (buf, "\r\n\r\n");
    }
  *status = (guint)atoi (buf + 9);
  const char *cl = g_strstr_len (buf, end - buf, "Content-Length: ");
  if (cl == NULL)
    cl = g_strstr_len (buf, end - buf, "content-length: ");
  gsize body = cl ? (gsize)atol (cl + 16) : 0;
  gsize need = (gsize)(end + 4 - buf) + body;
  while (have < need)
    {
      char sink[16384];
      ssize_t r = read (fd, sink, MIN (sizeof sink, need - have));
      if (r <= 0)
        return FALSE;
      have += (gsize)r;
    }
  return TRUE;
}

static gpointer
worker_run (gpointer data)
{
  Worker *w = data;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (w->port) };
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect (fd, (struct sockaddr *)&sa, sizeof sa) != 0)
    {
      w->failures = w->n_requests;
      close (fd);
      return NULL;
    }
  static const char *const queries[] = { "son%20duong", "tuyen%20quang", "ham%20yen",
                                         "xa%20trung",  "lam%20binh",    "na%20hang" };
  char buf[65536];
  for (guint i = 0; i < w->n_requests; i++)
    {
      g_autofree char *req = NULL;
      if (w->kind == 0)
        req = g_strdup ("GET /fixed HTTP/1.1\r\nHost: b\r\n\r\n");
      else if (w->kind == 1)
        req = g_strdup_printf ("GET /api/v1/units/search?q=%s HTTP/1.1\r\nHost: b\r\n"
                               "Authorization: Bearer %s\r\n\r\n",
                               queries[(w->index + i) % G_N_ELEMENTS (queries)],
                               w->token);
      else
        {
          /* one commune-sized booking per request, each in its own 2-hour slot */
          gint64 slot = 1830297600 + ((gint64)w->index * w->n_requests + i) * 7200;
          g_autoptr (GDateTime) s = g_date_time_new_from_unix_utc (slot);
          g_autoptr (GDateTime) e = g_date_time_new_from_unix_utc (slot + 3600);
          g_autofree char *ss = g_date_time_format (s, "%Y-%m-%dT%H:%M:%SZ");
          g_autofree char *es = g_date_time_format (e, "%Y-%m-%dT%H:%M:%SZ");
          g_autofree char *body = g_strdup_printf (
              "{\"title\":\"bench\",\"chair\":\"076\",\"starts_at\":\"%s\",\"ends_at\":"
              "\"%s\","
              "\"participants\":[{\"unit\":\"076\",\"down_to\":\"commune\"}]}",
              ss, es);
          req = g_strdup_printf (
              "POST /api/v1/meetings HTTP/1.1\r\nHost: b\r\n"
              "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
              "Content-Length: %zu\r\n\r\n%s",
              w->token, strlen (body), body);
        }
      gint64 t0 = g_get_monotonic_time ();
      gsize len = strlen (req), off = 0;
      while (off < len)
        {
          ssize_t r = write (fd, req + off, len - off);
          if (r <= 0)
            break;
          off += (gsize)r;
        }
      guint status = 0;
      if (!read_response (fd, buf, sizeof buf, &status) || status >= 300)
        w->failures++;
      w->latencies[i] = g_get_monotonic_time () - t0;
    }
  close (fd);
  return NULL;
}

static int
cmp_i64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
  return (x > y) - (x < y);
}

/* Runs N_CONN workers of @kind against @port; prints and returns requests/s. */
static double
run (const char *name, guint16 port, const char *token, int kind, guint per_conn,
     double *p99_ms)
{
  Worker w[N_CONN];
  GThread *t[N_CONN];
  gint64 t0 = g_get_monotonic_time ();
  for (int i = 0; i < N_CONN; i++)
    {
      w[i] = (Worker){
        port, token, kind, per_conn, (guint)i, g_new0 (gint64, per_conn), 0
      };
      t[i] = g_thread_new ("client", worker_run, &w[i]);
    }
  guint failures = 0;
  for (int i = 0; i < N_CONN; i++)
    {
      g_thread_join (t[i]);
      failures += w[i].failures;
    }
  double secs = (g_get_monotonic_time () - t0) / 1e6;
  guint total = N_CONN * per_conn;
  gint64 *all = g_new (gint64, total);
  for (int i = 0; i < N_CONN; i++)
    {
      memcpy (all + (gsize)i * per_conn, w[i].latencies, per_conn * sizeof (gint64));
      g_free (w[i].latencies);
    }
  qsort (all, total, sizeof (gint64), cmp_i64);
  *p99_ms = all[(gsize)(total * 0.99)] / 1000.0;
  double rps = total / secs;
  g_print ("%s: %.0f requests/s, p99 %.2f ms, %u requests, %u failed\n", name, rps,
           *p99_ms, total, failures);
  g_free (all);
  return rps;
}

/* ---- the baseline: a bare SoupServer in its own thread and context ---- */

static void
fixed_cb (SoupServer *s, SoupServerMessage *msg, const char *path, GHashTable *q,
          gpointer data)
{
  static const char body[]
      = "{\"units\":[{\"code\":\"076\",\"name\":\"Huyện Sơn Dương\"}]}";
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, body,
                                    strlen (body));
}

typedef struct
{
  GMainLoop *loop;
  guint16 port;
  GMutex lock;
  GCond ready;
} Baseline;

static gpointer
baseline_run (gpointer data)
{
  Baseline *b = data;
  GMainContext *ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  SoupServer *server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, fixed_cb, NULL, NULL);
  GError *error = NULL;
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("baseline: %s", error->message);
  GSList *uris = soup_server_get_uris (server);
  g_mutex_lock (&b->lock);
  b->port = (guint16)g_uri_get_port (uris->data);
  b->loop = g_main_loop_new (ctx, FALSE);
  g_cond_signal (&b->ready);
  g_mutex_unlock (&b->lock);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  g_main_loop_run (b->loop);
  soup_server_disconnect (server);
  g_object_unref (server);
  g_main_loop_unref (b->loop);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
  return NULL;
}

static guint16
post_csv (guint16 port, const char *token, const char *csv, gsize len)
{
  SoupSession *s = soup_session_new ();
  g_autofree char *uri
      = g_strdup_printf ("http://127.0.0.1:%u/api/v1/units/import", port);
  SoupMessage *m = soup_message_new ("POST", uri);
  g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (m), "Authorization",
                                auth);
  GBytes *b = g_bytes_new (csv, len);
  soup_message_set_request_body_from_bytes (m, "text/csv", b);
  GBytes *r = soup_session_send_and_read (s, m, NULL, NULL);
  guint16 st = (guint16)soup_message_get_status (m);
  g_clear_pointer (&r, g_bytes_unref);
  g_bytes_unref (b);
  g_object_unref (m);
  g_object_unref (s);
  return st;
}

static const char tiny_csv[] = "code,name,tier,parent_code\n"
                               "VN,Việt Nam,central,\n"
                               "08,Tỉnh Tuyên Quang,province,VN\n"
                               "076,Huyện Sơn Dương,district,08\n"
                               "02536,Thị trấn Sơn Dương,commune,076\n"
                               "02539,Xã Trung Yên,commune,076\n";

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      g_printerr ("usage: %s PATH-TO-lienthong-signald [UNITS.csv]\n", argv[0]);
      return 2;
    }
  signal (SIGPIPE, SIG_IGN);

  Baseline base = { 0 };
  g_mutex_init (&base.lock);
  g_cond_init (&base.ready);
  GThread *bt = g_thread_new ("baseline", baseline_run, &base);
  g_mutex_lock (&base.lock);
  while (base.loop == NULL)
    g_cond_wait (&base.ready, &base.lock);
  g_mutex_unlock (&base.lock);

  g_autofree char *dir = g_dir_make_tmp ("lt-bench-signald-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "state", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr (GSubprocess) proc = g_subprocess_launcher_spawn (
      l, &error, argv[1], "--listen", "127.0.0.1:0", "--state-dir", state, NULL);
  if (proc == NULL)
    g_error ("spawn: %s", error->message);
  g_autoptr (GDataInputStream) log
      = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (log, NULL, NULL, NULL);
      if (line == NULL)
        g_error ("signald did not start");
      if (strstr (line, "listening on"))
        break;
    }
  g_autofree char *addr_path = g_build_filename (state, "signald.addr", NULL);
  g_autofree char *tok_path = g_build_filename (state, "admin.token", NULL);
  g_autofree char *addr = NULL, *token = NULL;
  g_file_get_contents (addr_path, &addr, NULL, NULL);
  g_file_get_contents (tok_path, &token, NULL, NULL);
  g_strstrip (token);
  guint16 port = (guint16)atoi (strrchr (addr, ':') + 1);

  g_autofree char *csv = NULL;
  gsize csv_len = 0;
  if (argc > 2 && g_file_get_contents (argv[2], &csv, &csv_len, NULL))
    g_print ("units: %s\n", argv[2]);
  else
    {
      g_print ("units: a five-unit inline tree (%s not found)\n",
               argc > 2 ? argv[2] : "-");
      csv = g_strdup (tiny_csv);
      csv_len = strlen (csv);
    }
  if (post_csv (port, token, csv, csv_len) != 200)
    g_error ("import failed");

  double p_base, p_search, p_book;
  double base_rps = run ("baseline-fixed-body", base.port, NULL, 0, 400, &p_base);
  double search_rps = run ("signald-unit-search", port, token, 1, 400, &p_search);
  double book_rps = run ("signald-booking", port, token, 2, 10, &p_book);
  g_print ("ratio-search-to-baseline: %.3f (p99 %.2fx)\n", search_rps / base_rps,
           p_search / p_base);
  g_print ("ratio-booking-to-baseline: %.3f (p99 %.2fx)\n", book_rps / base_rps,
           p_book / p_base);

  g_subprocess_send_signal (proc, SIGINT);
  g_subprocess_wait (proc, NULL, NULL);
  g_main_loop_quit (base.loop);
  g_thread_join (bt);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  if (system (cmd) != 0)
    g_printerr ("could not remove %s\n", dir);
  return 0;
}
