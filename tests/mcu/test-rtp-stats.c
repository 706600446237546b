/* Suite mcu-rtp-stats: proves that McuRecvStats counts exactly what RFC 3550
 * appendix A.1/A.3 say for known patterns (5% seeded random loss, bursts, a
 * wraparound at 65535, reordering, duplicates that make the loss negative, a
 * source restart resynced after two sequential packets, a stray jump ignored), that
 * its A.8 jitter equals a hand-computed value for known arrival offsets, and that
 * an SR -> RR exchange with known NTP times gives LSR, DLSR and the round-trip time
 * (RFC 3550 6.4.1), ignoring blocks with LSR 0 or about another SSRC. */
#include "rtp-stats.h"
#include "lt-test.h"

#include <math.h>

#define T0 G_GINT64_CONSTANT (1000000000000) /* an arbitrary monotonic start, µs */

/* Feeds @seq at 20 ms steps (Opus-like) and returns the result. */
static McuRecvResult
feed (McuRecvStats *s, guint16 seq)
{
  return mcu_recv_stats_update (s, seq, (guint32)seq * 960, 100,
                                T0 + (gint64)seq * 20000);
}

START_TEST (test_probation_and_clean)
{
  g_autoptr (McuRecvStats) s = mcu_recv_stats_new (0x1234, 48000);
  ck_assert_int_eq (feed (s, 500), MCU_RECV_PROBATION);
  ck_assert_int_eq (feed (s, 501), MCU_RECV_VALID);
  for (guint16 i = 502; i < 600; i++)
    ck_assert_int_eq (feed (s, i), MCU_RECV_VALID);

  McuRecvCounters c;
  mcu_recv_stats_get (s, &c);
  ck_assert (c.valid);
  ck_assert_uint_eq (c.packets, 100);
  ck_assert_uint_eq (c.bytes, 10000);
  /* the probation packet is not counted: the base is the second one */
  ck_assert_uint_eq (c.base_seq, 501);
  ck_assert_int_eq (c.expected, 99);
  ck_assert_uint_eq (c.received, 99);
  ck_assert_int_eq (c.cumulative_lost, 0);
  ck_assert_uint_eq (c.jitter, 0);

  McuRtcpReportBlock b;
  mcu_recv_stats_report_block (s, T0, &b);
  ck_assert_uint_eq (b.ssrc, 0x1234);
  ck_assert_uint_eq (b.fraction_lost, 0);
  ck_assert_int_eq (b.cumulative_lost, 0);
  ck_assert_uint_eq (b.ext_highest_seq, 599);
  ck_assert_uint_eq (b.lsr, 0);
  ck_assert_uint_eq (b.dlsr, 0);

  /* A stray first packet that is not followed in sequence restarts probation. */
  g_autoptr (McuRecvStats) p = mcu_recv_stats_new (1, 48000);
  ck_assert_int_eq (feed (p, 10), MCU_RECV_PROBATION);
  ck_assert_int_eq (feed (p, 20), MCU_RECV_PROBATION);
  ck_assert_int_eq (feed (p, 21), MCU_RECV_VALID);
  mcu_recv_stats_get (p, &c);
  ck_assert_uint_eq (c.base_seq, 21);
}
END_TEST

START_TEST (test_random_loss_seeded)
{
  g_autoptr (McuRecvStats) s = mcu_recv_stats_new (7, 48000);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  const guint n = 20000;
  guint dropped = 0;
  for (guint i = 0; i < n; i++)
    {
      guint16 seq = (guint16)(1000 + i);
      /* the two probation packets and the last always arrive */
      gboolean keep = i < 2 || i == n - 1 || g_rand_double (rand) >= 0.05;
      if (keep)
        feed (s, seq);
      else
        dropped++;
    }
  McuRecvCounters c;
  mcu_recv_stats_get (s, &c);
  ck_assert_int_eq (c.expected, n - 1);
  ck_assert_int_eq (c.cumulative_lost, dropped);
  ck_assert_uint_eq (c.cycles, 0);
  /* 20000 crosses no wrap from 1000; the seed gives about 5% */
  ck_assert_uint_ge (dropped, (n - 1) * 4 / 100);
  ck_assert_uint_le (dropped, (n - 1) * 6 / 100);

  McuRtcpReportBlock b;
  mcu_recv_stats_report_block (s, T0, &b);
  ck_assert_uint_eq (b.fraction_lost, ((guint64)dropped << 8) / (n - 1));
  ck_assert_int_eq (b.cumulative_lost, dropped);
}
END_TEST

START_TEST (test_bursts_and_intervals)
{
  g_autoptr (McuRecvStats) s = mcu_recv_stats_new (7, 48000);
  for (guint16 i = 0; i < 100; i++)
    feed (s, i);
  for (guint16 i = 150; i < 200; i++) /* 100..149 lost */
    feed (s, i);

  McuRtcpReportBlock b;
  mcu_recv_stats_report_block (s, T0, &b);
  /* base 1: 199 expected, 50 lost: 50 * 256 / 199 = 64 */
  ck_assert_int_eq (b.cumulative_lost, 50);
  ck_assert_uint_eq (b.fraction_lost, 64);
  ck_assert_uint_eq (b.ext_highest_seq, 199);

  for (guint16 i = 210; i < 300; i++) /* 200..209 lost */
    feed (s, i);
  mcu_recv_stats_report_block (s, T0, &b);
  /* the interval: 100 expected, 10 lost = 25.6 -> 25 */
  ck_assert_int_eq (b.cumulative_lost, 60);
  ck_assert_uint_eq (b.fraction_lost, 25);

  /* an interval with nothing received and nothing expected: 0, not a division */
  mcu_recv_stats_report_block (s, T0, &b);
  ck_assert_uint_eq (b.fraction_lost, 0);
  ck_assert_int_eq (b.cumulative_lost, 60);
}
END_TEST

START_TEST (test_wraparound)
{
  g_autoptr (McuRecvStats) s = mcu_recv_stats_new (7, 90000);
  for (guint i = 0; i < 20; i++)
    {
      guint16 seq = (guint16)(65530 + i);
      if (seq != 3) /* one lost after the wrap */
        ck_assert_int_eq (feed (s, seq), i == 0 ? MCU_RECV_PROBATION : MCU_RECV_VALID);
    }
  McuRecvCounters c;
  mcu_recv_stats_get (s, &c);
  ck_assert_uint_eq (c.cycles, 65536);
  ck_assert_uint_eq (c.ext_highest_seq, 65536 + 13);
  ck_assert_int_eq (c.expected, 19); /* 65531 .. 65536+13 */
  ck_assert_int_eq (c.cumulative_lost, 1);

  /* a late packet from before the wrap does not add a cycle */
  feed (s, 65535);
  mcu_recv_stats_get (s, &c);
  ck_assert_uint_eq (c.cycles, 65536);
  ck_assert_uint_eq (c.duplicates, 1);
}
END_TEST

START_TEST (test_reordering)
{
  g_autoptr (McuRecvStats) s = mcu_recv_stats_new (7, 48000);
  for (guint16 i = 0; i < 10; i++)
    feed (s, i);
  ck_assert_int_eq (feed (s, 11), MCU_RECV_VALID);
  ck_assert_int_eq (feed (s, 10), MCU_RECV_REORDERED);
  for (guint16 i = 12; i < 20; i++)
    feed (s, i);
  for (guint16 i = 21; i < 26; i++) /* 20 late by 5 */
    feed (s, i);
  ck_assert_int_eq (feed (s, 20), MCU_RECV_REORDERED);
  /* late by 90 (within MAX_MISORDER): still the first copy of 115 - 90 */
  for (guint16 i = 27; i < 116; i++)
    feed (s, i);
  ck_assert_int_eq (feed (s, 26), MCU_RECV_REORDERED);

  McuRecvCounters c;
  mcu_recv_stats_get (s, &c);
  ck_assert_uint_eq (c.reordered, 3);
  ck_assert_uint_eq (c.duplicates, 0);
  ck_assert_int_eq (c.cumulative_lost, 0);
  ck_assert_uint_eq (c.ext_highest_seq, 115);
}
END_TEST

START_TEST (test_duplicates_negative_loss)
{
  g_autoptr (McuRecvStats) s = mcu_recv_stats_new (7, 48000);
  for (guint16 i = 0; i < 100; i++)
    {
      if (i != 30)
        feed (s, i);
      if (i == 50)
        {
          ck_assert_int_eq (feed (s, 50), MCU_RECV_DUPLICATE);
          ck_assert_int_eq (feed (s, 50), MCU_RECV_DUPLICATE);
        }
    }
  ck_assert_int_eq (feed (s, 99), MCU_RECV_DUPLICATE);
  /* a copy of a late packet is a duplicate, not another reordering */
  ck_assert_int_eq (feed (s, 30), MCU_RECV_REORDERED);
  ck_assert_int_eq (feed (s, 30), MCU_RECV_DUPLICATE);

  McuRecvCounters c;
  mcu_recv_stats_get (s, &c);
  ck_assert_uint_eq (c.duplicates, 4);
  ck_assert_uint_eq (c.reordered, 1);
  /* RFC 3550 A.3: duplicates count as received, so 99 expected, 103 received */
  ck_assert_int_eq (c.expected, 99);
  ck_assert_uint_eq (c.received, 103);
  ck_assert_int_eq (c.cumulative_lost, -4);

  McuRtcpReportBlock b;
  mcu_recv_stats_report_block (s, T0, &b);
  ck_assert_int_eq (b.cumulative_lost, -4);
  ck_assert_uint_eq (b.fraction_lost, 0);
}
END_TEST

START_TEST (test_resync)
{
  g_autoptr (McuRecvStats) s = mcu_recv_stats_new (7, 48000);
  for (guint16 i = 0; i < 50; i++)
    feed (s, i);
  /* one stray jump is ignored and the stream goes on */
  ck_assert_int_eq (feed (s, 40000), MCU_RECV_BAD_SEQ);
  ck_assert_int_eq (feed (s, 50), MCU_RECV_VALID);

  McuRecvCounters c;
  mcu_recv_stats_get (s, &c);
  ck_assert_int_eq (c.expected, 50);
  ck_assert_int_eq (c.cumulative_lost, 0);

  /* the source restarts at 30000: the second sequential packet resyncs */
  ck_assert_int_eq (feed (s, 30000), MCU_RECV_BAD_SEQ);
  ck_assert_int_eq (feed (s, 30001), MCU_RECV_RESYNCED);
  for (guint16 i = 30002; i < 30010; i++)
    if (i != 30005)
      ck_assert_int_eq (feed (s, i), MCU_RECV_VALID);
  mcu_recv_stats_get (s, &c);
  ck_assert_uint_eq (c.resyncs, 1);
  ck_assert_uint_eq (c.base_seq, 30001);
  ck_assert_int_eq (c.expected, 9);
  ck_assert_int_eq (c.cumulative_lost, 1);
  ck_assert_uint_eq (c.packets, 50 + 2 + 2 + 7);
}
END_TEST

START_TEST (test_jitter_hand_computed)
{
  /* 8 kHz, 20 ms frames (160 ticks); arrivals at 0, 20, 45, 60, 80, 110 ms.
   * Packet 0 is in probation and packet 1 starts the counters, so transits (ticks)
   * from packet 1 on are 0, 40, 0, 0, 80; D = 40, 40, 0, 80. The RFC's integer
   * code (J16 += |D| - ((J16 + 8) >> 4)): 40, 77, 72, 147; 147 >> 4 = 9 ticks.
   * (The real-valued J += (|D| - J) / 16 gives 9.26.) */
  static const int arrival_ms[] = { 0, 20, 45, 60, 80, 110 };
  g_autoptr (McuRecvStats) s = mcu_recv_stats_new (9, 8000);
  for (guint i = 0; i < G_N_ELEMENTS (arrival_ms); i++)
    mcu_recv_stats_update (s, (guint16)(100 + i), 5000 + 160 * i, 60,
                           T0 + arrival_ms[i] * 1000);
  McuRecvCounters c;
  mcu_recv_stats_get (s, &c);
  ck_assert_uint_eq (c.jitter, 9);
  ck_assert_double_eq_tol (c.jitter_ms, 9 / 8.0, 1e-9);

  McuRtcpReportBlock b;
  mcu_recv_stats_report_block (s, T0, &b);
  ck_assert_uint_eq (b.jitter, 9);

  /* A perfectly paced stream has none, whatever its start offsets. */
  g_autoptr (McuRecvStats) p = mcu_recv_stats_new (9, 90000);
  for (guint i = 0; i < 200; i++)
    mcu_recv_stats_update (p, (guint16)(65500 + i), 0xffffff00u + 90 * i, 1200,
                           T0 + 7 + i * 1000);
  mcu_recv_stats_get (p, &c);
  ck_assert_uint_eq (c.jitter, 0);
}
END_TEST

START_TEST (test_ntp)
{
  ck_assert_uint_eq (mcu_ntp_from_unix_us (0), G_GUINT64_CONSTANT (2208988800) << 32);
  ck_assert_uint_eq (mcu_ntp_from_unix_us (1500000),
                     ((G_GUINT64_CONSTANT (2208988801)) << 32) | 0x80000000u);
  ck_assert_uint_eq (mcu_ntp_middle32 (G_GUINT64_CONSTANT (0x0123456789abcdef)),
                     0x456789ab);
}
END_TEST

START_TEST (test_sr_rr_rtt)
{
  /* We send an SR at unix time T; the peer gets it 60 ms later, holds it 500 ms,
   * and its RR reaches us 60 ms after it was sent: RTT 120 ms. */
  const gint64 unix_t = G_GINT64_CONSTANT (1767225600) * G_USEC_PER_SEC + 123456;
  const guint32 ssrc = 0xabcdef01;

  g_autoptr (McuSendStats) tx = mcu_send_stats_new (ssrc, 48000);
  for (guint i = 0; i < 50; i++)
    mcu_send_stats_on_sent (tx, 12 + 80, 80);
  McuRtcpSenderInfo si;
  guint64 ntp = mcu_ntp_from_unix_us (unix_t);
  mcu_send_stats_fill_sr (tx, ntp, 777, &si);
  ck_assert_uint_eq (si.ssrc, ssrc);
  ck_assert_uint_eq (si.packet_count, 50);
  ck_assert_uint_eq (si.octet_count, 4000);

  guint8 wire[256];
  gsize n = mcu_rtcp_write_sr (wire, sizeof wire, &si, NULL, 0);
  ck_assert_uint_gt (n, 0);
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (wire, n, MCU_RTCP_PARSE_STRICT, &info), MCU_RTCP_OK);
  ck_assert_uint_eq (info.n_srs, 1);

  /* the peer: its monotonic clock is unrelated to our wallclock */
  g_autoptr (McuRecvStats) peer = mcu_recv_stats_new (ssrc, 48000);
  for (guint16 i = 0; i < 10; i++)
    feed (peer, i);
  mcu_recv_stats_on_sr (peer, &info.srs[0], T0 + 60000);
  McuRtcpReportBlock b;
  mcu_recv_stats_report_block (peer, T0 + 560000, &b);
  ck_assert_uint_eq (b.lsr, mcu_ntp_middle32 (ntp));
  ck_assert_uint_eq (b.dlsr, 32768); /* 0.5 s in 1/65536 s */

  n = mcu_rtcp_write_rr (wire, sizeof wire, 0x55, &b, 1);
  ck_assert_uint_gt (n, 0);
  ck_assert_int_eq (mcu_rtcp_parse (wire, n, MCU_RTCP_PARSE_STRICT, &info), MCU_RTCP_OK);
  ck_assert_uint_eq (info.n_reports, 1);

  guint32 now32 = mcu_ntp_middle32 (mcu_ntp_from_unix_us (unix_t + 620000));
  ck_assert (mcu_send_stats_on_report_block (tx, &info.reports[0], now32));
  McuSendCounters c;
  mcu_send_stats_get (tx, &c);
  ck_assert (c.has_rtt);
  /* the 16.16 fields quantise to 1/65.536 ms, twice */
  ck_assert_double_eq_tol (c.rtt_ms, 120.0, 0.04);
  ck_assert_uint_eq (c.reports, 1);
  ck_assert_uint_eq (c.remote_ext_highest_seq, 9);
  ck_assert_uint_eq (c.last_sr_rtp, 777);

  /* a block about another SSRC is not ours */
  McuRtcpReportBlock other = info.reports[0];
  other.ssrc = ssrc + 1;
  ck_assert (!mcu_send_stats_on_report_block (tx, &other, now32));

  /* LSR 0 (no SR seen yet): loss and jitter kept, RTT untouched */
  McuRtcpReportBlock nosr = { .ssrc = ssrc,
                              .fraction_lost = 64,
                              .cumulative_lost = 12,
                              .jitter = 480,
                              .lsr = 0,
                              .dlsr = 0 };
  ck_assert (mcu_send_stats_on_report_block (tx, &nosr, now32 + 65536));
  mcu_send_stats_get (tx, &c);
  ck_assert_double_eq_tol (c.rtt_ms, 120.0, 0.04);
  ck_assert_uint_eq (c.remote_fraction_lost, 64);
  ck_assert_int_eq (c.remote_cumulative_lost, 12);
  ck_assert_double_eq_tol (c.remote_jitter_ms, 10.0, 1e-9);

  /* LSR + DLSR after our now (a forged or clock-stepped block): no RTT */
  g_autoptr (McuSendStats) tx2 = mcu_send_stats_new (ssrc, 48000);
  McuRtcpReportBlock future = { .ssrc = ssrc, .lsr = now32 - 100, .dlsr = 200 };
  ck_assert (mcu_send_stats_on_report_block (tx2, &future, now32));
  mcu_send_stats_get (tx2, &c);
  ck_assert (!c.has_rtt);
}
END_TEST

START_TEST (test_update_rtp_filters_ssrc)
{
  g_autoptr (McuRecvStats) s = mcu_recv_stats_new (0x42, 90000);
  guint8 pkt[12 + 10] = { 0 };
  McuRtpHeader h;
  for (guint16 i = 0; i < 3; i++)
    {
      ck_assert_uint_eq (mcu_rtp_write_header (pkt, sizeof pkt, 96, FALSE, i, 0, 0x42),
                         12);
      ck_assert_int_eq (mcu_rtp_parse (pkt, sizeof pkt, &h), MCU_RTP_OK);
      mcu_recv_stats_update_rtp (s, &h, sizeof pkt, T0 + i);
    }
  mcu_rtp_write_header (pkt, sizeof pkt, 96, FALSE, 3, 0, 0x43);
  mcu_rtp_parse (pkt, sizeof pkt, &h);
  ck_assert_int_eq (mcu_recv_stats_update_rtp (s, &h, sizeof pkt, T0),
                    MCU_RECV_PROBATION);
  McuRecvCounters c;
  mcu_recv_stats_get (s, &c);
  ck_assert_uint_eq (c.packets, 3);
  ck_assert_uint_eq (c.bytes, 66);
  ck_assert_uint_eq (c.ext_highest_seq, 2);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-rtp-stats");
  TCase *tc = tcase_create ("rtp-stats");
  tcase_add_test (tc, test_probation_and_clean);
  tcase_add_test (tc, test_random_loss_seeded);
  tcase_add_test (tc, test_bursts_and_intervals);
  tcase_add_test (tc, test_wraparound);
  tcase_add_test (tc, test_reordering);
  tcase_add_test (tc, test_duplicates_negative_loss);
  tcase_add_test (tc, test_resync);
  tcase_add_test (tc, test_jitter_hand_computed);
  tcase_add_test (tc, test_ntp);
  tcase_add_test (tc, test_sr_rr_rtt);
  tcase_add_test (tc, test_update_rtp_filters_ssrc);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
