/* Suite mcu-bwe: proves, on a simulated line driven by a test clock, with real
 * packets through McuTwccSender, McuTwccRecorder and the feedback format, that the
 * downlink estimate ends near the line's capacity when that capacity shows as a
 * growing queue (a shaper) or as loss (a policer) and the sender does not adapt
 * (the program of a chair that other receivers can take), that it settles near the
 * capacity when the sender follows it, that on a clean line it reaches what is sent
 * at once and never reports a limit, that a capped peer is moved to low within 10 s
 * and back to full only after a clean wait that doubles when a return fails, that a
 * receiver that gets everything late and in bursts stays at full, and that a REMB
 * caps the estimate for as long as it is repeated. Prints the figures. */
#include "mcu.h"
#include "lt-test.h"

#include <string.h>

#define PKT 1200
#define STEP_US 1000
#define FEEDBACK_US 100000
#define KBPS 1000.0

typedef struct
{
  guint16 seq;
  gint64 at;
} Arrival;

typedef struct
{
  McuTwccSender *tx;
  McuTwccRecorder *rec;
  McuBwe *bwe;
  double cap_bps;      /* 0: no bottleneck */
  gint64 queue_max_us; /* a packet that would wait longer is dropped; 0: policer */
  gint64 free_at;      /* when the bottleneck has sent what it holds */
  gint64 now;
  guint16 rtp_seq;
  double budget;         /* bytes the sender may send now */
  Arrival pending[8192]; /* in flight, in arrival order (FIFO line) */
  guint head, tail;
  gboolean low;
  gint64 low_at, full_at; /* when the suggestion last changed */
  McuTwccFeedback fb;
  guint64 sent, dropped;
  gboolean busy; /* the receiver gets to packets 0..300 ms late, in bursts */
  gint64 last_at;
} Line;

static Line *
line_new (double cap_bps, gint64 queue_max_us)
{
  Line *l = g_new0 (Line, 1);
  l->tx = mcu_twcc_sender_new (4);
  l->rec = mcu_twcc_recorder_new (1);
  l->now = 1000000000;
  l->bwe = mcu_bwe_new (l->now);
  l->cap_bps = cap_bps;
  l->queue_max_us = queue_max_us;
  l->low_at = l->full_at = -1;
  return l;
}

static void
line_free (Line *l)
{
  mcu_twcc_sender_free (l->tx);
  mcu_twcc_recorder_free (l->rec);
  mcu_bwe_free (l->bwe);
  g_free (l);
}

static void
line_send (Line *l)
{
  guint8 p[1500];
  gsize n = mcu_rtp_write_header (p, sizeof p, 96, FALSE, l->rtp_seq++, 0, 0x42);
  memset (p + n, 0x5a, PKT - n);
  n = PKT;
  ck_assert (mcu_twcc_sender_stamp (l->tx, p, &n, sizeof p, l->now));
  guint16 tseq;
  ck_assert (mcu_twcc_read_ext (p, n, 4, &tseq));
  l->sent++;
  gint64 at = l->now + 20000; /* 20 ms of propagation */
  if (l->cap_bps > 0)
    {
      gint64 start = MAX (l->now, l->free_at);
      if (start - l->now > l->queue_max_us)
        {
          l->dropped++;
          return;
        }
      l->free_at = start + (gint64)(n * 8 * 1e6 / l->cap_bps);
      at = l->free_at + 20000;
    }
  if (l->busy)
    {
      /* its loop stalls for 300 ms of every 400: what waited comes at once */
      gint64 phase = l->now % 400000;
      if (phase < 300000)
        at += 300000 - phase;
    }
  at = MAX (at, l->last_at);
  l->last_at = at;
  ck_assert_uint_lt (l->tail - l->head, G_N_ELEMENTS (l->pending));
  l->pending[l->tail++ % G_N_ELEMENTS (l->pending)] = (Arrival){ tseq, at };
}

/* Runs the line for @us at @rate_bps (0: follow the estimate, up to 3 Mbit/s),
 * feedback and the level suggestion (for a full program of @need_bps) every 100 ms. */
static void
line_run (Line *l, gint64 us, double rate_bps, guint64 need_bps)
{
  for (gint64 t = 0; t < us; t += STEP_US)
    {
      l->now += STEP_US;
      double r = rate_bps > 0 ? rate_bps
                              : MIN (3e6, (double)mcu_bwe_estimate (l->bwe, l->now));
      l->budget += r * STEP_US / 8e6;
      while (l->budget >= PKT)
        {
          l->budget -= PKT;
          line_send (l);
        }
      while (l->head != l->tail
             && l->pending[l->head % G_N_ELEMENTS (l->pending)].at <= l->now)
        {
          Arrival *a = &l->pending[l->head++ % G_N_ELEMENTS (l->pending)];
          mcu_twcc_recorder_on_packet (l->rec, a->seq, 0x42, a->at);
        }
      if (l->now % FEEDBACK_US != 0)
        continue;
      guint8 buf[1500];
      gsize n;
      while ((n = mcu_twcc_recorder_write_feedback (l->rec, buf, sizeof buf)) > 0)
        {
          ck_assert_int_eq (mcu_twcc_parse (buf, n, &l->fb), MCU_TWCC_OK);
          McuTwccResult res[MCU_TWCC_MAX_PACKETS];
          guint k = mcu_twcc_sender_on_feedback (l->tx, &l->fb, res, G_N_ELEMENTS (res));
          mcu_bwe_on_results (l->bwe, res, k, l->now);
        }
      gboolean low = mcu_bwe_suggest_low (l->bwe, need_bps, l->now);
      if (low && !l->low)
        l->low_at = l->now;
      if (!low && l->low)
        l->full_at = l->now;
      l->low = low;
    }
}

static void
print_state (const char *what, Line *l)
{
  McuBweSnapshot s;
  mcu_bwe_get (l->bwe, l->now, &s);
  g_print ("%s: estimate %.0f kbit/s, received %.0f kbit/s, loss %.2f, queue %.1f ms, "
           "limited %d, low %d\n",
           what, s.estimate_bps / KBPS, s.acked_bps / KBPS, s.loss, s.queue_ms,
           s.congested, s.low);
}

/* A 600 kbit/s shaper with a deep queue under a 1.5 Mbit/s program that does not
 * adapt: the queue grows, the estimate goes to what gets through. */
START_TEST (test_bwe_shaper)
{
  Line *l = line_new (600000, 2000000);
  gint64 start = l->now;
  line_run (l, 10000000, 1500000, 1500000);
  print_state ("shaper 600k, 1.5M sent", l);
  guint64 e = mcu_bwe_estimate (l->bwe, l->now);
  ck_assert_uint_ge (e, 0.6 * 600000);
  ck_assert_uint_le (e, 1.0 * 600000);
  ck_assert (mcu_bwe_limited (l->bwe, l->now, 2000000));
  ck_assert (l->low);
  g_print ("shaper 600k: moved to low %.1f s after the start\n",
           (l->low_at - start) / 1e6);
  ck_assert_int_le (l->low_at - start, 10000000);
  line_free (l);
}
END_TEST

/* A 600 kbit/s policer (no queue: what exceeds it is dropped): loss, not delay. */
START_TEST (test_bwe_policer)
{
  Line *l = line_new (600000, 0);
  line_run (l, 10000000, 1500000, 1500000);
  print_state ("policer 600k, 1.5M sent", l);
  guint64 e = mcu_bwe_estimate (l->bwe, l->now);
  ck_assert_uint_ge (e, 0.6 * 600000);
  ck_assert_uint_le (e, 1.0 * 600000);
  ck_assert_uint_gt (l->dropped, l->sent / 3);
  ck_assert (mcu_bwe_limited (l->bwe, l->now, 2000000));
  line_free (l);
}
END_TEST

/* A sender that follows the estimate on an 800 kbit/s shaper with a 200 ms queue
 * settles around the capacity: the average of the last 10 s of 40 is within
 * 60%..115% of it (the estimate saws between 85% of it and an overshoot). */
START_TEST (test_bwe_follow)
{
  Line *l = line_new (800000, 200000);
  line_run (l, 30000000, 0, 0);
  double sum = 0;
  for (guint i = 0; i < 100; i++)
    {
      line_run (l, 100000, 0, 0);
      sum += mcu_bwe_estimate (l->bwe, l->now);
    }
  print_state ("shaper 800k, sender follows", l);
  g_print ("shaper 800k: mean estimate over 10 s %.0f kbit/s\n", sum / 100 / KBPS);
  ck_assert_double_ge (sum / 100, 0.60 * 800000);
  ck_assert_double_le (sum / 100, 1.15 * 800000);
  line_free (l);
}
END_TEST

/* No bottleneck: the estimate reaches what is sent within 2 s, from 300 kbit/s,
 * never reports a limit, and a full program is never moved to low. */
START_TEST (test_bwe_clean)
{
  Line *l = line_new (0, 0);
  gint64 start = l->now;
  gint64 reached = -1;
  for (guint i = 0; i < 300; i++)
    {
      line_run (l, 100000, 2000000, 2000000);
      if (reached < 0 && mcu_bwe_estimate (l->bwe, l->now) >= 1500000)
        reached = l->now - start;
      ck_assert (!mcu_bwe_limited (l->bwe, l->now, 5000000));
      ck_assert (!l->low);
    }
  print_state ("clean, 2M sent", l);
  g_print ("clean: estimate at 1.5 Mbit/s after %.1f s\n", reached / 1e6);
  ck_assert_int_ge (reached, 0);
  ck_assert_int_le (reached, 2000000);
  ck_assert_uint_ge (mcu_bwe_estimate (l->bwe, l->now), 1900000);
  /* what the peer received bounds the estimate: 1.5 x + 100 kbit/s */
  ck_assert_uint_le (mcu_bwe_estimate (l->bwe, l->now), 1.5 * 2100000 + 100000);
  line_free (l);
}
END_TEST

/* Full -> low under a cap; back to full only after 10 s at low, clean, with the
 * estimate probed up; a return that fails within 30 s doubles the next wait. */
START_TEST (test_bwe_hysteresis)
{
  Line *l = line_new (600000, 500000);
  gint64 start = l->now;
  line_run (l, 10000000, 1500000, 1500000);
  ck_assert (l->low);
  gint64 first_low = l->low_at;
  g_print ("hysteresis: low %.1f s after the cap\n", (first_low - start) / 1e6);
  /* the cap is lifted; at low it gets the 200 kbit/s low program */
  l->cap_bps = 0;
  line_run (l, 60000000, 200000, 1500000);
  ck_assert (!l->low);
  gint64 back = l->full_at - first_low;
  g_print ("hysteresis: back to full %.1f s after going low\n", back / 1e6);
  ck_assert_int_ge (back, 10000000);
  /* the cap again: low again, soon */
  gint64 recap = l->now;
  l->cap_bps = 600000;
  l->free_at = l->now;
  line_run (l, 10000000, 1500000, 1500000);
  ck_assert (l->low);
  ck_assert_int_le (l->low_at - recap, 10000000);
  /* that return failed within 30 s: the next wait at low is at least 20 s */
  gint64 second_low = l->low_at;
  line_run (l, 15000000, 200000, 1500000); /* still capped, but only 200k sent */
  ck_assert (l->low);
  l->cap_bps = 0;
  line_run (l, 60000000, 200000, 1500000);
  ck_assert (!l->low);
  g_print ("hysteresis: second return after %.1f s at low\n",
           (l->full_at - second_low) / 1e6);
  ck_assert_int_ge (l->full_at - second_low, 20000000);
  McuBweSnapshot s;
  mcu_bwe_get (l->bwe, l->now, &s);
  ck_assert_uint_eq (s.n_moves, 4);
  line_free (l);
}
END_TEST

/* A receiver that gets everything we send, but late and in bursts (a busy host):
 * the delay may read as a limit, yet it is never moved to low. */
START_TEST (test_bwe_busy_receiver)
{
  Line *l = line_new (0, 0);
  l->busy = TRUE;
  line_run (l, 30000000, 1500000, 1500000);
  print_state ("busy receiver, 1.5M sent", l);
  ck_assert (mcu_bwe_limited (l->bwe, l->now, 5000000)); /* the delay reads as a limit */
  ck_assert (!l->low);
  ck_assert_int_lt (l->low_at, 0);
  line_free (l);
}
END_TEST

/* A REMB under what the peer receives caps the estimate and counts as a limit;
 * unrepeated, it lapses after 5 s. */
START_TEST (test_bwe_remb)
{
  Line *l = line_new (0, 0);
  line_run (l, 3000000, 2000000, 0);
  ck_assert_uint_ge (mcu_bwe_estimate (l->bwe, l->now), 1900000);
  mcu_bwe_on_remb (l->bwe, 700000, l->now);
  ck_assert_uint_eq (mcu_bwe_estimate (l->bwe, l->now), 700000);
  ck_assert (mcu_bwe_limited (l->bwe, l->now, 1000000));
  line_run (l, 4000000, 2000000, 0);
  ck_assert_uint_eq (mcu_bwe_estimate (l->bwe, l->now), 700000);
  line_run (l, 2000000, 2000000, 0);
  ck_assert_uint_ge (mcu_bwe_estimate (l->bwe, l->now), 1900000);
  /* a REMB over what it receives says nothing about a limit */
  mcu_bwe_on_remb (l->bwe, 5000000, l->now);
  ck_assert (!mcu_bwe_limited (l->bwe, l->now, 1000000));
  line_free (l);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-bwe");
  TCase *tc = tcase_create ("bwe");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_bwe_shaper);
  tcase_add_test (tc, test_bwe_policer);
  tcase_add_test (tc, test_bwe_follow);
  tcase_add_test (tc, test_bwe_clean);
  tcase_add_test (tc, test_bwe_hysteresis);
  tcase_add_test (tc, test_bwe_busy_receiver);
  tcase_add_test (tc, test_bwe_remb);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
