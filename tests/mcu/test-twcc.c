/* Suite mcu-twcc: proves that the transport-cc feedback reader returns what a
 * hand-assembled packet says (both vector chunk kinds, run lengths, small, large and
 * negative deltas), that writer and reader agree on statuses and arrival times to
 * the 250 µs tick for any pattern of loss and delay, that malformed packets (every
 * truncation, the reserved symbol, lying lengths and counts) are refused without
 * reading past them, that the recorder reports each numbered packet once, lost ones
 * as lost, across the 16-bit wrap, and that the sender numbers what it sends,
 * removes foreign extensions, gives a resend its first number (identical bytes
 * under one SRTP index) and refuses an old number it cannot match. */
#include "mcu.h"
#include "lt-test.h"

#include <string.h>

/* base 100, 5 statuses in one 2-bit vector: small, lost, large (-2 ms), small,
 * small; reference 1 (64 ms); deltas 1 ms, -2 ms, 4 ms, 63.75 ms; one byte of
 * padding (no P bit) */
static const guint8 hand[] = {
  0x8f, 205,  0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
  0x00, 0x02, 0x00, 0x64, 0x00, 0x05, 0x00, 0x00, 0x01, 0x07, /* ref 1, fb count 7 */
  0xd2, 0x50,                                                 /* 11 01 00 10 01 01 00 */
  0x04, 0xff, 0xf8, 0x10, 0xff, 0x00,
};

START_TEST (test_twcc_parse_hand)
{
  static McuTwccFeedback fb;
  ck_assert_int_eq (mcu_twcc_parse (hand, sizeof hand, &fb), MCU_TWCC_OK);
  ck_assert_uint_eq (fb.sender_ssrc, 1);
  ck_assert_uint_eq (fb.media_ssrc, 2);
  ck_assert_uint_eq (fb.base_seq, 100);
  ck_assert_uint_eq (fb.count, 5);
  ck_assert_int_eq (fb.ref_time, 1);
  ck_assert_uint_eq (fb.fb_count, 7);
  const guint8 want_rx[] = { 1, 0, 1, 1, 1 };
  const gint64 want_at[] = { 65000, 0, 63000, 67000, 130750 };
  for (guint i = 0; i < 5; i++)
    {
      ck_assert_uint_eq (fb.received[i], want_rx[i]);
      if (want_rx[i])
        ck_assert_int_eq (fb.arrival_us[i], want_at[i]);
    }
}
END_TEST

/* Writes @fb, parses it back and checks every status and arrival (to the tick). */
static void
round_trip (McuTwccFeedback *fb)
{
  static McuTwccFeedback back;
  guint8 buf[4096];
  gsize n = mcu_twcc_write (buf, sizeof buf, fb);
  ck_assert_uint_gt (n, 0);
  ck_assert_uint_eq (n % 4, 0);
  ck_assert_int_eq (mcu_twcc_parse (buf, n, &back), MCU_TWCC_OK);
  ck_assert_uint_eq (back.base_seq, fb->base_seq);
  ck_assert_uint_eq (back.count, fb->count);
  ck_assert_int_eq (back.ref_time, fb->ref_time);
  /* times come back relative to the reference: compare through the first one */
  gint64 shift = 0;
  gboolean first = TRUE;
  for (guint i = 0; i < fb->count; i++)
    {
      ck_assert_uint_eq (back.received[i], fb->received[i]);
      if (!fb->received[i])
        continue;
      if (first)
        shift = fb->arrival_us[i] - back.arrival_us[i];
      first = FALSE;
      gint64 err = fb->arrival_us[i] - shift - back.arrival_us[i];
      ck_assert_int_ge (err, -250);
      ck_assert_int_le (err, 250);
    }
  /* a shorter buffer never gets a partial packet */
  ck_assert_uint_eq (mcu_twcc_write (buf, n - 1, fb), 0);
}

START_TEST (test_twcc_round_trip)
{
  static McuTwccFeedback fb;
  GRand *rand = g_rand_new_with_seed (14);
  for (guint round = 0; round < 200; round++)
    {
      memset (&fb, 0, sizeof fb);
      fb.base_seq = (guint16)g_rand_int (rand);
      fb.count = (guint16)g_rand_int_range (rand, 1, MCU_TWCC_MAX_PACKETS + 1);
      gint64 t = 5000000000 + g_rand_int_range (rand, 0, 1000000);
      guint loss = g_rand_int_range (rand, 0, 100);
      gboolean any = FALSE;
      gint64 last = 0;
      for (guint i = 0; i < fb.count; i++)
        {
          /* mostly small steps, some long gaps, some reordering */
          guint kind = g_rand_int_range (rand, 0, 20);
          t += kind == 0   ? g_rand_int_range (rand, 64000, 2000000)
               : kind == 1 ? -g_rand_int_range (rand, 0, 20000)
                           : g_rand_int_range (rand, 0, 5000);
          fb.received[i] = (guint)g_rand_int_range (rand, 0, 100) >= loss;
          /* a delta has 16 bits (±8 s): keep received packets closer than that */
          if (!fb.received[i] && any && t - last > 5000000)
            fb.received[i] = 1;
          fb.arrival_us[i] = t;
          if (fb.received[i])
            last = t;
          any |= fb.received[i];
        }
      if (!any)
        fb.received[fb.count - 1] = 1;
      round_trip (&fb);
    }
  /* long runs: all received at one rate, then a run of losses */
  memset (&fb, 0, sizeof fb);
  fb.count = MCU_TWCC_MAX_PACKETS;
  for (guint i = 0; i < fb.count; i++)
    {
      fb.received[i] = i < 500 || i > 900;
      fb.arrival_us[i] = 1000000 + i * 1000;
    }
  round_trip (&fb);
  g_rand_free (rand);
}
END_TEST

START_TEST (test_twcc_malformed)
{
  static McuTwccFeedback fb;
  /* every truncation: refused, never read past (ASan watches) */
  for (gsize n = 0; n < sizeof hand; n++)
    {
      guint8 *copy = g_memdup2 (hand, n ? n : 1);
      ck_assert_int_lt (mcu_twcc_parse (copy, n, &fb), 0);
      g_free (copy);
    }
  guint8 p[sizeof hand];
  /* the length field says less than the statuses and deltas need */
  memcpy (p, hand, sizeof p);
  p[3] = 0x05;
  ck_assert_int_eq (mcu_twcc_parse (p, 24, &fb), MCU_TWCC_ERR_SHORT);
  /* the length field says more than the datagram */
  memcpy (p, hand, sizeof p);
  p[3] = 0x07;
  ck_assert_int_eq (mcu_twcc_parse (p, sizeof p, &fb), MCU_TWCC_ERR_HEADER);
  /* not transport-cc: FMT 1 (NACK), PT 206, version 1 */
  memcpy (p, hand, sizeof p);
  p[0] = 0x81;
  ck_assert_int_eq (mcu_twcc_parse (p, sizeof p, &fb), MCU_TWCC_ERR_HEADER);
  memcpy (p, hand, sizeof p);
  p[1] = 206;
  ck_assert_int_eq (mcu_twcc_parse (p, sizeof p, &fb), MCU_TWCC_ERR_HEADER);
  memcpy (p, hand, sizeof p);
  p[0] = 0x4f;
  ck_assert_int_eq (mcu_twcc_parse (p, sizeof p, &fb), MCU_TWCC_ERR_HEADER);
  /* the reserved symbol, in a 2-bit vector and in a run */
  memcpy (p, hand, sizeof p);
  p[20] = 0xf0;
  ck_assert_int_eq (mcu_twcc_parse (p, sizeof p, &fb), MCU_TWCC_ERR_SYMBOL);
  memcpy (p, hand, sizeof p);
  p[20] = 0x60;
  p[21] = 0x05;
  ck_assert_int_eq (mcu_twcc_parse (p, sizeof p, &fb), MCU_TWCC_ERR_SYMBOL);
  /* a run of 5 received-small whose deltas are not there */
  memcpy (p, hand, sizeof p);
  p[15] = 0x09; /* 9 statuses */
  ck_assert_int_eq (mcu_twcc_parse (p, sizeof p, &fb), MCU_TWCC_ERR_SHORT);
  /* zero statuses, too many statuses */
  memcpy (p, hand, sizeof p);
  p[15] = 0;
  ck_assert_int_eq (mcu_twcc_parse (p, sizeof p, &fb), MCU_TWCC_ERR_HEADER);
  memcpy (p, hand, sizeof p);
  p[14] = 0xff;
  ck_assert_int_eq (mcu_twcc_parse (p, sizeof p, &fb), MCU_TWCC_ERR_TOO_MANY);
  /* a P bit whose count runs into the fixed part */
  memcpy (p, hand, sizeof p);
  p[0] |= 0x20;
  p[sizeof p - 1] = 20;
  ck_assert_int_eq (mcu_twcc_parse (p, sizeof p, &fb), MCU_TWCC_ERR_HEADER);
  p[sizeof p - 1] = 0;
  ck_assert_int_eq (mcu_twcc_parse (p, sizeof p, &fb), MCU_TWCC_ERR_HEADER);
  /* the writer refuses what cannot be said */
  memset (&fb, 0, sizeof fb);
  guint8 out[256];
  fb.count = 2;
  ck_assert_uint_eq (mcu_twcc_write (out, sizeof out, &fb), 0); /* nothing received */
  fb.received[0] = fb.received[1] = 1;
  fb.arrival_us[1] = 9000000; /* 9 s apart: over a 16-bit delta */
  ck_assert_uint_eq (mcu_twcc_write (out, sizeof out, &fb), 0);
  fb.count = 0;
  ck_assert_uint_eq (mcu_twcc_write (out, sizeof out, &fb), 0);
}
END_TEST

START_TEST (test_twcc_compound)
{
  guint8 buf[256];
  gsize n = mcu_rtcp_write_rr (buf, sizeof buf, 9, NULL, 0);
  guint16 lost = 3;
  n += mcu_rtcp_write_nack (buf + n, sizeof buf - n, 9, 10, &lost, 1);
  memcpy (buf + n, hand, sizeof hand);
  n += sizeof hand;
  gsize off = 0;
  const guint8 *pkt;
  gsize plen;
  ck_assert (mcu_twcc_find_in_compound (buf, n, &off, &pkt, &plen));
  ck_assert_ptr_eq (pkt, buf + n - sizeof hand);
  ck_assert_uint_eq (plen, sizeof hand);
  ck_assert (!mcu_twcc_find_in_compound (buf, n, &off, &pkt, &plen));
  /* a length that runs past the datagram ends the walk */
  off = 0;
  ck_assert (!mcu_twcc_find_in_compound (buf, n - 1, &off, &pkt, &plen));
  /* the whole compound is still valid RTCP, the feedback counted as unknown */
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (buf, n, 0, &info), MCU_RTCP_OK);
}
END_TEST

START_TEST (test_twcc_recorder)
{
  static McuTwccFeedback fb;
  g_autoptr (McuTwccRecorder) rec = mcu_twcc_recorder_new (0x77);
  guint8 buf[1200];
  ck_assert_uint_eq (mcu_twcc_recorder_write_feedback (rec, buf, sizeof buf), 0);
  /* 65530 .. 65535, 0 .. 5 without 65533 and 2, one reordered */
  guint16 seqs[] = { 65530, 65531, 65532, 65534, 0, 65535, 1, 3, 4, 5 };
  for (guint i = 0; i < G_N_ELEMENTS (seqs); i++)
    mcu_twcc_recorder_on_packet (rec, seqs[i], 0x42, 1000000 + i * 2000);
  gsize n = mcu_twcc_recorder_write_feedback (rec, buf, sizeof buf);
  ck_assert_uint_gt (n, 0);
  ck_assert_int_eq (mcu_twcc_parse (buf, n, &fb), MCU_TWCC_OK);
  ck_assert_uint_eq (fb.sender_ssrc, 0x77);
  ck_assert_uint_eq (fb.media_ssrc, 0x42);
  ck_assert_uint_eq (fb.base_seq, 65530);
  ck_assert_uint_eq (fb.count, 12);
  ck_assert_uint_eq (fb.fb_count, 0);
  const guint8 want[] = { 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1 };
  for (guint i = 0; i < 12; i++)
    ck_assert_uint_eq (fb.received[i], want[i]);
  /* 65535 came after 0: 2 ms later than it */
  ck_assert_int_eq (fb.arrival_us[5] - fb.arrival_us[6], 2000);
  /* nothing new: nothing written; a late one is not reported again */
  ck_assert_uint_eq (mcu_twcc_recorder_write_feedback (rec, buf, sizeof buf), 0);
  mcu_twcc_recorder_on_packet (rec, 2, 0x42, 1100000);
  ck_assert_uint_eq (mcu_twcc_recorder_write_feedback (rec, buf, sizeof buf), 0);
  mcu_twcc_recorder_on_packet (rec, 6, 0x42, 1100000);
  n = mcu_twcc_recorder_write_feedback (rec, buf, sizeof buf);
  ck_assert_int_eq (mcu_twcc_parse (buf, n, &fb), MCU_TWCC_OK);
  ck_assert_uint_eq (fb.base_seq, 6);
  ck_assert_uint_eq (fb.count, 1);
  ck_assert_uint_eq (fb.fb_count, 1);
  /* a backlog larger than one small packet goes out in several */
  for (guint i = 0; i < 600; i++)
    mcu_twcc_recorder_on_packet (rec, (guint16)(7 + i), 0x42, 2000000 + i * 100);
  guint total = 0, packets = 0;
  guint8 small[300];
  while ((n = mcu_twcc_recorder_write_feedback (rec, small, sizeof small)) > 0)
    {
      ck_assert_int_eq (mcu_twcc_parse (small, n, &fb), MCU_TWCC_OK);
      ck_assert_uint_eq (fb.base_seq, 7 + total);
      total += fb.count;
      packets++;
    }
  ck_assert_uint_eq (total, 600);
  ck_assert_uint_gt (packets, 1);
}
END_TEST

/* An RTP packet with a one-byte extension (IDs 3 and 5) and a 5-byte payload. */
static gsize
foreign_packet (guint8 *buf, guint16 seq)
{
  gsize n = mcu_rtp_write_header (buf, 64, 96, FALSE, seq, 1234, 0xabcdef);
  buf[0] |= 0x10;
  const guint8 ext[] = { 0xbe, 0xde, 0x00, 0x02, 0x31, 0xaa, 0xbb, 0x50, 0xcc, 0, 0, 0 };
  memcpy (buf + n, ext, sizeof ext);
  n += sizeof ext;
  memcpy (buf + n, "hello", 5);
  return n + 5;
}

START_TEST (test_twcc_sender_stamp)
{
  g_autoptr (McuTwccSender) tx = mcu_twcc_sender_new (7);
  guint8 a[64], b[64];
  gsize la = foreign_packet (a, 1000);
  ck_assert (mcu_twcc_sender_stamp (tx, a, &la, sizeof a, 10));
  ck_assert_uint_eq (la, 12 + 8 + 5);
  guint16 tseq;
  ck_assert (mcu_twcc_read_ext (a, la, 7, &tseq));
  ck_assert_uint_eq (tseq, 0);
  McuRtpHeader h;
  ck_assert_int_eq (mcu_rtp_parse (a, la, &h), MCU_RTP_OK);
  ck_assert_uint_eq (h.payload_len, 5);
  ck_assert_mem_eq (h.payload, "hello", 5);
  const guint8 *d;
  gsize dl;
  ck_assert (!mcu_rtp_find_ext (&h, 3, &d, &dl)); /* the foreign ones are gone */
  ck_assert (!mcu_rtp_find_ext (&h, 5, &d, &dl));
  gsize lb = foreign_packet (b, 1001);
  ck_assert (mcu_twcc_sender_stamp (tx, b, &lb, sizeof b, 20));
  ck_assert (mcu_twcc_read_ext (b, lb, 7, &tseq));
  ck_assert_uint_eq (tseq, 1);
  /* a resend of 1000: its first number, byte for byte */
  guint8 c[64];
  gsize lc = foreign_packet (c, 1000);
  ck_assert (mcu_twcc_sender_stamp (tx, c, &lc, sizeof c, 30));
  ck_assert_uint_eq (lc, la);
  ck_assert_mem_eq (c, a, la);
  /* 999 was never sent: no number can be its first one */
  lc = foreign_packet (c, 999);
  ck_assert (!mcu_twcc_sender_stamp (tx, c, &lc, sizeof c, 30));
  ck_assert_uint_eq (mcu_twcc_sender_refused (tx), 1);
  /* no room for the extension */
  lc = foreign_packet (c, 1002);
  ck_assert (!mcu_twcc_sender_stamp (tx, c, &lc, lc - 12 + 7, 30));
  /* another SSRC numbers on in the same transport-wide sequence */
  lc = foreign_packet (c, 5);
  mcu_rtp_set_ssrc (c, lc, 0x1111);
  ck_assert (mcu_twcc_sender_stamp (tx, c, &lc, sizeof c, 40));
  ck_assert (mcu_twcc_read_ext (c, lc, 7, &tseq));
  ck_assert_uint_eq (tseq, 2);
  ck_assert_uint_gt (mcu_twcc_sender_rate (tx, 50), 0);
  /* a peer without transport-cc gets the packet without any extension */
  g_autoptr (McuTwccSender) plain = mcu_twcc_sender_new (0);
  lc = foreign_packet (c, 1);
  ck_assert (mcu_twcc_sender_stamp (plain, c, &lc, sizeof c, 0));
  ck_assert_uint_eq (lc, 12 + 5);
  ck_assert_uint_eq (c[0] & 0x10, 0);
  /* malformed: an extension length past the end */
  lc = foreign_packet (c, 2);
  c[15] = 9;
  ck_assert (!mcu_twcc_sender_stamp (tx, c, &lc, sizeof c, 0));
}
END_TEST

/* The loop the node runs: stamp, the peer records and feeds back, results. */
START_TEST (test_twcc_sender_results)
{
  static McuTwccFeedback fb;
  g_autoptr (McuTwccSender) tx = mcu_twcc_sender_new (3);
  g_autoptr (McuTwccRecorder) rec = mcu_twcc_recorder_new (1);
  for (guint i = 0; i < 50; i++)
    {
      guint8 p[1500];
      gsize n = mcu_rtp_write_header (p, sizeof p, 96, FALSE, (guint16)i, 0, 5);
      memset (p + n, 0, 1000);
      n += 1000;
      ck_assert (mcu_twcc_sender_stamp (tx, p, &n, sizeof p, 1000000 + i * 1000));
      guint16 s;
      ck_assert (mcu_twcc_read_ext (p, n, 3, &s));
      if (i % 10 != 3) /* every tenth lost on the way */
        mcu_twcc_recorder_on_packet (rec, s, 5, 7000000 + i * 1000 + 20000);
    }
  guint8 buf[1200];
  gsize n = mcu_twcc_recorder_write_feedback (rec, buf, sizeof buf);
  ck_assert_int_eq (mcu_twcc_parse (buf, n, &fb), MCU_TWCC_OK);
  McuTwccResult r[64];
  guint k = mcu_twcc_sender_on_feedback (tx, &fb, r, G_N_ELEMENTS (r));
  /* the recorder first saw number 0 and last 49 (47 was lost: 48 and 49 came) */
  ck_assert_uint_eq (k, 50);
  for (guint i = 0; i < k; i++)
    {
      ck_assert_int_eq (r[i].send_us, 1000000 + i * 1000);
      ck_assert_uint_eq (r[i].size, 12 + 8 + 1000);
      ck_assert_int_eq (r[i].received, i % 10 != 3);
      if (i > 0 && r[i].received && r[i - 1].received)
        ck_assert_int_eq (r[i].arrival_us - r[i - 1].arrival_us, 1000);
    }
  /* numbers we never sent match nothing */
  fb.base_seq = 60000;
  ck_assert_uint_eq (mcu_twcc_sender_on_feedback (tx, &fb, r, G_N_ELEMENTS (r)), 0);
}
END_TEST

typedef struct
{
  McuTwccSender *tx;
  guint32 ssrc;
  guint16 seqs[1000];
} StampJob;

static gpointer
stamp_thread (gpointer data)
{
  StampJob *j = data;
  for (guint i = 0; i < G_N_ELEMENTS (j->seqs); i++)
    {
      guint8 p[64];
      gsize n = mcu_rtp_write_header (p, sizeof p, 111, FALSE, (guint16)i, 0, j->ssrc);
      n += 10;
      memset (p + 12, 0, 10);
      g_assert_true (mcu_twcc_sender_stamp (j->tx, p, &n, sizeof p, i));
      g_assert_true (mcu_twcc_read_ext (p, n, 2, &j->seqs[i]));
    }
  return NULL;
}

/* The mixers' threads and the main loop stamp one peer's packets at once: every
 * packet gets its own number, none is skipped (ThreadSanitizer watches the rest). */
START_TEST (test_twcc_sender_threads)
{
  g_autoptr (McuTwccSender) tx = mcu_twcc_sender_new (2);
  StampJob jobs[4];
  GThread *threads[4];
  for (guint t = 0; t < 4; t++)
    {
      jobs[t].tx = tx;
      jobs[t].ssrc = 100 + t;
      threads[t] = g_thread_new ("stamp", stamp_thread, &jobs[t]);
    }
  g_autofree guint8 *seen = g_malloc0 (4000);
  for (guint t = 0; t < 4; t++)
    {
      g_thread_join (threads[t]);
      for (guint i = 0; i < 1000; i++)
        {
          ck_assert_uint_lt (jobs[t].seqs[i], 4000);
          ck_assert_uint_eq (seen[jobs[t].seqs[i]], 0);
          seen[jobs[t].seqs[i]] = 1;
        }
    }
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-twcc");
  TCase *tc = tcase_create ("twcc");
  tcase_add_test (tc, test_twcc_parse_hand);
  tcase_add_test (tc, test_twcc_round_trip);
  tcase_add_test (tc, test_twcc_malformed);
  tcase_add_test (tc, test_twcc_compound);
  tcase_add_test (tc, test_twcc_recorder);
  tcase_add_test (tc, test_twcc_sender_stamp);
  tcase_add_test (tc, test_twcc_sender_results);
  tcase_add_test (tc, test_twcc_sender_threads);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
