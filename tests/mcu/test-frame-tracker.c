/* Suite mcu-frame-tracker: proves that McuFrameTracker reports a video frame exactly
 * when every packet from the one after the previous marker up to its own marker has
 * arrived: in-order frames complete on their marker; a lost middle packet leaves its
 * frame incomplete without holding up the next ones; the same packet arriving late
 * (a retransmission) completes it then; sequence numbers wrapping at 65535 change
 * nothing; reordered packets (even a marker arriving after the next frame) complete
 * the same frames; duplicates and packets too old are neither counted nor reported
 * twice; and, for a seeded random mix of loss and reordering, the number reported
 * equals the number of frames whose packets and previous marker all arrived; and,
 * feeding a quality window as a leg does, a lost packet makes no freeze while a
 * 1 s outage makes one of its length. */
#include "frame-tracker.h"
#include "quality.h"
#include "lt-test.h"

#define TS_STEP 3000 /* 30 frames/s at 90 kHz */

typedef struct
{
  guint16 seq;
  guint32 ts;
  gboolean marker;
} Pkt;

/* Frames of @per packets each from sequence number @seq0: frame f's timestamp is
 * f * TS_STEP and its last packet has the marker. Returns the packet count. */
static guint
make_frames (Pkt *out, guint n_frames, guint per, guint16 seq0)
{
  guint n = 0;
  for (guint f = 0; f < n_frames; f++)
    for (guint k = 0; k < per; k++, n++)
      {
        out[n].seq = (guint16)(seq0 + n);
        out[n].ts = 1000 + f * TS_STEP;
        out[n].marker = k == per - 1;
      }
  return n;
}

static guint
push (McuFrameTracker *t, const Pkt *p)
{
  return mcu_frame_tracker_push (t, p->seq, p->ts, p->marker);
}

START_TEST (test_in_order)
{
  g_autoptr (McuFrameTracker) t = mcu_frame_tracker_new ();
  Pkt p[40];
  guint n = make_frames (p, 10, 4, 500);
  for (guint i = 0; i < n; i++)
    {
      guint done = push (t, &p[i]);
      /* frame 0's start is unknown (nothing before it): the others complete on
       * their marker and only there */
      ck_assert_uint_eq (done, p[i].marker && i >= 4 ? 1 : 0);
    }
  McuFrameCounters c;
  mcu_frame_tracker_get (t, &c);
  ck_assert_uint_eq (c.frames, 9);
  ck_assert_uint_eq (c.packets, 40);
  ck_assert_uint_eq (c.duplicates, 0);

  /* one packet per frame: every frame after the first is complete */
  g_autoptr (McuFrameTracker) s = mcu_frame_tracker_new ();
  n = make_frames (p, 10, 1, 7);
  guint total = 0;
  for (guint i = 0; i < n; i++)
    total += push (s, &p[i]);
  ck_assert_uint_eq (total, 9);
}
END_TEST

START_TEST (test_lost_then_repaired)
{
  g_autoptr (McuFrameTracker) t = mcu_frame_tracker_new ();
  Pkt p[20];
  guint n = make_frames (p, 5, 4, 1000);
  guint total = 0;
  for (guint i = 0; i < n; i++)
    {
      if (i == 9) /* the middle of frame 2 (packets 8..11) */
        continue;
      guint done = push (t, &p[i]);
      /* frame 2's marker completes nothing; frames 3 and 4 are not held up */
      if (i == 11)
        ck_assert_uint_eq (done, 0);
      if (i == 15 || i == 19)
        ck_assert_uint_eq (done, 1);
      total += done;
    }
  ck_assert_uint_eq (total, 3); /* frames 1, 3, 4 */
  /* the retransmission of packet 9 arrives: frame 2 is complete now, once */
  ck_assert_uint_eq (push (t, &p[9]), 1);
  ck_assert_uint_eq (push (t, &p[9]), 0);
  McuFrameCounters c;
  mcu_frame_tracker_get (t, &c);
  ck_assert_uint_eq (c.frames, 4);
  ck_assert_uint_eq (c.duplicates, 1);

  /* a lost marker leaves both its frame and the next one incomplete (the next
   * one's start is unknown) until it is repaired, which completes both */
  g_autoptr (McuFrameTracker) m = mcu_frame_tracker_new ();
  total = 0;
  for (guint i = 0; i < n; i++)
    if (i != 11)
      total += push (m, &p[i]);
  ck_assert_uint_eq (total, 2); /* frames 1 and 4 */
  ck_assert_uint_eq (push (m, &p[11]), 2);
}
END_TEST

START_TEST (test_wrap)
{
  g_autoptr (McuFrameTracker) t = mcu_frame_tracker_new ();
  Pkt p[30];
  guint n = make_frames (p, 10, 3, 65530); /* 65530 .. 65535, 0 .. 23 */
  guint total = 0;
  for (guint i = 0; i < n; i++)
    if (i != 7) /* seq 1, in frame 2 (seqs 0..2), just after the wrap */
      total += push (t, &p[i]);
  ck_assert_uint_eq (total, 8);           /* frames 1, 3..9 */
  ck_assert_uint_eq (push (t, &p[7]), 1); /* seq 1, after the wrap */
  ck_assert_uint_eq (push (t, &p[5]), 0); /* seq 65535 again: a duplicate */
  McuFrameCounters c;
  mcu_frame_tracker_get (t, &c);
  ck_assert_uint_eq (c.frames, 9);
  ck_assert_uint_eq (c.duplicates, 1);
  ck_assert_uint_eq (c.too_old, 0);
}
END_TEST

START_TEST (test_reordered)
{
  g_autoptr (McuFrameTracker) t = mcu_frame_tracker_new ();
  Pkt p[12];
  make_frames (p, 3, 4, 200); /* frames 0 (200..203), 1 (204..207), 2 (208..211) */
  /* frame 0 in order, then frame 1 without its marker, then all of frame 2, then
   * frame 1's marker: it completes frame 1 and tells where frame 2 starts */
  static const guint order[] = { 0, 1, 2, 3, 5, 4, 6, 10, 8, 11, 9, 7 };
  guint done[G_N_ELEMENTS (order)];
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    done[i] = push (t, &p[order[i]]);
  for (guint i = 0; i < G_N_ELEMENTS (order) - 1; i++)
    ck_assert_uint_eq (done[i], 0);
  ck_assert_uint_eq (done[G_N_ELEMENTS (order) - 1], 2);

  /* the marker first, the rest of the frame after it */
  g_autoptr (McuFrameTracker) r = mcu_frame_tracker_new ();
  static const guint order2[] = { 0, 1, 2, 3, 7, 6, 4, 5 };
  guint total = 0;
  for (guint i = 0; i < G_N_ELEMENTS (order2); i++)
    {
      guint d = push (r, &p[order2[i]]);
      ck_assert_uint_eq (d, i == G_N_ELEMENTS (order2) - 1 ? 1 : 0);
      total += d;
    }
  ck_assert_uint_eq (total, 1);
}
END_TEST

START_TEST (test_duplicates_and_old)
{
  g_autoptr (McuFrameTracker) t = mcu_frame_tracker_new ();
  Pkt p[8];
  make_frames (p, 2, 4, 40000);
  guint total = 0;
  for (guint i = 0; i < 8; i++)
    {
      total += push (t, &p[i]);
      total += push (t, &p[i]); /* every packet twice */
    }
  ck_assert_uint_eq (total, 1);
  McuFrameCounters c;
  mcu_frame_tracker_get (t, &c);
  ck_assert_uint_eq (c.duplicates, 8);
  ck_assert_uint_eq (c.packets, 16);
  ck_assert_uint_eq (c.frames, 1);

  /* move far ahead: the first packets are now too old to be looked at */
  for (guint i = 0; i < MCU_FRAME_TRACKER_PACKETS; i++)
    mcu_frame_tracker_push (t, (guint16)(40008 + i), 999999 + i, TRUE);
  ck_assert_uint_eq (push (t, &p[1]), 0);
  mcu_frame_tracker_get (t, &c);
  ck_assert_uint_eq (c.too_old, 1);

  /* after a reset the same numbers are new again, and the first frame unknown */
  mcu_frame_tracker_reset (t);
  total = 0;
  for (guint i = 0; i < 8; i++)
    total += push (t, &p[i]);
  ck_assert_uint_eq (total, 1);
}
END_TEST

/* Seeded: 300 frames of 1..6 packets, 5% lost for good, the rest sent in an order
 * where each packet may move up to 8 places. */
START_TEST (test_random_against_model)
{
  g_autoptr (GRand) rnd = g_rand_new_with_seed (7);
  enum
  {
    FRAMES = 300,
    MAXP = FRAMES * 6
  };
  static Pkt p[MAXP];
  static gboolean lost[MAXP];
  static guint frame_of[MAXP];
  guint n = 0;
  for (guint f = 0; f < FRAMES; f++)
    {
      guint per = (guint)g_rand_int_range (rnd, 1, 7);
      for (guint k = 0; k < per; k++, n++)
        {
          p[n].seq = (guint16)(65000 + n);
          p[n].ts = f * TS_STEP;
          p[n].marker = k == per - 1;
          frame_of[n] = f;
          lost[n] = n > 0 && g_rand_int_range (rnd, 0, 100) < 5;
        }
    }
  /* expected: frame f > 0 complete when none of its packets nor the previous
   * frame's marker is lost */
  guint expected = 0;
  for (guint f = 1; f < FRAMES; f++)
    {
      gboolean ok = TRUE;
      for (guint i = 0; i < n; i++)
        if (frame_of[i] == f && lost[i])
          ok = FALSE;
      for (guint i = 1; i < n; i++)
        if (frame_of[i] == f && frame_of[i - 1] == f - 1 && lost[i - 1])
          ok = FALSE;
      expected += ok;
    }
  /* each packet is sent at its place plus 0..8: sorted by that key (a stable
   * insertion sort), no packet moves more than 8 places */
  static guint order[MAXP], key[MAXP];
  for (guint i = 0; i < n; i++)
    {
      guint k = i + (guint)g_rand_int_range (rnd, 0, 9), j = i;
      for (; j > 0 && key[j - 1] > k; j--)
        {
          key[j] = key[j - 1];
          order[j] = order[j - 1];
        }
      key[j] = k;
      order[j] = i;
    }
  g_autoptr (McuFrameTracker) t = mcu_frame_tracker_new ();
  guint total = 0;
  /* the first packet in order decides where the tracker starts: send packet 0 first
   * so that frame 0 is the unknown one, as in the model */
  total += push (t, &p[0]);
  for (guint i = 0; i < n; i++)
    if (order[i] != 0 && !lost[order[i]])
      total += push (t, &p[order[i]]);
  ck_assert_uint_gt (expected, 100);
  ck_assert_uint_eq (total, expected);
}
END_TEST

/* The tracker feeding a quality window, as mcu/leg.c does, at 30 frames/s of 3
 * packets: a lost packet repaired two frames later makes no freeze (its frame
 * completes on the repair); a 1 s outage is one freeze of about its length; a
 * stall still going on shows as frozen now. */
START_TEST (test_freezes_in_window)
{
  const gint64 t0 = G_GINT64_CONSTANT (1000000000), frame_us = 33333;
  g_autoptr (McuFrameTracker) t = mcu_frame_tracker_new ();
  g_autoptr (McuQualityWindow) w = mcu_quality_window_new (5000, t0);
  guint16 seq = 100;
  gint64 now = t0;
  /* frame f at t0 + f * 33.3 ms; the middle packet of frame 20 is lost, and
   * frames 60..89 during an outage */
  for (guint f = 0; f < 150; f++, now += frame_us)
    {
      gboolean outage = f >= 60 && f < 90; /* 1 s */
      for (guint k = 0; k < 3; k++, seq++)
        {
          if (outage || (f == 20 && k == 1))
            continue;
          guint n = mcu_frame_tracker_push (t, seq, f * TS_STEP, k == 2);
          for (guint i = 0; i < n; i++)
            mcu_quality_window_video_frame (w, now);
        }
      if (f == 22) /* the retransmission of frame 20's packet (seq 161) */
        ck_assert_uint_eq (mcu_frame_tracker_push (t, 161, 20 * TS_STEP, FALSE), 1);
    }
  McuQualitySnapshot s;
  mcu_quality_window_get (w, now, &s);
  ck_assert_uint_eq (s.freezes, 1);
  /* the last frame before the outage is 59; frame 90's start (89's marker) was
   * lost, so the first complete one after it is 91: 32 frame times */
  ck_assert_double_eq_tol (s.frozen_ms, 32 * frame_us / 1000.0, 1);
  ck_assert (!s.frozen);
  /* the packets stop: after 500 ms without a complete frame the leg is frozen */
  mcu_quality_window_get (w, now + 600000, &s);
  ck_assert (s.frozen);
  McuFrameCounters c;
  mcu_frame_tracker_get (t, &c);
  ck_assert_uint_eq (c.frames, 150 - 1 - 30 - 1); /* not 0, 60..89, 90 */
}
END_TEST

static Suite *
frame_tracker_suite (void)
{
  Suite *s = suite_create ("mcu-frame-tracker");
  TCase *tc = tcase_create ("frames");
  tcase_add_test (tc, test_in_order);
  tcase_add_test (tc, test_lost_then_repaired);
  tcase_add_test (tc, test_wrap);
  tcase_add_test (tc, test_reordered);
  tcase_add_test (tc, test_duplicates_and_old);
  tcase_add_test (tc, test_random_against_model);
  tcase_add_test (tc, test_freezes_in_window);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return lt_test_run (frame_tracker_suite ());
}
