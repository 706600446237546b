/* Suite mcu-cert: proves that McuCert makes an ECDSA P-256 self-signed certificate
 * whose "sha-256 AB:..." fingerprint matches what OpenSSL computes from the saved
 * PEM; that a state directory keeps the same identity across loads, with the key
 * file private (0600); that a half-present pair or a non-P-256 key is refused
 * rather than silently replaced; and that fingerprints compare case-insensitively
 * but never across hash names or lengths. */
#include "mcu.h"
#include "cert-private.h"
#include "lt-test.h"

#include <glib/gstdio.h>
#include <openssl/pem.h>
#include <sys/stat.h>

static char *dir;

static void
setup (void)
{
  dir = g_dir_make_tmp ("mcutx-cert-XXXXXX", NULL);
  ck_assert (dir);
}

static void
rm_rf (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const char *n;
  while (d && (n = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (path, n, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        rm_rf (p);
      else
        g_remove (p);
    }
  if (d)
    g_dir_close (d);
  g_rmdir (path);
}

static void
teardown (void)
{
  rm_rf (dir);
  g_clear_pointer (&dir, g_free);
}

START_TEST (test_generate)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (McuCert) cert = mcu_cert_generate (NULL, &error);
  ck_assert_ptr_nonnull (cert);
  const char *fp = mcu_cert_get_fingerprint (cert);
  ck_assert (g_str_has_prefix (fp, "sha-256 "));
  ck_assert_uint_eq (strlen (fp), 8 + 32 * 3 - 1);
  for (int i = 0; i < 32; i++)
    {
      const char *h = fp + 8 + i * 3;
      ck_assert (g_ascii_isxdigit (h[0]) && g_ascii_isxdigit (h[1]));
      ck_assert (!g_ascii_islower (h[0]) && !g_ascii_islower (h[1]));
      if (i < 31)
        ck_assert_int_eq (h[2], ':');
    }
  EVP_PKEY *pkey = mcu_cert_get_pkey (cert);
  ck_assert (EVP_PKEY_is_a (pkey, "EC"));
  char group[32];
  size_t glen;
  ck_assert (EVP_PKEY_get_group_name (pkey, group, sizeof group, &glen));
  ck_assert_str_eq (group, "prime256v1");
  X509 *x = mcu_cert_get_x509 (cert);
  ck_assert_int_eq (X509_verify (x, pkey), 1); /* self-signed */
  ck_assert_int_eq (X509_get_signature_nid (x), NID_ecdsa_with_SHA256);
  /* Two generations are two identities. */
  g_autoptr (McuCert) other = mcu_cert_generate ("x", NULL);
  ck_assert_str_ne (mcu_cert_get_fingerprint (other), fp);
}
END_TEST

START_TEST (test_state_dir_roundtrip)
{
  g_autofree char *state = g_build_filename (dir, "state", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (McuCert) a = mcu_cert_load_or_generate (state, &error);
  ck_assert_msg (a != NULL, "%s", error ? error->message : "");
  g_autofree char *kpath = g_build_filename (state, "dtls-key.pem", NULL);
  g_autofree char *cpath = g_build_filename (state, "dtls-cert.pem", NULL);
  GStatBuf st;
  ck_assert_int_eq (g_stat (kpath, &st), 0);
  ck_assert_int_eq (st.st_mode & 0777, 0600);
  g_autoptr (McuCert) b = mcu_cert_load_or_generate (state, &error);
  ck_assert_ptr_nonnull (b);
  ck_assert_str_eq (mcu_cert_get_fingerprint (a), mcu_cert_get_fingerprint (b));

  /* The fingerprint is the SHA-256 of the DER certificate OpenSSL reads back. */
  FILE *f = fopen (cpath, "r");
  ck_assert_ptr_nonnull (f);
  X509 *x = PEM_read_X509 (f, NULL, NULL, NULL);
  fclose (f);
  ck_assert_ptr_nonnull (x);
  unsigned char *der = NULL;
  int der_len = i2d_X509 (x, &der);
  ck_assert_int_gt (der_len, 0);
  g_autofree char *hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der, der_len);
  OPENSSL_free (der);
  X509_free (x);
  g_autofree char *colons = g_ascii_strdown (mcu_cert_get_fingerprint (a) + 8, -1);
  g_autoptr (GString) plain = g_string_new (NULL);
  for (const char *p = colons; *p; p++)
    if (*p != ':')
      g_string_append_c (plain, *p);
  ck_assert_str_eq (plain->str, hex);
}
END_TEST

START_TEST (test_refuses_bad_state)
{
  g_autoptr (GError) error = NULL;
  /* only one of the two files */
  g_autofree char *kpath = g_build_filename (dir, "dtls-key.pem", NULL);
  ck_assert (g_file_set_contents (kpath, "x", 1, NULL));
  ck_assert_ptr_null (mcu_cert_load_or_generate (dir, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);

  /* garbage PEM */
  g_autofree char *cpath = g_build_filename (dir, "dtls-cert.pem", NULL);
  ck_assert (
      g_file_set_contents (cpath, "-----BEGIN CERTIFICATE-----\nAAAA\n", -1, NULL));
  ck_assert_ptr_null (mcu_cert_load (cpath, kpath, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);

  /* a valid certificate with another key does not load */
  g_autoptr (McuCert) a = mcu_cert_generate (NULL, NULL);
  g_autoptr (McuCert) b = mcu_cert_generate (NULL, NULL);
  g_autofree char *c2 = g_build_filename (dir, "b-cert.pem", NULL);
  g_autofree char *k2 = g_build_filename (dir, "b-key.pem", NULL);
  ck_assert (mcu_cert_save (a, cpath, kpath, NULL));
  ck_assert (mcu_cert_save (b, c2, k2, NULL));
  ck_assert_ptr_null (mcu_cert_load (cpath, k2, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);
  g_autoptr (McuCert) a2 = mcu_cert_load (cpath, kpath, &error);
  ck_assert_ptr_nonnull (a2);
  ck_assert_str_eq (mcu_cert_get_fingerprint (a), mcu_cert_get_fingerprint (a2));

  /* an RSA key is not ours */
  g_autofree char *rsa = g_build_filename (dir, "rsa.pem", NULL);
  EVP_PKEY *pk = EVP_RSA_gen (2048);
  FILE *f = fopen (rsa, "w");
  PEM_write_PrivateKey (f, pk, NULL, NULL, 0, NULL, NULL);
  fclose (f);
  EVP_PKEY_free (pk);
  ck_assert_ptr_null (mcu_cert_load (cpath, rsa, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);

  /* an encrypted key is refused, never a passphrase prompt */
  g_autofree char *enc = g_build_filename (dir, "enc.pem", NULL);
  f = fopen (enc, "w");
  PEM_write_PrivateKey (f, mcu_cert_get_pkey (a), EVP_aes_128_cbc (), NULL, 0, NULL,
                        (void *)"secret");
  fclose (f);
  ck_assert_ptr_null (mcu_cert_load (cpath, enc, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);

  /* missing file: a file error */
  g_autofree char *none = g_build_filename (dir, "none.pem", NULL);
  ck_assert_ptr_null (mcu_cert_load (none, kpath, &error));
  ck_assert (error->domain == G_FILE_ERROR);
}
END_TEST

START_TEST (test_fingerprint_equal)
{
  g_autoptr (McuCert) c = mcu_cert_generate (NULL, NULL);
  const char *fp = mcu_cert_get_fingerprint (c);
  g_autofree char *lower = g_ascii_strdown (fp, -1);
  g_autofree char *upper_name = g_strconcat ("SHA-256", fp + 7, NULL);
  ck_assert (mcu_cert_fingerprint_equal (fp, fp));
  ck_assert (mcu_cert_fingerprint_equal (fp, lower));
  ck_assert (mcu_cert_fingerprint_equal (upper_name, fp));
  g_autofree char *sha1 = g_strconcat ("sha-1", fp + 7, NULL);
  ck_assert (!mcu_cert_fingerprint_equal (sha1, fp));
  g_autofree char *trunc = g_strndup (fp, strlen (fp) - 3);
  ck_assert (!mcu_cert_fingerprint_equal (trunc, trunc));
  g_autofree char *flipped = g_strdup (fp);
  flipped[8] = flipped[8] == 'A' ? 'B' : 'A';
  ck_assert (!mcu_cert_fingerprint_equal (flipped, fp));
  ck_assert (!mcu_cert_fingerprint_equal (NULL, fp));
  ck_assert (!mcu_cert_fingerprint_equal ("", ""));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-cert");
  TCase *tc = tcase_create ("cert");
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_generate);
  tcase_add_test (tc, test_state_dir_roundtrip);
  tcase_add_test (tc, test_refuses_bad_state);
  tcase_add_test (tc, test_fingerprint_equal);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
