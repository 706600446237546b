/* Suite quality-link: proves the measurement chain over a real impaired UDP path
 * (lt-impair between a "site" and a "node" socket on loopback): the node's
 * McuRecvStats measures 4-6% fraction lost when 5% random loss is injected, its RR
 * carries that to the site's McuSendStats (the remote view), both quality windows
 * grade the leg "bad", 15% loss grades it "very bad" with a poor MOS and a clean
 * link "good" with a MOS of about 4.4; and SR/RR exchanges through 100 ms delay
 * each way give a (minimum) RTT of 200 ms +- 20 ms, graded good, while 200 ms each
 * way (RTT 400 ms) lowers a loss-free leg to "ok". */
#include "demux.h"
#include "quality.h"
#include "rtp-stats.h"
#include "lt-impair-harness.h"

#define SSRC 0x0a0b0c0d

typedef struct
{
  Impair *imp;
  GSocket *site, *node;
  GSocketAddress *relay;     /* where the site sends */
  GSocketAddress *node_peer; /* where the node answers (the relay's far side) */
  McuSendStats *tx;          /* site: what it sends, and the node's view of it */
  McuRecvStats *rx;          /* node: what it receives */
  guint16 seq;
} Link;

static Link *
link_new (const char *const *args)
{
  Link *l = g_new0 (Link, 1);
  guint16 site_port, node_port;
  l->node = udp_socket (&node_port);
  l->site = udp_socket (&site_port);
  l->imp = impair_start (node_port, args);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  l->relay = g_inet_socket_address_new (lo, l->imp->port);
  l->tx = mcu_send_stats_new (SSRC, 48000);
  l->rx = mcu_recv_stats_new (SSRC, 48000);
  l->seq = 40000; /* wraps during the longer runs */
  return l;
}

static void
link_free (Link *l)
{
  impair_stop (l->imp);
  g_object_unref (l->site);
  g_object_unref (l->node);
  g_object_unref (l->relay);
  g_clear_object (&l->node_peer);
  mcu_send_stats_free (l->tx);
  mcu_recv_stats_free (l->rx);
  g_free (l);
}

/* The node reads one datagram: RTP into its stats, an SR noted for its RR.
 * Returns: TRUE for an SR. */
static gboolean
node_receive (Link *l)
{
  guint8 buf[1500];
  g_autoptr (GSocketAddress) from = NULL;
  gssize n = g_socket_receive_from (l->node, &from, (char *)buf, sizeof buf, NULL, NULL);
  ck_assert_int_gt (n, 0);
  g_set_object (&l->node_peer, from);
  gint64 now = g_get_monotonic_time ();
  if (mcu_demux_classify (buf, (gsize)n) == MCU_PACKET_RTP)
    {
      McuRtpHeader h;
      ck_assert_int_eq (mcu_rtp_parse (buf, (gsize)n, &h), MCU_RTP_OK);
      mcu_recv_stats_update_rtp (l->rx, &h, (gsize)n, now);
      return FALSE;
    }
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (buf, (gsize)n, MCU_RTCP_PARSE_STRICT, &info),
                    MCU_RTCP_OK);
  ck_assert_uint_eq (info.n_srs, 1);
  mcu_recv_stats_on_sr (l->rx, &info.srs[0], now);
  return TRUE;
}

/* Sends @n RTP packets (batches of 100) and has the node read all the relay passed. */
static void
site_send_rtp (Link *l, guint n)
{
  DirStats up = { 0 };
  impair_cmd (l->imp, "stats", &up, NULL);
  guint64 base = up.tx;
  for (guint sent = 0; sent < n;)
    {
      for (guint i = 0; i < 100 && sent < n; i++, sent++)
        {
          guint8 pkt[12 + 80] = { 0 };
          mcu_rtp_write_header (pkt, sizeof pkt, 111, FALSE, l->seq, l->seq * 960u, SSRC);
          l->seq++;
          ck_assert_int_eq (
              g_socket_send_to (l->site, l->relay, (char *)pkt, sizeof pkt, NULL, NULL),
              sizeof pkt);
          mcu_send_stats_on_sent (l->tx, sizeof pkt, 80);
        }
      impair_cmd (l->imp, "stats", &up, NULL);
      for (; base < up.tx; base++)
        node_receive (l);
    }
}

/* The site sends an SR; the node answers at once with an RR through the relay
 * (reading first any RTP still on its way: the relay keeps order). */
static void
sr_rr_exchange (Link *l)
{
  McuRtcpSenderInfo si;
  guint8 buf[256];
  mcu_send_stats_fill_sr (l->tx, mcu_ntp_from_unix_us (g_get_real_time ()), 0, &si);
  gsize n = mcu_rtcp_write_sr (buf, sizeof buf, &si, NULL, 0);
  ck_assert_int_eq (g_socket_send_to (l->site, l->relay, (char *)buf, n, NULL, NULL), n);
  while (!node_receive (l))
    ;

  McuRtcpReportBlock b;
  mcu_recv_stats_report_block (l->rx, g_get_monotonic_time (), &b);
  n = mcu_rtcp_write_rr (buf, sizeof buf, 0x99, &b, 1);
  ck_assert_int_eq (g_socket_send_to (l->node, l->node_peer, (char *)buf, n, NULL, NULL),
                    n);

  gssize got = g_socket_receive (l->site, (char *)buf, sizeof buf, NULL, NULL);
  ck_assert_int_gt (got, 0);
  guint32 now32 = mcu_ntp_middle32 (mcu_ntp_from_unix_us (g_get_real_time ()));
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (buf, (gsize)got, MCU_RTCP_PARSE_STRICT, &info),
                    MCU_RTCP_OK);
  ck_assert_uint_eq (info.n_reports, 1);
  ck_assert (mcu_send_stats_on_report_block (l->tx, &info.reports[0], now32));
}

/* A stream under @loss percent (one way, seeded), measured on both sides. */
static void
measure_loss (const char *loss, McuQualitySnapshot *node_view,
              McuQualitySnapshot *site_view, McuRecvCounters *rc)
{
  Link *l = link_new ((const char *const[]){ "--seed", "21", NULL });
  g_autofree char *cmd = g_strdup_printf ("up loss %s", loss);

  /* the windows start when the stream starts; each side samples after each second
   * of stream (the stream itself is sent as fast as the relay takes it) */
  gint64 t = g_get_monotonic_time ();
  g_autoptr (McuQualityWindow) up_w = mcu_quality_window_new (5000, t);
  g_autoptr (McuQualityWindow) down_w = mcu_quality_window_new (5000, t);
  mcu_quality_window_sample_recv (up_w, l->rx, t);
  mcu_quality_window_sample_send (down_w, l->tx, t);
  for (guint s = 1; s <= 5; s++)
    {
      /* only the media is lost: an SR or RR lost would stall this test */
      ck_assert (impair_cmd (l->imp, cmd, NULL, NULL));
      site_send_rtp (l, 400);
      ck_assert (impair_cmd (l->imp, "up loss 0", NULL, NULL));
      sr_rr_exchange (l);
      mcu_quality_window_sample_recv (up_w, l->rx, t + s * G_USEC_PER_SEC);
      mcu_quality_window_sample_send (down_w, l->tx, t + s * G_USEC_PER_SEC);
    }
  mcu_quality_window_get (up_w, t + 5 * G_USEC_PER_SEC, node_view);
  mcu_quality_window_get (down_w, t + 5 * G_USEC_PER_SEC, site_view);

  mcu_recv_stats_get (l->rx, rc);
  DirStats up = { 0 };
  impair_cmd (l->imp, "stats", &up, NULL);
  /* all that was dropped is seen as lost, bar any before the probation ended */
  ck_assert_int_le (rc->cumulative_lost, (gint64)up.loss);
  ck_assert_int_ge (rc->cumulative_lost, (gint64)up.loss - 2);
  g_print ("loss %s%%: node measured %.2f%% (%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
           "), site's remote view %.2f%%, grades %s/%s, MOS %.2f\n",
           loss, node_view->loss_pct, rc->cumulative_lost, rc->expected,
           site_view->loss_pct, mcu_grade_id (node_view->grade),
           mcu_grade_id (site_view->grade), node_view->mos);
  link_free (l);
}

START_TEST (test_loss_5)
{
  McuQualitySnapshot node, site;
  McuRecvCounters whole;
  measure_loss ("5", &node, &site, &whole);
  double fraction = (double)whole.cumulative_lost / whole.expected;
  ck_assert_double_ge (fraction, 0.04);
  ck_assert_double_le (fraction, 0.06);
  ck_assert_double_ge (node.loss_pct, 4.0);
  ck_assert_double_le (node.loss_pct, 6.0);
  /* the remote view is the node's, one RR later: the first RR was its baseline */
  ck_assert_double_ge (site.loss_pct, 4.0);
  ck_assert_double_le (site.loss_pct, 6.0);
  ck_assert_int_eq (node.grade, MCU_GRADE_BAD);
  ck_assert_int_eq (site.grade, MCU_GRADE_BAD);
}
END_TEST

START_TEST (test_loss_15_and_clean)
{
  McuQualitySnapshot node, site;
  McuRecvCounters whole;
  measure_loss ("15", &node, &site, &whole);
  ck_assert_double_ge (node.loss_pct, 12.0);
  ck_assert_double_le (node.loss_pct, 18.0);
  ck_assert_int_eq (node.grade, MCU_GRADE_VERY_BAD);
  ck_assert_int_eq (site.grade, MCU_GRADE_VERY_BAD);
  ck_assert_double_lt (node.mos, 3.1);

  measure_loss ("0", &node, &site, &whole);
  ck_assert_int_eq (whole.cumulative_lost, 0);
  ck_assert_double_eq_tol (node.loss_pct, 0, 1e-9);
  ck_assert_int_eq (node.grade, MCU_GRADE_GOOD);
  ck_assert_int_eq (site.grade, MCU_GRADE_GOOD);
  ck_assert_double_ge (node.mos, 4.3);
}
END_TEST

/* Fills @site_view with the quality window of a few SR/RR exchanges over a path
 * delayed by @delay ms each way; what it reports is what an operator reads. */
static void
measure_rtt (const char *delay, McuQualitySnapshot *site_view)
{
  Link *l = link_new ((const char *const[]){ "--delay", delay, NULL });
  gint64 t = g_get_monotonic_time ();
  g_autoptr (McuQualityWindow) w = mcu_quality_window_new (5000, t);
  site_send_rtp (l, 10); /* the node's stats need a valid source for its RR */
  mcu_quality_window_sample_send (w, l->tx, t);
  double rtts[4], sum = 0;
  for (guint i = 0; i < G_N_ELEMENTS (rtts); i++)
    {
      sr_rr_exchange (l);
      McuSendCounters c;
      mcu_send_stats_get (l->tx, &c);
      ck_assert (c.has_rtt);
      rtts[i] = c.rtt_ms;
      sum += c.rtt_ms;
      mcu_quality_window_sample_send (w, l->tx, t + (i + 1) * G_USEC_PER_SEC);
    }
  mcu_quality_window_get (w, t + 4 * G_USEC_PER_SEC, site_view);
  g_print ("delay %s ms each way: RTT %.1f, %.1f, %.1f, %.1f ms; window %.1f ms, "
           "grade %s\n",
           delay, rtts[0], rtts[1], rtts[2], rtts[3], site_view->rtt_ms,
           mcu_grade_id (site_view->grade));
  /* the window's RTT is the mean of what the report blocks gave */
  ck_assert_double_eq_tol (site_view->rtt_ms, sum / G_N_ELEMENTS (rtts), 1e-6);
  link_free (l);
}

START_TEST (test_rtt)
{
  /* the window's own RTT, the figure the IT board shows and grades, not a filtered
   * best case: within 10% of the path's round trip */
  McuQualitySnapshot s;
  measure_rtt ("100", &s);
  ck_assert_double_ge (s.rtt_ms, 180.0);
  ck_assert_double_le (s.rtt_ms, 220.0);
  ck_assert_int_eq (s.grade, MCU_GRADE_GOOD);

  measure_rtt ("200", &s);
  ck_assert_double_ge (s.rtt_ms, 380.0);
  ck_assert_double_le (s.rtt_ms, 420.0);
  /* no loss, but RTT over 300 ms: one grade lower */
  ck_assert_int_eq (s.grade, MCU_GRADE_OK);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("quality-link");
  TCase *tc = tcase_create ("link");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_loss_5);
  tcase_add_test (tc, test_loss_15_and_clean);
  tcase_add_test (tc, test_rtt);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
