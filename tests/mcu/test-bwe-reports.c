/* Suite mcu-bwe-reports: proves the downlink estimate of a peer without
 * transport-cc (webrtcbin, a SIP room system: receiver reports only), on a
 * simulated line driven by a test clock, with real RTP packets sent through
 * McuPeerCc and real RR compounds written and parsed by mcu/rtcp.h: a 600 kbit/s
 * bottleneck with a 300 ms queue under a 2 Mbit/s program moves the peer to low
 * within 10 s (not before the 2 s hold); while the line stays capped, each probe
 * back to full that fails doubles the wait at low (10, 20, 40 s); once the cap is
 * gone the peer comes back to full and stays there; random loss in GCC's hold band
 * (5%) or under it never moves it, and 1% never counts as a limit; a peer with
 * transport-cc gets the lower of both estimates; a peer sent much less than full
 * costs, or in its first seconds of full, is not judged on its loss, nor on NACKs
 * that come no later than usual (of late packets, not lost ones). And that reports
 * cannot do more than that: fraction lost 255 over a clean interval, reports on an
 * SSRC we do not send it or on packets we never sent, and floods of reports are
 * ignored or have exactly the effect of one report. Prints the figures. */
#include "mcu.h"
#include "peer-cc.h"
#include "lt-test.h"

#include <string.h>

#define STEP_US 1000
#define TICK_US 100000
#define PKT 1200
#define VIDEO_SSRC 0x4C540B01u
#define AUDIO_SSRC 0x4C540A01u
#define RR_SSRC 0x1234u
#define FULL_BPS 2000000.0
#define LOW_BPS 400000.0

/* What the receiver counted of one of our streams (RFC 3550 A.3). */
typedef struct
{
  guint32 ssrc;
  gboolean have;
  guint32 base, max; /* extended, cycles counted from the first packet */
  guint32 received;
} Rx;

typedef struct
{
  guint32 ssrc;
  guint16 seq;
  gint64 at;
} Arrival;

typedef struct
{
  McuPeerCc *cc;
  gint64 now, start;
  double cap_bps;      /* 0: no bottleneck */
  gint64 queue_max_us; /* drop-tail: a packet that would wait longer is dropped */
  gint64 free_at;
  double random_loss;
  GRand *rand;
  guint16 vseq, aseq;
  double budget;
  Arrival pending[16384];
  guint head, tail;
  Rx rx[2]; /* video, audio */
  gint64 next_rr;
  gint64 rr_min_us, rr_span_us; /* each RR comes min + [0, span) after the last */
  gboolean nack;                /* the receiver NACKs video gaps as it finds them */
  guint64 nacks;
  gboolean low;
  guint64 need;     /* what a peer at full is sent: measured while at full */
  gint64 moves[16]; /* when the suggestion changed, alternately to low and to full */
  guint n_moves;
  guint64 sent, dropped;
} Line;

/* @rr_s: the mean RR interval: 1 s (Chromium) or 5 s (RFC 3550's minimum, which
 * GStreamer's rtpbin and room systems keep: 2 to 6 s once randomized) */
static Line *
line_new_with (double rr_s, gboolean nack, guint32 seed)
{
  Line *l = g_new0 (Line, 1);
  l->now = l->start = 1000000000;
  l->cc = mcu_peer_cc_new (NULL, AUDIO_SSRC, l->now);
  l->rand = g_rand_new_with_seed (seed);
  l->rr_min_us = (gint64)(rr_s * 1e6 / 1.21828 * 0.5);
  l->rr_span_us = 2 * l->rr_min_us;
  l->nack = nack;
  l->vseq = 65000; /* the numbers wrap early in every run */
  l->aseq = 300;
  l->rx[0].ssrc = VIDEO_SSRC;
  l->rx[1].ssrc = AUDIO_SSRC;
  l->next_rr = l->now + 1000000;
  return l;
}

static Line *
line_new (void)
{
  return line_new_with (1.0, FALSE, 14);
}

static void
line_free (Line *l)
{
  mcu_peer_cc_free (l->cc);
  g_rand_free (l->rand);
  g_free (l);
}

static double
now_s (Line *l)
{
  return (double)(l->now - l->start) / 1e6;
}

static void
line_send (Line *l, guint32 ssrc, gsize size)
{
  guint8 p[1500];
  guint16 seq = ssrc == VIDEO_SSRC ? l->vseq++ : l->aseq++;
  gsize n = mcu_rtp_write_header (p, sizeof p, ssrc == VIDEO_SSRC ? 96 : 111, FALSE, seq,
                                  0, ssrc);
  memset (p + n, 0x5a, size - n);
  n = size;
  ck_assert (mcu_peer_cc_on_send (l->cc, p, &n, sizeof p, l->now));
  mcu_peer_cc_on_sent (l->cc, p, n, l->now);
  l->sent++;
  gint64 at = l->now + 20000;
  if (l->cap_bps > 0)
    {
      gint64 begin = MAX (l->now, l->free_at);
      if (begin - l->now > l->queue_max_us)
        {
          l->dropped++;
          return;
        }
      l->free_at = begin + (gint64)(n * 8 * 1e6 / l->cap_bps);
      at = l->free_at + 20000;
    }
  if (l->random_loss > 0 && g_rand_double (l->rand) < l->random_loss)
    {
      l->dropped++;
      return;
    }
  ck_assert_uint_lt (l->tail - l->head, G_N_ELEMENTS (l->pending));
  l->pending[l->tail++ % G_N_ELEMENTS (l->pending)] = (Arrival){ ssrc, seq, at };
}

/* A NACK for the numbers after @from up to @to (excluded), in an RR compound. */
static void
line_nack (Line *l, guint32 ssrc, guint32 from, guint32 to)
{
  guint16 seqs[64];
  guint n = 0;
  for (guint32 x = from + 1; x != to && n < G_N_ELEMENTS (seqs); x++)
    seqs[n++] = (guint16)x;
  guint8 buf[512];
  gsize len = mcu_rtcp_write_rr (buf, sizeof buf, RR_SSRC, NULL, 0);
  len += mcu_rtcp_write_nack (buf + len, sizeof buf - len, RR_SSRC, ssrc, seqs, n);
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (buf, len, MCU_RTCP_PARSE_STRICT, &info), MCU_RTCP_OK);
  mcu_peer_cc_on_rtcp (l->cc, buf, len, &info, l->now);
  l->nacks++;
}

static void
rx_packet (Line *l, Rx *r, guint16 seq)
{
  if (!r->have)
    {
      r->have = TRUE;
      r->base = r->max = seq;
    }
  else
    {
      gint16 ahead = (gint16)(seq - (guint16)r->max);
      if (ahead > 1 && l->nack && r->ssrc == VIDEO_SSRC)
        line_nack (l, r->ssrc, r->max, r->max + (guint32)ahead);
      if (ahead > 0)
        r->max += (guint32)ahead;
    }
  r->received++;
}

/* An RR about both streams as the receiver counts them, through the parser, into
 * the peer's congestion control. */
static void
line_report (Line *l)
{
  McuRtcpReportBlock b[2];
  guint nb = 0;
  for (guint i = 0; i < 2; i++)
    {
      Rx *r = &l->rx[i];
      if (!r->have)
        continue;
      guint32 expected = r->max - r->base + 1;
      b[nb++] = (McuRtcpReportBlock){ .ssrc = r->ssrc,
                                      .fraction_lost = 0,
                                      .cumulative_lost = (gint32)(expected - r->received),
                                      .ext_highest_seq = r->max };
    }
  guint8 buf[256];
  gsize n = mcu_rtcp_write_rr (buf, sizeof buf, RR_SSRC, b, nb);
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (buf, n, MCU_RTCP_PARSE_STRICT, &info), MCU_RTCP_OK);
  mcu_peer_cc_on_rtcp (l->cc, buf, n, &info, l->now);
}

/* Runs the line for @us: video at 2 Mbit/s at full and 400 kbit/s at low, Opus
 * every 20 ms, RRs (see line_new_with()), NACKs if the receiver sends them, and the level
 * suggestion every 100 ms, for what a peer at full is sent. */
static void
line_run (Line *l, gint64 us)
{
  for (gint64 t = 0; t < us; t += STEP_US)
    {
      l->now += STEP_US;
      l->budget += (l->low ? LOW_BPS : FULL_BPS) * STEP_US / 8e6;
      while (l->budget >= PKT)
        {
          l->budget -= PKT;
          line_send (l, VIDEO_SSRC, PKT);
        }
      if (l->now % 20000 == 0)
        line_send (l, AUDIO_SSRC, 120);
      while (l->head != l->tail
             && l->pending[l->head % G_N_ELEMENTS (l->pending)].at <= l->now)
        {
          Arrival *a = &l->pending[l->head++ % G_N_ELEMENTS (l->pending)];
          rx_packet (l, &l->rx[a->ssrc == VIDEO_SSRC ? 0 : 1], a->seq);
        }
      if (l->now >= l->next_rr)
        {
          line_report (l);
          l->next_rr = l->now + l->rr_min_us
                       + g_rand_int_range (l->rand, 0, (gint32)l->rr_span_us);
        }
      if (l->now % TICK_US != 0)
        continue;
      if (!l->low)
        l->need = mcu_peer_cc_send_rate (l->cc, l->now);
      McuBwe *bwe = mcu_peer_cc_bwe (l->cc);
      gboolean low
          = mcu_bwe_has_feedback (bwe) && mcu_bwe_suggest_low (bwe, l->need, l->now);
      if (low != l->low)
        {
          ck_assert_uint_lt (l->n_moves, G_N_ELEMENTS (l->moves));
          l->moves[l->n_moves++] = l->now;
          l->low = low;
          g_print ("  %.1f s: to %s (estimate %" G_GUINT64_FORMAT
                   ", full needs %" G_GUINT64_FORMAT ")\n",
                   now_s (l), low ? "low" : "full", mcu_bwe_estimate (bwe, l->now),
                   l->need);
        }
    }
}

static McuBweSnapshot
snap (Line *l)
{
  McuBweSnapshot s;
  mcu_bwe_get (mcu_peer_cc_bwe (l->cc), l->now, &s);
  return s;
}

/* One cap scenario: 10 s clean, then the cap. Returns the seconds to low. */
static double
cap_once (double rr_s, gboolean nack, guint32 seed)
{
  Line *l = line_new_with (rr_s, nack, seed);
  line_run (l, 10 * G_USEC_PER_SEC);
  McuBweSnapshot s = snap (l);
  ck_assert (!l->low && !s.congested);
  ck_assert (s.estimate_bps >= 0.9 * l->need);
  ck_assert_uint_ge (mcu_peer_cc_reports_ignored (l->cc), 2); /* each SSRC's first */
  l->cap_bps = 600000;
  l->queue_max_us = 300000;
  gint64 cap_at = l->now;
  line_run (l, 20 * G_USEC_PER_SEC);
  ck_assert_uint_ge (l->n_moves, 1);
  double to_low = (double)(l->moves[0] - cap_at) / 1e6;
  g_print ("RR every %.0f s%s, seed %u: to low after %.1f s; the bottleneck dropped "
           "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
           " NACKs\n",
           rr_s, nack ? " and NACKs" : "", seed, to_low, l->dropped, l->sent, l->nacks);
  line_free (l);
  return to_low;
}

/* A 600 kbit/s bottleneck with a 300 ms queue moves the peer to low within 10 s,
 * not before the 2 s hold: with Chromium's RR interval, with RFC 3550's (the
 * slowest a peer without NACKs may report), and with NACKs besides. */
START_TEST (test_reports_cap_to_low)
{
  const struct
  {
    double rr_s;
    gboolean nack;
  } lines[] = { { 1, FALSE }, { 5, FALSE }, { 5, TRUE } };
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      double worst = 0;
      for (guint32 seed = 1; seed <= 8; seed++)
        {
          double t = cap_once (lines[i].rr_s, lines[i].nack, seed);
          ck_assert (t >= 2.0 && t <= 10.0);
          worst = MAX (worst, t);
        }
      g_print ("RR every %.0f s%s: to low after %.1f s at worst (goal <= 10 s)\n",
               lines[i].rr_s, lines[i].nack ? " and NACKs" : "", worst);
    }
}
END_TEST

/* Capped for good: each probe back to full fails and doubles the wait at low;
 * then the cap goes and the peer returns to full and stays. */
START_TEST (test_reports_backoff_and_recovery)
{
  Line *l = line_new ();
  line_run (l, 10 * G_USEC_PER_SEC);
  l->cap_bps = 600000;
  l->queue_max_us = 300000;
  line_run (l, 100 * G_USEC_PER_SEC);
  g_print ("capped 100 s: %u moves\n", l->n_moves);
  ck_assert_uint_ge (l->n_moves, 5); /* low, full, low, full, low */
  for (guint i = 1; i + 1 < l->n_moves && i <= 3; i += 2)
    {
      double waited = (double)(l->moves[i] - l->moves[i - 1]) / 1e6;
      double back = (double)(l->moves[i + 1] - l->moves[i]) / 1e6;
      double want = 10.0 * (1 << (i / 2));
      g_print ("  low for %.1f s (wait %.0f s), full again for %.1f s\n", waited, want,
               back);
      ck_assert (waited >= want);
      ck_assert (back <= 10.0); /* a failed return is undone as fast as the first */
    }
  ck_assert (l->low || l->n_moves % 2 == 0);

  l->cap_bps = 0;
  gint64 lifted = l->now;
  guint moves = l->n_moves;
  line_run (l, 200 * G_USEC_PER_SEC);
  ck_assert (!l->low);
  ck_assert_uint_le (l->n_moves, moves + 1); /* back once, for good */
  gint64 last = l->moves[l->n_moves - 1];
  g_print ("cap lifted: back to full after %.1f s, full since for %.1f s\n",
           (double)(last - lifted) / 1e6, (double)(l->now - last) / 1e6);
  ck_assert_int_ge (l->now - last, 30 * G_USEC_PER_SEC);
  McuBweSnapshot s = snap (l);
  ck_assert (!s.congested);
  line_free (l);
}
END_TEST

/* 5% random loss is GCC's hold band: retransmission's business, not a move. 1% is
 * a clean line. */
START_TEST (test_reports_random_loss)
{
  for (guint nack = 0; nack <= 1; nack++)
    {
      Line *l = line_new_with (nack ? 5 : 1, nack, 14);
      l->random_loss = 0.05;
      line_run (l, 60 * G_USEC_PER_SEC);
      McuBweSnapshot s = snap (l);
      g_print (
          "5%% random loss, 60 s%s: %u moves, estimate %" G_GUINT64_FORMAT
          " (full needs %" G_GUINT64_FORMAT "), loss %.3f, %" G_GUINT64_FORMAT " NACKs\n",
          nack ? ", NACKs" : "", l->n_moves, s.estimate_bps, l->need, s.loss, l->nacks);
      ck_assert_uint_eq (l->n_moves, 0);
      line_free (l);
    }

  Line *l = line_new ();
  l->random_loss = 0.01;
  gboolean limited = FALSE;
  for (guint i = 0; i < 60; i++)
    {
      line_run (l, G_USEC_PER_SEC);
      limited |= mcu_bwe_limited (mcu_peer_cc_bwe (l->cc), l->now, 1);
    }
  ck_assert_uint_eq (l->n_moves, 0);
  ck_assert (!limited);
  line_free (l);
}
END_TEST

/* An RR compound with one block, as a peer could write it. */
static void
feed_rr (McuPeerCc *cc, guint32 ssrc, guint8 fraction, gint32 cum, guint32 ehs,
         gint64 now)
{
  McuRtcpReportBlock b = { .ssrc = ssrc,
                           .fraction_lost = fraction,
                           .cumulative_lost = cum,
                           .ext_highest_seq = ehs };
  guint8 buf[128];
  gsize n = mcu_rtcp_write_rr (buf, sizeof buf, RR_SSRC, &b, 1);
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (buf, n, MCU_RTCP_PARSE_STRICT, &info), MCU_RTCP_OK);
  mcu_peer_cc_on_rtcp (cc, buf, n, &info, now);
}

/* A peer we sent @n video packets numbered from 1000, at 2 Mbit/s over the last
 * second. */
static McuPeerCc *
peer_sent (guint n, gint64 now)
{
  McuPeerCc *cc = mcu_peer_cc_new (NULL, AUDIO_SSRC, now - G_USEC_PER_SEC);
  for (guint i = 0; i < n; i++)
    {
      guint8 p[1500];
      gsize len = mcu_rtp_write_header (p, sizeof p, 96, FALSE, (guint16)(1000 + i), 0,
                                        VIDEO_SSRC);
      memset (p + len, 0, PKT - len);
      len = PKT;
      gint64 at = now - G_USEC_PER_SEC + i * G_USEC_PER_SEC / n;
      ck_assert (mcu_peer_cc_on_send (cc, p, &len, sizeof p, at));
      mcu_peer_cc_on_sent (cc, p, len, at);
    }
  return cc;
}

START_TEST (test_reports_abuse)
{
  gint64 now = 1000000000;
  /* fraction lost 255 over an interval that lost nothing: the counts are read */
  McuPeerCc *cc = peer_sent (200, now);
  McuBwe *bwe = mcu_peer_cc_bwe (cc);
  feed_rr (cc, VIDEO_SSRC, 0, 0, 1000, now);
  for (guint i = 1; i <= 4; i++)
    feed_rr (cc, VIDEO_SSRC, 255, 0, 1000 + 40 * i, now + i * 1000);
  now += 4000;
  McuBweSnapshot s;
  mcu_bwe_get (bwe, now, &s);
  g_print ("fraction lost 255, nothing lost: estimate %" G_GUINT64_FORMAT ", loss %.2f\n",
           s.estimate_bps, s.loss);
  ck_assert (!mcu_bwe_limited (bwe, now, G_USEC_PER_SEC));
  ck_assert_double_eq (s.loss, 0.0);
  ck_assert_uint_ge (s.estimate_bps, mcu_peer_cc_send_rate (cc, now));
  mcu_peer_cc_free (cc);

  /* reports on an SSRC we do not send it (our audio: we sent it video only; and a
   * stranger's), and on packets we never sent: not believed, no estimate at all */
  now = 1000000000;
  cc = peer_sent (200, now);
  bwe = mcu_peer_cc_bwe (cc);
  for (guint i = 0; i < 100; i++)
    {
      feed_rr (cc, AUDIO_SSRC, 255, 100 * i, 5000 + 100 * i, now);
      feed_rr (cc, 0xdeadbeef, 255, 100 * i, 5000 + 100 * i, now);
    }
  feed_rr (cc, VIDEO_SSRC, 0, 0, 1100, now);      /* where counting starts */
  feed_rr (cc, VIDEO_SSRC, 255, 5000, 1300, now); /* 100 past the last one sent */
  feed_rr (cc, VIDEO_SSRC, 255, 5000, 1100 + 0x9000, now); /* far ahead */
  ck_assert (!mcu_bwe_has_feedback (bwe));
  ck_assert_uint_eq (mcu_peer_cc_reports_ignored (cc), 203);
  mcu_peer_cc_free (cc);

  /* a flood: 10,000 reports in 10 ms. Repeating the same highest number adds
   * nothing; advancing it (within what we sent) with every report lost, counts as
   * one report would: one decrease per 300 ms, never under the floor */
  McuPeerCc *one = peer_sent (2000, now);
  feed_rr (one, VIDEO_SSRC, 0, 0, 1000, now);
  feed_rr (one, VIDEO_SSRC, 128, 500, 2000, now + 1000);
  guint64 after_one = mcu_bwe_estimate (mcu_peer_cc_bwe (one), now + 10000);
  cc = peer_sent (2000, now);
  bwe = mcu_peer_cc_bwe (cc);
  feed_rr (cc, VIDEO_SSRC, 0, 0, 1000, now);
  for (guint i = 0; i < 10000; i++)
    feed_rr (cc, VIDEO_SSRC, 255, 0x7fffff, 1000, now + i);
  ck_assert (!mcu_bwe_has_feedback (bwe));
  for (guint i = 1; i <= 10000; i++)
    feed_rr (cc, VIDEO_SSRC, 128, (gint32)i / 20, 1000 + i / 10, now + 1000 + i);
  guint64 after_flood = mcu_bwe_estimate (bwe, now + 11000);
  g_print ("one report of 50%% lost: estimate %" G_GUINT64_FORMAT
           "; a flood of them: %" G_GUINT64_FORMAT "\n",
           after_one, after_flood);
  ck_assert_uint_eq (after_flood, after_one);
  ck_assert_uint_ge (after_flood, 50000);
  /* and everything lost: the floor, not zero */
  feed_rr (cc, VIDEO_SSRC, 255, 0x7fffff, 2999, now + 400000);
  ck_assert_uint_ge (mcu_bwe_estimate (bwe, now + 400000), 50000);
  mcu_peer_cc_free (cc);
  mcu_peer_cc_free (one);
}
END_TEST

/* With transport-cc results too, the lower estimate counts (GCC's min of the delay-
 * and loss-based halves): clean results do not hide the loss that reports count. */
START_TEST (test_reports_with_twcc)
{
  gint64 now = 1000000000;
  McuBwe *bwe = mcu_bwe_new (now);
  McuTwccResult r[25];
  for (guint k = 0; k < 30; k++)
    {
      now += 100000;
      for (guint i = 0; i < G_N_ELEMENTS (r); i++) /* 25 x 1000 B per 100 ms: 2 Mbit/s */
        r[i] = (McuTwccResult){ .send_us = now - 100000 + i * 4000,
                                .arrival_us = now - 80000 + i * 4000,
                                .size = 1000,
                                .received = TRUE };
      mcu_bwe_on_results (bwe, r, G_N_ELEMENTS (r), now);
    }
  guint64 clean = mcu_bwe_estimate (bwe, now);
  /* clean reports for 6 s of full: past the loss-based half's warm-up */
  for (guint k = 0; k < 12; k++)
    {
      now += 500000;
      mcu_bwe_on_loss_report (bwe, 200, 0, 2000000, now);
      ck_assert (!mcu_bwe_suggest_low (bwe, 2000000, now));
    }
  ck_assert (!mcu_bwe_limited (bwe, now, 1));
  ck_assert_uint_le (mcu_bwe_estimate (bwe, now), clean);
  mcu_bwe_on_loss_report (bwe, 200, 100, 2000000, now + 500000);
  guint64 lossy = mcu_bwe_estimate (bwe, now + 500000);
  g_print ("transport-cc clean: %" G_GUINT64_FORMAT
           "; with reports of 50%% lost: %" G_GUINT64_FORMAT "\n",
           clean, lossy);
  ck_assert_uint_ge (clean, 1800000);
  ck_assert_uint_le (lossy, 0.85 * 0.5 * 2000000 + 1);
  ck_assert (mcu_bwe_limited (bwe, now + 500000, 1));
  mcu_bwe_free (bwe);
}
END_TEST

/* A peer we send much less than full costs (its video not started yet: audio
 * only) is not moved on the loss of that, even heavy; nor one whose receiver
 * NACKs everything in its first 4 s of full, behind a queue (a receiver starting);
 * nor one that NACKs 80% for all 10 s as quickly as ever (NACKs of late packets,
 * as a starting jitter buffer sends them: nothing waits on the line). 15% NACKed,
 * 300 ms later than in the first second (a queue), lasting, moves it after the
 * 5 s warm-up and the 2 s hold. */
START_TEST (test_reports_not_judged_on_little)
{
  const struct
  {
    const char *what;
    guint64 sent;
    guint nacked, lossy_ticks;
    gint64 queue_ms;
    gboolean moves;
  } cases[] = {
    { "40 kbit/s, 80% NACKed 300 ms late", 40000, 40, 100, 300, FALSE },
    { "2 Mbit/s, 80% NACKed 300 ms late for 4 s", 2000000, 40, 40, 300, FALSE },
    { "2 Mbit/s, 80% NACKed, none late", 2000000, 40, 100, 0, FALSE },
    { "2 Mbit/s, 15% NACKed 300 ms late", 2000000, 8, 100, 300, TRUE },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      gint64 start = 1000000000, now = start;
      McuBwe *bwe = mcu_bwe_new (now);
      gint64 low_at = -1;
      for (guint tick = 1; tick <= 100; tick++)
        {
          now += 100000;
          /* the first second's NACKs come 20 ms after sending: the line's own */
          gint64 age = (20 + (tick > 10 ? cases[c].queue_ms : 0)) * 1000;
          gboolean lossy = tick <= cases[c].lossy_ticks;
          if (tick % 5 == 0)
            mcu_bwe_on_nack_loss (bwe, 50, lossy ? cases[c].nacked : 0, lossy ? age : -1,
                                  cases[c].sent, now);
          if (mcu_bwe_suggest_low (bwe, 2000000, now) && low_at < 0)
            low_at = now;
        }
      g_print ("%s: %s", cases[c].what, low_at < 0 ? "stays full\n" : "to low after ");
      if (low_at >= 0)
        g_print ("%.1f s\n", (double)(low_at - start) / 1e6);
      if (cases[c].moves)
        ck_assert (low_at - start > 5 * G_USEC_PER_SEC
                   && low_at - start <= 8 * G_USEC_PER_SEC);
      else
        ck_assert (low_at < 0);
      mcu_bwe_free (bwe);
    }
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-bwe-reports");
  TCase *tc = tcase_create ("reports");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_reports_cap_to_low);
  tcase_add_test (tc, test_reports_backoff_and_recovery);
  tcase_add_test (tc, test_reports_random_loss);
  tcase_add_test (tc, test_reports_abuse);
  tcase_add_test (tc, test_reports_with_twcc);
  tcase_add_test (tc, test_reports_not_judged_on_little);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
