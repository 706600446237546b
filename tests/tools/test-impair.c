/* Suite quality-impair: proves that lt-impair, run as a real process, impairs a UDP
 * path as told: 5% random loss with a fixed seed loses 4-6% of 2000 numbered
 * datagrams, never reorders or duplicates them, and loses the same ones again with
 * the same seed; Gilbert-Elliott burst loss loses packets in runs; 100 ms delay each
 * way makes the fastest echo round trip 200-220 ms and none less than 200; 30 ms
 * uniform jitter gives an RFC 3550 jitter (McuRecvStats) in the band the model
 * predicts; reordering holds about the share asked and later datagrams overtake
 * them; a rate limit never passes more than its bucket plus its rate, and with a
 * queue it holds packets up to the queue's time and drops only what overflows; "cut on"
 * stops everything in the direction named and "cut off" lets traffic through
 * again; a bad command changes nothing; and any target other than 127.0.0.1/::1 is
 * refused before anything is sent. */
#include "rtp-stats.h"
#include "lt-impair-harness.h"

START_TEST (test_random_loss)
{
  guint16 sink_port, client_port;
  g_autoptr (GSocket) sink = udp_socket (&sink_port);
  g_autoptr (GSocket) client = udp_socket (&client_port);
  const char *args[] = { "--seed", "7", "--loss", "5", NULL };
  const guint n = 2000;

  GArray *runs[2];
  for (guint run = 0; run < 2; run++)
    {
      Impair *imp = impair_start (sink_port, args);
      runs[run] = send_through (imp, client, sink, n);
      DirStats up = { 0 };
      impair_cmd (imp, "stats", &up, NULL);
      ck_assert_uint_eq (up.rx, n);
      /* every datagram the relay did not drop arrived */
      ck_assert_uint_eq (up.loss, n - runs[run]->len);
      ck_assert_uint_eq (up.tx, runs[run]->len);
      impair_stop (imp);
    }
  double lost = 1.0 - runs[0]->len / (double)n;
  g_print ("random loss 5%%: %u of %u arrived, %.2f%% lost\n", runs[0]->len, n,
           lost * 100);
  ck_assert_double_ge (lost, 0.04);
  ck_assert_double_le (lost, 0.06);
  /* the same seed loses the same datagrams */
  ck_assert_uint_eq (runs[0]->len, runs[1]->len);
  ck_assert (memcmp (runs[0]->data, runs[1]->data, runs[0]->len * sizeof (guint32)) == 0);
  g_array_unref (runs[0]);
  g_array_unref (runs[1]);
}
END_TEST

START_TEST (test_burst_loss)
{
  guint16 sink_port, client_port;
  g_autoptr (GSocket) sink = udp_socket (&sink_port);
  g_autoptr (GSocket) client = udp_socket (&client_port);
  /* p = 1%, r = 25%: 1/26 = 3.8% lost on average, in runs of 1/r = 4 */
  const char *args[] = { "--seed", "11", "--burst", "1,25", NULL };
  const guint n = 4000;
  Impair *imp = impair_start (sink_port, args);
  g_autoptr (GArray) got = send_through (imp, client, sink, n);
  DirStats up = { 0 };
  impair_cmd (imp, "stats", &up, NULL);
  impair_stop (imp);

  guint lost = n - got->len, runs = 0;
  guint32 expect = 0;
  for (guint i = 0; i <= got->len; i++)
    {
      guint32 v = i < got->len ? g_array_index (got, guint32, i) : n;
      if (v != expect)
        runs++;
      expect = v + 1;
    }
  ck_assert_uint_eq (up.burst, lost);
  ck_assert_uint_gt (runs, 0);
  double mean_run = lost / (double)runs;
  g_print ("burst loss p=1%% r=25%%: %u lost (%.2f%%) in %u runs, mean run %.2f\n", lost,
           100.0 * lost / n, runs, mean_run);
  ck_assert_double_ge (100.0 * lost / n, 2.0);
  ck_assert_double_le (100.0 * lost / n, 6.0);
  /* independent 3.8% loss would give runs of about 1.04 */
  ck_assert_double_ge (mean_run, 2.5);
}
END_TEST

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

START_TEST (test_delay_rtt)
{
  guint16 sink_port, client_port;
  g_autoptr (GSocket) sink = udp_socket (&sink_port);
  g_autoptr (GSocket) client = udp_socket (&client_port);
  const char *args[] = { "--delay", "100", NULL };
  Impair *imp = impair_start (sink_port, args);

  double rtt[7];
  for (guint i = 0; i < G_N_ELEMENTS (rtt); i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      send_num (client, imp->port, i);
      g_autoptr (GSocketAddress) from = NULL;
      ck_assert_uint_eq (recv_num (sink, &from), i);
      /* the echo: back to where it came from (the relay's target side) */
      guint8 buf[4] = { 0, 0, 0, (guint8)i };
      ck_assert_int_eq (g_socket_send_to (sink, from, (char *)buf, 4, NULL, NULL), 4);
      ck_assert_uint_eq (recv_num (client, NULL), i);
      rtt[i] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  impair_stop (imp);

  qsort (rtt, G_N_ELEMENTS (rtt), sizeof rtt[0], cmp_double);
  double median = rtt[G_N_ELEMENTS (rtt) / 2];
  g_print ("delay 100 ms each way: RTT min %.1f median %.1f max %.1f ms\n", rtt[0],
           median, rtt[G_N_ELEMENTS (rtt) - 1]);
  /* the relay holds each datagram at least 100 ms each way; the fastest exchange
   * is the path's delay, slower ones add the scheduling of a loaded machine (the
   * test suites of five helpers share two cores), as a minimum RTT filter does */
  ck_assert_double_ge (rtt[0], 200.0);
  ck_assert_double_le (rtt[0], 220.0);
}
END_TEST

typedef struct
{
  GSocket *sink;
  McuRecvStats *stats;
  guint n;
} JitterSink;

static gpointer
jitter_sink_thread (gpointer data)
{
  JitterSink *js = data;
  guint8 buf[200];
  for (guint i = 0; i < js->n; i++)
    {
      gssize n = g_socket_receive (js->sink, (char *)buf, sizeof buf, NULL, NULL);
      if (n < 12)
        break;
      McuRtpHeader h;
      if (mcu_rtp_parse (buf, (gsize)n, &h) == MCU_RTP_OK)
        mcu_recv_stats_update_rtp (js->stats, &h, (gsize)n, g_get_monotonic_time ());
    }
  return NULL;
}

/* Why 10..24 ms for 30 ms uniform jitter on 20 ms Opus-like packets, 50 ms delay:
 * RFC 3550 jitter estimates the mean |D| of consecutive transit differences. Two
 * independent uniform(-J, J) offsets differ by a triangular D with E|D| = 2J/3 = 20
 * ms. The relay keeps order (a packet never leaves before the one before it), which
 * removes part of that variation: a simulation of exactly this model (150 packets,
 * 500 seeds) gives a mean of 15.8 ms, 1st-99th percentile 12-20 ms. The band adds
 * a few ms each side for scheduling noise of the sender, relay and receiver. */
START_TEST (test_jitter_band)
{
  guint16 sink_port, client_port;
  g_autoptr (GSocket) sink = udp_socket (&sink_port);
  g_autoptr (GSocket) client = udp_socket (&client_port);
  const char *args[] = { "--seed", "5", "--delay", "50", "--jitter", "30", NULL };
  Impair *imp = impair_start (sink_port, args);

  const guint n = 150;
  g_autoptr (McuRecvStats) stats = mcu_recv_stats_new (0x5151, 48000);
  JitterSink js = { sink, stats, n };
  GThread *th = g_thread_new ("sink", jitter_sink_thread, &js);

  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) to = g_inet_socket_address_new (lo, imp->port);
  gint64 start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      /* pace to absolute 20 ms deadlines: this is the stream, not a wait */
      gint64 due = start + (gint64)i * 20000, now = g_get_monotonic_time ();
      if (due > now)
        g_usleep ((gulong)(due - now));
      guint8 pkt[12 + 80] = { 0 };
      /* the timestamp of when it really left, so that only the relay's variation
       * (and the receiver's) is measured, not this sender's scheduling */
      guint32 ts = (guint32)((g_get_monotonic_time () - start) * 48 / 1000);
      mcu_rtp_write_header (pkt, sizeof pkt, 111, FALSE, (guint16)i, ts, 0x5151);
      ck_assert_int_eq (
          g_socket_send_to (client, to, (char *)pkt, sizeof pkt, NULL, NULL), sizeof pkt);
    }
  g_thread_join (th);
  impair_stop (imp);

  McuRecvCounters c;
  mcu_recv_stats_get (stats, &c);
  g_print ("jitter 30 ms uniform: RFC 3550 jitter %.1f ms over %" G_GUINT64_FORMAT
           " packets, %" G_GUINT64_FORMAT " reordered\n",
           c.jitter_ms, c.packets, c.reordered);
  ck_assert_uint_eq (c.packets, n);
  ck_assert_uint_eq (c.reordered, 0);
  ck_assert_double_ge (c.jitter_ms, 10.0);
  ck_assert_double_le (c.jitter_ms, 24.0);
}
END_TEST

/* 10% of the datagrams are held back; the ones sent after them overtake them. */
START_TEST (test_reorder)
{
  guint16 sink_port, client_port;
  g_autoptr (GSocket) sink = udp_socket (&sink_port);
  g_autoptr (GSocket) client = udp_socket (&client_port);
  const char *args[] = { "--seed", "3", "--reorder", "10", NULL };
  Impair *imp = impair_start (sink_port, args);
  /* held 200 ms: far longer than sending a batch takes, even on a busy machine */
  ck_assert (impair_cmd (imp, "reorder 10 200", NULL, NULL));

  const guint n = 500;
  g_autofree gboolean *seen = g_new0 (gboolean, n);
  guint late = 0;
  for (guint batch = 0; batch < n; batch += 100)
    {
      for (guint i = batch; i < batch + 100; i++)
        send_num (client, imp->port, i);
      /* no loss: all 100 come, the held ones 200 ms later */
      guint32 max = 0;
      for (guint i = 0; i < 100; i++)
        {
          guint32 v = recv_num (sink, NULL);
          ck_assert_uint_lt (v, n);
          ck_assert (!seen[v]);
          seen[v] = TRUE;
          if (i > 0 && v < max)
            late++;
          max = MAX (max, v);
        }
    }
  DirStats up = { 0 };
  impair_cmd (imp, "stats", &up, NULL);
  impair_stop (imp);
  g_print ("reorder 10%%: %" G_GUINT64_FORMAT " held, %u arrived after a later one\n",
           up.reordered, late);
  ck_assert_uint_eq (up.tx, n);
  ck_assert_uint_ge (up.reordered, n * 6 / 100);
  ck_assert_uint_le (up.reordered, n * 14 / 100);
  /* a held one is overtaken unless nothing but held ones followed it in its batch */
  ck_assert_uint_le (late, up.reordered);
  ck_assert_uint_ge (late, up.reordered - 5);
}
END_TEST

/* 80 kbit/s (10 000 bytes/s, a 3000-byte bucket) offered twice that. */
START_TEST (test_rate_limit)
{
  guint16 sink_port, client_port;
  g_autoptr (GSocket) sink = udp_socket (&sink_port);
  g_autoptr (GSocket) client = udp_socket (&client_port);
  const char *args[] = { "--rate", "80", NULL };
  Impair *imp = impair_start (sink_port, args);

  gint64 start = g_get_monotonic_time ();
  const guint n = 100;
  for (guint i = 0; i < n; i++)
    {
      /* 100-byte datagrams every 5 ms: 20 000 bytes/s */
      gint64 due = start + (gint64)i * 5000, now = g_get_monotonic_time ();
      if (due > now)
        g_usleep ((gulong)(due - now));
      send_num (client, imp->port, i);
    }
  DirStats up = { 0 };
  impair_cmd (imp, "stats", &up, NULL);
  double span_s = (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
  for (guint i = 0; i < up.tx; i++)
    recv_num (sink, NULL);
  g_print ("rate 80 kbit/s, offered 160: %" G_GUINT64_FORMAT " of %u passed in %.2f s\n",
           up.tx, n, span_s);
  ck_assert_uint_eq (up.rx, n);
  ck_assert_uint_eq (up.tx + up.rate, n);
  ck_assert_uint_gt (up.rate, 0);
  /* never more than the bucket plus the rate over the whole time it could refill */
  ck_assert_double_le (up.bytes_tx, 3000 + 10000 * span_s);
  ck_assert_uint_ge (up.tx, 30); /* the full bucket at the start */

  /* rate 0 lifts the limit */
  ck_assert (impair_cmd (imp, "rate 0", NULL, NULL));
  g_autoptr (GArray) got = send_through (imp, client, sink, 300);
  ck_assert_uint_eq (got->len, 300);
  impair_stop (imp);
}
END_TEST

typedef struct
{
  GSocket *sink;
  gint64 at[400]; /* when each number arrived; 0 = never */
  guint got;
} Arrivals;

/* Receives until nothing came for 500 ms, noting when each number arrived. */
static gpointer
collect_arrivals (gpointer data)
{
  Arrivals *a = data;
  while (g_socket_condition_timed_wait (a->sink, G_IO_IN, 500000, NULL, NULL))
    {
      guint32 v = recv_num (a->sink, NULL);
      if (v < G_N_ELEMENTS (a->at))
        a->at[v] = g_get_monotonic_time ();
      a->got++;
    }
  return NULL;
}

/* A bottleneck of 80 kbit/s (one 100-byte datagram per 10 ms) with a 200 ms queue,
 * offered twice that: packets wait instead of being dropped at once, leave no faster
 * than the rate, wait no longer than the queue holds, and only what overflows the
 * queue is dropped. */
START_TEST (test_rate_queue)
{
  guint16 sink_port, client_port;
  g_autoptr (GSocket) sink = udp_socket (&sink_port);
  g_autoptr (GSocket) client = udp_socket (&client_port);
  Impair *imp = impair_start (sink_port, NULL);
  ck_assert (impair_cmd (imp, "up rate 80 200", NULL, NULL));
  ck_assert (!impair_cmd (imp, "up rate 80 x", NULL, NULL));

  static Arrivals a;
  memset (&a, 0, sizeof a);
  a.sink = sink;
  GThread *rx = g_thread_new ("arrivals", collect_arrivals, &a);
  const guint n = 200;
  gint64 sent_at[200];
  gint64 start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      /* every 5 ms: 20 000 bytes/s into a 10 000 bytes/s link */
      gint64 due = start + (gint64)i * 5000, now = g_get_monotonic_time ();
      if (due > now)
        g_usleep ((gulong)(due - now));
      sent_at[i] = g_get_monotonic_time ();
      send_num (client, imp->port, i);
    }
  g_thread_join (rx);
  DirStats up = { 0 };
  ck_assert (impair_cmd (imp, "stats", &up, NULL));

  gint64 first = 0, last = 0, max_wait = 0;
  for (guint i = 0; i < n; i++)
    if (a.at[i])
      {
        first = first ? MIN (first, a.at[i]) : a.at[i];
        last = MAX (last, a.at[i]);
        max_wait = MAX (max_wait, a.at[i] - sent_at[i]);
      }
  double span_ms = (double)(last - first) / 1000.0;
  g_print ("bottleneck 80 kbit/s, 200 ms queue, offered 160: %" G_GUINT64_FORMAT
           " of %u passed over %.0f ms (at the rate: %.0f ms), %" G_GUINT64_FORMAT
           " dropped, longest wait %.0f ms\n",
           up.tx, n, span_ms, (double)(up.tx - 1) * 10.0, up.rate, max_wait / 1000.0);
  ck_assert_uint_eq (up.rx, n);
  ck_assert_uint_eq (a.got, up.tx);
  ck_assert_uint_eq (up.tx + up.rate, n);
  ck_assert_uint_gt (up.rate, 0); /* the queue overflowed */
  /* offered for 1 s at twice the rate: about 1 s of the rate plus the queue passed,
   * far more than a policer's bucket would let through at once */
  ck_assert_uint_ge (up.tx, 100);
  ck_assert_uint_le (up.tx, 130);
  /* never faster than the rate: each packet takes 10 ms of the link (2% slack for
   * the timer's rounding) */
  ck_assert_double_ge (span_ms, (double)(up.tx - 1) * 10.0 * 0.98);
  /* packets really waited in the queue, and not longer than it holds (plus 50 ms
   * for a loaded machine's scheduling) */
  ck_assert_int_ge (max_wait, 150000);
  ck_assert_int_le (max_wait, 250000);
  impair_stop (imp);
}
END_TEST

START_TEST (test_cut_and_heal)
{
  guint16 sink_port, client_port;
  g_autoptr (GSocket) sink = udp_socket (&sink_port);
  g_autoptr (GSocket) client = udp_socket (&client_port);
  Impair *imp = impair_start (sink_port, NULL);

  g_autoptr (GArray) before = send_through (imp, client, sink, 20);
  ck_assert_uint_eq (before->len, 20);

  ck_assert (impair_cmd (imp, "cut on", NULL, NULL));
  for (guint i = 0; i < 50; i++)
    send_num (client, imp->port, 100 + i);
  DirStats up = { 0 };
  impair_cmd (imp, "stats", &up, NULL);
  ck_assert_uint_eq (up.cut, 50);
  ck_assert_uint_eq (up.tx, 20);
  /* the relay has read all 50 (stats come after the sockets) and sent none */
  ck_assert_uint_eq (g_socket_condition_check (sink, G_IO_IN), 0);

  /* a bad command is refused and changes nothing */
  ck_assert (!impair_cmd (imp, "cut maybe", NULL, NULL));
  ck_assert (!impair_cmd (imp, "loss 150", NULL, NULL));
  send_num (client, imp->port, 999);
  impair_cmd (imp, "stats", &up, NULL);
  ck_assert_uint_eq (up.cut, 51);

  ck_assert (impair_cmd (imp, "cut off", NULL, NULL));
  g_autoptr (GArray) after = send_through (imp, client, sink, 50);
  ck_assert_uint_eq (after->len, 50);

  /* cut only the way back: requests pass, replies do not, until healed */
  ck_assert (impair_cmd (imp, "down cut on", NULL, NULL));
  send_num (client, imp->port, 7);
  g_autoptr (GSocketAddress) from = NULL;
  ck_assert_uint_eq (recv_num (sink, &from), 7);
  guint8 reply[4] = { 0, 0, 0, 8 };
  ck_assert_int_eq (g_socket_send_to (sink, from, (char *)reply, 4, NULL, NULL), 4);
  DirStats down = { 0 };
  impair_cmd (imp, "stats", NULL, &down);
  ck_assert_uint_eq (down.rx, 1);
  ck_assert_uint_eq (down.cut, 1);
  ck_assert_uint_eq (g_socket_condition_check (client, G_IO_IN), 0);
  ck_assert (impair_cmd (imp, "down cut off", NULL, NULL));
  ck_assert_int_eq (g_socket_send_to (sink, from, (char *)reply, 4, NULL, NULL), 4);
  ck_assert_uint_eq (recv_num (client, NULL), 8);
  impair_stop (imp);
}
END_TEST

START_TEST (test_refuses_non_loopback)
{
  static const char *const hosts[] = { "192.0.2.1", "10.0.0.1",         "127.0.0.2",
                                       "localhost", "::ffff:192.0.2.1", "0.0.0.0" };
  g_autofree char *path = impair_path ();
  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_autoptr (GError) error = NULL;
      const char *argv[] = { path, "--target", "9", "--host", hosts[i], NULL };
      g_autoptr (GSubprocess) p = g_subprocess_newv (
          argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
      ck_assert (p != NULL);
      g_autofree char *out = NULL, *err = NULL;
      ck_assert (g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error));
      ck_assert (g_subprocess_get_if_exited (p));
      ck_assert_int_eq (g_subprocess_get_exit_status (p), 2);
      ck_assert_str_eq (out, ""); /* no port: it never opened a socket */
      ck_assert_msg (strstr (err, "refusing") != NULL, "%s: %s", hosts[i], err);
    }
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("quality-impair");
  TCase *tc = tcase_create ("impair");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_random_loss);
  tcase_add_test (tc, test_burst_loss);
  tcase_add_test (tc, test_delay_rtt);
  tcase_add_test (tc, test_jitter_band);
  tcase_add_test (tc, test_reorder);
  tcase_add_test (tc, test_rate_limit);
  tcase_add_test (tc, test_rate_queue);
  tcase_add_test (tc, test_cut_and_heal);
  tcase_add_test (tc, test_refuses_non_loopback);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
