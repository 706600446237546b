/* Suite mcu-srtp-reference: proves McuSrtp's bytes on the wire against the RFCs
 * themselves, not only against libsrtp's own vectors. A small reference written here
 * over OpenSSL (AES, AES-GCM, HMAC-SHA1) first reproduces the published vectors:
 * RFC 3711 B.2 (AES-CM keystream), B.3 (key derivation), RFC 7714 16.1.1 (SRTP
 * AEAD_AES_128_GCM) and 17.1 (SRTCP AEAD_AES_128_GCM), which use session keys.
 * Then, from master keys, the reference and McuSrtp must produce identical SRTP and
 * SRTCP packets for both profiles, across a sequence-number rollover. */
#include "mcu.h"
#include "lt-test.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

static gsize
unhex (const char *hex, guint8 *out, gsize cap)
{
  gsize n = 0;
  for (const char *p = hex; *p; p++)
    {
      if (!g_ascii_isxdigit (*p))
        continue;
      ck_assert (g_ascii_isxdigit (p[1]));
      ck_assert_uint_lt (n, cap);
      out[n++] = (guint8)(g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]));
      p++;
    }
  return n;
}

static void
aes_block (const guint8 *key, const guint8 *in, guint8 *out)
{
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new ();
  int n = 0;
  ck_assert (EVP_EncryptInit_ex (c, EVP_aes_128_ecb (), NULL, key, NULL) == 1);
  EVP_CIPHER_CTX_set_padding (c, 0);
  ck_assert (EVP_EncryptUpdate (c, out, &n, in, 16) == 1);
  ck_assert_int_eq (n, 16);
  EVP_CIPHER_CTX_free (c);
}

/* RFC 3711 4.1.1: keystream blocks AES(k, IV + i), i in the low 16 bits. */
static void
aes_cm_xor (const guint8 *key, const guint8 iv[16], guint8 *data, gsize len)
{
  guint8 ctr[16], ks[16];
  for (gsize off = 0, i = 0; off < len; off += 16, i++)
    {
      memcpy (ctr, iv, 16);
      guint16 lo = (guint16)((ctr[14] << 8 | ctr[15]) + i);
      ctr[14] = lo >> 8;
      ctr[15] = lo & 0xff;
      aes_block (key, ctr, ks);
      for (gsize j = 0; j < 16 && off + j < len; j++)
        data[off + j] ^= ks[j];
    }
}

/* RFC 3711 4.3.1/4.3.3 with key derivation rate 0: x = (label << 48) XOR salt,
 * keystream from IV = x * 2^16. A 12-byte (GCM) salt is padded with zeros to 14
 * bytes, as libsrtp and RFC 7714 section 11 do. */
static void
ref_kdf (const guint8 *mkey, const guint8 *msalt, gsize salt_len, guint8 label,
         guint8 *out, gsize n)
{
  guint8 iv[16] = { 0 };
  memcpy (iv, msalt, salt_len);
  iv[7] ^= label;
  memset (out, 0, n);
  aes_cm_xor (mkey, iv, out, n);
}

static void
gcm_seal (const guint8 *key, const guint8 iv[12], const guint8 *aad, gsize aad_len,
          guint8 *data, gsize len, guint8 tag[16])
{
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new ();
  int n = 0;
  ck_assert (EVP_EncryptInit_ex (c, EVP_aes_128_gcm (), NULL, NULL, NULL) == 1);
  ck_assert (EVP_CIPHER_CTX_ctrl (c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1);
  ck_assert (EVP_EncryptInit_ex (c, NULL, NULL, key, iv) == 1);
  ck_assert (EVP_EncryptUpdate (c, NULL, &n, aad, (int)aad_len) == 1);
  if (len)
    ck_assert (EVP_EncryptUpdate (c, data, &n, data, (int)len) == 1);
  ck_assert (EVP_EncryptFinal_ex (c, data + len, &n) == 1);
  ck_assert (EVP_CIPHER_CTX_ctrl (c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
  EVP_CIPHER_CTX_free (c);
}

/* RFC 7714 section 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt, AAD = header. */
static gsize
ref_gcm_rtp (const guint8 *key, const guint8 *salt, guint32 roc, const guint8 *pkt,
             gsize len, gsize hdr, guint8 *out)
{
  guint8 iv[12] = { 0,
                    0,
                    pkt[8],
                    pkt[9],
                    pkt[10],
                    pkt[11],
                    roc >> 24,
                    (roc >> 16) & 0xff,
                    (roc >> 8) & 0xff,
                    roc & 0xff,
                    pkt[2],
                    pkt[3] };
  for (int i = 0; i < 12; i++)
    iv[i] ^= salt[i];
  memcpy (out, pkt, len);
  gcm_seal (key, iv, pkt, hdr, out + hdr, len - hdr, out + len);
  return len + 16;
}

/* RFC 7714 section 9.1: IV = (00 00 || SSRC || 00 00 || 0 || index) XOR salt,
 * AAD = 8-byte header || E || index; the E||index word follows the tag. */
static gsize
ref_gcm_rtcp (const guint8 *key, const guint8 *salt, guint32 index, const guint8 *pkt,
              gsize len, guint8 *out)
{
  guint32 ei = 0x80000000u | index;
  guint8 word[4] = { ei >> 24, (ei >> 16) & 0xff, (ei >> 8) & 0xff, ei & 0xff };
  guint8 iv[12] = { 0, 0, pkt[4],         pkt[5],  pkt[6],  pkt[7],
                    0, 0, word[0] & 0x7f, word[1], word[2], word[3] };
  for (int i = 0; i < 12; i++)
    iv[i] ^= salt[i];
  guint8 aad[12];
  memcpy (aad, pkt, 8);
  memcpy (aad + 8, word, 4);
  memcpy (out, pkt, len);
  gcm_seal (key, iv, aad, 12, out + 8, len - 8, out + len);
  memcpy (out + len + 16, word, 4);
  return len + 20;
}

static void
hmac_sha1_80 (const guint8 *key, const guint8 *data, gsize len, const guint8 *extra,
              gsize extra_len, guint8 *tag)
{
  guint8 buf[2048], md[20];
  unsigned int mdlen = 0;
  ck_assert_uint_le (len + extra_len, sizeof buf);
  memcpy (buf, data, len);
  if (extra_len > 0)
    memcpy (buf + len, extra, extra_len);
  ck_assert_ptr_nonnull (HMAC (EVP_sha1 (), key, 20, buf, len + extra_len, md, &mdlen));
  memcpy (tag, md, 10);
}

/* RFC 3711 4.1.1 + 4.2: IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16);
 * tag = HMAC-SHA1(auth key, packet || ROC)[0..10]. */
static gsize
ref_cm_rtp (const guint8 *k, const guint8 *s, const guint8 *a, guint32 roc,
            const guint8 *pkt, gsize len, gsize hdr, guint8 *out)
{
  guint64 index = ((guint64)roc << 16) | (guint64)(pkt[2] << 8 | pkt[3]);
  guint8 iv[16] = { 0 };
  memcpy (iv, s, 14);
  for (int i = 0; i < 4; i++)
    iv[4 + i] ^= pkt[8 + i];
  for (int i = 0; i < 6; i++)
    iv[8 + i] ^= (guint8)(index >> (8 * (5 - i)));
  memcpy (out, pkt, len);
  aes_cm_xor (k, iv, out + hdr, len - hdr);
  guint8 rocb[4] = { roc >> 24, (roc >> 16) & 0xff, (roc >> 8) & 0xff, roc & 0xff };
  hmac_sha1_80 (a, out, len, rocb, 4, out + len);
  return len + 10;
}

/* RFC 3711 3.4: SRTCP encrypts after the 8-byte header with the SRTCP index, then
 * appends E||index and the tag over everything before it. */
static gsize
ref_cm_rtcp (const guint8 *k, const guint8 *s, const guint8 *a, guint32 index,
             const guint8 *pkt, gsize len, guint8 *out)
{
  guint8 iv[16] = { 0 };
  memcpy (iv, s, 14);
  for (int i = 0; i < 4; i++)
    iv[4 + i] ^= pkt[4 + i];
  for (int i = 0; i < 4; i++)
    iv[10 + i] ^= (guint8)(index >> (8 * (3 - i)));
  memcpy (out, pkt, len);
  aes_cm_xor (k, iv, out + 8, len - 8);
  guint32 ei = 0x80000000u | index;
  guint8 word[4] = { ei >> 24, (ei >> 16) & 0xff, (ei >> 8) & 0xff, ei & 0xff };
  memcpy (out + len, word, 4);
  hmac_sha1_80 (a, out, len + 4, NULL, 0, out + len + 4);
  return len + 14;
}

START_TEST (test_reference_reproduces_rfc_vectors)
{
  guint8 mk[16], ms[14], out[128], want[128];

  /* RFC 3711 B.3: key derivation. */
  unhex ("E1F97A0D3E018BE0D64FA32C06DE4139", mk, sizeof mk);
  unhex ("0EC675AD498AFEEBB6960B3AABE6", ms, sizeof ms);
  ref_kdf (mk, ms, 14, 0, out, 16);
  gsize n = unhex ("C61E7A93744F39EE10734AFE3FF7A087", want, sizeof want);
  ck_assert_mem_eq (out, want, n);
  ref_kdf (mk, ms, 14, 2, out, 14);
  n = unhex ("30CBBC08863D8C85D49DB34A9AE1", want, sizeof want);
  ck_assert_mem_eq (out, want, n);
  ref_kdf (mk, ms, 14, 1, out, 20);
  n = unhex ("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4", want, sizeof want);
  ck_assert_mem_eq (out, want, n);

  /* RFC 3711 B.2: the AES-CM keystream's first block (SSRC 0, index 0). */
  guint8 k[16], iv[16] = { 0 };
  unhex ("2B7E151628AED2A6ABF7158809CF4F3C", k, sizeof k);
  unhex ("F0F1F2F3F4F5F6F7F8F9FAFBFCFD", iv, 14);
  memset (out, 0, 32);
  aes_cm_xor (k, iv, out, 32);
  n = unhex ("E03EAD0935C95E80E166B16DD92B4EB4", want, sizeof want);
  ck_assert_mem_eq (out, want, n);
  n = unhex ("D23513162B02D0F72A43A2FE4A5F97AB", want, sizeof want);
  ck_assert_mem_eq (out + 16, want, n);

  /* RFC 7714 16.1.1: SRTP AEAD_AES_128_GCM with session key and salt. */
  guint8 gk[16], gs[12], pkt[128];
  unhex ("000102030405060708090a0b0c0d0e0f", gk, sizeof gk);
  unhex ("517569642070726f2071756f", gs, sizeof gs);
  gsize pl = unhex ("8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e6973206469766973"
                    "6120696e207061727465732074726573",
                    pkt, sizeof pkt);
  n = unhex ("8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f"
             "42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce",
             want, sizeof want);
  ck_assert_uint_eq (ref_gcm_rtp (gk, gs, 0, pkt, pl, 12, out), n);
  ck_assert_mem_eq (out, want, n);

  /* RFC 7714 17.1: SRTCP AEAD_AES_128_GCM, SRTCP index 0x5d4. */
  pl = unhex ("81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61"
              "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
              pkt, sizeof pkt);
  n = unhex ("81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1"
             "730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4",
             want, sizeof want);
  ck_assert_uint_eq (ref_gcm_rtcp (gk, gs, 0x5d4, pkt, pl, out), n);
  ck_assert_mem_eq (out, want, n);
}
END_TEST

static void
make_rtp (guint8 *buf, gsize len, guint16 seq, guint32 ssrc)
{
  mcu_rtp_write_header (buf, len, 111, seq % 7 == 0, seq, 960u * seq, ssrc);
  for (gsize i = 12; i < len; i++)
    buf[i] = (guint8)(i ^ seq);
}

/* From master keys: McuSrtp and the reference agree byte for byte. */
START_TEST (test_wrapper_matches_reference)
{
  McuSrtpProfile p
      = _i == 0 ? MCU_SRTP_PROFILE_AEAD_AES_128_GCM : MCU_SRTP_PROFILE_AES128_CM_SHA1_80;
  gboolean gcm = p == MCU_SRTP_PROFILE_AEAD_AES_128_GCM;
  gsize salt_len = mcu_srtp_profile_salt_len (p);
  guint8 master[30];
  for (int i = 0; i < 30; i++)
    master[i] = (guint8)(0x5a ^ (i * 29));

  /* Session keys: RTP labels 0/1/2, RTCP labels 3/4/5. */
  guint8 ek[16], ak[20], sk[14], cek[16], cak[20], csk[14];
  ref_kdf (master, master + 16, salt_len, 0, ek, 16);
  ref_kdf (master, master + 16, salt_len, 1, ak, 20);
  ref_kdf (master, master + 16, salt_len, 2, sk, gcm ? 12 : 14);
  ref_kdf (master, master + 16, salt_len, 3, cek, 16);
  ref_kdf (master, master + 16, salt_len, 4, cak, 20);
  ref_kdf (master, master + 16, salt_len, 5, csk, gcm ? 12 : 14);

  g_autoptr (GError) error = NULL;
  g_autoptr (McuSrtp) s = mcu_srtp_new (p, master, master, &error);
  ck_assert_msg (s != NULL, "%s", error ? error->message : "");

  guint8 pkt[1300], ours[1400], ref[1400];
  const gsize sizes[] = { 12, 13, 100, 1200 };
  guint32 roc = 0;
  guint i = 0;
  for (guint32 seq = 65530; seq < 65536 + 6; seq++, i++)
    {
      if (seq == 65536)
        roc = 1;
      gsize len = sizes[i % G_N_ELEMENTS (sizes)];
      make_rtp (pkt, len, (guint16)seq, 0xcafe0000u + i % 2);
      memcpy (ours, pkt, len);
      gsize olen = len;
      ck_assert_int_eq (mcu_srtp_protect_rtp (s, ours, &olen, sizeof ours), MCU_SRTP_OK);
      gsize rlen = gcm ? ref_gcm_rtp (ek, sk, roc, pkt, len, 12, ref)
                       : ref_cm_rtp (ek, sk, ak, roc, pkt, len, 12, ref);
      ck_assert_uint_eq (olen, rlen);
      ck_assert_mem_eq (ours, ref, rlen);
      /* And the inbound side turns the reference's packet back. */
      ck_assert_int_eq (mcu_srtp_unprotect_rtp (s, ref, &rlen), MCU_SRTP_OK);
      ck_assert_uint_eq (rlen, len);
      ck_assert_mem_eq (ref, pkt, len);
    }

  /* SRTCP: indices 1, 2, 3 for the first three packets of one SSRC (the index is
   * kept per sending SSRC). */
  for (guint32 index = 1; index <= 3; index++)
    {
      gsize len = mcu_rtcp_write_pli (pkt, sizeof pkt, 0xabcdef00u, 7);
      len += mcu_rtcp_write_sdes_cname (pkt + len, sizeof pkt - len, 0xabcdef00u,
                                        "reference");
      memcpy (ours, pkt, len);
      gsize olen = len;
      ck_assert_int_eq (mcu_srtp_protect_rtcp (s, ours, &olen, sizeof ours), MCU_SRTP_OK);
      gsize rlen = gcm ? ref_gcm_rtcp (cek, csk, index, pkt, len, ref)
                       : ref_cm_rtcp (cek, csk, cak, index, pkt, len, ref);
      ck_assert_uint_eq (olen, rlen);
      ck_assert_mem_eq (ours, ref, rlen);
      ck_assert_int_eq (mcu_srtp_unprotect_rtcp (s, ref, &rlen), MCU_SRTP_OK);
      ck_assert_mem_eq (ref, pkt, len);
    }
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-srtp-reference");
  TCase *tc = tcase_create ("reference");
  tcase_add_test (tc, test_reference_reproduces_rfc_vectors);
  tcase_add_loop_test (tc, test_wrapper_matches_reference, 0, 2);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
