/* Suite signaling-sign-in: the pieces of signing in, without a daemon. It proves:
 * - new hashes carry the production scrypt parameters (N=2^15, r=8, p=1) unless the
 *   test daemon's cost is asked for, and a hash verifies by the parameters stored
 *   with it, whichever cost new hashes get now; a row naming parameters out of
 *   bounds never verifies. */
#include "sig-password.h"
#include "lt-test.h"

#include <string.h>

START_TEST (test_password_cost)
{
  const char *pw = "một mật khẩu khác hẳn";
  g_autofree char *prod = sig_password_hash (pw, NULL);
  ck_assert_msg (g_str_has_prefix (prod, "$scrypt$ln=15,r=8,p=1$"), "%s", prod);
  ck_assert (sig_password_verify (pw, prod));
  ck_assert (!sig_password_verify ("một mật khẩu khác hẳn!", prod));

  sig_password_set_test_cost (10);
  g_autofree char *cheap = sig_password_hash (pw, NULL);
  ck_assert_msg (g_str_has_prefix (cheap, "$scrypt$ln=10,r=8,p=1$"), "%s", cheap);
  ck_assert (sig_password_verify (pw, cheap));
  /* the production hash still verifies: its parameters travel with it */
  ck_assert (sig_password_verify (pw, prod));
  ck_assert (!sig_password_verify ("sai", prod));
  /* unknown users still fail */
  ck_assert (!sig_password_verify (pw, NULL));

  /* a hash whose stored N is out of bounds (a damaged row) never verifies */
  g_autofree char *low = g_strdup (cheap);
  memcpy (strstr (low, "ln=10"), "ln=09", 5);
  ck_assert (!sig_password_verify (pw, low));
  g_autofree char *high = g_strdup (cheap);
  memcpy (strstr (high, "ln=10"), "ln=21", 5);
  ck_assert (!sig_password_verify (pw, high));
  /* the same hash with its N changed is another hash: it does not verify */
  g_autofree char *other = g_strdup (cheap);
  memcpy (strstr (other, "ln=10"), "ln=11", 5);
  ck_assert (!sig_password_verify (pw, other));
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("signaling-sign-in");
  TCase *tc = tcase_create ("sign-in");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_password_cost);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
