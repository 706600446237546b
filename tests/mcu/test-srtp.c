/* Suite mcu-srtp: proves that McuSrtp turns known plaintext RTP/RTCP into the exact
 * SRTP/SRTCP bytes of published packet-level vectors for both profiles (and back),
 * that a packet replayed, tampered with, keyed wrongly, plain or truncated is refused
 * with the right code, and that protect never writes past the capacity it is given. */
#include "mcu.h"
#include "lt-test.h"

#include <string.h>

/* Packet-level known answers. The AES_CM_128_HMAC_SHA1_80 master key and salt are
 * the RFC 3711 appendix B.3 key-derivation ones (master key E1F97A0D..., salt
 * 0EC675AD...); the packets and their SRTP/SRTCP forms are libsrtp's own reference
 * vectors (test/srtp_driver.c, srtp_validate and srtp_validate_gcm). RFC 7714
 * sections 16/17 give AEAD vectors with session keys, below the master-key KDF, so
 * they cannot go through a master-key API; libsrtp's GCM vector is the packet-level
 * one. */
static const guint8 cm_key[30] = {
  0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f,
  0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39, 0x0e, 0xc6, 0x75, 0xad,
  0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
};
static const guint8 gcm_key[28] = {
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
  0x0e, 0x0f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
};
static const guint8 rtp_plain[28] = {
  0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab,
  0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
};
static const guint8 rtcp_plain[24] = {
  0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab,
  0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
};
static const guint8 cm_srtp[38] = {
  0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x4e,
  0x55, 0xdc, 0x4c, 0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d,
  0x24, 0x02, 0xb7, 0x8d, 0x6a, 0xcc, 0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb,
};
static const guint8 cm_srtcp[38] = {
  0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28, 0x03, 0x5b, 0xe4,
  0x87, 0xb9, 0xbd, 0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00,
  0x00, 0x01, 0x99, 0x3e, 0x08, 0xcd, 0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98,
};
static const guint8 gcm_srtp[44] = {
  0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba,
  0xbe, 0xc5, 0x00, 0x2e, 0xde, 0x04, 0xcf, 0xdd, 0x2e, 0xb9, 0x11,
  0x59, 0xe0, 0x88, 0x0a, 0xa0, 0x6e, 0xd2, 0x97, 0x68, 0x26, 0xf7,
  0x96, 0xb2, 0x01, 0xdf, 0x31, 0x31, 0xa1, 0x27, 0xe8, 0xa3, 0x92,
};
static const guint8 gcm_srtcp[44] = {
  0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xc9, 0x8b, 0x8b,
  0x5d, 0xf0, 0x39, 0x2a, 0x55, 0x85, 0x2b, 0x6c, 0x21, 0xac, 0x8e,
  0x70, 0x25, 0xc5, 0x2c, 0x6f, 0xbe, 0xa2, 0xb3, 0xb4, 0x46, 0xea,
  0x31, 0x12, 0x3b, 0xa8, 0x8c, 0xe6, 0x1e, 0x80, 0x00, 0x00, 0x01,
};

typedef struct
{
  McuSrtpProfile profile;
  const guint8 *key;
  const guint8 *srtp;
  gsize srtp_len;
  const guint8 *srtcp;
  gsize srtcp_len;
} Kat;

static const Kat kats[] = {
  { MCU_SRTP_PROFILE_AES128_CM_SHA1_80, cm_key, cm_srtp, sizeof cm_srtp, cm_srtcp,
    sizeof cm_srtcp },
  { MCU_SRTP_PROFILE_AEAD_AES_128_GCM, gcm_key, gcm_srtp, sizeof gcm_srtp, gcm_srtcp,
    sizeof gcm_srtcp },
};

static const McuSrtpProfile profiles[] = {
  MCU_SRTP_PROFILE_AEAD_AES_128_GCM,
  MCU_SRTP_PROFILE_AES128_CM_SHA1_80,
};

START_TEST (test_srtp_profiles)
{
  ck_assert_uint_eq (mcu_srtp_profile_key_len (MCU_SRTP_PROFILE_AEAD_AES_128_GCM), 16);
  ck_assert_uint_eq (mcu_srtp_profile_salt_len (MCU_SRTP_PROFILE_AEAD_AES_128_GCM), 12);
  ck_assert_uint_eq (mcu_srtp_profile_key_len (MCU_SRTP_PROFILE_AES128_CM_SHA1_80), 16);
  ck_assert_uint_eq (mcu_srtp_profile_salt_len (MCU_SRTP_PROFILE_AES128_CM_SHA1_80), 14);
  ck_assert_str_eq (mcu_srtp_profile_name (MCU_SRTP_PROFILE_AEAD_AES_128_GCM),
                    "AEAD_AES_128_GCM");
  ck_assert_str_eq (mcu_srtp_profile_name (MCU_SRTP_PROFILE_AES128_CM_SHA1_80),
                    "AES_CM_128_HMAC_SHA1_80");
  ck_assert_uint_eq (mcu_srtp_profile_key_len ((McuSrtpProfile)0x0002), 0);

  g_autoptr (GError) error = NULL;
  McuSrtp *s = mcu_srtp_new ((McuSrtpProfile)0x0008, gcm_key, gcm_key, &error);
  ck_assert_ptr_null (s);
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_UNSUPPORTED));
}
END_TEST

/* Known answers: the same key both ways, so our outbound output is checked against
 * the reference bytes and our inbound session turns the reference back. */
START_TEST (test_srtp_known_answers)
{
  const Kat *k = &kats[_i];
  g_autoptr (GError) error = NULL;
  g_autoptr (McuSrtp) s = mcu_srtp_new (k->profile, k->key, k->key, &error);
  ck_assert_msg (s != NULL, "%s", error ? error->message : "");
  ck_assert_int_eq (mcu_srtp_get_profile (s), k->profile);

  guint8 buf[64];
  gsize len = sizeof rtp_plain;
  memcpy (buf, rtp_plain, len);
  ck_assert_int_eq (mcu_srtp_protect_rtp (s, buf, &len, sizeof buf), MCU_SRTP_OK);
  ck_assert_uint_eq (len, k->srtp_len);
  ck_assert_mem_eq (buf, k->srtp, len);

  len = sizeof rtcp_plain;
  memcpy (buf, rtcp_plain, len);
  ck_assert_int_eq (mcu_srtp_protect_rtcp (s, buf, &len, sizeof buf), MCU_SRTP_OK);
  ck_assert_uint_eq (len, k->srtcp_len);
  ck_assert_mem_eq (buf, k->srtcp, len);

  len = k->srtp_len;
  memcpy (buf, k->srtp, len);
  ck_assert_int_eq (mcu_srtp_unprotect_rtp (s, buf, &len), MCU_SRTP_OK);
  ck_assert_uint_eq (len, sizeof rtp_plain);
  ck_assert_mem_eq (buf, rtp_plain, len);

  len = k->srtcp_len;
  memcpy (buf, k->srtcp, len);
  ck_assert_int_eq (mcu_srtp_unprotect_rtcp (s, buf, &len), MCU_SRTP_OK);
  ck_assert_uint_eq (len, sizeof rtcp_plain);
  ck_assert_mem_eq (buf, rtcp_plain, len);
}
END_TEST

static void
make_rtp (guint8 *buf, gsize len, guint16 seq, guint32 ssrc)
{
  memset (buf, 0, len);
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  buf[4] = 0x11;
  buf[8] = ssrc >> 24;
  buf[9] = (ssrc >> 16) & 0xff;
  buf[10] = (ssrc >> 8) & 0xff;
  buf[11] = ssrc & 0xff;
  for (gsize i = 12; i < len; i++)
    buf[i] = (guint8)(i * 7 + seq);
}

static void
make_pair (McuSrtpProfile p, McuSrtp **a, McuSrtp **b)
{
  guint8 ka[30], kb[30];
  for (int i = 0; i < 30; i++)
    {
      ka[i] = (guint8)(i + 1);
      kb[i] = (guint8)(0xf0 - i);
    }
  g_autoptr (GError) error = NULL;
  *a = mcu_srtp_new (p, ka, kb, &error);
  ck_assert_msg (*a != NULL, "%s", error ? error->message : "");
  *b = mcu_srtp_new (p, kb, ka, &error);
  ck_assert_msg (*b != NULL, "%s", error ? error->message : "");
}

/* Two peers keyed crosswise carry 1,200-byte packets both ways, several SSRCs on one
 * session (BUNDLE), and each packet comes back byte for byte. */
START_TEST (test_srtp_round_trip)
{
  McuSrtp *a, *b;
  make_pair (profiles[_i], &a, &b);
  guint8 ref[1200], buf[1300];

  for (guint16 seq = 65500; seq != 40; seq++) /* wraps: the ROC must follow */
    for (guint32 ssrc = 1; ssrc <= 2; ssrc++)
      {
        McuSrtp *tx = ssrc == 1 ? a : b, *rx = ssrc == 1 ? b : a;
        make_rtp (ref, sizeof ref, seq, 0x1000 + ssrc);
        memcpy (buf, ref, sizeof ref);
        gsize len = sizeof ref;
        ck_assert_int_eq (mcu_srtp_protect_rtp (tx, buf, &len, sizeof buf), MCU_SRTP_OK);
        ck_assert_uint_gt (len, sizeof ref);
        ck_assert (memcmp (buf + 12, ref + 12, 32) != 0); /* really encrypted */
        ck_assert_int_eq (mcu_srtp_unprotect_rtp (rx, buf, &len), MCU_SRTP_OK);
        ck_assert_uint_eq (len, sizeof ref);
        ck_assert_mem_eq (buf, ref, len);
      }

  /* RTCP both ways, a compound RR + SDES. */
  guint8 rtcp[64] = { 0x80, 201, 0,    1,    0, 0, 0x10, 0x01, 0x81, 202, 0, 2,
                      0,    0,   0x10, 0x01, 1, 2, 'a',  'b',  0,    0,   0, 0 };
  guint8 rb[64];
  memcpy (rb, rtcp, sizeof rb);
  gsize len = 24;
  ck_assert_int_eq (mcu_srtp_protect_rtcp (a, rb, &len, sizeof rb), MCU_SRTP_OK);
  ck_assert_int_eq (mcu_srtp_unprotect_rtcp (b, rb, &len), MCU_SRTP_OK);
  ck_assert_uint_eq (len, 24);
  ck_assert_mem_eq (rb, rtcp, 24);

  mcu_srtp_free (a);
  mcu_srtp_free (b);
}
END_TEST

START_TEST (test_srtp_replay)
{
  McuSrtp *a, *b;
  make_pair (profiles[_i], &a, &b);
  guint8 pkt[200], copy[200], buf[200];
  make_rtp (pkt, 160, 1000, 0xabc);
  gsize len = 160;
  ck_assert_int_eq (mcu_srtp_protect_rtp (a, pkt, &len, sizeof pkt), MCU_SRTP_OK);
  gsize slen = len;
  memcpy (copy, pkt, slen);

  memcpy (buf, copy, slen);
  len = slen;
  ck_assert_int_eq (mcu_srtp_unprotect_rtp (b, buf, &len), MCU_SRTP_OK);
  memcpy (buf, copy, slen);
  len = slen;
  ck_assert_int_eq (mcu_srtp_unprotect_rtp (b, buf, &len), MCU_SRTP_ERR_REPLAY);

  /* Protecting the same sequence number again (a NACK answer) is allowed. */
  make_rtp (pkt, 160, 1000, 0xabc);
  len = 160;
  ck_assert_int_eq (mcu_srtp_protect_rtp (a, pkt, &len, sizeof pkt), MCU_SRTP_OK);
  ck_assert_mem_eq (pkt, copy, slen);

  /* A packet held back until 1,100 newer ones arrived is too old for the window. */
  guint8 late[200];
  make_rtp (late, 60, 1001, 0xabc);
  gsize late_len = 60;
  ck_assert_int_eq (mcu_srtp_protect_rtp (a, late, &late_len, sizeof late), MCU_SRTP_OK);
  for (guint16 seq = 1002; seq < 1002 + 1100; seq++)
    {
      make_rtp (pkt, 60, seq, 0xabc);
      len = 60;
      ck_assert_int_eq (mcu_srtp_protect_rtp (a, pkt, &len, sizeof pkt), MCU_SRTP_OK);
      ck_assert_int_eq (mcu_srtp_unprotect_rtp (b, pkt, &len), MCU_SRTP_OK);
    }
  ck_assert_int_eq (mcu_srtp_unprotect_rtp (b, late, &late_len), MCU_SRTP_ERR_REPLAY);
  /* Our own side refuses to re-protect an index that far back, too. */
  make_rtp (pkt, 60, 1001, 0xabc);
  len = 60;
  ck_assert_int_eq (mcu_srtp_protect_rtp (a, pkt, &len, sizeof pkt), MCU_SRTP_ERR_REPLAY);

  /* SRTCP replay. */
  guint8 rr[64] = { 0x80, 201, 0, 1, 0, 0, 0x0a, 0xbc };
  len = 8;
  ck_assert_int_eq (mcu_srtp_protect_rtcp (a, rr, &len, sizeof rr), MCU_SRTP_OK);
  memcpy (copy, rr, len);
  slen = len;
  ck_assert_int_eq (mcu_srtp_unprotect_rtcp (b, rr, &len), MCU_SRTP_OK);
  len = slen;
  ck_assert_int_eq (mcu_srtp_unprotect_rtcp (b, copy, &len), MCU_SRTP_ERR_REPLAY);

  mcu_srtp_free (a);
  mcu_srtp_free (b);
}
END_TEST

/* Any single flipped bit, in the header, payload or tag, fails authentication; a
 * flip in the SSRC or sequence number must not slip through as a different packet. */
START_TEST (test_srtp_tamper)
{
  McuSrtp *a, *b;
  make_pair (profiles[_i], &a, &b);
  guint8 pkt[300], buf[300];
  make_rtp (pkt, 200, 7, 0x55);
  gsize slen = 200;
  ck_assert_int_eq (mcu_srtp_protect_rtp (a, pkt, &slen, sizeof pkt), MCU_SRTP_OK);

  for (gsize i = 1; i < slen; i++) /* byte 0 holds the version: that is INVALID */
    {
      memcpy (buf, pkt, slen);
      buf[i] ^= 0x10;
      gsize len = slen;
      ck_assert_int_eq (mcu_srtp_unprotect_rtp (b, buf, &len), MCU_SRTP_ERR_AUTH);
    }
  /* The untouched packet still passes after all those failures. */
  memcpy (buf, pkt, slen);
  gsize len = slen;
  ck_assert_int_eq (mcu_srtp_unprotect_rtp (b, buf, &len), MCU_SRTP_OK);

  guint8 rr[64] = { 0x80, 201, 0, 1, 0, 0, 0x0a, 0xbc };
  len = 8;
  ck_assert_int_eq (mcu_srtp_protect_rtcp (a, rr, &len, sizeof rr), MCU_SRTP_OK);
  rr[5] ^= 1;
  ck_assert_int_eq (mcu_srtp_unprotect_rtcp (b, rr, &len), MCU_SRTP_ERR_AUTH);

  mcu_srtp_free (a);
  mcu_srtp_free (b);
}
END_TEST

/* Nothing unencrypted is accepted: plain RTP/RTCP, the peer's own key, truncated or
 * non-RTP bytes are refused and report no success. */
START_TEST (test_srtp_refuses)
{
  McuSrtp *a, *b;
  make_pair (profiles[_i], &a, &b);
  guint8 buf[300];

  make_rtp (buf, 200, 9, 0x77);
  gsize len = 200;
  ck_assert_int_eq (mcu_srtp_unprotect_rtp (b, buf, &len), MCU_SRTP_ERR_AUTH);

  /* Protected by a, then fed back to a's own inbound session (wrong key). */
  make_rtp (buf, 200, 10, 0x77);
  len = 200;
  ck_assert_int_eq (mcu_srtp_protect_rtp (a, buf, &len, sizeof buf), MCU_SRTP_OK);
  ck_assert_int_eq (mcu_srtp_unprotect_rtp (a, buf, &len), MCU_SRTP_ERR_AUTH);

  guint8 rr[64] = { 0x80, 201, 0, 7, 0, 0, 0, 1 };
  len = 32;
  ck_assert_int_lt (mcu_srtp_unprotect_rtcp (b, rr, &len), 0);

  /* Too short to hold a tag, not version 2, NULL. */
  for (gsize l = 0; l < 12 + 16; l++)
    {
      make_rtp (buf, 64, 11, 0x77);
      len = l;
      ck_assert_int_lt (mcu_srtp_unprotect_rtp (b, buf, &len), 0);
      len = l < 12 ? l : 12;
      ck_assert_int_lt (mcu_srtp_unprotect_rtcp (b, buf, &len), 0);
    }
  make_rtp (buf, 64, 12, 0x77);
  buf[0] = 0x40;
  len = 64;
  ck_assert_int_eq (mcu_srtp_unprotect_rtp (b, buf, &len), MCU_SRTP_ERR_INVALID);
  len = 64;
  ck_assert_int_eq (mcu_srtp_protect_rtp (a, buf, &len, sizeof buf),
                    MCU_SRTP_ERR_INVALID);
  len = 11;
  buf[0] = 0x80;
  ck_assert_int_eq (mcu_srtp_protect_rtp (a, buf, &len, sizeof buf),
                    MCU_SRTP_ERR_INVALID);
  ck_assert_int_eq (mcu_srtp_protect_rtp (NULL, buf, &len, sizeof buf),
                    MCU_SRTP_ERR_INVALID);
  ck_assert_str_eq (mcu_srtp_status_name (MCU_SRTP_ERR_REPLAY), "replay");

  mcu_srtp_free (a);
  mcu_srtp_free (b);
}
END_TEST

/* protect checks the capacity itself: one byte short is TOO_BIG and leaves the
 * packet as it was; the exact size works. Heap buffers of exact size let ASan catch
 * any write past the end. */
START_TEST (test_srtp_capacity)
{
  McuSrtp *a, *b;
  make_pair (profiles[_i], &a, &b);
  gsize trailer_rtp = profiles[_i] == MCU_SRTP_PROFILE_AEAD_AES_128_GCM ? 16 : 10;
  gsize trailer_rtcp = trailer_rtp + 4;

  guint8 *pkt = g_malloc (100 + trailer_rtp);
  make_rtp (pkt, 100, 5, 0x99);
  g_autofree guint8 *ref = g_memdup2 (pkt, 100);
  gsize len = 100;
  ck_assert_int_eq (mcu_srtp_protect_rtp (a, pkt, &len, 100 + trailer_rtp - 1),
                    MCU_SRTP_ERR_TOO_BIG);
  ck_assert_uint_eq (len, 100);
  ck_assert_mem_eq (pkt, ref, 100);
  ck_assert_int_eq (mcu_srtp_protect_rtp (a, pkt, &len, 100 + trailer_rtp), MCU_SRTP_OK);
  ck_assert_uint_eq (len, 100 + trailer_rtp);
  ck_assert_int_eq (mcu_srtp_unprotect_rtp (b, pkt, &len), MCU_SRTP_OK);
  ck_assert_mem_eq (pkt, ref, 100);
  g_free (pkt);

  guint8 *rr = g_malloc0 (8 + trailer_rtcp);
  rr[0] = 0x80;
  rr[1] = 201;
  rr[3] = 1;
  len = 8;
  ck_assert_int_eq (mcu_srtp_protect_rtcp (a, rr, &len, 8 + trailer_rtcp - 1),
                    MCU_SRTP_ERR_TOO_BIG);
  ck_assert_int_eq (mcu_srtp_protect_rtcp (a, rr, &len, 8 + trailer_rtcp), MCU_SRTP_OK);
  ck_assert_uint_eq (len, 8 + trailer_rtcp);
  ck_assert_int_eq (mcu_srtp_unprotect_rtcp (b, rr, &len), MCU_SRTP_OK);
  ck_assert_uint_eq (len, 8);
  g_free (rr);

  mcu_srtp_free (a);
  mcu_srtp_free (b);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-srtp");
  TCase *tc = tcase_create ("srtp");
  tcase_add_test (tc, test_srtp_profiles);
  tcase_add_loop_test (tc, test_srtp_known_answers, 0, G_N_ELEMENTS (kats));
  tcase_add_loop_test (tc, test_srtp_round_trip, 0, G_N_ELEMENTS (profiles));
  tcase_add_loop_test (tc, test_srtp_replay, 0, G_N_ELEMENTS (profiles));
  tcase_add_loop_test (tc, test_srtp_tamper, 0, G_N_ELEMENTS (profiles));
  tcase_add_loop_test (tc, test_srtp_refuses, 0, G_N_ELEMENTS (profiles));
  tcase_add_loop_test (tc, test_srtp_capacity, 0, G_N_ELEMENTS (profiles));
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
