/* sig-password.h: password hashes for people's accounts (OpenSSL 3's scrypt).
 *
 * A hash is one text that names its KDF and holds its parameters, salt and output:
 * "$scrypt$ln=15,r=8,p=1$SALT$HASH" (SALT and HASH in base64), so the parameters can
 * be raised later and old hashes still verify. No password is ever logged or kept. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The shortest and longest password accepted (characters, bytes). */
#define SIG_PASSWORD_MIN_CHARS 10
#define SIG_PASSWORD_MAX_BYTES 256

/**
 * sig_password_hash:
 * @password: (transfer none): the password (UTF-8)
 * @error: SIG_ERROR_INTERNAL when the KDF fails
 *
 * Returns: (transfer full) (nullable): the self-describing hash, with a fresh salt
 */
char *sig_password_hash (const char *password, GError **error);

/**
 * sig_password_verify:
 * @password: (transfer none): the password presented
 * @stored: (transfer none) (nullable): a hash from sig_password_hash(); %NULL (an
 *   unknown user) verifies against a dummy hash of the same cost and fails
 *
 * Runs the KDF with the stored parameters and compares in constant time.
 *
 * Returns: %TRUE when @password matches @stored
 */
gboolean sig_password_verify (const char *password, const char *stored);

/**
 * sig_password_set_test_cost:
 * @log_n: log2 of scrypt's N for new hashes, 10 to 20
 *
 * For the test daemon only (its `[testing] scrypt-log-n`, which no production
 * configuration can hold): the black-box suites sign in hundreds of times, and at the
 * production cost that is most of their run. Hashes keep naming their own
 * parameters, so what one cost made still verifies under another. Call it before
 * anything is hashed (the dummy hash included).
 */
void sig_password_set_test_cost (guint log_n);

/* Computes the dummy hash sig_password_verify() uses for unknown users now, so the
 * first unknown user name does not cost twice (and show it). */
void sig_password_prepare (void);

/**
 * sig_password_check_new:
 * @password: (transfer none): a new password
 * @user: (transfer none): the account's user name
 * @error: SIG_ERROR_BAD_REQUEST saying what is wrong
 *
 * The rule for new passwords: at least %SIG_PASSWORD_MIN_CHARS characters, at most
 * %SIG_PASSWORD_MAX_BYTES bytes, no control characters, not containing the user name.
 *
 * Returns: %TRUE when @password may be set
 */
gboolean sig_password_check_new (const char *password, const char *user, GError **error);

G_END_DECLS
