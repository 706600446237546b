/* bench-content-join: what the content transceiver (a second video m-line every
 * hall offers from the start, issue 16) costs a hall's join. A real signald and one
 * node; a webrtcbin chair sends the program; a Chromium hall (site.mjs) joins the
 * occurrence ROUNDS times with the content transceiver and ROUNDS times without,
 * alternating, each time a fresh browser. The figure is the hall's own: from its
 * join() call (offer made, gathering, signald, the node's answer, ICE, DTLS) to the
 * first program frame it shows (requestVideoFrameCallback), so the browser's start
 * is outside it. Prints min/median/max of both and the difference of the medians.
 * The first join of each kind is a warm-up and not counted.
 *
 * Usage (in a loopback-only namespace):
 *   bench-content-join SIGNALD MCU CLIENT UNITS.csv NODE SITE.mjs */
#include "lt-test.h"
#include "lt-meeting-env.h"

#include <stdio.h>

#define ROUNDS 5

static const char *units_csv;
static Node node = { .id = "node-vn", .unit = "VN", .address = "127.0.0.1" };
static Site chair = { .name = "chair", .unit = "VN", .tone = 500 };

static gboolean
first_frame (gpointer data)
{
  BrowserSite *b = data;
  return b->last
         && json_object_get_int_member_with_default (b->last, "first_frame_ms", -1) >= 0;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One join of the province hall; its join time in ms. */
static double
join_once (gint64 occ, gboolean content)
{
  BrowserSite b = { .name = "province", .unit = "08", .content = content };
  start_browser_site (&b, occ);
  gboolean ok = wait_for (first_frame, &b, 30000);
  double ms = ok ? (double)json_object_get_int_member (b.last, "first_frame_ms") : -1;
  stop_browser_site (&b);
  ck_assert_msg (ok, "the hall showed no program frame within 30 s");
  return ms;
}

START_TEST (bench_join)
{
  env_start ("lt-bench-join", "", units_csv);
  start_node (&node);
  ck_assert_msg (wait_for (nodes_up, GUINT_TO_POINTER (1), 10000), "no node");
  gint64 occ = book_now ("VN", "[{\"unit\":\"VN\"},{\"unit\":\"08\"}]");
  start_site (&chair, occ, "500", NULL);
  double with[ROUNDS], without[ROUNDS];
  join_once (occ, TRUE); /* warm-up: the node's first leg member, caches */
  join_once (occ, FALSE);
  for (guint i = 0; i < ROUNDS; i++)
    {
      with[i] = join_once (occ, TRUE);
      without[i] = join_once (occ, FALSE);
    }
  qsort (with, ROUNDS, sizeof with[0], cmp_double);
  qsort (without, ROUNDS, sizeof without[0], cmp_double);
  printf ("content_join_without: min %.0f median %.0f max %.0f ms to the first frame\n",
          without[0], without[ROUNDS / 2], without[ROUNDS - 1]);
  printf ("content_join_with: min %.0f median %.0f max %.0f ms to the first frame\n",
          with[0], with[ROUNDS / 2], with[ROUNDS - 1]);
  printf ("content_join_extra: %+.0f ms (medians)\n",
          with[ROUNDS / 2] - without[ROUNDS / 2]);
  stop_site (&chair);
  stop_node (&node);
  env_stop ();
}
END_TEST

int
main (int argc, char **argv)
{
  if (!env_args (argc, argv, TRUE, &units_csv))
    return 2;
  Suite *s = suite_create ("bench-content-join");
  TCase *tc = tcase_create ("join");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, bench_join);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
