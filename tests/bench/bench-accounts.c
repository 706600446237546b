/* bench-accounts: what signing in and auditing cost. Prints the scrypt verification
 * rate on one core with signald's parameters (sig-password.c: N=2^15, r=8, p=1), the
 * same for an unknown user (the dummy hash), and the cost of an audit entry written
 * in the transaction of a change, against the same change without it.
 * Usage: bench-accounts */
#include "rooms.h"
#include "sig-password.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

int
main (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = sig_password_hash ("một mật khẩu khác hẳn", &error);
  g_assert_nonnull (hash);
  sig_password_prepare ();
  guint n = 20;
  gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    g_assert_true (sig_password_verify ("một mật khẩu khác hẳn", hash));
  double known = (double)(g_get_monotonic_time () - t0) / n / 1000.0;
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    g_assert_false (sig_password_verify ("một mật khẩu khác hẳn", NULL));
  double unknown = (double)(g_get_monotonic_time () - t0) / n / 1000.0;
  printf ("sign-in-verify: %.1f ms (%.1f sign-ins/s on one core)\n", known,
          1000.0 / known);
  printf ("sign-in-unknown-user: %.1f ms\n", unknown);

  /* an audited change: a session row written alone, then with its audit entry in one
   * transaction, on a real file with the store's durability settings */
  g_autofree char *dir = g_dir_make_tmp ("lt-bench-acc-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "bench.db", NULL);
  g_autoptr (RoomsStore) store = rooms_store_open (path, NULL, &error);
  g_assert_nonnull (store);
  g_assert_true (
      rooms_store_add_account (store, "lan", "Lan", "it", NULL, hash, FALSE, &error));
  guint m = 200;
  char id[32], h[65];
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < m; i++)
    {
      g_snprintf (id, sizeof id, "ses_a%u", i);
      g_snprintf (h, sizeof h, "%064x", i);
      g_assert_true (rooms_store_add_session (store, id, h, "lan", h, &error));
    }
  double plain = (double)(g_get_monotonic_time () - t0) / m / 1000.0;
  RoomsAuditEntry e = { .actor_kind = "account",
                        .actor_id = "lan",
                        .action = "bench",
                        .meeting_id = -1,
                        .site_id = -1,
                        .target = "/api/v1/session",
                        .address = "127.0.0.1" };
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < m; i++)
    {
      g_snprintf (id, sizeof id, "ses_b%u", i);
      g_snprintf (h, sizeof h, "%064x", i + m);
      g_assert_true (rooms_store_audit_begin (store, &error));
      g_assert_true (rooms_store_add_session (store, id, h, "lan", h, &error));
      g_assert_true (rooms_store_add_audit (store, &e, &error));
      g_assert_true (rooms_store_audit_commit (store, &error));
    }
  double audited = (double)(g_get_monotonic_time () - t0) / m / 1000.0;
  printf ("change-without-audit: %.3f ms\n", plain);
  printf ("change-with-audit: %.3f ms (+%.3f ms for the entry)\n", audited,
          audited - plain);
  g_clear_pointer (&store, rooms_store_free);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  return system (cmd) == 0 ? 0 : 1;
}
