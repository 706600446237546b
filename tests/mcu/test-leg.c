/* Suite mcu-leg: proves a cascade link between two meeting legs, as two nodes make
 * it: the child dials with an offer, the parent answers only for the fingerprint
 * signald vouches for, the child accepts the answer only from that fingerprint, the
 * link connects over DTLS-SRTP and each side's mix-minus flows to the other, with
 * transport-cc feedback on it (the parent learns what the child received); the
 * parent's statistics report names the selected ICE pair's types (host/host on
 * loopback), reports no frozen video for a link that sends none and leaves the
 * "down" playout unknown; a link whose vouched fingerprint is wrong is refused
 * before any media. */
#include "leg.h"
#include "mcu-error.h"
#include "lt-test.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>

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
static char *parent_stats; /* the parent leg's last statistics report */

static void
on_stats (const char *json, gpointer data)
{
  if (data == &parent_link_state)
    {
      g_free (parent_stats);
      parent_stats = g_strdup (json);
    }
}

/* A member's measure in the parent's last report, or -1000 when absent. */
static double
parent_measure (const char *endpoint, const char *direction, const char *name)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  if (parent_stats == NULL || !json_parser_load_from_data (p, parent_stats, -1, NULL))
    return -1000;
  JsonArray *a = json_node_get_array (json_parser_get_root (p));
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (g_strcmp0 (json_object_get_string_member (o, "endpoint"), endpoint) == 0)
        return json_object_get_double_member (
            json_object_get_object_member (json_object_get_object_member (o, "quality"),
                                           direction),
            name);
    }
  return -1000;
}

/* A member's congestion-control figure in the parent's last report ("cc"), or -1000
 * when absent; booleans read as 0 or 1. */
static double
parent_cc (const char *endpoint, const char *name)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  if (parent_stats == NULL || !json_parser_load_from_data (p, parent_stats, -1, NULL))
    return -1000;
  JsonArray *a = json_node_get_array (json_parser_get_root (p));
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (g_strcmp0 (json_object_get_string_member (o, "endpoint"), endpoint) != 0
          || !json_object_has_member (o, "cc"))
        continue;
      JsonNode *n
          = json_object_get_member (json_object_get_object_member (o, "cc"), name);
      if (n == NULL)
        return -1000;
      return json_node_get_value_type (n) == G_TYPE_BOOLEAN ? json_node_get_boolean (n)
                                                            : json_node_get_double (n);
    }
  return -1000;
}

/* The selected pair's @side ("local", "remote") of a member in the parent's last
 * report, or NULL when absent. */
static char *
parent_pair (const char *endpoint, const char *side)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  if (parent_stats == NULL || !json_parser_load_from_data (p, parent_stats, -1, NULL))
    return NULL;
  JsonArray *a = json_node_get_array (json_parser_get_root (p));
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (g_strcmp0 (json_object_get_string_member (o, "endpoint"), endpoint) == 0
          && json_object_has_member (o, "pair"))
        return g_strdup (json_object_get_string_member (
            json_object_get_object_member (o, "pair"), side));
    }
  return NULL;
}

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
  callbacks.stats = on_stats;
  parent_link_state = child_link_state = -1;
  *parent = mcu_leg_new (NULL, pc, "42/occ-parent", &cfg, NULL, &callbacks,
                         &parent_link_state, &error);
  ck_assert_msg (*parent != NULL, "%s", error ? error->message : "");
  *child = mcu_leg_new (NULL, cc, "42/occ-child", &cfg, NULL, &callbacks,
                        &child_link_state, &error);
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

  /* the link is measured both ways: the sender reports each side sends every second
   * give the round trip (small on loopback) and the child's mix arrives without loss */
  end = g_get_monotonic_time () + 8 * G_USEC_PER_SEC;
  while (parent_measure ("node:076", "down", "rtt") < 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  double rtt = parent_measure ("node:076", "down", "rtt");
  ck_assert_msg (rtt >= 0 && rtt < 100, "rtt %f in %s", rtt, parent_stats);
  ck_assert_double_gt (parent_measure ("node:076", "up", "exp"), 0);
  ck_assert_double_eq (parent_measure ("node:076", "up", "loss"), 0);
  /* the selected ICE pair is named in each endpoint object: host/host on loopback */
  g_autofree char *pair_local = parent_pair ("node:076", "local");
  g_autofree char *pair_remote = parent_pair ("node:076", "remote");
  ck_assert_str_eq (pair_local, "host");
  ck_assert_str_eq (pair_remote, "host");
  /* node links number their packets and feed back (transport-cc): the parent's
   * feedback-driven view of the link says the child received the mix it sent (the
   * wait is for a sanitizer build on a busy machine: a report every 2 s, each over
   * the last second's feedback; such a machine may also delay arrivals enough to
   * look like a queue, so "limited" is not asserted here) */
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (parent_cc ("node:076", "acked") <= 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  ck_assert_msg (parent_cc ("node:076", "twcc") == 1, "%s", parent_stats);
  ck_assert_msg (parent_cc ("node:076", "acked") > 0, "%s", parent_stats);
  ck_assert_msg (parent_cc ("node:076", "sent") > 0, "%s", parent_stats);
  /* a link that sends no video is never reported frozen */
  ck_assert_double_eq (parent_measure ("node:076", "up", "frozen"), 0);
  ck_assert_double_eq (parent_measure ("node:076", "up", "frz"), 0);
  ck_assert_double_eq (parent_measure ("node:076", "up", "frz_ms"), 0);
  /* the parent's mixer played the child's mix and concealed (almost) none of it: a
   * loopback link loses nothing. Measured 0.0 in every run, plain and ASan, also
   * with the machine loaded by parallel builds; the bound leaves room for two late
   * packets (20 ms each) in the ~5 s window, which a scheduler hiccup past the 60 ms
   * jitter buffer can cause without the link being at fault. */
  double conc = parent_measure ("node:076", "up", "conc");
  ck_assert_msg (conc >= 0 && conc < 1, "conc %f in %s", conc, parent_stats);
  /* the node cannot see what a site or node plays: the "down" playout is unknown */
  ck_assert_double_eq (parent_measure ("node:076", "down", "conc"), -1);
  ck_assert_double_eq (parent_measure ("node:076", "down", "frozen"), -1);
  ck_assert_double_eq (parent_measure ("node:076", "down", "frz_ms"), -1);
  g_clear_pointer (&parent_stats, g_free);

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

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name (d))
    n++;
  return n;
}

/* A node opens and closes a leg per meeting occurrence all day: 200 legs (each with
 * its mixer pipeline and timers) leave no threads or file descriptors behind. */
START_TEST (test_200_legs_leave_nothing_behind)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (McuCert) cert = mcu_cert_generate ("node", &error);
  McuEndpointConfig cfg = { 0 };
  cfg.ice.local_addresses = lo;
  /* warm GStreamer's thread pool and plugin cache first */
  for (guint i = 0; i < 10; i++)
    mcu_leg_free (mcu_leg_new (NULL, cert, "warm", &cfg, NULL, NULL, NULL, &error));
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  guint threads = count_entries ("/proc/self/task"),
        fds = count_entries ("/proc/self/fd");
  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *id = g_strdup_printf ("%u", i);
      McuLeg *leg = mcu_leg_new (NULL, cert, id, &cfg, NULL, NULL, NULL, &error);
      ck_assert_msg (leg != NULL, "%s", error ? error->message : "");
      mcu_leg_free (leg);
    }
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  guint threads2 = count_entries ("/proc/self/task"),
        fds2 = count_entries ("/proc/self/fd");
  g_print ("200 legs: threads %u -> %u, fds %u -> %u\n", threads, threads2, fds, fds2);
  ck_assert_msg (threads2 <= threads + 2, "threads %u -> %u", threads, threads2);
  ck_assert_msg (fds2 <= fds, "fds %u -> %u", fds, fds2);
}
END_TEST

/* The floor and the content are kept apart: moving one, in any order and for
 * members not there yet, leaves the other as it was (under AddressSanitizer a
 * stale or twice-freed name is caught), and a leg freed while both are set frees
 * both. */
START_TEST (test_floor_and_content_kept_apart)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (McuCert) cert = mcu_cert_generate ("node", &error);
  McuEndpointConfig cfg = { 0 };
  cfg.ice.local_addresses = lo;
  McuLeg *leg = mcu_leg_new (NULL, cert, "42/occ", &cfg, NULL, NULL, NULL, &error);
  ck_assert_msg (leg != NULL, "%s", error ? error->message : "");
  mcu_leg_set_floor (leg, "site:1");
  mcu_leg_set_content (leg, "site:2");
  mcu_leg_set_floor (leg, "node:node-08"); /* the floor moves during a presentation */
  mcu_leg_set_content (leg, "site:3");
  mcu_leg_set_floor (leg, NULL);
  mcu_leg_set_content (leg, NULL);
  mcu_leg_set_content (leg, "site:4");
  mcu_leg_set_floor (leg, "site:5");
  mcu_leg_free (leg);
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
  tcase_add_test (tc, test_200_legs_leave_nothing_behind);
  tcase_add_test (tc, test_floor_and_content_kept_apart);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
