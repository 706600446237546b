/* sig-password.c: scrypt password hashes through OpenSSL 3's EVP_KDF. */
#include "sig-password.h"

#include "sig-error.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <string.h>

/* Why N = 2^15, r = 8, p = 1: 32 MiB and, by tests/bench/bench-accounts, 0.25 s of
 * one core per sign-in on the shared, loaded 2-core test machine (roughly 0.1 s on an
 * idle core): the scrypt paper's interactive-login cost (2^14) raised one step for
 * today's hardware, while a morning's rush of a province's secretaries signing in at
 * once (a few dozen) still fits in memory and seconds. OWASP's 2^17 would be 128 MiB
 * per sign-in on servers that also run the media nodes. The parameters travel in each
 * hash, so they can be raised without a migration. */
#define SCRYPT_LOG_N 15
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SALT_LEN 16
#define KEY_LEN 32
/* parameters a stored hash may name: refuses a damaged row that would ask for
 * gigabytes */
#define SCRYPT_MAX_LOG_N 20
#define SCRYPT_MAX_MEM (G_GUINT64_CONSTANT (1) << 30)
/* the lowest N a stored hash may name, and a test build may ask for */
#define SCRYPT_MIN_LOG_N 10

/* The N new hashes get. Only the test daemon's [testing] scrypt-log-n lowers it (see
 * sig_password_set_test_cost); everything else hashes at SCRYPT_LOG_N. */
static guint hash_log_n = SCRYPT_LOG_N;

void
sig_password_set_test_cost (guint log_n)
{
  g_return_if_fail (log_n >= SCRYPT_MIN_LOG_N && log_n <= SCRYPT_MAX_LOG_N);
  hash_log_n = log_n;
}

static gboolean
scrypt (const char *password, const guint8 *salt, gsize salt_len, guint log_n, guint r,
        guint p, guint8 *out, gsize out_len)
{
  EVP_KDF *kdf = EVP_KDF_fetch (NULL, "SCRYPT", NULL);
  if (kdf == NULL)
    return FALSE;
  EVP_KDF_CTX *ctx = EVP_KDF_CTX_new (kdf);
  EVP_KDF_free (kdf);
  if (ctx == NULL)
    return FALSE;
  uint64_t n = G_GUINT64_CONSTANT (1) << log_n;
  uint32_t rr = r, pp = p;
  uint64_t maxmem = SCRYPT_MAX_MEM;
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_PASSWORD, (void *)password,
                                       strlen (password)),
    OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
    OSSL_PARAM_construct_uint64 (OSSL_KDF_PARAM_SCRYPT_N, &n),
    OSSL_PARAM_construct_uint32 (OSSL_KDF_PARAM_SCRYPT_R, &rr),
    OSSL_PARAM_construct_uint32 (OSSL_KDF_PARAM_SCRYPT_P, &pp),
    OSSL_PARAM_construct_uint64 (OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
    OSSL_PARAM_construct_end (),
  };
  gboolean ok = EVP_KDF_derive (ctx, out, out_len, params) == 1;
  EVP_KDF_CTX_free (ctx);
  return ok;
}

static char *
format_hash (guint log_n, guint r, guint p, const guint8 *salt, const guint8 *key)
{
  g_autofree char *s = g_base64_encode (salt, SALT_LEN);
  g_autofree char *k = g_base64_encode (key, KEY_LEN);
  return g_strdup_printf ("$scrypt$ln=%u,r=%u,p=%u$%s$%s", log_n, r, p, s, k);
}

char *
sig_password_hash (const char *password, GError **error)
{
  guint8 salt[SALT_LEN], key[KEY_LEN];
  if (RAND_bytes (salt, sizeof salt) != 1
      || !scrypt (password, salt, sizeof salt, hash_log_n, SCRYPT_R, SCRYPT_P, key,
                  sizeof key))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_INTERNAL,
                           "the password hash could not be computed");
      return NULL;
    }
  char *out = format_hash (hash_log_n, SCRYPT_R, SCRYPT_P, salt, key);
  OPENSSL_cleanse (key, sizeof key);
  return out;
}

/* Why a dummy: an unknown user name must cost the same KDF work as a known one, or
 * the time of the answer would tell which names exist. Made once, of a random
 * password nobody knows, with the current parameters. */
static const char *
dummy_hash (void)
{
  static gsize dummy;
  if (g_once_init_enter (&dummy))
    {
      guint8 pw[32];
      RAND_bytes (pw, sizeof pw);
      g_autofree char *text = g_base64_encode (pw, sizeof pw);
      char *h = sig_password_hash (text, NULL);
      g_once_init_leave (&dummy, (gsize)(h ? h : g_strdup ("$scrypt$")));
    }
  return (const char *)dummy;
}

void
sig_password_prepare (void)
{
  dummy_hash ();
}

/* Parses "$scrypt$ln=N,r=R,p=P$SALT$HASH"; FALSE when anything is off. */
static gboolean
parse_hash (const char *stored, guint *log_n, guint *r, guint *p, guint8 **salt,
            gsize *salt_len, guint8 **key, gsize *key_len)
{
  g_auto (GStrv) parts = g_strsplit (stored, "$", 6);
  if (g_strv_length (parts) != 5 || parts[0][0] != '\0'
      || strcmp (parts[1], "scrypt") != 0)
    return FALSE;
  if (sscanf (parts[2], "ln=%u,r=%u,p=%u", log_n, r, p) != 3 || *log_n < SCRYPT_MIN_LOG_N
      || *log_n > SCRYPT_MAX_LOG_N || *r < 1 || *r > 32 || *p < 1 || *p > 16)
    return FALSE;
  *salt = g_base64_decode (parts[3], salt_len);
  *key = g_base64_decode (parts[4], key_len);
  return *salt_len >= 8 && *key_len >= 16 && *key_len <= 64;
}

gboolean
sig_password_verify (const char *password, const char *stored)
{
  gboolean real = stored != NULL;
  if (!real)
    stored = dummy_hash ();
  guint log_n, r, p;
  g_autofree guint8 *salt = NULL, *key = NULL;
  gsize salt_len = 0, key_len = 0;
  if (!parse_hash (stored, &log_n, &r, &p, &salt, &salt_len, &key, &key_len))
    return FALSE;
  guint8 out[64];
  if (!scrypt (password ? password : "", salt, salt_len, log_n, r, p, out, key_len))
    return FALSE;
  gboolean same = CRYPTO_memcmp (out, key, key_len) == 0;
  OPENSSL_cleanse (out, sizeof out);
  return same && real;
}

gboolean
sig_password_check_new (const char *password, const char *user, GError **error)
{
  gsize bytes = password ? strlen (password) : 0;
  const char *why = NULL;
  if (password == NULL || !g_utf8_validate (password, -1, NULL))
    why = "the password is not UTF-8 text";
  else if (bytes > SIG_PASSWORD_MAX_BYTES)
    why = "the password is longer than 256 bytes";
  else if (g_utf8_strlen (password, -1) < SIG_PASSWORD_MIN_CHARS)
    why = "the password is shorter than 10 characters";
  else
    for (const char *c = password; *c && why == NULL; c = g_utf8_next_char (c))
      if (g_unichar_iscntrl (g_utf8_get_char (c)))
        why = "the password holds a control character";
  if (why == NULL && user != NULL && *user != '\0')
    {
      g_autofree char *pl = g_utf8_casefold (password, -1);
      g_autofree char *ul = g_utf8_casefold (user, -1);
      if (strstr (pl, ul) != NULL)
        why = "the password contains the user name";
    }
  if (why != NULL)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, why);
      return FALSE;
    }
  return TRUE;
}
