/* Suite mcu-rtcp: proves that the compound RTCP reader returns what hand-assembled
 * SR/RR/SDES/BYE/NACK/PLI/FIR/REMB packets say, skips XR, APP and unknown types,
 * refuses compounds that break RFC 3550 A.2 (first packet, version, lengths,
 * padding) without storing anything, never reads past any truncation, and that the
 * writers produce packets the reader (and the wire format) agree with, including
 * NACK pid/blp packing that covers exactly the sequence numbers given. */
#include "mcu.h"
#include "lt-test.h"

#include <string.h>

/* RR (1 block) + SDES (CNAME "abc") + BYE (1 SSRC), as written by hand. */
static const guint8 rr_sdes_bye[] = {
  0x81, 201,  0x00, 0x07, /* RR, RC=1, 8 words */
  0x00, 0x00, 0x00, 0x0a, /* sender 10 */
  0x00, 0x00, 0x00, 0x0b, /* source 11 */
  0x19, 0xff, 0xff, 0xfe, /* fraction 25, lost -2 */
  0x00, 0x01, 0x00, 0x05, /* ext highest seq 65541 */
  0x00, 0x00, 0x00, 0x30, /* jitter 48 */
  0x12, 0x34, 0x56, 0x78, /* lsr */
  0x00, 0x00, 0x80, 0x00, /* dlsr 0.5 s */
  0x81, 202,  0x00, 0x03, /* SDES, SC=1, 4 words */
  0x00, 0x00, 0x00, 0x0a, 0x01, 0x03, 'a',  'b',  'c',  0x00,
  0x00, 0x00, 0x81, 203,  0x00, 0x01, 0x00, 0x00, 0x00, 0x0a, /* BYE 10 */
};

START_TEST (test_rtcp_parse_compound)
{
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (rr_sdes_bye, sizeof rr_sdes_bye, 0, &info),
                    MCU_RTCP_OK);
  ck_assert_uint_eq (info.n_packets, 3);
  ck_assert_uint_eq (info.n_rrs, 1);
  ck_assert_uint_eq (info.rr_ssrcs[0], 10);
  ck_assert_uint_eq (info.n_reports, 1);
  const McuRtcpReportBlock *b = &info.reports[0];
  ck_assert_uint_eq (b->reporter_ssrc, 10);
  ck_assert_uint_eq (b->ssrc, 11);
  ck_assert_uint_eq (b->fraction_lost, 25);
  ck_assert_int_eq (b->cumulative_lost, -2);
  ck_assert_uint_eq (b->ext_highest_seq, 65541);
  ck_assert_uint_eq (b->jitter, 48);
  ck_assert_uint_eq (b->lsr, 0x12345678);
  ck_assert_uint_eq (b->dlsr, 0x8000);
  ck_assert_uint_eq (info.n_sdes, 1);
  ck_assert_uint_eq (info.sdes[0].ssrc, 10);
  ck_assert_uint_eq (info.sdes[0].cname_len, 3);
  ck_assert_mem_eq (info.sdes[0].cname, "abc", 3);
  ck_assert_uint_eq (info.n_byes, 1);
  ck_assert_uint_eq (info.byes[0], 10);
  ck_assert_uint_eq (info.dropped, 0);
}
END_TEST

/* RR (no blocks) + NACK + PLI + FIR + REMB + XR + APP + an unknown type 210 +
 * transport-cc (RTPFB fmt 15), the last one padded. */
static const guint8 feedback[] = {
  0x80, 201,  0x00, 0x01, 0x00, 0x00, 0x00, 0x01,                   /* RR sender 1 */
  0x81, 205,  0x00, 0x04, 0,    0,    0,    1,    0,   0,   0,   2, /* NACK 1 -> 2 */
  0x03, 0xe8, 0x00, 0x05, 0xff, 0xff, 0x80, 0x00, /* pid 1000 blp 5; 65535 */
  0x81, 206,  0x00, 0x02, 0,    0,    0,    1,    0,   0,   0,   3,    /* PLI 1 -> 3 */
  0x84, 206,  0x00, 0x04, 0,    0,    0,    1,    0,   0,   0,   0,    /* FIR */
  0x00, 0x00, 0x00, 0x04, 0x07, 0,    0,    0,                         /* ssrc 4, seq 7 */
  0x8f, 206,  0x00, 0x05, 0,    0,    0,    1,    0,   0,   0,   0,    /* REMB */
  'R',  'E',  'M',  'B',  0x01, 0x0a, 0x12, 0x34, 0,   0,   0,   0x05, /* exp 2, 0x21234 */
  0x80, 207,  0x00, 0x01, 0,    0,    0,    1,                         /* XR, empty */
  0x80, 204,  0x00, 0x02, 0,    0,    0,    1,    'n', 'a', 'm', 'e',  /* APP */
  0x80, 210,  0x00, 0x00, /* unknown PT 210 */
  0xaf, 205,  0x00, 0x03, 0,    0,    0,    1,    0,   0,   0,   2,    0,
  0,    0,    4, /* tcc, 4 pad */
};

START_TEST (test_rtcp_parse_feedback)
{
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (feedback, sizeof feedback, 0, &info), MCU_RTCP_OK);
  ck_assert_uint_eq (info.n_packets, 9);
  ck_assert_uint_eq (info.n_nacks, 2);
  ck_assert_uint_eq (info.nacks[0].sender_ssrc, 1);
  ck_assert_uint_eq (info.nacks[0].media_ssrc, 2);
  ck_assert_uint_eq (info.nacks[0].pid, 1000);
  ck_assert_uint_eq (info.nacks[0].blp, 5);
  ck_assert_uint_eq (info.nacks[1].pid, 65535);
  ck_assert_uint_eq (info.nacks[1].blp, 0x8000);
  guint16 seqs[17];
  ck_assert_uint_eq (mcu_rtcp_nack_expand (1000, 5, seqs), 3);
  ck_assert_uint_eq (seqs[1], 1001);
  ck_assert_uint_eq (seqs[2], 1003);
  ck_assert_uint_eq (mcu_rtcp_nack_expand (65535, 0x8000, seqs), 2);
  ck_assert_uint_eq (seqs[1], 15); /* wraps */
  ck_assert_uint_eq (info.n_plis, 1);
  ck_assert_uint_eq (info.plis[0].media_ssrc, 3);
  ck_assert_uint_eq (info.n_firs, 1);
  ck_assert_uint_eq (info.firs[0].media_ssrc, 4);
  ck_assert_uint_eq (info.firs[0].seq, 7);
  ck_assert (info.has_remb);
  ck_assert_uint_eq (info.remb_bitrate, (guint64)0x21234 << 2);
  ck_assert_uint_eq (info.n_remb_ssrcs, 1);
  ck_assert_uint_eq (info.remb_ssrcs[0], 5);
  ck_assert_uint_eq (info.n_xr, 1);
  ck_assert_uint_eq (info.n_app, 1);
  ck_assert_uint_eq (info.n_unknown, 2);
}
END_TEST

START_TEST (test_rtcp_validation)
{
  guint8 p[sizeof feedback];
  McuRtcpInfo info;

  /* A lone PLI: invalid as a full compound, valid as reduced-size. */
  const guint8 *pli = feedback + 28;
  ck_assert_int_eq (mcu_rtcp_parse (pli, 12, 0, &info), MCU_RTCP_ERR_FIRST);
  ck_assert_uint_eq (info.n_plis, 0);
  ck_assert_int_eq (mcu_rtcp_parse (pli, 12, MCU_RTCP_PARSE_REDUCED_SIZE, &info),
                    MCU_RTCP_OK);
  ck_assert_uint_eq (info.n_plis, 1);

  memcpy (p, feedback, sizeof p);
  p[0] = 0xa0; /* first packet padded */
  ck_assert_int_eq (mcu_rtcp_parse (p, sizeof p, 0, &info), MCU_RTCP_ERR_FIRST);

  memcpy (p, feedback, sizeof p);
  p[8] = 0x41; /* second packet version 1 */
  ck_assert_int_eq (mcu_rtcp_parse (p, sizeof p, 0, &info), MCU_RTCP_ERR_VERSION);
  ck_assert_uint_eq (info.n_rrs, 0); /* nothing stored from before the error */

  memcpy (p, feedback, sizeof p);
  p[111] = 0x04; /* the last packet claims one word more than is there */
  ck_assert_int_eq (mcu_rtcp_parse (p, sizeof p, 0, &info), MCU_RTCP_ERR_LENGTH);
  ck_assert_int_eq (mcu_rtcp_parse (feedback, sizeof feedback - 2, 0, &info),
                    MCU_RTCP_ERR_LENGTH);
  p[111] = 0x03;
  p[11] = 0x7f; /* a middle packet far past the end */
  ck_assert_int_eq (mcu_rtcp_parse (p, sizeof p, 0, &info), MCU_RTCP_ERR_LENGTH);

  memcpy (p, feedback, sizeof p);
  p[8] = 0xa1; /* padding in a middle packet */
  ck_assert_int_eq (mcu_rtcp_parse (p, sizeof p, 0, &info), MCU_RTCP_ERR_PADDING);

  memcpy (p, feedback, sizeof p);
  p[sizeof p - 1] = 0; /* padding count 0 */
  ck_assert_int_eq (mcu_rtcp_parse (p, sizeof p, 0, &info), MCU_RTCP_ERR_PADDING);
  p[sizeof p - 1] = 17; /* more than the packet body */
  ck_assert_int_eq (mcu_rtcp_parse (p, sizeof p, 0, &info), MCU_RTCP_ERR_PADDING);
  p[sizeof p - 1] = 12; /* legal: the padding eats the body, leaving a short RTPFB */
  ck_assert_int_eq (mcu_rtcp_parse (p, sizeof p, 0, &info), MCU_RTCP_ERR_FORMAT);
  ck_assert_uint_eq (info.n_nacks, 0);

  /* Counts that contradict the length: an RR claiming 2 blocks in 1 word. */
  const guint8 rr_lie[] = { 0x82, 201, 0x00, 0x01, 0, 0, 0, 1 };
  ck_assert_int_eq (mcu_rtcp_parse (rr_lie, sizeof rr_lie, 0, &info),
                    MCU_RTCP_ERR_FORMAT);
  /* An SDES item whose length runs past the packet. */
  guint8 sdes_lie[sizeof rr_sdes_bye];
  memcpy (sdes_lie, rr_sdes_bye, sizeof sdes_lie);
  sdes_lie[41] = 0x30;
  ck_assert_int_eq (mcu_rtcp_parse (sdes_lie, sizeof sdes_lie, 0, &info),
                    MCU_RTCP_ERR_FORMAT);
  /* A REMB whose SSRC count runs past the packet. */
  memcpy (p, feedback, sizeof p);
  p[76] = 9;
  ck_assert_int_eq (mcu_rtcp_parse (p, sizeof p, 0, &info), MCU_RTCP_ERR_FORMAT);

  ck_assert_int_eq (mcu_rtcp_parse (feedback, 3, 0, &info), MCU_RTCP_ERR_SHORT);
  ck_assert_int_eq (mcu_rtcp_parse (NULL, 8, 0, &info), MCU_RTCP_ERR_SHORT);
}
END_TEST

/* Every prefix of both compounds, in an exact-size heap copy: errors or a result,
 * never a read past the end (ASan) and never a pointer outside the copy. */
START_TEST (test_rtcp_truncations)
{
  const guint8 *srcs[] = { feedback, rr_sdes_bye };
  gsize lens[] = { sizeof feedback, sizeof rr_sdes_bye };
  for (guint s = 0; s < 2; s++)
    for (gsize n = 0; n <= lens[s]; n++)
      {
        guint8 *copy = g_memdup2 (srcs[s], n);
        McuRtcpInfo info;
        int r = mcu_rtcp_parse (copy, n, MCU_RTCP_PARSE_REDUCED_SIZE, &info);
        if (n < lens[s] && r == MCU_RTCP_OK)
          ck_assert_uint_lt (info.n_packets, s == 0 ? 9 : 3);
        for (guint i = 0; i < info.n_sdes; i++)
          ck_assert (info.sdes[i].cname + info.sdes[i].cname_len <= copy + n);
        g_free (copy);
      }
}
END_TEST

START_TEST (test_rtcp_overflow_counted)
{
  /* Two RRs of 31 blocks each: 32 stored, 30 counted as dropped. */
  McuRtcpReportBlock blocks[31];
  memset (blocks, 0, sizeof blocks);
  for (guint i = 0; i < 31; i++)
    blocks[i].ssrc = 100 + i;
  guint8 buf[2 * (8 + 31 * 24)];
  gsize n = mcu_rtcp_write_rr (buf, sizeof buf, 1, blocks, 31);
  ck_assert_uint_eq (n, 8 + 31 * 24);
  n += mcu_rtcp_write_rr (buf + n, sizeof buf - n, 2, blocks, 31);
  ck_assert_uint_eq (n, sizeof buf);
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (buf, n, 0, &info), MCU_RTCP_OK);
  ck_assert_uint_eq (info.n_reports, MCU_RTCP_MAX_REPORTS);
  ck_assert_uint_eq (info.dropped, 62 - MCU_RTCP_MAX_REPORTS);
  ck_assert_uint_eq (info.reports[31].reporter_ssrc, 2);
  ck_assert_uint_eq (info.reports[31].ssrc, 100);
}
END_TEST

/* SR + SDES + PLI + FIR written by the writers: exact wire bytes for the short
 * ones, and the reader gets every field back. */
START_TEST (test_rtcp_writers)
{
  guint8 buf[256];
  McuRtcpSenderInfo si
      = { 0x11223344, G_GUINT64_CONSTANT (0xe8a1b2c3d4e5f607), 90000, 1234, 567890 };
  McuRtcpReportBlock blk = { 0, 0x55667788, 12, -5, 70000, 33, 0xabcd, 0x10000 };
  gsize n = mcu_rtcp_write_sr (buf, sizeof buf, &si, &blk, 1);
  ck_assert_uint_eq (n, 52);
  ck_assert_uint_eq (mcu_rtcp_write_sr (buf, 51, &si, &blk, 1), 0);
  gsize m = mcu_rtcp_write_sdes_cname (buf + n, sizeof buf - n, si.ssrc, "lt-node-08");
  ck_assert_uint_eq (m, 4 + 4 + 2 + 10 + 1 + 3); /* padded to 24 */
  n += m;
  m = mcu_rtcp_write_pli (buf + n, sizeof buf - n, si.ssrc, 0x99);
  const guint8 pli_ref[] = { 0x81, 206, 0, 2, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0x99 };
  ck_assert_uint_eq (m, sizeof pli_ref);
  ck_assert_mem_eq (buf + n, pli_ref, m);
  n += m;
  m = mcu_rtcp_write_fir (buf + n, sizeof buf - n, si.ssrc, 0x99, 3);
  const guint8 fir_ref[] = { 0x84, 206, 0, 4, 0x11, 0x22, 0x33, 0x44, 0, 0,
                             0,    0,   0, 0, 0,    0x99, 3,    0,    0, 0 };
  ck_assert_uint_eq (m, sizeof fir_ref);
  ck_assert_mem_eq (buf + n, fir_ref, m);
  n += m;

  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (buf, n, 0, &info), MCU_RTCP_OK);
  ck_assert_uint_eq (info.n_srs, 1);
  ck_assert_uint_eq (info.srs[0].ssrc, si.ssrc);
  ck_assert (info.srs[0].ntp == si.ntp);
  ck_assert_uint_eq (info.srs[0].rtp_ts, 90000);
  ck_assert_uint_eq (info.srs[0].packet_count, 1234);
  ck_assert_uint_eq (info.srs[0].octet_count, 567890);
  ck_assert_uint_eq (info.n_reports, 1);
  ck_assert_uint_eq (info.reports[0].ssrc, 0x55667788);
  ck_assert_int_eq (info.reports[0].cumulative_lost, -5);
  ck_assert_uint_eq (info.reports[0].ext_highest_seq, 70000);
  ck_assert_uint_eq (info.reports[0].dlsr, 0x10000);
  ck_assert_uint_eq (info.n_sdes, 1);
  ck_assert_uint_eq (info.sdes[0].cname_len, 10);
  ck_assert_mem_eq (info.sdes[0].cname, "lt-node-08", 10);
  ck_assert_uint_eq (info.n_plis, 1);
  ck_assert_uint_eq (info.n_firs, 1);
  ck_assert_uint_eq (info.firs[0].media_ssrc, 0x99);
  ck_assert_uint_eq (info.firs[0].seq, 3);

  /* A cumulative loss beyond 24 bits is clamped, not wrapped into a gain. */
  blk.cumulative_lost = 0x7fffffff;
  n = mcu_rtcp_write_rr (buf, sizeof buf, 1, &blk, 1);
  ck_assert_int_eq (mcu_rtcp_parse (buf, n, 0, &info), MCU_RTCP_OK);
  ck_assert_int_eq (info.reports[0].cumulative_lost, 0x7fffff);

  ck_assert_uint_eq (mcu_rtcp_write_rr (buf, sizeof buf, 1, &blk, 32), 0);
  ck_assert_uint_eq (mcu_rtcp_write_sdes_cname (buf, sizeof buf, 1, ""), 0);
  ck_assert_uint_eq (mcu_rtcp_write_pli (buf, 11, 1, 2), 0);
}
END_TEST

/* The NACK writer covers exactly the numbers given, across the 16-bit wrap, with
 * the fewest pairs for ascending input. */
START_TEST (test_rtcp_nack_writer)
{
  const guint16 lost[] = { 100, 101, 105, 116, 117, 200, 65530, 65535, 0, 9 };
  guint8 buf[128];
  gsize n = mcu_rtcp_write_nack (buf, sizeof buf, 7, 8, lost, G_N_ELEMENTS (lost));
  ck_assert_uint_gt (n, 0);
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (buf, n, MCU_RTCP_PARSE_REDUCED_SIZE, &info),
                    MCU_RTCP_OK);
  /* {100..116}, {117}, {200}, {65530..9}: 4 pairs. */
  ck_assert_uint_eq (info.n_nacks, 4);
  ck_assert_uint_eq (n, 12 + 4 * 4);
  GHashTable *got = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < info.n_nacks; i++)
    {
      ck_assert_uint_eq (info.nacks[i].sender_ssrc, 7);
      ck_assert_uint_eq (info.nacks[i].media_ssrc, 8);
      guint16 seqs[17];
      guint k = mcu_rtcp_nack_expand (info.nacks[i].pid, info.nacks[i].blp, seqs);
      for (guint j = 0; j < k; j++)
        g_hash_table_add (got, GUINT_TO_POINTER ((guint)seqs[j] + 1));
    }
  ck_assert_uint_eq (g_hash_table_size (got), G_N_ELEMENTS (lost));
  for (guint i = 0; i < G_N_ELEMENTS (lost); i++)
    ck_assert (g_hash_table_contains (got, GUINT_TO_POINTER ((guint)lost[i] + 1)));
  g_hash_table_unref (got);

  /* Descending input is still fully covered. */
  const guint16 desc[] = { 50, 40, 30 };
  n = mcu_rtcp_write_nack (buf, sizeof buf, 7, 8, desc, 3);
  ck_assert_int_eq (mcu_rtcp_parse (buf, n, MCU_RTCP_PARSE_REDUCED_SIZE, &info),
                    MCU_RTCP_OK);
  ck_assert_uint_eq (info.n_nacks, 3);
  ck_assert_uint_eq (info.nacks[2].pid, 30);

  ck_assert_uint_eq (mcu_rtcp_write_nack (buf, 19, 7, 8, desc, 3), 0);
  ck_assert_uint_eq (mcu_rtcp_write_nack (buf, sizeof buf, 7, 8, desc, 0), 0);
}
END_TEST

/* REMB as written reads back as a bitrate no higher than asked, within what an
 * 18-bit mantissa can say, with its SSRCs. */
START_TEST (test_rtcp_remb_writer)
{
  const guint64 rates[] = { 0, 1, 262143, 262144, 1500000, 30000000, G_MAXUINT64 / 2 };
  guint32 ssrcs[] = { 0x1234, 0x5678 };
  for (guint i = 0; i < G_N_ELEMENTS (rates); i++)
    {
      guint8 buf[64];
      gsize n = mcu_rtcp_write_rr (buf, sizeof buf, 7, NULL, 0);
      n += mcu_rtcp_write_remb (buf + n, sizeof buf - n, 7, rates[i], ssrcs, 2);
      McuRtcpInfo info;
      ck_assert_int_eq (mcu_rtcp_parse (buf, n, 0, &info), MCU_RTCP_OK);
      ck_assert (info.has_remb);
      ck_assert_uint_eq (info.remb_sender_ssrc, 7);
      ck_assert_uint_le (info.remb_bitrate, rates[i]);
      ck_assert_uint_ge (info.remb_bitrate, rates[i] - rates[i] / 131072);
      ck_assert_uint_eq (info.n_remb_ssrcs, 2);
      ck_assert_uint_eq (info.remb_ssrcs[1], 0x5678);
    }
  guint8 small[23];
  ck_assert_uint_eq (mcu_rtcp_write_remb (small, sizeof small, 7, 1000, ssrcs, 1), 0);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-rtcp");
  TCase *tc = tcase_create ("rtcp");
  tcase_add_test (tc, test_rtcp_parse_compound);
  tcase_add_test (tc, test_rtcp_parse_feedback);
  tcase_add_test (tc, test_rtcp_validation);
  tcase_add_test (tc, test_rtcp_truncations);
  tcase_add_test (tc, test_rtcp_overflow_counted);
  tcase_add_test (tc, test_rtcp_writers);
  tcase_add_test (tc, test_rtcp_nack_writer);
  tcase_add_test (tc, test_rtcp_remb_writer);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
