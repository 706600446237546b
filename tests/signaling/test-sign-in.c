/* Suite signaling-sign-in: the pieces of signing in, without a daemon. It proves:
 * - new hashes carry the production scrypt parameters (N=2^15, r=8, p=1) unless the
 *   test daemon's cost is asked for, and a hash verifies by the parameters stored
 *   with it, whichever cost new hashes get now; a row naming parameters out of
 *   bounds never verifies;
 * - the back-off lets lockout-failures - 1 failures pass, then waits the first wait,
 *   doubling each further failure up to the cap; a reset forgets the key, keys do
 *   not share counts, and a key quiet for the cap after its wait is forgotten. */
#include "sig-auth.h"
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

START_TEST (test_backoff_doubles)
{
  g_autoptr (SigBackoff) b = sig_backoff_new (3, 5, 60);
  gint64 t = 1000;
  ck_assert_int_eq (sig_backoff_fail (b, "a", t), 0);
  ck_assert_int_eq (sig_backoff_fail (b, "a", t), 0);
  ck_assert_int_eq (sig_backoff_wait (b, "a", t), 0);
  ck_assert_int_eq (sig_backoff_fail (b, "a", t), 5);
  ck_assert_int_eq (sig_backoff_wait (b, "a", t), 5);
  ck_assert_int_eq (sig_backoff_wait (b, "a", t + 4), 1);
  ck_assert_int_eq (sig_backoff_wait (b, "a", t + 5), 0);
  /* another key has a count of its own */
  ck_assert_int_eq (sig_backoff_wait (b, "b", t), 0);
  /* each failure once the last wait is over doubles it */
  const gint64 waits[] = { 10, 20, 40, 60, 60, 60 };
  gint64 last = 5;
  for (gsize i = 0; i < G_N_ELEMENTS (waits); i++)
    {
      t += last;
      last = waits[i];
      ck_assert_int_eq (sig_backoff_fail (b, "a", t), waits[i]);
      ck_assert_int_eq (sig_backoff_wait (b, "a", t), waits[i]);
    }
  /* a success forgets the key */
  sig_backoff_reset (b, "a");
  ck_assert_int_eq (sig_backoff_wait (b, "a", t), 0);
  ck_assert_int_eq (sig_backoff_fail (b, "a", t), 0);
}
END_TEST

START_TEST (test_backoff_forgets_quiet_keys)
{
  g_autoptr (SigBackoff) b = sig_backoff_new (2, 5, 60);
  gint64 t = 1000;
  sig_backoff_fail (b, "a", t);
  ck_assert_int_eq (sig_backoff_fail (b, "a", t), 5);
  ck_assert_int_eq (sig_backoff_fail (b, "a", t + 5), 10);
  /* quiet until a second before the wait's end plus the cap: still counted */
  ck_assert_int_eq (sig_backoff_fail (b, "a", t + 5 + 10 + 59), 20);
  /* quiet for the cap after the wait ended: a fresh start */
  gint64 end = t + 5 + 10 + 59 + 20;
  ck_assert_int_eq (sig_backoff_wait (b, "a", end + 60), 0);
  ck_assert_int_eq (sig_backoff_fail (b, "a", end + 60), 0);
  ck_assert_int_eq (sig_backoff_fail (b, "a", end + 60), 5);
  /* a clock that went back does not stretch a wait past the cap */
  ck_assert_int_le (sig_backoff_wait (b, "a", 0), 60);
  /* many keys: pruning keeps the ones still counted */
  for (int i = 0; i < 1000; i++)
    {
      g_autofree char *k = g_strdup_printf ("k%d", i);
      sig_backoff_fail (b, k, end + 60);
    }
  ck_assert_int_eq (sig_backoff_wait (b, "a", end + 61), 4);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("signaling-sign-in");
  TCase *tc = tcase_create ("sign-in");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_password_cost);
  tcase_add_test (tc, test_backoff_doubles);
  tcase_add_test (tc, test_backoff_forgets_quiet_keys);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
