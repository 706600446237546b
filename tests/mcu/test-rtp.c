/* Suite mcu-rtp: proves that the RTP reader returns every header field, the CSRC
 * list, RFC 8285 one-byte and two-byte extension elements and the padding of real
 * packet layouts; that it refuses each kind of lying length (CSRC count, extension
 * length, padding count) for every truncation of a valid packet without reading
 * past it; and that the in-place writers change exactly the field they name. */
#include "mcu.h"
#include "lt-test.h"

#include <string.h>

/* A Chromium-like VP8 packet: 2 CSRCs, one-byte extensions (abs-send-time id 2,
 * transport-wide-cc id 3, a padding byte, mid id 4 = "1"), 4 payload bytes, 3
 * bytes of padding. */
static const guint8 full_pkt[] = {
  0xb2, 0xe0, 0x12, 0x34, /* V=2 P=1 X=1 CC=2, M=1 PT=96, seq 0x1234 */
  0x00, 0x01, 0xe2, 0x40, /* ts 123456 */
  0xde, 0xad, 0xbe, 0xef, /* ssrc */
  0x00, 0x00, 0x00, 0x01, /* csrc 1 */
  0x00, 0x00, 0x00, 0x02, /* csrc 2 */
  0xbe, 0xde, 0x00, 0x03, /* one-byte profile, 3 words */
  0x22, 0x01, 0x02, 0x03, /* id 2, len 3 */
  0x31, 0x00, 0x07, 0x00, /* id 3, len 2, then a padding byte */
  0x40, 0x31, 0x00, 0x00, /* id 4, len 1: "1", padding */
  0x9d, 0x01, 0x2a, 0x00, /* payload */
  0x00, 0x00, 0x03,       /* padding, count 3 */
};

START_TEST (test_rtp_parse_full)
{
  McuRtpHeader h;
  ck_assert_int_eq (mcu_rtp_parse (full_pkt, sizeof full_pkt, &h), MCU_RTP_OK);
  ck_assert (h.padding && h.extension && h.marker);
  ck_assert_uint_eq (h.csrc_count, 2);
  ck_assert_uint_eq (h.pt, 96);
  ck_assert_uint_eq (h.seq, 0x1234);
  ck_assert_uint_eq (h.timestamp, 123456);
  ck_assert_uint_eq (h.ssrc, 0xdeadbeef);
  ck_assert_uint_eq (mcu_rtp_csrc (&h, 0), 1);
  ck_assert_uint_eq (mcu_rtp_csrc (&h, 1), 2);
  ck_assert_uint_eq (mcu_rtp_csrc (&h, 2), 0);
  ck_assert_uint_eq (h.ext_profile, MCU_RTP_EXT_ONE_BYTE);
  ck_assert_uint_eq (h.ext_len, 12);
  ck_assert_uint_eq (h.header_len, 36);
  ck_assert_uint_eq (h.payload_len, 4);
  ck_assert_uint_eq (h.payload[0], 0x9d);
  ck_assert_uint_eq (h.padding_len, 3);

  McuRtpExtIter it;
  ck_assert (mcu_rtp_ext_iter_init (&it, &h));
  guint8 id;
  const guint8 *d;
  gsize l;
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), 1);
  ck_assert_uint_eq (id, 2);
  ck_assert_uint_eq (l, 3);
  ck_assert_uint_eq (d[2], 0x03);
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), 1);
  ck_assert_uint_eq (id, 3);
  ck_assert_uint_eq (l, 2);
  ck_assert_uint_eq (d[1], 0x07);
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), 1);
  ck_assert_uint_eq (id, 4);
  ck_assert_uint_eq (l, 1);
  ck_assert_uint_eq (d[0], '1');
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), 0);

  ck_assert (mcu_rtp_find_ext (&h, 4, &d, &l));
  ck_assert_uint_eq (d[0], '1');
  ck_assert (!mcu_rtp_find_ext (&h, 5, &d, &l));
}
END_TEST

START_TEST (test_rtp_two_byte_ext)
{
  const guint8 pkt[] = {
    0x90, 0x60, 0x00, 0x01, 0,    0,    0,    0, 0,
    0,    0,    5,    0x10, 0x00, 0x00, 0x02, /* two-byte profile (appbits 0), 2 words */
    0x07, 0x00,                  /* id 7, length 0 (allowed in two-byte form) */
    0x00,                        /* padding */
    0x0c, 0x03, 'a',  'b',  'c', /* id 12, 3 bytes */
    0xaa,                        /* payload */
  };
  McuRtpHeader h;
  ck_assert_int_eq (mcu_rtp_parse (pkt, sizeof pkt, &h), MCU_RTP_OK);
  ck_assert_uint_eq (h.payload_len, 1);
  McuRtpExtIter it;
  ck_assert (mcu_rtp_ext_iter_init (&it, &h));
  ck_assert (it.two_byte);
  guint8 id;
  const guint8 *d;
  gsize l;
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), 1);
  ck_assert_uint_eq (id, 7);
  ck_assert_uint_eq (l, 0);
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), 1);
  ck_assert_uint_eq (id, 12);
  ck_assert_uint_eq (l, 3);
  ck_assert_mem_eq (d, "abc", 3);
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), 0);

  /* An element whose length runs past the extension is reported, not read. */
  guint8 bad[sizeof pkt];
  memcpy (bad, pkt, sizeof pkt);
  bad[20] = 0x09; /* id 12 claims 9 bytes, only 3 + 0 remain in the 8-byte block */
  ck_assert_int_eq (mcu_rtp_parse (bad, sizeof bad, &h), MCU_RTP_OK);
  ck_assert (mcu_rtp_ext_iter_init (&it, &h));
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), 1);
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), -1);
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), 0);

  /* A one-byte element overrunning, and the ID 15 stop. */
  const guint8 one[] = { 0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,
                         0,    5,    0xbe, 0xde, 0x00, 0x01, 0x13, 0xaa, 0xbb, 0xcc };
  ck_assert_int_eq (mcu_rtp_parse (one, sizeof one, &h), MCU_RTP_OK);
  ck_assert (mcu_rtp_ext_iter_init (&it, &h));
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), -1);
  const guint8 stop[] = { 0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,
                          0,    5,    0xbe, 0xde, 0x00, 0x01, 0xf0, 0x10, 0xaa, 0xbb };
  ck_assert_int_eq (mcu_rtp_parse (stop, sizeof stop, &h), MCU_RTP_OK);
  ck_assert (mcu_rtp_ext_iter_init (&it, &h));
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), 0);

  /* Another profile (not RFC 8285) parses but yields no elements. */
  const guint8 other[] = { 0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,
                           0,    5,    0xab, 0xcd, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44 };
  ck_assert_int_eq (mcu_rtp_parse (other, sizeof other, &h), MCU_RTP_OK);
  ck_assert (!mcu_rtp_ext_iter_init (&it, &h));
  ck_assert_int_eq (mcu_rtp_ext_iter_next (&it, &id, &d, &l), 0);
}
END_TEST

/* Every prefix of the full packet parses to an error or to a view that lies inside
 * the prefix; exact-size heap copies make ASan check the reads. */
START_TEST (test_rtp_truncations)
{
  for (gsize n = 0; n <= sizeof full_pkt; n++)
    {
      guint8 *copy = g_memdup2 (full_pkt, n);
      McuRtpHeader h;
      int r = mcu_rtp_parse (copy, n, &h);
      if (n < 12)
        ck_assert_int_eq (r, MCU_RTP_ERR_SHORT);
      else if (n < 20)
        ck_assert_int_eq (r, MCU_RTP_ERR_CSRC);
      else if (n < 36)
        ck_assert_int_eq (r, MCU_RTP_ERR_EXTENSION);
      if (r == MCU_RTP_OK)
        {
          ck_assert (h.payload + h.payload_len + h.padding_len == copy + n);
          McuRtpExtIter it;
          guint8 id;
          const guint8 *d;
          gsize l;
          mcu_rtp_ext_iter_init (&it, &h);
          while (mcu_rtp_ext_iter_next (&it, &id, &d, &l) == 1)
            ck_assert (d + l <= copy + n);
        }
      else
        ck_assert_uint_eq (h.header_len, 0);
      g_free (copy);
    }
}
END_TEST

START_TEST (test_rtp_lies)
{
  guint8 p[64];
  McuRtpHeader h;

  memcpy (p, full_pkt, sizeof full_pkt);
  p[0] = 0x72; /* version 1 */
  ck_assert_int_eq (mcu_rtp_parse (p, sizeof full_pkt, &h), MCU_RTP_ERR_VERSION);

  memcpy (p, full_pkt, sizeof full_pkt);
  p[0] = 0xbf; /* 15 CSRCs: 60 bytes, more than there are */
  ck_assert_int_eq (mcu_rtp_parse (p, sizeof full_pkt, &h), MCU_RTP_ERR_CSRC);

  memcpy (p, full_pkt, sizeof full_pkt);
  p[22] = 0xff; /* extension length 0xff03 words */
  ck_assert_int_eq (mcu_rtp_parse (p, sizeof full_pkt, &h), MCU_RTP_ERR_EXTENSION);

  memcpy (p, full_pkt, sizeof full_pkt);
  p[sizeof full_pkt - 1] = 0; /* padding count 0 */
  ck_assert_int_eq (mcu_rtp_parse (p, sizeof full_pkt, &h), MCU_RTP_ERR_PADDING);
  p[sizeof full_pkt - 1] = 8; /* reaches into the header */
  ck_assert_int_eq (mcu_rtp_parse (p, sizeof full_pkt, &h), MCU_RTP_ERR_PADDING);
  p[sizeof full_pkt - 1] = 7; /* exactly the payload + padding: empty payload is ok */
  ck_assert_int_eq (mcu_rtp_parse (p, sizeof full_pkt, &h), MCU_RTP_OK);
  ck_assert_uint_eq (h.payload_len, 0);

  ck_assert_int_eq (mcu_rtp_parse (NULL, 100, &h), MCU_RTP_ERR_SHORT);
}
END_TEST

START_TEST (test_rtp_writers)
{
  guint8 p[sizeof full_pkt];
  memcpy (p, full_pkt, sizeof p);
  ck_assert (mcu_rtp_set_ssrc (p, sizeof p, 0x01020304));
  ck_assert (mcu_rtp_set_seq (p, sizeof p, 0xfffe));
  ck_assert (mcu_rtp_set_timestamp (p, sizeof p, 0xa0b0c0d0));
  ck_assert (mcu_rtp_set_pt (p, sizeof p, 111));
  ck_assert (mcu_rtp_set_marker (p, sizeof p, FALSE));
  ck_assert (!mcu_rtp_set_pt (p, sizeof p, 200));
  McuRtpHeader h;
  ck_assert_int_eq (mcu_rtp_parse (p, sizeof p, &h), MCU_RTP_OK);
  ck_assert_uint_eq (h.ssrc, 0x01020304);
  ck_assert_uint_eq (h.seq, 0xfffe);
  ck_assert_uint_eq (h.timestamp, 0xa0b0c0d0);
  ck_assert_uint_eq (h.pt, 111);
  ck_assert (!h.marker);
  /* Everything after the fixed header is untouched. */
  ck_assert_mem_eq (p + 12, full_pkt + 12, sizeof p - 12);
  ck_assert_uint_eq (p[0], full_pkt[0]);

  ck_assert (!mcu_rtp_set_ssrc (p, 11, 1));
  p[0] = 0x40;
  ck_assert (!mcu_rtp_set_seq (p, sizeof p, 1));

  guint8 w[12];
  ck_assert_uint_eq (mcu_rtp_write_header (w, 11, 96, TRUE, 1, 2, 3), 0);
  ck_assert_uint_eq (mcu_rtp_write_header (w, 12, 96, TRUE, 1, 2, 3), 12);
  ck_assert_int_eq (mcu_rtp_parse (w, 12, &h), MCU_RTP_OK);
  ck_assert (h.marker);
  ck_assert_uint_eq (h.pt, 96);
  ck_assert_uint_eq (h.ssrc, 3);
  ck_assert_uint_eq (h.payload_len, 0);

  ck_assert (mcu_rtp_seq_newer (1, 65535));
  ck_assert (!mcu_rtp_seq_newer (65535, 1));
  ck_assert (!mcu_rtp_seq_newer (7, 7));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-rtp");
  TCase *tc = tcase_create ("rtp");
  tcase_add_test (tc, test_rtp_parse_full);
  tcase_add_test (tc, test_rtp_two_byte_ext);
  tcase_add_test (tc, test_rtp_truncations);
  tcase_add_test (tc, test_rtp_lies);
  tcase_add_test (tc, test_rtp_writers);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
