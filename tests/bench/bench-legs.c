/* bench-legs: what lienthong-signald costs the control plane of a national meeting.
 *
 * One daemon on loopback with the unit list (the national CSV, or a synthetic tree of
 * the same shape when it is absent), fake media nodes at central and at every
 * province, and one WebSocket per site of a meeting "VN down to district" (about 770
 * sites), all clients in this process on one main loop. Figures:
 *
 * - join storm: every site joins with an SDP offer at once and sends one candidate;
 *   each node answers every offer with an answer and a candidate. Joins per second,
 *   and signald's CPU time per join (from /proc), against a baseline in the same
 *   run: a bare libsoup WebSocket server (same library, one thread) relaying the same
 *   messages between the same sockets by name. The ratio is the figure that travels.
 * - floor: POST .../floor until every node has its floor message, p50 / p99 ms.
 * - mute all but the chair: POST .../mute until every hosting node has every mute.
 *
 * - national join storm (issue 13): every site of the unit list (11,364 with the 2024
 *   CSV) joins one meeting "VN down to commune" at once, with an offer answered by its
 *   node; the store lives on disk under the build folder (LT_BUILD_ROOT). Set-up
 *   (import, booking, tokens, sockets) is outside the timed window; one warm-up round,
 *   then 3 timed rounds (all leave between rounds, untimed). Per round: p50 / p99 of
 *   join -> "joined", signald's CPU time per joined site, and the p50 / max of a GET
 *   made from another thread during the storm; RSS per joined site once. The same
 *   daemon and store are then restarted with [store] attendance-batch-ms=0 (one commit
 *   per join, as before batching) and measured the same way: that is the baseline.
 *   BENCH_LEGS_NATIONAL_ONLY=1 stops after it.
 *
 * usage: bench-legs PATH-TO-lienthong-signald [UNITS.csv] */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- clients: sites and nodes on the main context ---- */

typedef struct Bench Bench;

typedef struct
{
  Bench *b;
  SoupWebsocketConnection *conn;
  char *name;  /* "node-<unit>" or "site-<id>" */
  gint64 site; /* sites: their id */
  guint got_answer, got_ice, got_floor, got_mute, got_site_ice;
  gboolean baseline;
  gint64 sent_us; /* when its join was sent */
} Peer;

struct Bench
{
  GMainLoop *loop;
  SoupSession *session;
  GPtrArray *nodes; /* Peer* */
  GPtrArray *sites; /* Peer* */
  guint pending;    /* what the current phase still waits for */
  guint want;       /* which kinds of arrival the phase counts (Kind bits) */
  guint16 port, base_port;
  GArray *join_ms; /* double: join -> joined, this round */
  /* (nullable) for HTTP: a session of its own keeps reusing a few connections,
   * where the sockets' session would leave one idle connection per request */
  SoupSession *http_session;
};

typedef enum
{
  K_CONNECTED = 1 << 0,
  K_ANSWER = 1 << 1,
  K_ICE = 1 << 2,
  K_SITE_ICE = 1 << 3,
  K_FLOOR = 1 << 4,
  K_MUTE = 1 << 5,
  K_JOINED = 1 << 6,
  K_LEFT = 1 << 7,
} Kind;

/* Counts one arrival of @kind toward the phase that waits for it; messages of other
 * kinds (a leg's first floor, say) arrive whenever they like. */
static void
done_one (Bench *b, Kind kind)
{
  if ((b->want & kind) && b->pending > 0 && --b->pending == 0)
    g_main_loop_quit (b->loop);
}

static void
send_json_text (Peer *p, const char *text)
{
  soup_websocket_connection_send_text (p->conn, text);
}

/* signald's messages, as a fake node or a fake site answers them. */
static void
on_signald_message (Peer *p, JsonObject *o)
{
  const char *type = json_object_get_string_member_with_default (o, "type", "");
  if (g_str_equal (type, "site.offer"))
    {
      gint64 site = json_object_get_int_member (o, "site_id");
      gint64 occ = json_object_get_int_member (o, "occurrence_id");
      g_autofree char *a = g_strdup_printf (
          "{\"type\":\"site.answer\",\"occurrence_id\":%" G_GINT64_FORMAT
          ",\"site_id\":%" G_GINT64_FORMAT ",\"sdp\":\"v=0 answer from %s\"}",
          occ, site, p->name);
      g_autofree char *c = g_strdup_printf (
          "{\"type\":\"site.ice\",\"occurrence_id\":%" G_GINT64_FORMAT
          ",\"site_id\":%" G_GINT64_FORMAT
          ",\"candidate\":\"candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\","
          "\"sdpMLineIndex\":0}",
          occ, site);
      send_json_text (p, a);
      send_json_text (p, c);
    }
  else if (g_str_equal (type, "answer"))
    p->got_answer++, done_one (p->b, K_ANSWER);
  else if (g_str_equal (type, "ice"))
    p->got_ice++, done_one (p->b, K_ICE);
  else if (g_str_equal (type, "site.ice"))
    p->got_site_ice++, done_one (p->b, K_SITE_ICE);
  else if (g_str_equal (type, "floor"))
    p->got_floor++, done_one (p->b, K_FLOOR);
  else if (g_str_equal (type, "mute"))
    p->got_mute++, done_one (p->b, K_MUTE);
  else if (g_str_equal (type, "joined"))
    {
      double ms = (g_get_monotonic_time () - p->sent_us) / 1e3;
      if (p->b->join_ms)
        g_array_append_val (p->b->join_ms, ms);
      done_one (p->b, K_JOINED);
    }
  else if (g_str_equal (type, "left"))
    done_one (p->b, K_LEFT);
  else if (g_str_equal (type, "error"))
    g_printerr ("%s: %s\n", p->name,
                json_object_get_string_member_with_default (o, "message", "?"));
}

/* The baseline's messages: "offer|<from>", "answer", "ice" and "site-ice". */
static void
on_baseline_message (Peer *p, const char *text)
{
  if (g_str_has_prefix (text, "offer|"))
    {
      const char *from = text + 6;
      g_autofree char *a
          = g_strdup_printf ("%s|answer|{\"sdp\":\"v=0 answer from %s\"}", from, p->name);
      g_autofree char *c = g_strdup_printf (
          "%s|ice|{\"candidate\":\"candidate:1 1 udp 2130706431 127.0.0.1 40000 typ "
          "host\",\"sdpMLineIndex\":0}",
          from);
      send_json_text (p, a);
      send_json_text (p, c);
    }
  else if (g_str_has_prefix (text, "answer|"))
    p->got_answer++, done_one (p->b, K_ANSWER);
  else if (g_str_has_prefix (text, "ice|"))
    p->got_ice++, done_one (p->b, K_ICE);
  else if (g_str_has_prefix (text, "site-ice|"))
    p->got_site_ice++, done_one (p->b, K_SITE_ICE);
}

static void
message_cb (SoupWebsocketConnection *c, gint type, GBytes *msg, gpointer data)
{
  Peer *p = data;
  gsize n;
  const char *t = g_bytes_get_data (msg, &n);
  g_autofree char *text = g_strndup (t, n);
  if (p->baseline)
    {
      on_baseline_message (p, text);
      return;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (json_parser_load_from_data (parser, text, (gssize)n, NULL))
    on_signald_message (p, json_node_get_object (json_parser_get_root (parser)));
}

static void
connected_cb (GObject *src, GAsyncResult *res, gpointer data)
{
  Peer *p = data;
  g_autoptr (GError) error = NULL;
  p->conn = soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &error);
  if (p->conn == NULL)
    g_error ("%s: %s", p->name, error->message);
  soup_websocket_connection_set_max_incoming_payload_size (p->conn, 1024 * 1024);
  g_signal_connect (p->conn, "message", G_CALLBACK (message_cb), p);
  done_one (p->b, K_CONNECTED);
}

static void
peer_connect (Bench *b, Peer *p, const char *url, const char *token)
{
  SoupMessage *m = soup_message_new ("GET", url);
  if (token)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
      soup_message_headers_replace (soup_message_get_request_headers (m), "Authorization",
                                    auth);
    }
  soup_session_websocket_connect_async (b->session, m, NULL, NULL, G_PRIORITY_DEFAULT,
                                        NULL, connected_cb, p);
  g_object_unref (m);
}

static void
run_until_done (Bench *b, guint want, guint pending)
{
  b->want = want;
  b->pending = pending;
  if (pending > 0)
    g_main_loop_run (b->loop);
}

static void
peers_close (GPtrArray *peers)
{
  for (guint i = 0; i < peers->len; i++)
    {
      Peer *p = peers->pdata[i];
      if (p->conn)
        {
          g_signal_handlers_disconnect_by_data (p->conn, p);
          soup_websocket_connection_close (p->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
          g_clear_object (&p->conn);
        }
    }
}

static void
peer_free (gpointer data)
{
  Peer *p = data;
  g_free (p->name);
  g_free (p);
}

/* ---- HTTP to signald ---- */

static char *
http (Bench *b, const char *method, const char *path, const char *token,
      const char *ctype, const char *body, guint *status)
{
  g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u%s", b->port, path);
  g_autoptr (SoupMessage) m = soup_message_new (method, uri);
  g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (m), "Authorization",
                                auth);
  if (body)
    {
      g_autoptr (GBytes) bb = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (m, ctype ? ctype : "application/json",
                                                bb);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) r = soup_session_send_and_read (
      b->http_session ? b->http_session : b->session, m, NULL, &error);
  if (r == NULL)
    g_error ("%s %s: %s", method, path, error->message);
  *status = soup_message_get_status (m);
  gsize n;
  const char *d = g_bytes_get_data (r, &n);
  return g_strndup (d ? d : "", n);
}

static char *
make_token (Bench *b, const char *admin, const char *role, const char *scope)
{
  /* a node token names its unit: the bench's nodes are "node-<unit>" */
  gboolean node = g_str_equal (role, "node") && g_str_has_prefix (scope, "node-");
  g_autofree char *body
      = node ? g_strdup_printf ("{\"role\":\"node\",\"scope\":\"%s\",\"unit\":\"%s\"}",
                                scope, scope + 5)
             : g_strdup_printf ("{\"role\":\"%s\",\"scope\":\"%s\"}", role, scope);
  guint st;
  g_autofree char *r = http (b, "POST", "/api/v1/tokens", admin, NULL, body, &st);
  if (st != 201)
    g_error ("token: %u %s", st, r);
  g_autoptr (JsonParser) p = json_parser_new ();
  json_parser_load_from_data (p, r, -1, NULL);
  return g_strdup (json_object_get_string_member (
      json_node_get_object (json_parser_get_root (p)), "token"));
}

/* ---- the baseline: a bare WebSocket relay by name, in its own thread ---- */

typedef struct
{
  GMainLoop *loop;
  guint16 port;
  GHashTable *by_name; /* name -> SoupWebsocketConnection* */
  pthread_t thread;
  GMutex lock;
  GCond ready;
} Relay;

static void
relay_message_cb (SoupWebsocketConnection *c, gint type, GBytes *msg, gpointer data)
{
  Relay *r = data;
  gsize n;
  const char *t = g_bytes_get_data (msg, &n);
  g_autofree char *text = g_strndup (t, n);
  char *bar = strchr (text, '|');
  if (bar == NULL)
    return;
  *bar = '\0';
  if (g_str_equal (text, "hello"))
    {
      g_hash_table_insert (r->by_name, g_strdup (bar + 1), c);
      return;
    }
  SoupWebsocketConnection *to = g_hash_table_lookup (r->by_name, text);
  if (to)
    soup_websocket_connection_send_text (to, bar + 1);
}

static void
relay_ws_cb (SoupServer *s, SoupServerMessage *m, const char *path,
             SoupWebsocketConnection *c, gpointer data)
{
  g_signal_connect (g_object_ref (c), "message", G_CALLBACK (relay_message_cb), data);
}

static gpointer
relay_run (gpointer data)
{
  Relay *r = data;
  r->thread = pthread_self ();
  GMainContext *ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  SoupServer *server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (server, "/ws", NULL, NULL, relay_ws_cb, r, NULL);
  GError *error = NULL;
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("relay: %s", error->message);
  GSList *uris = soup_server_get_uris (server);
  g_mutex_lock (&r->lock);
  r->port = (guint16)g_uri_get_port (uris->data);
  r->loop = g_main_loop_new (ctx, FALSE);
  g_cond_signal (&r->ready);
  g_mutex_unlock (&r->lock);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  g_main_loop_run (r->loop);
  soup_server_disconnect (server);
  g_object_unref (server);
  g_main_loop_unref (r->loop);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
  return NULL;
}

static double
thread_cpu_us (pthread_t t)
{
  clockid_t id;
  struct timespec ts;
  if (pthread_getcpuclockid (t, &id) != 0 || clock_gettime (id, &ts) != 0)
    return 0;
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double
process_cpu_us (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  const char *p = strrchr (text, ')');
  unsigned long ut = 0, st = 0;
  /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt
   * cmajflt utime stime */
  if (p == NULL
      || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st)
             != 2)
    return 0;
  return (ut + st) * 1e6 / sysconf (_SC_CLK_TCK);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ---- units ---- */

/* A tree of the national shape when the CSV is absent: 63 provinces of 11 districts. */
static char *
synthetic_units (void)
{
  GString *s = g_string_new ("code,name,tier,parent_code\nVN,Trung ương,central,\n");
  for (int p = 1; p <= 63; p++)
    {
      g_string_append_printf (s, "%02d,Tỉnh %02d,province,VN\n", p, p);
      for (int d = 0; d < 11; d++)
        g_string_append_printf (s, "%02d%d,Huyện %02d-%d,district,%02d\n", p, d, p, d, p);
    }
  return g_string_free (s, FALSE);
}

static gpointer
drain_log (gpointer data)
{
  GInputStream *in = data;
  char buf[4096];
  gssize n;
  /* BENCH_LEGS_LOG=1 passes signald's log on to stderr, to see what it did */
  gboolean show = g_getenv ("BENCH_LEGS_LOG") != NULL;
  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    if (show)
      fwrite (buf, 1, (size_t)n, stderr);
  return NULL;
}

/* ---- national join storm ---- */

static const char national_offer[]
    = "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 offer o=- 1 1 IN IP4 "
      "127.0.0.1 "
      "s=- t=0 0 m=audio 9 UDP/TLS/RTP/SAVPF 111 a=rtpmap:111 opus/48000/2\"}";

static double
process_rss_kib (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  const char *p = strstr (text, "VmRSS:");
  return p ? g_ascii_strtod (p + 6, NULL) : 0;
}

typedef struct
{
  GSubprocess *proc;
  GThread *drain;
  GDataInputStream *log;
  GPid pid;
  guint16 port;
  char *admin;
} Daemon;

static void
daemon_start (Daemon *d, const char *binary, const char *dir, const char *conf_text)
{
  g_autofree char *state = g_build_filename (dir, "state", NULL);
  g_autofree char *conf = g_build_filename (dir, "signald.conf", NULL);
  g_file_set_contents (conf, conf_text, -1, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_unsetenv (l, "NOTIFY_SOCKET");
  d->proc = g_subprocess_launcher_spawn (l, &error, binary, "--config", conf, "--listen",
                                         "127.0.0.1:0", "--state-dir", state, NULL);
  if (d->proc == NULL)
    g_error ("spawn: %s", error->message);
  d->log = g_data_input_stream_new (g_subprocess_get_stderr_pipe (d->proc));
  for (;;)
    {
      g_autofree char *line
          = g_data_input_stream_read_line_utf8 (d->log, NULL, NULL, NULL);
      if (line == NULL)
        g_error ("signald did not start");
      if (strstr (line, "listening on"))
        break;
    }
  d->drain = g_thread_new ("log", drain_log, d->log);
  d->pid = (GPid)atoi (g_subprocess_get_identifier (d->proc));
  g_autofree char *addr_path = g_build_filename (state, "signald.addr", NULL);
  g_autofree char *tok_path = g_build_filename (state, "admin.token", NULL);
  g_autofree char *addr = NULL;
  g_file_get_contents (addr_path, &addr, NULL, NULL);
  g_file_get_contents (tok_path, &d->admin, NULL, NULL);
  g_strstrip (d->admin);
  d->port = (guint16)atoi (strrchr (addr, ':') + 1);
}

static void
daemon_stop (Daemon *d)
{
  g_subprocess_send_signal (d->proc, SIGINT);
  g_subprocess_wait (d->proc, NULL, NULL);
  g_thread_join (d->drain);
  g_clear_object (&d->log);
  g_clear_object (&d->proc);
  g_clear_pointer (&d->admin, g_free);
}

/* GETs from a thread of their own (own session, own context) while the storm runs:
 * how long a request waits behind the joins on signald's one thread. */
typedef struct
{
  guint16 port;
  const char *admin;
  gint stop;
  GArray *ms; /* double */
} Prober;

static gpointer
prober_run (gpointer data)
{
  Prober *pr = data;
  GMainContext *ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
  SoupSession *s = soup_session_new_with_options ("timeout", 60, NULL);
  g_autofree char *uri
      = g_strdup_printf ("http://127.0.0.1:%u/api/v1/units/08", pr->port);
  g_autofree char *auth = g_strconcat ("Bearer ", pr->admin, NULL);
  while (!g_atomic_int_get (&pr->stop))
    {
      g_autoptr (SoupMessage) m = soup_message_new ("GET", uri);
      soup_message_headers_replace (soup_message_get_request_headers (m), "Authorization",
                                    auth);
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (GBytes) r = soup_session_send_and_read (s, m, NULL, NULL);
      double ms = (g_get_monotonic_time () - t0) / 1e3;
      if (r != NULL && soup_message_get_status (m) == 200)
        g_array_append_val (pr->ms, ms);
      g_usleep (5000); /* pacing, not waiting for an event */
    }
  g_object_unref (s);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
  return NULL;
}

static double
pct (GArray *a, double q)
{
  if (a->len == 0)
    return 0;
  g_array_sort (a, cmp_double);
  guint i = (guint)(a->len * q);
  return g_array_index (a, double, MIN (i, a->len - 1));
}

static void
print_mmm (const char *mode, const char *what, const double *v, guint n, const char *unit)
{
  double x[8];
  memcpy (x, v, n * sizeof (double));
  qsort (x, n, sizeof (double), cmp_double);
  g_print ("national-join-storm-%s-%s: min %.2f, median %.2f, max %.2f %s\n", mode, what,
           x[0], x[n / 2], x[n - 1], unit);
}

#define NAT_ROUNDS 3

/* Connects and registers @b's nodes (their units in @node_units), and waits until
 * signald lists them all up. */
static void
national_connect_nodes (Bench *b, GPtrArray *node_units, GPtrArray *node_tokens,
                        const char *admin)
{
  g_autofree char *node_url
      = g_strdup_printf ("ws://127.0.0.1:%u/api/v1/nodes/ws", b->port);
  for (guint i = 0; i < b->nodes->len; i++)
    {
      Peer *p = b->nodes->pdata[i];
      peer_connect (b, p, node_url, node_tokens->pdata[i]);
      run_until_done (b, K_CONNECTED, 1);
      g_autofree char *reg = g_strdup_printf (
          "{\"v\":1,\"type\":\"register\",\"node_id\":\"%s\",\"unit\":\"%s\","
          "\"capacity\":2000,\"fingerprint\":\"sha-256 %s\"}",
          p->name, (char *)node_units->pdata[i], p->name);
      send_json_text (p, reg);
    }
  /* every node registered (the plan of the booking needs them) */
  for (;;)
    {
      guint st, up = 0;
      g_autofree char *r = http (b, "GET", "/api/v1/nodes", admin, NULL, NULL, &st);
      for (const char *q = r; (q = strstr (q, "\"state\":\"up\"")) != NULL; q++)
        up++;
      if (up >= b->nodes->len)
        break;
    }
}

static void
national_connect_sites (Bench *b, GPtrArray *site_tokens)
{
  g_autofree char *site_url = g_strdup_printf ("ws://127.0.0.1:%u/api/v1/ws", b->port);
  const guint batch = 256; /* under signald's listen backlog (4096): a dropped SYN
                              costs a 1 s retransmit */
  for (guint i = 0; i < b->sites->len; i += batch)
    {
      guint k = 0;
      for (guint j = i; j < MIN (i + batch, b->sites->len); j++, k++)
        peer_connect (b, b->sites->pdata[j], site_url, site_tokens->pdata[j]);
      run_until_done (b, K_CONNECTED, k);
    }
}

/* One round: every site joins at once (timed), then all leave (untimed). */
static double
national_round (Bench *b, GPid pid, const char *admin, double *cpu_per_site,
                GArray *get_ms)
{
  guint n = b->sites->len;
  Prober pr = { b->port, admin, 0, get_ms };
  GThread *t = get_ms ? g_thread_new ("get", prober_run, &pr) : NULL;
  double cpu0 = process_cpu_us (pid);
  gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      Peer *p = b->sites->pdata[i];
      p->sent_us = g_get_monotonic_time ();
      send_json_text (p, national_offer);
    }
  run_until_done (b, K_JOINED | K_ANSWER, 2 * n);
  double secs = (g_get_monotonic_time () - t0) / 1e6;
  *cpu_per_site = (process_cpu_us (pid) - cpu0) / n;
  if (t)
    {
      g_atomic_int_set (&pr.stop, 1);
      g_thread_join (t);
    }
  for (guint i = 0; i < n; i++)
    send_json_text (b->sites->pdata[i], "{\"type\":\"leave\"}");
  run_until_done (b, K_LEFT, n);
  return secs;
}

/* A warm-up round, then NAT_ROUNDS timed ones, on the running daemon @d. */
static void
national_measure (Bench *b, Daemon *d, const char *mode, double rss_before)
{
  double p50[NAT_ROUNDS], p99[NAT_ROUNDS], cpu[NAT_ROUNDS], g50[NAT_ROUNDS],
      gmax[NAT_ROUNDS], secs[NAT_ROUNDS], cpu_w;
  guint n = b->sites->len;
  b->join_ms = NULL;
  national_round (b, d->pid, d->admin, &cpu_w, NULL);
  double rss = process_rss_kib (d->pid);
  g_print ("national-join-storm-%s-rss: %.2f KiB per joined site (%.0f MiB in all)\n",
           mode, (rss - rss_before) / n, rss / 1024);
  for (int r = 0; r < NAT_ROUNDS; r++)
    {
      g_autoptr (GArray) lat = g_array_new (FALSE, FALSE, sizeof (double));
      g_autoptr (GArray) get = g_array_new (FALSE, FALSE, sizeof (double));
      b->join_ms = lat;
      secs[r] = national_round (b, d->pid, d->admin, &cpu[r], get);
      b->join_ms = NULL;
      p50[r] = pct (lat, 0.50);
      p99[r] = pct (lat, 0.99);
      g50[r] = pct (get, 0.50);
      gmax[r] = pct (get, 1.0);
      g_print ("national-join-storm-%s-round-%d: %u joins in %.2f s, join p50 %.1f ms "
               "p99 %.1f ms, %.1f us CPU per site, concurrent GET p50 %.1f ms max %.1f "
               "ms (%u GETs)\n",
               mode, r + 1, n, secs[r], p50[r], p99[r], cpu[r], g50[r], gmax[r],
               get->len);
    }
  print_mmm (mode, "join-p50", p50, NAT_ROUNDS, "ms");
  print_mmm (mode, "join-p99", p99, NAT_ROUNDS, "ms");
  print_mmm (mode, "cpu-per-site", cpu, NAT_ROUNDS, "us");
  print_mmm (mode, "get-p50", g50, NAT_ROUNDS, "ms");
  print_mmm (mode, "get-max", gmax, NAT_ROUNDS, "ms");
  print_mmm (mode, "seconds", secs, NAT_ROUNDS, "s");
}

static void
national_storm (const char *binary, const char *csv)
{
  const char *root = g_getenv ("LT_BUILD_ROOT");
  g_autofree char *dir = g_build_filename (root ? root : ".", "bench-legs-store", NULL);
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", dir);
  if (system (rm) != 0 || g_mkdir_with_parents (dir, 0700) != 0)
    g_error ("cannot make %s", dir);
  g_print ("national: store in %s\n", dir);

  Bench b = { 0 };
  b.loop = g_main_loop_new (NULL, FALSE);
  /* no I/O timeout: with 11,000 sockets on one main loop (here and in signald) a
   * handshake late in the set-up can wait minutes; slow is a figure, not a failure */
  b.session = soup_session_new_with_options ("max-conns", 65536, "max-conns-per-host",
                                             65536, "timeout", 0, NULL);
  b.http_session = soup_session_new_with_options ("timeout", 120, NULL);
  b.nodes = g_ptr_array_new_with_free_func (peer_free);
  b.sites = g_ptr_array_new_with_free_func (peer_free);
  const char *confs[] = {
    "[testing]\nnow=1796086200\n[nodes]\nheartbeat-interval=600\n",
    "[testing]\nnow=1796086200\n[nodes]\nheartbeat-interval=600\n"
    "[store]\nattendance-batch-ms=0\n",
  };
  const char *modes[] = { "batched", "per-join" };
  Daemon d = { 0 };
  gint64 setup0 = g_get_monotonic_time ();
  daemon_start (&d, binary, dir, confs[0]);
  b.port = d.port;

  /* set-up, untimed: units, nodes at central and every province, one meeting of every
   * unit down to commune, one token per site */
  guint st;
  g_autofree char *imp
      = http (&b, "POST", "/api/v1/units/import", d.admin, "text/csv", csv, &st);
  if (st != 200)
    g_error ("import: %u %s", st, imp);
  g_autofree char *prov
      = http (&b, "GET", "/api/v1/units?parent=VN", d.admin, NULL, NULL, &st);
  g_autoptr (JsonParser) pp = json_parser_new ();
  json_parser_load_from_data (pp, prov, -1, NULL);
  JsonArray *units = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (pp)), "units");
  g_autoptr (GPtrArray) node_units = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) node_tokens = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i <= json_array_get_length (units); i++)
    {
      const char *unit = i == 0 ? "VN"
                                : json_object_get_string_member (
                                    json_array_get_object_element (units, i - 1), "code");
      Peer *p = g_new0 (Peer, 1);
      p->b = &b;
      p->name = g_strdup_printf ("node-%s", unit);
      g_ptr_array_add (b.nodes, p);
      g_ptr_array_add (node_units, g_strdup (unit));
      g_ptr_array_add (node_tokens, make_token (&b, d.admin, "node", p->name));
    }
  national_connect_nodes (&b, node_units, node_tokens, d.admin);
  g_autofree char *booked
      = http (&b, "POST", "/api/v1/meetings", d.admin, NULL,
              "{\"title\":\"Hội nghị toàn quốc mọi cấp\",\"chair\":\"VN\",\"starts_at\":"
              "\"2026-12-01T08:00:00+07:00\",\"ends_at\":\"2026-12-01T10:00:00+07:00\","
              "\"participants\":[{\"unit\":\"VN\",\"down_to\":\"commune\"}]}",
              &st);
  if (st != 201)
    g_error ("book: %u %.300s", st, booked);
  g_autoptr (JsonParser) bp = json_parser_new ();
  json_parser_load_from_data (bp, booked, -1, NULL);
  JsonArray *pnodes = json_object_get_array_member (
      json_object_get_object_member (json_node_get_object (json_parser_get_root (bp)),
                                     "cascade_plan"),
      "nodes");
  g_autoptr (GPtrArray) site_tokens = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < json_array_get_length (pnodes); i++)
    {
      JsonArray *ss = json_object_get_array_member (
          json_array_get_object_element (pnodes, i), "sites");
      for (guint k = 0; k < json_array_get_length (ss); k++)
        {
          Peer *p = g_new0 (Peer, 1);
          p->b = &b;
          p->site = json_array_get_int_element (ss, k);
          p->name = g_strdup_printf ("site-%" G_GINT64_FORMAT, p->site);
          g_ptr_array_add (b.sites, p);
          g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, p->site);
          g_ptr_array_add (site_tokens, make_token (&b, d.admin, "site", scope));
        }
    }
  g_print ("national: %u sites on %u nodes (set-up %.0f s)\n", b.sites->len,
           json_array_get_length (pnodes), (g_get_monotonic_time () - setup0) / 1e6);

  for (int k = 0; k < 2; k++)
    {
      if (k > 0) /* the same store, restarted with the other setting */
        {
          daemon_stop (&d);
          daemon_start (&d, binary, dir, confs[k]);
          b.port = d.port;
        }
      double rss0 = process_rss_kib (d.pid);
      if (k > 0)
        {
          peers_close (b.nodes);
          national_connect_nodes (&b, node_units, node_tokens, d.admin);
        }
      national_connect_sites (&b, site_tokens);
      national_measure (&b, &d, modes[k], rss0);
      peers_close (b.sites);
    }
  peers_close (b.nodes);
  daemon_stop (&d);
  if (system (rm) != 0)
    g_printerr ("could not remove %s\n", dir);
  g_ptr_array_unref (b.sites);
  g_ptr_array_unref (b.nodes);
  g_object_unref (b.http_session);
  g_object_unref (b.session);
  g_main_loop_unref (b.loop);
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      g_printerr ("usage: %s PATH-TO-lienthong-signald [UNITS.csv]\n", argv[0]);
      return 2;
    }
  signal (SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }

  g_autofree char *national_csv = NULL;
  if (argc > 2 && g_file_get_contents (argv[2], &national_csv, NULL, NULL))
    national_storm (argv[1], national_csv);
  else
    g_print ("national-join-storm: skipped (%s not found)\n", argc > 2 ? argv[2] : "-");
  if (g_getenv ("BENCH_LEGS_NATIONAL_ONLY"))
    return 0;

  Bench b = { 0 };
  b.loop = g_main_loop_new (NULL, FALSE);
  b.session = soup_session_new_with_options ("max-conns", 4096, "max-conns-per-host",
                                             4096, "timeout", 60, NULL);
  b.nodes = g_ptr_array_new_with_free_func (peer_free);
  b.sites = g_ptr_array_new_with_free_func (peer_free);

  /* signald, inside the lobby of a meeting at 2026-12-01T08:00+07:00 */
  g_autofree char *dir = g_dir_make_tmp ("lt-bench-legs-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (dir, "state", NULL);
  g_autofree char *conf = g_build_filename (dir, "signald.conf", NULL);
  g_file_set_contents (
      conf, "[testing]\nnow=1796086200\n[nodes]\nheartbeat-interval=600\n", -1, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_unsetenv (l, "NOTIFY_SOCKET");
  g_autoptr (GSubprocess) proc
      = g_subprocess_launcher_spawn (l, &error, argv[1], "--config", conf, "--listen",
                                     "127.0.0.1:0", "--state-dir", state, NULL);
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
  GThread *drain = g_thread_new ("log", drain_log, log);
  GPid pid = (GPid)atoi (g_subprocess_get_identifier (proc));
  g_autofree char *addr_path = g_build_filename (state, "signald.addr", NULL);
  g_autofree char *tok_path = g_build_filename (state, "admin.token", NULL);
  g_autofree char *addr = NULL, *admin = NULL;
  g_file_get_contents (addr_path, &addr, NULL, NULL);
  g_file_get_contents (tok_path, &admin, NULL, NULL);
  g_strstrip (admin);
  b.port = (guint16)atoi (strrchr (addr, ':') + 1);

  g_autofree char *csv = NULL;
  if (argc > 2 && g_file_get_contents (argv[2], &csv, NULL, NULL))
    g_print ("units: %s\n", argv[2]);
  else
    {
      g_print ("units: a synthetic national tree (%s not found)\n",
               argc > 2 ? argv[2] : "-");
      csv = synthetic_units ();
    }
  guint st;
  g_autofree char *imp
      = http (&b, "POST", "/api/v1/units/import", admin, "text/csv", csv, &st);
  if (st != 200)
    g_error ("import: %u %s", st, imp);

  /* nodes at central and at every province */
  g_autofree char *prov
      = http (&b, "GET", "/api/v1/units?parent=VN", admin, NULL, NULL, &st);
  g_autoptr (JsonParser) pp = json_parser_new ();
  json_parser_load_from_data (pp, prov, -1, NULL);
  JsonArray *units = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (pp)), "units");
  g_autofree char *node_url
      = g_strdup_printf ("ws://127.0.0.1:%u/api/v1/nodes/ws", b.port);
  for (guint i = 0; i <= json_array_get_length (units); i++)
    {
      const char *unit = i == 0 ? "VN"
                                : json_object_get_string_member (
                                    json_array_get_object_element (units, i - 1), "code");
      Peer *p = g_new0 (Peer, 1);
      p->b = &b;
      p->name = g_strdup_printf ("node-%s", unit);
      g_ptr_array_add (b.nodes, p);
      g_autofree char *tok = make_token (&b, admin, "node", p->name);
      peer_connect (&b, p, node_url, tok);
      run_until_done (&b, K_CONNECTED, 1);
      g_autofree char *reg = g_strdup_printf (
          "{\"v\":1,\"type\":\"register\",\"node_id\":\"%s\",\"unit\":\"%s\","
          "\"capacity\":1000,\"fingerprint\":\"sha-256 %s\"}",
          p->name, unit, p->name);
      send_json_text (p, reg);
    }

  /* the meeting: central down to district; it opens at once (inside its lobby) */
  g_autofree char *booked
      = http (&b, "POST", "/api/v1/meetings", admin, NULL,
              "{\"title\":\"Hội nghị toàn quốc\",\"chair\":\"VN\",\"starts_at\":"
              "\"2026-12-01T08:00:00+07:00\",\"ends_at\":\"2026-12-01T10:00:00+07:00\","
              "\"participants\":[{\"unit\":\"VN\",\"down_to\":\"district\"}]}",
              &st);
  if (st != 201)
    g_error ("book: %u %.300s", st, booked);
  g_autoptr (JsonParser) bp = json_parser_new ();
  json_parser_load_from_data (bp, booked, -1, NULL);
  JsonObject *plan = json_object_get_object_member (
      json_node_get_object (json_parser_get_root (bp)), "cascade_plan");
  JsonArray *pnodes = json_object_get_array_member (plan, "nodes");
  g_autoptr (GHashTable) home = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (GArray) site_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < json_array_get_length (pnodes); i++)
    {
      JsonObject *n = json_array_get_object_element (pnodes, i);
      JsonArray *s = json_object_get_array_member (n, "sites");
      for (guint k = 0; k < json_array_get_length (s); k++)
        {
          gint64 id = json_array_get_int_element (s, k);
          g_array_append_val (site_ids, id);
        }
    }
  g_print ("meeting: %u sites on %u nodes\n", site_ids->len,
           json_array_get_length (pnodes));

  /* one socket per site for signald, and the same peers for the relay */
  g_autofree char *site_url = g_strdup_printf ("ws://127.0.0.1:%u/api/v1/ws", b.port);
  for (guint i = 0; i < site_ids->len; i++)
    {
      Peer *p = g_new0 (Peer, 1);
      p->b = &b;
      p->site = g_array_index (site_ids, gint64, i);
      p->name = g_strdup_printf ("site-%" G_GINT64_FORMAT, p->site);
      g_ptr_array_add (b.sites, p);
      g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, p->site);
      g_autofree char *tok = make_token (&b, admin, "site", scope);
      peer_connect (&b, p, site_url, tok);
    }
  run_until_done (&b, K_CONNECTED, site_ids->len);

  /* join storm through signald */
  guint n = site_ids->len;
  double cpu0 = process_cpu_us (pid);
  gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      Peer *p = b.sites->pdata[i];
      send_json_text (p, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 offer "
                         "o=- 1 1 IN IP4 127.0.0.1 s=- t=0 0 m=audio 9 UDP/TLS/RTP/SAVPF "
                         "111 a=rtpmap:111 opus/48000/2\"}");
      send_json_text (p, "{\"type\":\"ice\",\"candidate\":\"candidate:1 1 udp 2130706431 "
                         "127.0.0.1 50000 typ host\",\"sdpMLineIndex\":0}");
    }
  run_until_done (&b, K_ANSWER | K_ICE | K_SITE_ICE,
                  3 * n); /* answer + ice at each site, its ice at its node */
  double secs = (g_get_monotonic_time () - t0) / 1e6;
  double cpu = process_cpu_us (pid) - cpu0;
  double sig_rate = n / secs, sig_cpu = cpu / n;
  g_print ("signald-join-storm: %.0f joins/s, %.1f us CPU per join (%u sites, %.3f s)\n",
           sig_rate, sig_cpu, n, secs);

  /* floor: every node hears it; alternate between two sites far apart */
  g_autoptr (GArray) lat = g_array_new (FALSE, FALSE, sizeof (double));
  for (int r = 0; r < 40; r++)
    {
      gint64 site = g_array_index (site_ids, gint64, r % 2 ? n - 1 : n / 2);
      g_autofree char *body
          = g_strdup_printf ("{\"site_id\":%" G_GINT64_FORMAT "}", site);
      gint64 f0 = g_get_monotonic_time ();
      b.want = K_FLOOR;
      b.pending = b.nodes->len;
      g_autofree char *resp
          = http (&b, "POST", "/api/v1/occurrences/1/floor", admin, NULL, body, &st);
      if (st != 200)
        g_error ("floor: %u %s", st, resp);
      if (b.pending > 0)
        g_main_loop_run (b.loop);
      double ms = (g_get_monotonic_time () - f0) / 1e3;
      g_array_append_val (lat, ms);
    }
  g_array_sort (lat, cmp_double);
  g_print ("signald-floor-to-%u-nodes: p50 %.2f ms, p99 %.2f ms\n", b.nodes->len,
           g_array_index (lat, double, lat->len / 2),
           g_array_index (lat, double, (guint)(lat->len * 0.99)));

  /* mute all but the chair: every hosting node gets every mute */
  g_array_set_size (lat, 0);
  for (int r = 0; r < 10; r++)
    {
      gint64 m0 = g_get_monotonic_time ();
      b.want = K_MUTE;
      b.pending = n - 1;
      g_autofree char *body = g_strdup_printf ("{\"all_but_chair\":true,\"muted\":%s}",
                                               r % 2 ? "false" : "true");
      g_autofree char *resp
          = http (&b, "POST", "/api/v1/occurrences/1/mute", admin, NULL, body, &st);
      if (st != 200)
        g_error ("mute: %u %s", st, resp);
      if (b.pending > 0)
        g_main_loop_run (b.loop);
      double ms = (g_get_monotonic_time () - m0) / 1e3;
      g_array_append_val (lat, ms);
    }
  g_array_sort (lat, cmp_double);
  g_print ("signald-mute-all-but-chair-%u-sites: p50 %.2f ms, max %.2f ms\n", n - 1,
           g_array_index (lat, double, lat->len / 2),
           g_array_index (lat, double, lat->len - 1));
  peers_close (b.sites);
  peers_close (b.nodes);

  /* the baseline: the same join storm through a bare relay */
  Relay relay = { 0 };
  relay.by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init (&relay.lock);
  g_cond_init (&relay.ready);
  GThread *rt = g_thread_new ("relay", relay_run, &relay);
  g_mutex_lock (&relay.lock);
  while (relay.loop == NULL)
    g_cond_wait (&relay.ready, &relay.lock);
  g_mutex_unlock (&relay.lock);
  g_autofree char *relay_url = g_strdup_printf ("ws://127.0.0.1:%u/ws", relay.port);
  GPtrArray *all[] = { b.nodes, b.sites };
  for (int k = 0; k < 2; k++)
    for (guint i = 0; i < all[k]->len; i++)
      {
        Peer *p = all[k]->pdata[i];
        p->baseline = TRUE;
        peer_connect (&b, p, relay_url, NULL);
      }
  run_until_done (&b, K_CONNECTED, b.nodes->len + b.sites->len);
  for (int k = 0; k < 2; k++)
    for (guint i = 0; i < all[k]->len; i++)
      {
        Peer *p = all[k]->pdata[i];
        g_autofree char *hello = g_strconcat ("hello|", p->name, NULL);
        send_json_text (p, hello);
      }
  /* the hellos are in before the storm: a round trip to itself through the relay */
  Peer *probe = b.sites->pdata[0];
  g_autofree char *ping = g_strdup_printf ("%s|site-ice|ping", probe->name);
  send_json_text (probe, ping);
  run_until_done (&b, K_SITE_ICE, 1);

  double rcpu0 = thread_cpu_us (relay.thread);
  t0 = g_get_monotonic_time ();
  g_autoptr (GHashTable) node_of = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < n; i++)
    {
      Peer *p = b.sites->pdata[i];
      /* the node that hosts it in the plan: a fair stand-in for signald's routing */
      const char *node = NULL;
      for (guint k = 0; k < json_array_get_length (pnodes) && node == NULL; k++)
        {
          JsonObject *pn = json_array_get_object_element (pnodes, k);
          JsonArray *s = json_object_get_array_member (pn, "sites");
          for (guint j = 0; j < json_array_get_length (s); j++)
            if (json_array_get_int_element (s, j) == p->site)
              node = json_object_get_string_member (pn, "id");
        }
      g_autofree char *offer = g_strdup_printf ("%s|offer|%s", node, p->name);
      g_autofree char *ice = g_strdup_printf (
          "%s|site-ice|{\"site_id\":%" G_GINT64_FORMAT
          ",\"candidate\":\"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host\"}",
          node, p->site);
      send_json_text (p, offer);
      send_json_text (p, ice);
    }
  run_until_done (&b, K_ANSWER | K_ICE | K_SITE_ICE, 3 * n);
  secs = (g_get_monotonic_time () - t0) / 1e6;
  double rcpu = thread_cpu_us (relay.thread) - rcpu0;
  double base_rate = n / secs, base_cpu = rcpu / n;
  g_print ("baseline-relay-join-storm: %.0f joins/s, %.1f us CPU per join\n", base_rate,
           base_cpu);
  g_print ("ratio-join-rate-to-baseline: %.3f; cpu-per-join-to-baseline: %.2fx\n",
           sig_rate / base_rate, sig_cpu / base_cpu);

  peers_close (b.sites);
  peers_close (b.nodes);
  g_main_loop_quit (relay.loop);
  g_thread_join (rt);
  g_hash_table_unref (relay.by_name);
  g_subprocess_send_signal (proc, SIGINT);
  g_subprocess_wait (proc, NULL, NULL);
  g_thread_join (drain);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  if (system (cmd) != 0)
    g_printerr ("could not remove %s\n", dir);
  g_ptr_array_unref (b.sites);
  g_ptr_array_unref (b.nodes);
  g_object_unref (b.session);
  g_main_loop_unref (b.loop);
  return 0;
}
