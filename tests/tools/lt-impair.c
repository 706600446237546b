/* lt-impair: a UDP impairment relay for tests (this kernel has no netem).
 *
 *   lt-impair --target PORT [--host 127.0.0.1|::1] [--listen PORT] [--seed N]
 *             [--loss P] [--burst P,R] [--delay MS] [--jitter MS]
 *             [--jitter-dist uniform|normal] [--reorder P] [--rate KBPS]
 *
 * Listens on the loopback address of --host's family (port 0 = ephemeral; the bound
 * port is printed on stdout as the first line), forwards every datagram to the
 * target, and the target's replies back to the last client address (one mapping,
 * like a NAT). Each direction ("up": client -> target, "down": target -> client)
 * has its own impairments, changeable at run time by lines on stdin:
 *
 *   [up|down|both] loss P            random loss, percent
 *   [up|down|both] burst P R | off   Gilbert-Elliott: P = good->bad, R = bad->good
 *                                    (percent per packet); every packet in bad is lost
 *   [up|down|both] delay MS          fixed delay
 *   [up|down|both] jitter MS [uniform|normal]  delay varies by +-MS (normal: sigma
 *                                    MS, cut at 3 sigma); order is kept
 *   [up|down|both] reorder P [GAP]   P percent are held GAP ms (default 30) longer,
 *                                    and later packets may overtake them
 *   [up|down|both] rate KBPS [QUEUE_MS]  token bucket (100 ms deep), over it:
 *                                    dropped; 0 = no limit. With QUEUE_MS a
 *                                    bottleneck instead: packets wait in a FIFO
 *                                    drained at KBPS, and one that would wait
 *                                    longer than QUEUE_MS is dropped (drop-tail)
 *   [up|down|both] cut on|off        drop everything
 *   stats                            one "stats up ..." and one "stats down ..." line
 *                                    (rtcp_rx, rtcp_tx: the RTCP among the datagrams,
 *                                    inside TURN framing too)
 *   quit                             (also on end of stdin, SIGINT, SIGTERM)
 *
 * Every command is answered by a line "ok" or "error: ..." once it took effect, so a
 * test can wait for it. Counters are printed at exit too. --seed makes every random
 * choice repeatable (each direction has its own generator).
 *
 * Safety: it only ever sends to 127.0.0.1 or ::1: any other --host is refused, and
 * datagrams from a non-loopback source are dropped. */
#include <gio/gio.h>
#include <glib-unix.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DATAGRAM 65536
#define MAX_QUEUED 20000 /* per direction; beyond it packets are dropped */

typedef struct _Relay Relay;

typedef struct
{
  gint64 release_us;
  gsize len;
  guint8 data[];
} Pending;

typedef struct
{
  const char *name;
  Relay *relay;
  GRand *rand;

  /* impairments */
  double loss_pct;
  gboolean burst_on, burst_bad;
  double burst_p, burst_r;
  guint delay_ms, jitter_ms;
  gboolean jitter_normal;
  double reorder_pct;
  guint reorder_gap_ms;
  guint rate_kbps;
  double tokens;
  gint64 tokens_at;
  guint rate_queue_ms; /* 0: the policer; else the bottleneck's queue, in time */
  gint64 link_free_us; /* the bottleneck: when its last queued packet is sent */
  gboolean cut;

  /* packets waiting for their release time, sorted by it */
  GQueue queue;
  gint64 last_release_us;
  GSource *timer;

  guint64 rx, tx, bytes_rx, bytes_tx;
  guint64 lost_random, lost_burst, lost_cut, lost_rate, lost_queue, reordered,
      send_errors;
  /* (S)RTCP among them, in TURN ChannelData or Send/Data indications or bare: what
   * a congestion controller's feedback went through */
  guint64 rtcp_rx, rtcp_tx;
} Direction;

struct _Relay
{
  GMainLoop *loop;
  GSocket *listen_sock; /* faces the client */
  GSocket *target_sock; /* connected to the target */
  GSocketAddress *client;
  Direction up, down;
  guint8 buf[MAX_DATAGRAM];
};

static void say (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

/* One line on stdout, flushed: the test reads it through a pipe. */
static void
say (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  putchar ('\n');
  fflush (stdout);
}

/* The only addresses we send to. */
static gboolean
is_allowed_address (GInetAddress *a)
{
  g_autofree char *s = g_inet_address_to_string (a);
  return g_str_equal (s, "127.0.0.1") || g_str_equal (s, "::1");
}

static gboolean
same_address (GSocketAddress *a, GSocketAddress *b)
{
  GInetSocketAddress *x = G_INET_SOCKET_ADDRESS (a), *y = G_INET_SOCKET_ADDRESS (b);
  return g_inet_socket_address_get_port (x) == g_inet_socket_address_get_port (y)
         && g_inet_address_equal (g_inet_socket_address_get_address (x),
                                  g_inet_socket_address_get_address (y));
}

/* The RTP/RTCP datagram inside @data: a TURN ChannelData message's payload, a STUN
 * Send or Data indication's DATA attribute, or @data itself (then it may be DTLS,
 * which is_rtcp() tells apart). NULL when none. */
static const guint8 *
inner_media (const guint8 *data, gsize len, gsize *out_len)
{
  if (len >= 4 && (data[0] & 0xc0) == 0x40)
    {
      gsize n = (gsize)data[2] << 8 | data[3];
      *out_len = MIN (n, len - 4);
      return data + 4;
    }
  if (len >= 20 && (data[0] & 0xc0) == 0 && data[4] == 0x21 && data[5] == 0x12
      && data[6] == 0xa4 && data[7] == 0x42) /* STUN's magic cookie */
    {
      gsize msg = 20 + ((gsize)data[2] << 8 | data[3]);
      for (gsize off = 20; off + 4 <= MIN (msg, len);)
        {
          guint16 type = (guint16)(data[off] << 8 | data[off + 1]);
          gsize alen = (gsize)data[off + 2] << 8 | data[off + 3];
          if (off + 4 + alen > len)
            return NULL;
          if (type == 0x0013)
            {
              *out_len = alen;
              return data + off + 4;
            }
          off += 4 + ((alen + 3) & ~(gsize)3);
        }
      return NULL;
    }
  *out_len = len;
  return data;
}

/* RFC 5761's demultiplexing: RTP version 2 with a packet type of 192 to 223. */
static gboolean
is_rtcp (const guint8 *data, gsize len)
{
  gsize n = 0;
  const guint8 *m = inner_media (data, len, &n);
  return m && n >= 8 && (m[0] >> 6) == 2 && m[1] >= 192 && m[1] <= 223;
}

static void
direction_send (Direction *d, const guint8 *data, gsize len)
{
  Relay *r = d->relay;
  g_autoptr (GError) error = NULL;
  gssize n;
  if (d == &r->up)
    n = g_socket_send (r->target_sock, (const char *)data, len, NULL, &error);
  else if (r->client != NULL)
    n = g_socket_send_to (r->listen_sock, r->client, (const char *)data, len, NULL,
                          &error);
  else
    n = -1;
  if (n < 0)
    {
      d->send_errors++; /* e.g. the target is not listening (ICMP) */
      return;
    }
  d->tx++;
  d->bytes_tx += len;
  d->rtcp_tx += is_rtcp (data, len);
}

/* Sends what is due and re-arms the timer for the next. */
static gboolean
direction_flush (gpointer user_data)
{
  Direction *d = user_data;
  gint64 now = g_get_monotonic_time ();
  Pending *p;
  while ((p = g_queue_peek_head (&d->queue)) != NULL && p->release_us <= now)
    {
      g_queue_pop_head (&d->queue);
      direction_send (d, p->data, p->len);
      g_free (p);
    }
  g_source_set_ready_time (d->timer, p != NULL ? p->release_us : -1);
  return G_SOURCE_CONTINUE;
}

static gboolean
timer_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  (void)source;
  return callback (user_data);
}

static GSourceFuncs timer_funcs = { NULL, NULL, timer_dispatch, NULL, NULL, NULL };

/* Box-Muller; @sigma > 0. */
static double
normal_sample (GRand *rand, double sigma)
{
  double u1 = g_rand_double (rand), u2 = g_rand_double (rand);
  if (u1 < 1e-12)
    u1 = 1e-12;
  return sqrt (-2.0 * log (u1)) * cos (2 * G_PI * u2) * sigma;
}

/* Decides whether the link loses this packet; counts why. */
static gboolean
direction_drops (Direction *d, gsize len, gint64 now)
{
  if (d->cut)
    {
      d->lost_cut++;
      return TRUE;
    }
  if (d->burst_on)
    {
      /* two-state Gilbert-Elliott chain, one step per packet */
      if (d->burst_bad)
        d->burst_bad = g_rand_double (d->rand) * 100.0 >= d->burst_r;
      else
        d->burst_bad = g_rand_double (d->rand) * 100.0 < d->burst_p;
      if (d->burst_bad)
        {
          d->lost_burst++;
          return TRUE;
        }
    }
  if (d->loss_pct > 0 && g_rand_double (d->rand) * 100.0 < d->loss_pct)
    {
      d->lost_random++;
      return TRUE;
    }
  if (d->rate_kbps > 0 && d->rate_queue_ms == 0)
    {
      double bytes_per_s = d->rate_kbps * 1000.0 / 8.0;
      double depth = MAX (bytes_per_s / 10.0, 3000.0);
      d->tokens += (now - d->tokens_at) * bytes_per_s / G_USEC_PER_SEC;
      d->tokens = MIN (d->tokens, depth);
      d->tokens_at = now;
      if (d->tokens < len)
        {
          d->lost_rate++;
          return TRUE;
        }
      d->tokens -= len;
    }
  if (d->queue.length >= MAX_QUEUED)
    {
      d->lost_queue++;
      return TRUE;
    }
  return FALSE;
}

/* Inserts @p by release time, scanning from the tail where it nearly always goes. */
static void
queue_insert (GQueue *q, Pending *p)
{
  GList *l = q->tail;
  while (l != NULL && ((Pending *)l->data)->release_us > p->release_us)
    l = l->prev;
  if (l == NULL)
    g_queue_push_head (q, p);
  else
    g_queue_insert_after (q, l, p);
}

static void
direction_input (Direction *d, const guint8 *data, gsize len)
{
  gint64 now = g_get_monotonic_time ();
  d->rx++;
  d->bytes_rx += len;
  d->rtcp_rx += is_rtcp (data, len);
  if (direction_drops (d, len, now))
    return;

  /* the bottleneck: a packet leaves once those queued before it have, at the rate;
   * one that would wait longer than the queue holds is dropped, like a router's
   * drop-tail queue (what a delay-based congestion controller sees grow) */
  gint64 leaves = now;
  if (d->rate_kbps > 0 && d->rate_queue_ms > 0)
    {
      gint64 start = MAX (now, d->link_free_us);
      if (start - now > (gint64)d->rate_queue_ms * 1000)
        {
          d->lost_rate++;
          return;
        }
      d->link_free_us = start + (gint64)((double)len * 8000.0 / d->rate_kbps);
      leaves = d->link_free_us;
    }

  gboolean reorder
      = d->reorder_pct > 0 && g_rand_double (d->rand) * 100.0 < d->reorder_pct;
  if (d->delay_ms == 0 && d->jitter_ms == 0 && !reorder && d->queue.length == 0
      && leaves == now)
    {
      direction_send (d, data, len);
      return;
    }

  double offset_ms = (double)(leaves - now) / 1000.0 + d->delay_ms;
  if (d->jitter_ms > 0)
    {
      double j = d->jitter_ms;
      offset_ms += d->jitter_normal ? CLAMP (normal_sample (d->rand, j), -3 * j, 3 * j)
                                    : g_rand_double_range (d->rand, -j, j);
    }
  gint64 release = now + (gint64)(MAX (offset_ms, 0.0) * 1000.0);
  if (reorder)
    {
      /* held back on its own: what comes next may pass it */
      release += (gint64)d->reorder_gap_ms * 1000;
      d->reordered++;
    }
  else
    {
      /* jitter alone never reorders: a packet leaves no earlier than the previous */
      release = MAX (release, d->last_release_us);
      d->last_release_us = release;
    }

  Pending *p = g_malloc (sizeof (Pending) + len);
  p->release_us = release;
  p->len = len;
  memcpy (p->data, data, len);
  queue_insert (&d->queue, p);
  Pending *head = g_queue_peek_head (&d->queue);
  g_source_set_ready_time (d->timer, head->release_us);
}

/* Reads every datagram waiting on @sock (the stdin commands run only after, so a
 * "stats" counts all that was sent before it). */
static gboolean
on_readable (GSocket *sock, GIOCondition cond, gpointer user_data)
{
  Relay *r = user_data;
  (void)cond;
  for (;;)
    {
      g_autoptr (GSocketAddress) from = NULL;
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_receive_from (sock, &from, (char *)r->buf, sizeof r->buf, NULL,
                                        &error);
      if (n < 0)
        break; /* would block, or an ICMP error of an earlier send */
      if (sock == r->target_sock)
        {
          direction_input (&r->down, r->buf, (gsize)n);
          continue;
        }
      GInetAddress *a = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from));
      if (!g_inet_address_get_is_loopback (a))
        continue;
      if (r->client == NULL || !same_address (r->client, from))
        g_set_object (&r->client, from);
      direction_input (&r->up, r->buf, (gsize)n);
    }
  return G_SOURCE_CONTINUE;
}

static void
print_stats (Relay *r)
{
  Direction *dirs[] = { &r->up, &r->down };
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      Direction *d = dirs[i];
      say ("stats %s rx=%" G_GUINT64_FORMAT " tx=%" G_GUINT64_FORMAT
           " bytes_rx=%" G_GUINT64_FORMAT " bytes_tx=%" G_GUINT64_FORMAT
           " loss=%" G_GUINT64_FORMAT " burst=%" G_GUINT64_FORMAT
           " cut=%" G_GUINT64_FORMAT " rate=%" G_GUINT64_FORMAT
           " queue=%" G_GUINT64_FORMAT " reordered=%" G_GUINT64_FORMAT
           " send_errors=%" G_GUINT64_FORMAT " queued=%u rtcp_rx=%" G_GUINT64_FORMAT
           " rtcp_tx=%" G_GUINT64_FORMAT,
           d->name, d->rx, d->tx, d->bytes_rx, d->bytes_tx, d->lost_random, d->lost_burst,
           d->lost_cut, d->lost_rate, d->lost_queue, d->reordered, d->send_errors,
           d->queue.length, d->rtcp_rx, d->rtcp_tx);
    }
}

static gboolean
parse_num (const char *s, double lo, double hi, double *out)
{
  if (s == NULL)
    return FALSE;
  char *end = NULL;
  double v = g_ascii_strtod (s, &end);
  if (end == s || *end != '\0' || !isfinite (v) || v < lo || v > hi)
    return FALSE;
  *out = v;
  return TRUE;
}

/* Applies one impairment setting to @d. Returns: an error message or NULL. */
static const char *
apply (Direction *d, char **argv, guint argc)
{
  const char *cmd = argv[0];
  double a = 0, b = 0;
  if (g_str_equal (cmd, "loss") && argc == 2 && parse_num (argv[1], 0, 100, &a))
    d->loss_pct = a;
  else if (g_str_equal (cmd, "burst") && argc == 2 && g_str_equal (argv[1], "off"))
    d->burst_on = d->burst_bad = FALSE;
  else if (g_str_equal (cmd, "burst") && argc == 3 && parse_num (argv[1], 0, 100, &a)
           && parse_num (argv[2], 0, 100, &b))
    {
      d->burst_on = TRUE;
      d->burst_p = a;
      d->burst_r = b;
    }
  else if (g_str_equal (cmd, "delay") && argc == 2 && parse_num (argv[1], 0, 60000, &a))
    d->delay_ms = (guint)a;
  else if (g_str_equal (cmd, "jitter") && (argc == 2 || argc == 3)
           && parse_num (argv[1], 0, 10000, &a)
           && (argc == 2 || g_str_equal (argv[2], "uniform")
               || g_str_equal (argv[2], "normal")))
    {
      d->jitter_ms = (guint)a;
      if (argc == 3)
        d->jitter_normal = g_str_equal (argv[2], "normal");
    }
  else if (g_str_equal (cmd, "reorder") && (argc == 2 || argc == 3)
           && parse_num (argv[1], 0, 100, &a)
           && (argc == 2 || parse_num (argv[2], 1, 10000, &b)))
    {
      d->reorder_pct = a;
      if (argc == 3)
        d->reorder_gap_ms = (guint)b;
    }
  else if (g_str_equal (cmd, "rate") && (argc == 2 || argc == 3)
           && parse_num (argv[1], 0, 10000000, &a)
           && (argc == 2 || parse_num (argv[2], 0, 10000, &b)))
    {
      d->rate_kbps = (guint)a;
      d->rate_queue_ms = (guint)b;
      d->link_free_us = 0;
      d->tokens = MAX (d->rate_kbps * 1000.0 / 8.0 / 10.0, 3000.0);
      d->tokens_at = g_get_monotonic_time ();
    }
  else if (g_str_equal (cmd, "cut") && argc == 2
           && (g_str_equal (argv[1], "on") || g_str_equal (argv[1], "off")))
    d->cut = g_str_equal (argv[1], "on");
  else
    return "unknown command or bad argument";
  return NULL;
}

/* Runs one command line. Returns: an error message or NULL. */
static const char *
run_command (Relay *r, const char *line)
{
  g_auto (GStrv) all = g_strsplit_set (line, " \t\r\n", -1);
  char *argv[8];
  guint argc = 0;
  for (guint i = 0; all[i] != NULL; i++)
    if (*all[i] != '\0')
      {
        if (argc == G_N_ELEMENTS (argv))
          return "too many words";
        argv[argc++] = all[i];
      }
  if (argc == 0)
    return "empty command";
  if (g_str_equal (argv[0], "stats") && argc == 1)
    {
      print_stats (r);
      return NULL;
    }
  if (g_str_equal (argv[0], "quit") && argc == 1)
    {
      g_main_loop_quit (r->loop);
      return NULL;
    }

  gboolean up = TRUE, down = TRUE;
  guint skip = 0;
  if (g_str_equal (argv[0], "up"))
    down = FALSE, skip = 1;
  else if (g_str_equal (argv[0], "down"))
    up = FALSE, skip = 1;
  else if (g_str_equal (argv[0], "both"))
    skip = 1;
  if (argc == skip)
    return "missing command";

  /* validate on a copy first, so a bad command changes nothing */
  Direction probe = r->up;
  const char *err = apply (&probe, argv + skip, argc - skip);
  if (err != NULL)
    return err;
  if (up)
    apply (&r->up, argv + skip, argc - skip);
  if (down)
    apply (&r->down, argv + skip, argc - skip);
  return NULL;
}

static gboolean
on_stdin (GIOChannel *ch, GIOCondition cond, gpointer user_data)
{
  Relay *r = user_data;
  (void)cond;
  do
    {
      g_autofree char *line = NULL;
      g_autoptr (GError) error = NULL;
      GIOStatus st = g_io_channel_read_line (ch, &line, NULL, NULL, &error);
      if (st == G_IO_STATUS_AGAIN)
        return G_SOURCE_CONTINUE;
      if (st != G_IO_STATUS_NORMAL)
        {
          /* end of stdin: the test is done with us (main() removes this watch) */
          g_main_loop_quit (r->loop);
          return G_SOURCE_CONTINUE;
        }
      const char *err = run_command (r, line);
      if (err != NULL)
        say ("error: %s", err);
      else
        say ("ok");
    }
  while (g_io_channel_get_buffer_condition (ch) & G_IO_IN);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (((Relay *)user_data)->loop);
  return G_SOURCE_CONTINUE;
}

static void
direction_init (Direction *d, Relay *r, const char *name, guint32 seed)
{
  d->name = name;
  d->relay = r;
  d->rand = g_rand_new_with_seed (seed);
  d->reorder_gap_ms = 30;
  g_queue_init (&d->queue);
  d->timer = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_priority (d->timer, G_PRIORITY_HIGH);
  g_source_set_callback (d->timer, direction_flush, d, NULL);
  g_source_attach (d->timer, NULL);
}

static void
direction_clear (Direction *d)
{
  g_source_destroy (d->timer);
  g_source_unref (d->timer);
  g_queue_clear_full (&d->queue, g_free);
  g_rand_free (d->rand);
}

static GSource *
watch_socket (GSocket *sock, Relay *r)
{
  GSource *src = g_socket_create_source (sock, G_IO_IN, NULL);
  g_source_set_priority (src, G_PRIORITY_HIGH);
  g_source_set_callback (src, G_SOURCE_FUNC (on_readable), r, NULL);
  g_source_attach (src, NULL);
  return src;
}

int
main (int argc, char **argv)
{
  gint target_port = 0, listen_port = 0;
  gint64 seed = 1;
  g_autofree char *host = NULL, *burst = NULL, *jitter_dist = NULL;
  double loss = 0, reorder = 0;
  gint delay = 0, jitter = 0, rate = 0;
  GOptionEntry entries[] = {
    { "target", 't', 0, G_OPTION_ARG_INT, &target_port, "Target port", "PORT" },
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Target address: 127.0.0.1 or ::1",
      "ADDR" },
    { "listen", 'l', 0, G_OPTION_ARG_INT, &listen_port, "Listen port (0: any)", "PORT" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed", "N" },
    { "loss", 0, 0, G_OPTION_ARG_DOUBLE, &loss, "Random loss, both ways", "PERCENT" },
    { "burst", 0, 0, G_OPTION_ARG_STRING, &burst, "Gilbert-Elliott loss", "P,R" },
    { "delay", 0, 0, G_OPTION_ARG_INT, &delay, "Delay each way", "MS" },
    { "jitter", 0, 0, G_OPTION_ARG_INT, &jitter, "Jitter each way", "MS" },
    { "jitter-dist", 0, 0, G_OPTION_ARG_STRING, &jitter_dist, "uniform or normal",
      "DIST" },
    { "reorder", 0, 0, G_OPTION_ARG_DOUBLE, &reorder, "Reordered packets", "PERCENT" },
    { "rate", 0, 0, G_OPTION_ARG_INT, &rate, "Rate limit each way", "KBPS" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- UDP impairment relay");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("lt-impair: %s\n", error->message);
      return 2;
    }
  if (target_port <= 0 || target_port > 65535 || listen_port < 0 || listen_port > 65535)
    {
      g_printerr ("lt-impair: --target PORT (1..65535) is required\n");
      return 2;
    }
  g_autoptr (GInetAddress) target_addr
      = g_inet_address_new_from_string (host ? host : "127.0.0.1");
  if (target_addr == NULL || !is_allowed_address (target_addr))
    {
      g_printerr ("lt-impair: refusing target %s: only 127.0.0.1 or ::1\n",
                  host ? host : "?");
      return 2;
    }

  static Relay relay; /* large (the receive buffer); one per process */
  Relay *r = &relay;
  r->loop = g_main_loop_new (NULL, FALSE);
  direction_init (&r->up, r, "up", (guint32)seed * 2);
  direction_init (&r->down, r, "down", (guint32)seed * 2 + 1);

  /* the initial settings go through the command parser, both ways */
  g_autoptr (GPtrArray) initial = g_ptr_array_new_with_free_func (g_free);
  if (loss > 0)
    g_ptr_array_add (initial, g_strdup_printf ("loss %.6g", loss));
  if (burst != NULL)
    g_ptr_array_add (initial,
                     g_strdup_printf ("burst %s", g_strdelimit (burst, ",", ' ')));
  if (delay > 0)
    g_ptr_array_add (initial, g_strdup_printf ("delay %d", delay));
  if (jitter > 0 || jitter_dist != NULL)
    g_ptr_array_add (initial, g_strdup_printf ("jitter %d %s", jitter,
                                               jitter_dist ? jitter_dist : "uniform"));
  if (reorder > 0)
    g_ptr_array_add (initial, g_strdup_printf ("reorder %.6g", reorder));
  if (rate > 0)
    g_ptr_array_add (initial, g_strdup_printf ("rate %d", rate));
  for (guint i = 0; i < initial->len; i++)
    {
      const char *err = run_command (r, initial->pdata[i]);
      if (err != NULL)
        {
          g_printerr ("lt-impair: %s: %s\n", (char *)initial->pdata[i], err);
          return 2;
        }
    }

  GSocketFamily family = g_inet_address_get_family (target_addr);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (family);
  g_autoptr (GSocketAddress) listen_sa = g_inet_socket_address_new (lo, listen_port);
  g_autoptr (GSocketAddress) any_sa = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) target_sa
      = g_inet_socket_address_new (target_addr, target_port);
  r->listen_sock
      = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  if (r->listen_sock == NULL || !g_socket_bind (r->listen_sock, listen_sa, FALSE, &error))
    {
      g_printerr ("lt-impair: listen: %s\n", error->message);
      return 1;
    }
  r->target_sock
      = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  if (r->target_sock == NULL || !g_socket_bind (r->target_sock, any_sa, FALSE, &error)
      || !g_socket_connect (r->target_sock, target_sa, NULL, &error))
    {
      g_printerr ("lt-impair: target: %s\n", error->message);
      return 1;
    }
  g_socket_set_blocking (r->listen_sock, FALSE);
  g_socket_set_blocking (r->target_sock, FALSE);

  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (r->listen_sock, &error);
  if (bound == NULL)
    {
      g_printerr ("lt-impair: %s\n", error->message);
      return 1;
    }
  say ("%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  GSource *s1 = watch_socket (r->listen_sock, r);
  GSource *s2 = watch_socket (r->target_sock, r);
  GIOChannel *in = g_io_channel_unix_new (0);
  guint in_id = g_io_add_watch (in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, r);
  guint sig1 = g_unix_signal_add (SIGINT, on_signal, r);
  guint sig2 = g_unix_signal_add (SIGTERM, on_signal, r);

  g_main_loop_run (r->loop);

  print_stats (r);
  g_source_remove (sig1);
  g_source_remove (sig2);
  g_source_remove (in_id);
  g_io_channel_unref (in);
  g_source_destroy (s1);
  g_source_unref (s1);
  g_source_destroy (s2);
  g_source_unref (s2);
  direction_clear (&r->up);
  direction_clear (&r->down);
  g_clear_object (&r->client);
  g_clear_object (&r->listen_sock);
  g_clear_object (&r->target_sock);
  g_main_loop_unref (r->loop);
  return 0;
}
