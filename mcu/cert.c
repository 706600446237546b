/* cert.c: McuCert over the OpenSSL 3 EVP API. */
#include "cert-private.h"
#include "mcu-error.h"

#include <errno.h>
#include <gst/gst.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

GST_DEBUG_CATEGORY_STATIC (mcu_cert_debug);
#define GST_CAT_DEFAULT mcu_cert_debug

struct _McuCert
{
  X509 *x509;
  EVP_PKEY *pkey;
  char *fingerprint;
};

static void
cert_debug_init (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      GST_DEBUG_CATEGORY_INIT (mcu_cert_debug, "mcu-cert", 0, "DTLS certificate");
      g_once_init_leave (&once, 1);
    }
}

/* The last OpenSSL error as text, for GError messages; clears the queue so a later
 * failure does not report a stale reason. */
static char *
openssl_error_text (void)
{
  unsigned long e = ERR_get_error ();
  char buf[256] = "unknown OpenSSL error";
  if (e != 0)
    ERR_error_string_n (e, buf, sizeof buf);
  ERR_clear_error ();
  return g_strdup (buf);
}

static void
cert_clear (McuCert *cert)
{
  X509_free (cert->x509);
  EVP_PKEY_free (cert->pkey);
  g_free (cert->fingerprint);
}

McuCert *
mcu_cert_ref (McuCert *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  return g_atomic_rc_box_acquire (cert);
}

void
mcu_cert_unref (McuCert *cert)
{
  if (cert != NULL)
    g_atomic_rc_box_release_full (cert, (GDestroyNotify)cert_clear);
}

char *
mcu_cert_fingerprint_of (X509 *x509)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (x509 == NULL || !X509_digest (x509, EVP_sha256 (), md, &md_len) || md_len == 0)
    return NULL;
  GString *s = g_string_sized_new (8 + md_len * 3);
  g_string_append (s, "sha-256 ");
  for (unsigned int i = 0; i < md_len; i++)
    g_string_append_printf (s, i == 0 ? "%02X" : ":%02X", md[i]);
  return g_string_free (s, FALSE);
}

gboolean
mcu_cert_fingerprint_equal (const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return FALSE;
  /* Only SHA-256 is offered and accepted: a weaker hash in the SDP must not match. */
  while (g_ascii_isspace (*a))
    a++;
  while (g_ascii_isspace (*b))
    b++;
  if (g_ascii_strncasecmp (a, "sha-256 ", 8) != 0
      || g_ascii_strncasecmp (b, "sha-256 ", 8) != 0)
    return FALSE;
  a += 8;
  b += 8;
  while (*a == ' ')
    a++;
  while (*b == ' ')
    b++;
  gsize la = strlen (a), lb = strlen (b);
  while (la > 0 && g_ascii_isspace (a[la - 1]))
    la--;
  while (lb > 0 && g_ascii_isspace (b[lb - 1]))
    lb--;
  return la == 32 * 3 - 1 && la == lb && g_ascii_strncasecmp (a, b, la) == 0;
}

/* Takes ownership of x509 and pkey whatever happens. */
static McuCert *
cert_wrap (X509 *x509, EVP_PKEY *pkey, GError **error)
{
  McuCert *cert = g_atomic_rc_box_new0 (McuCert);
  cert->x509 = x509;
  cert->pkey = pkey;
  cert->fingerprint = mcu_cert_fingerprint_of (x509);
  if (cert->fingerprint == NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_DTLS, "cannot hash the certificate");
      mcu_cert_unref (cert);
      return NULL;
    }
  return cert;
}

McuCert *
mcu_cert_generate (const char *common_name, GError **error)
{
  cert_debug_init ();
  EVP_PKEY *pkey = EVP_EC_gen ("P-256");
  X509 *x509 = X509_new ();
  unsigned char serial[8];
  gboolean ok = pkey != NULL && x509 != NULL && RAND_bytes (serial, sizeof serial) == 1;
  if (ok)
    {
      serial[0] &= 0x7f; /* a positive serial number */
      BIGNUM *bn = BN_bin2bn (serial, sizeof serial, NULL);
      X509_NAME *name = X509_get_subject_name (x509);
      ok = bn != NULL && BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (x509)) != NULL
           && X509_set_version (x509, 2)
           && X509_gmtime_adj (X509_getm_notBefore (x509), -24 * 3600) != NULL
           && X509_gmtime_adj (X509_getm_notAfter (x509), 30L * 24 * 3600) != NULL
           && X509_NAME_add_entry_by_txt (
               name, "CN", MBSTRING_UTF8,
               (const unsigned char *)(common_name ? common_name : "lienthong"), -1, -1,
               0)
           && X509_set_issuer_name (x509, name) && X509_set_pubkey (x509, pkey)
           && X509_sign (x509, pkey, EVP_sha256 ()) > 0;
      BN_free (bn);
    }
  if (!ok)
    {
      g_autofree char *why = openssl_error_text ();
      g_set_error (error, MCU_ERROR, MCU_ERROR_DTLS,
                   "cannot generate the DTLS certificate: %s", why);
      X509_free (x509);
      EVP_PKEY_free (pkey);
      return NULL;
    }
  McuCert *cert = cert_wrap (x509, pkey, error);
  if (cert != NULL)
    GST_INFO ("generated DTLS certificate %s", cert->fingerprint);
  return cert;
}

/* A PEM file is small; anything over 64 KiB is not one of ours. */
#define PEM_MAX_BYTES (64 * 1024)

static BIO *
read_pem_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  if (len == 0 || len > PEM_MAX_BYTES)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "%s: not a PEM file (%zu bytes)",
                   path, len);
      return NULL;
    }
  BIO *bio = BIO_new (BIO_s_mem ());
  if (bio == NULL || BIO_write (bio, text, (int)len) != (int)len)
    {
      BIO_free (bio);
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "%s: out of memory", path);
      return NULL;
    }
  OPENSSL_cleanse (text, len);
  return bio;
}

/* A daemon has no terminal: with OpenSSL's default callback an encrypted key
 * would block on a passphrase prompt. Refuse encrypted keys instead. */
static int
no_passphrase (char *buf, int size, int rwflag, void *data)
{
  return -1;
}

McuCert *
mcu_cert_load (const char *cert_pem, const char *key_pem, GError **error)
{
  g_return_val_if_fail (cert_pem != NULL && key_pem != NULL, NULL);
  cert_debug_init ();
  BIO *cbio = read_pem_file (cert_pem, error);
  if (cbio == NULL)
    return NULL;
  BIO *kbio = read_pem_file (key_pem, error);
  if (kbio == NULL)
    {
      BIO_free (cbio);
      return NULL;
    }
  X509 *x509 = PEM_read_bio_X509 (cbio, NULL, no_passphrase, NULL);
  EVP_PKEY *pkey = PEM_read_bio_PrivateKey (kbio, NULL, no_passphrase, NULL);
  BIO_free (cbio);
  BIO_free_all (kbio);
  char group[64] = "";
  size_t glen = 0;
  if (x509 == NULL || pkey == NULL || !EVP_PKEY_is_a (pkey, "EC")
      || !EVP_PKEY_get_group_name (pkey, group, sizeof group, &glen)
      || (g_strcmp0 (group, "prime256v1") != 0 && g_strcmp0 (group, "P-256") != 0)
      || X509_check_private_key (x509, pkey) != 1)
    {
      g_autofree char *why = openssl_error_text ();
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "%s and %s are not an ECDSA P-256 certificate and its key (%s)",
                   cert_pem, key_pem, why);
      X509_free (x509);
      EVP_PKEY_free (pkey);
      return NULL;
    }
  return cert_wrap (x509, pkey, error);
}

static char *
bio_to_string (BIO *bio, gsize *len)
{
  char *data = NULL;
  long n = BIO_get_mem_data (bio, &data);
  if (n <= 0)
    return NULL;
  *len = (gsize)n;
  return g_strndup (data, (gsize)n);
}

gboolean
mcu_cert_save (McuCert *cert, const char *cert_pem, const char *key_pem, GError **error)
{
  g_return_val_if_fail (cert != NULL && cert_pem != NULL && key_pem != NULL, FALSE);
  BIO *cbio = BIO_new (BIO_s_mem ());
  BIO *kbio = BIO_new (BIO_s_mem ());
  g_autofree char *ctext = NULL;
  char *ktext = NULL;
  gsize clen = 0, klen = 0;
  if (cbio != NULL && kbio != NULL && PEM_write_bio_X509 (cbio, cert->x509)
      && PEM_write_bio_PrivateKey (kbio, cert->pkey, NULL, NULL, 0, NULL, NULL))
    {
      ctext = bio_to_string (cbio, &clen);
      ktext = bio_to_string (kbio, &klen);
    }
  BIO_free (cbio);
  BIO_free_all (kbio);
  gboolean ok = FALSE;
  if (ctext == NULL || ktext == NULL)
    g_set_error (error, MCU_ERROR, MCU_ERROR_DTLS, "cannot encode the certificate");
  else
    ok = g_file_set_contents_full (key_pem, ktext, (gssize)klen,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error)
         && g_file_set_contents_full (cert_pem, ctext, (gssize)clen,
                                      G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
  if (ktext != NULL)
    OPENSSL_cleanse (ktext, klen);
  g_free (ktext);
  return ok;
}

McuCert *
mcu_cert_load_or_generate (const char *state_dir, GError **error)
{
  g_return_val_if_fail (state_dir != NULL, NULL);
  if (g_mkdir_with_parents (state_dir, 0700) != 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: %s", state_dir,
                   g_strerror (e));
      return NULL;
    }
  g_autofree char *cpath = g_build_filename (state_dir, "dtls-cert.pem", NULL);
  g_autofree char *kpath = g_build_filename (state_dir, "dtls-key.pem", NULL);
  gboolean have_c = g_file_test (cpath, G_FILE_TEST_EXISTS);
  gboolean have_k = g_file_test (kpath, G_FILE_TEST_EXISTS);
  if (have_c && have_k)
    return mcu_cert_load (cpath, kpath, error);
  if (have_c || have_k)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "%s holds only one of dtls-cert.pem and dtls-key.pem; remove it to "
                   "generate a new certificate",
                   state_dir);
      return NULL;
    }
  g_autoptr (McuCert) cert = mcu_cert_generate (NULL, error);
  if (cert == NULL || !mcu_cert_save (cert, cpath, kpath, error))
    return NULL;
  return g_steal_pointer (&cert);
}

const char *
mcu_cert_get_fingerprint (const McuCert *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  return cert->fingerprint;
}

X509 *
mcu_cert_get_x509 (const McuCert *cert)
{
  return cert->x509;
}

EVP_PKEY *
mcu_cert_get_pkey (const McuCert *cert)
{
  return cert->pkey;
}
