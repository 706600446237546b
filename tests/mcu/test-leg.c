/* Suite mcu-leg: proves a cascade link between two meeting legs, as two nodes make
 * it: the child dials with an offer, the parent answers only for the fingerprint
 * signald vouches for, the child accepts the answer only from that fingerprint, the
 * link connects over DTLS-SRTP and each side's mix-minus flows to the other; a
 * link whose vouched fingerprint is wrong is refused before any media. */
#include "leg.h"
#include "mcu-error.h"
#include "lt-test.h"

#include <gst/gst.h>

static const char *const lo[] = { "127.0.0.1", NULL };

typedef struct
{
  char *sdp;
  GError *error;
  gboolean done;
} Result;

static void
on_sdp (const char *sdp, const GError *error, gpointer data)
{
  Result *r = data;
  r->sdp = g_strdup (sdp);
  r->error = error ? g_error_copy (error) : NULL;
  r->done = TRUE;
}

static gboolean
iterate_until (gboolean *flag, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (!*flag && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  return *flag;
}

static McuLegCallbacks callbacks;
static int parent_link_state, child_link_state;

static void
on_state (const char *endpoint, McuEndpointState state, gpointer data)
{
  *(int *)data = state;
}

static void
make_legs (McuCert *pc, McuCert *cc, McuLeg **parent, McuLeg **child)
{
  McuEndpointConfig cfg = { 0 };
  cfg.ice.local_addresses = lo;
  g_autoptr (GError) error = NULL;
  callbacks.endpoint_state = on_state;
  parent_link_state = child_link_state = -1;
  *parent = mcu_leg_new (NULL, pc, "42/occ-parent", &cfg, &callbacks, &parent_link_state,
                         &error);
  ck_assert_msg (*parent != NULL, "%s", error ? error->message : "");
  *child = mcu_leg_new (NULL, cc, "42/occ-child", &cfg, &callbacks, &child_link_state,
                        &error);
  ck_assert_msg (*child != NULL, "%s", error ? error->message : "");
}

START_TEST (test_link_connects_and_carries_the_mix)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (McuCert) pc = mcu_cert_generate ("node-08", &error);
  g_autoptr (McuCert) cc = mcu_cert_generate ("node-076", &error);
  McuLeg *parent, *child;
  make_legs (pc, cc, &parent, &child);

  Result offer = { 0 }, answer = { 0 };
  mcu_leg_open_uplink_async (child, "node:08", mcu_cert_get_fingerprint (pc), on_sdp,
                             &offer);
  ck_assert (iterate_until (&offer.done, 5000));
  ck_assert_msg (offer.sdp != NULL, "%s", offer.error ? offer.error->message : "");
  mcu_leg_accept_link_async (parent, "node:076", offer.sdp, mcu_cert_get_fingerprint (cc),
                             on_sdp, &answer);
  ck_assert (iterate_until (&answer.done, 5000));
  ck_assert_msg (answer.sdp != NULL, "%s", answer.error ? answer.error->message : "");
  ck_assert (mcu_leg_set_uplink_answer (child, "node:08", answer.sdp, &error));

  /* both ends connect, and the mixes (silence counts: it is encoded and sent) flow */
  gboolean flowing = FALSE;
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  McuPeerCounters up = { 0 }, down = { 0 };
  while (!flowing && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
      mcu_leg_get_counters (child, "node:08", &up);
      mcu_leg_get_counters (parent, "node:076", &down);
      flowing = up.audio_in > 20 && down.audio_in > 20;
    }
  ck_assert_int_eq (child_link_state, MCU_ENDPOINT_STATE_CONNECTED);
  ck_assert_int_eq (parent_link_state, MCU_ENDPOINT_STATE_CONNECTED);
  ck_assert_msg (flowing,
                 "audio in: child %" G_GUINT64_FORMAT ", parent %" G_GUINT64_FORMAT,
                 up.audio_in, down.audio_in);
  ck_assert_uint_eq (mcu_leg_n_members (parent), 1);

  /* leaving removes the member; answers for members gone are refused cleanly */
  mcu_leg_remove (parent, "node:076");
  ck_assert (!mcu_leg_has (parent, "node:076"));
  ck_assert (!mcu_leg_set_uplink_answer (parent, "node:nobody", answer.sdp, &error));
  g_clear_error (&error);
  mcu_leg_free (child);
  mcu_leg_free (parent);
  /* let the deferred closes run */
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  g_free (offer.sdp);
  g_free (answer.sdp);
}
END_TEST

START_TEST (test_wrong_vouched_fingerprint_is_refused)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (McuCert) pc = mcu_cert_generate ("node-08", &error);
  g_autoptr (McuCert) cc = mcu_cert_generate ("node-076", &error);
  g_autoptr (McuCert) other = mcu_cert_generate ("impostor", &error);
  McuLeg *parent, *child;
  make_legs (pc, cc, &parent, &child);

  Result offer = { 0 }, answer = { 0 };
  mcu_leg_open_uplink_async (child, "node:08", mcu_cert_get_fingerprint (pc), on_sdp,
                             &offer);
  ck_assert (iterate_until (&offer.done, 5000));
  /* the parent was told to expect another node's certificate */
  mcu_leg_accept_link_async (parent, "node:076", offer.sdp,
                             mcu_cert_get_fingerprint (other), on_sdp, &answer);
  ck_assert (iterate_until (&answer.done, 5000));
  ck_assert_ptr_null (answer.sdp);
  ck_assert (g_error_matches (answer.error, MCU_ERROR, MCU_ERROR_DTLS));
  ck_assert (!mcu_leg_has (parent, "node:076"));

  /* and a child refuses an answer from a parent other than the vouched one */
  Result offer2 = { 0 }, answer2 = { 0 };
  mcu_leg_open_uplink_async (child, "node:09", mcu_cert_get_fingerprint (other), on_sdp,
                             &offer2);
  ck_assert (iterate_until (&offer2.done, 5000));
  mcu_leg_accept_link_async (parent, "node:076", offer2.sdp,
                             mcu_cert_get_fingerprint (cc), on_sdp, &answer2);
  ck_assert (iterate_until (&answer2.done, 5000));
  ck_assert_ptr_nonnull (answer2.sdp);
  ck_assert (!mcu_leg_set_uplink_answer (child, "node:09", answer2.sdp, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_DTLS));

  mcu_leg_free (child);
  mcu_leg_free (parent);
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  g_free (offer.sdp);
  g_free (offer2.sdp);
  g_free (answer2.sdp);
  g_clear_error (&answer.error);
}
END_TEST

int
main (void)
{
  gst_init (NULL, NULL);
  Suite *s = suite_create ("mcu-leg");
  TCase *tc = tcase_create ("link");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_link_connects_and_carries_the_mix);
  tcase_add_test (tc, test_wrong_vouched_fingerprint_is_refused);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
