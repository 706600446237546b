/* Suite content: a presenter's screen shown in every hall, across the tiers, with
 * real parts: one signald, nodes at central (VN), the province (08) and the district
 * (076), Chromium halls at central and at the commune Tân Trào (three hops down),
 * and a webrtcbin hall at the commune Trung Yên. It proves:
 *  - a site without the presenter right is refused: 403 when a hall's token asks the
 *    API for it, an error on the socket when a hall without it starts sharing;
 *  - the chair's secretary gives the right to Tân Trào; its shared screen (a
 *    1280x720 canvas, contentHint "detail") is decoded at central (Chromium's
 *    getStats on the content transceiver: frames decoded, size >= 1280x720) and at
 *    Trung Yên (webrtcbin); the time from "share" to the first decoded frame at
 *    central, median of 5 shares, is printed;
 *  - Trung Yên pinned to audio only gets stills of the content (keyframes alone,
 *    decoded by webrtcbin) and no program;
 *  - the right given to central stops Tân Trào's content at every hall within 2 s,
 *    central's own share reaches Tân Trào, and goes on when the floor moves;
 *  - central's page closing ends the content at every hall within 2 s, and the
 *    program still flows after it (no node fell over).
 *
 * Usage (meson runs it in a loopback-only namespace):
 *   test-content SIGNALD MCU CLIENT UNITS.csv NODE SITE.mjs */
#include "lt-test.h"
#include "lt-meeting-env.h"

#include <stdio.h>

static const char *units_csv;

static Node nodes[] = { { .id = "node-vn", .unit = "VN", .address = "127.0.0.1" },
                        { .id = "node-08", .unit = "08", .address = "127.0.0.2" },
                        { .id = "node-076", .unit = "076", .address = "127.0.0.3" } };
static BrowserSite central = { .name = "central", .unit = "VN", .content = TRUE };
static BrowserSite tan_trao = { .name = "tan-trao", .unit = "02545", .content = TRUE };
static Site trung_yen = { .name = "trung-yen", .unit = "02539", .tone = 900 };
static gint64 occ, central_id, tan_trao_id;

static gint64
browser_int (BrowserSite *b, const char *member)
{
  return b->last ? json_object_get_int_member_with_default (b->last, member, 0) : 0;
}

/* The size a hall decodes the content at, as "WxH" ("0x0" before any). */
static void
browser_content_size (BrowserSite *b, int *w, int *h)
{
  const char *s
      = b->last ? json_object_get_string_member_with_default (b->last, "content_size", "")
                : "";
  *w = *h = 0;
  if (sscanf (s, "%dx%d", w, h) != 2)
    *w = *h = 0;
}

typedef struct
{
  BrowserSite *b;
  gint64 above;
} ContentAbove;

static gboolean
content_above (gpointer data)
{
  ContentAbove *c = data;
  return browser_int (c->b, "content_frames") > c->above;
}

static gint64
site_content_frames (Site *s)
{
  return s->last ? json_object_get_int_member_with_default (s->last, "content_frames", 0)
                 : 0;
}

static gboolean
webrtcbin_content (gpointer data)
{
  return site_content_frames (&trung_yen) > GPOINTER_TO_INT (data);
}

/* The last content event @b printed since @from_us names @site (0: no content). */
typedef struct
{
  BrowserSite *b;
  gint64 from_us, site;
} ContentEvent;

static gboolean
content_event (gpointer data)
{
  ContentEvent *e = data;
  for (guint i = e->b->events->len; i-- > 0;)
    {
      JsonObject *o = g_ptr_array_index (e->b->events, i);
      if (json_object_get_int_member (o, "t_us") < e->from_us)
        return FALSE;
      if (g_strcmp0 (json_object_get_string_member_with_default (o, "type", ""),
                     "content")
          != 0)
        continue;
      JsonNode *s = json_object_get_member (o, "site_id");
      gint64 who = s && JSON_NODE_HOLDS_VALUE (s) ? json_node_get_int (s) : 0;
      return who == e->site;
    }
  return FALSE;
}

/* An error event @b printed since @from_us. */
static gboolean
error_event (gpointer data)
{
  ContentEvent *e = data;
  for (guint i = 0; i < e->b->events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (e->b->events, i);
      if (json_object_get_int_member (o, "t_us") >= e->from_us
          && g_strcmp0 (json_object_get_string_member_with_default (o, "type", ""),
                        "error")
                 == 0)
        return TRUE;
    }
  return FALSE;
}

/* What Trung Yên's webrtcbin was told of the content, "12,none,14": ends with @want. */
static gboolean
webrtcbin_told (gpointer data)
{
  const char *want = data;
  const char *told = trung_yen.last ? json_object_get_string_member_with_default (
                         trung_yen.last, "content_told", "")
                                    : "";
  return g_str_has_suffix (told, want);
}

static void
give_right (gint64 site)
{
  g_autofree char *path
      = g_strdup_printf ("/api/v1/occurrences/%" G_GINT64_FORMAT "/content", occ);
  g_autofree char *body = g_strdup_printf ("{\"site\":%" G_GINT64_FORMAT "}", site);
  g_autoptr (JsonNode) r = api ("POST", path, "application/json", body, 200);
}

/* POST .../content with a hall's own token: not a secretary, so 403. */
static guint
give_right_as_site (const char *token, gint64 site)
{
  g_autofree char *url
      = g_strdup_printf ("%s/api/v1/occurrences/%" G_GINT64_FORMAT "/content", base, occ);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  g_autofree char *auth = g_strdup_printf ("Bearer %s", token);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                auth);
  g_autofree char *body = g_strdup_printf ("{\"site\":%" G_GINT64_FORMAT "}", site);
  g_autoptr (GBytes) b = g_bytes_new (body, strlen (body));
  soup_message_set_request_body_from_bytes (msg, "application/json", b);
  g_autoptr (GBytes) reply = soup_session_send_and_read (http, msg, NULL, NULL);
  return soup_message_get_status (msg);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void
print_content (const char *when)
{
  int w = 0, h = 0;
  browser_content_size (&central, &w, &h);
  g_print ("%s: central decoded %" G_GINT64_FORMAT
           " content frames (%dx%d), tan-trao %" G_GINT64_FORMAT
           ", trung-yen %" G_GINT64_FORMAT " (%s)\n",
           when, browser_int (&central, "content_frames"), w, h,
           browser_int (&tan_trao, "content_frames"), site_content_frames (&trung_yen),
           trung_yen.last ? json_object_get_string_member_with_default (
               trung_yen.last, "content_size", "?")
                          : "?");
}

START_TEST (test_content_across_the_tiers)
{
  env_start ("lt-content", "[nodes]\nheartbeat-interval=1\nheartbeat-misses=3\n",
             units_csv);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    start_node (&nodes[i]);
  ck_assert_msg (wait_for (nodes_up, GUINT_TO_POINTER (3), 10000),
                 "nodes did not register");
  occ = book_now ("VN", "[{\"unit\":\"VN\"},{\"unit\":\"08\"},"
                        "{\"unit\":\"076\",\"down_to\":\"commune\"}]");
  const char *const receive[] = { "--content", "--report-ms", "200", NULL };
  start_site (&trung_yen, occ, "500", receive);
  start_browser_site (&central, occ);
  start_browser_site (&tan_trao, occ);
  Site c = { .unit = "VN" }, t = { .unit = "02545" };
  site_credentials (&c);
  site_credentials (&t);
  central_id = c.site_id;
  tan_trao_id = t.site_id;
  g_free (c.token);
  g_free (t.token);

  /* everyone is in: the chair's program reaches both communes */
  gboolean in = FALSE;
  for (int i = 0; i < 300 && !in; i++)
    {
      run_for (100);
      in = browser_int (&tan_trao, "frames") > 0 && site_frames (&trung_yen) > 0
           && central.last != NULL;
    }
  ck_assert_msg (in,
                 "the halls did not join (program frames: tan-trao %" G_GINT64_FORMAT
                 ", trung-yen %" G_GINT64_FORMAT ")",
                 browser_int (&tan_trao, "frames"), site_frames (&trung_yen));

  /* no right, no content: a hall's token cannot give it (403), and Tân Trào's
   * share before it holds the right is refused on its socket */
  ck_assert_uint_eq (give_right_as_site (trung_yen.token, trung_yen.site_id), 403);
  ContentEvent refused = { &tan_trao, g_get_monotonic_time (), 0 };
  browser_cmd (&tan_trao, "present");
  ck_assert_msg (wait_for (error_event, &refused, 5000),
                 "a share without the presenter right was not refused");
  browser_cmd (&tan_trao, "stop");
  run_for (1000);
  ck_assert_int_eq (browser_int (&central, "content_frames"), 0);

  /* the right to Tân Trào; five shares, each timed to central's first decoded frame */
  give_right (tan_trao_id);
  double took[5];
  for (guint i = 0; i < G_N_ELEMENTS (took); i++)
    {
      ContentAbove first = { &central, browser_int (&central, "content_frames") };
      gint64 t0 = g_get_monotonic_time ();
      browser_cmd (&tan_trao, "present");
      gboolean ok = wait_for (content_above, &first, 15000);
      took[i] = (double)(g_get_monotonic_time () - t0) / 1000.0;
      print_content ("shared");
      ck_assert_msg (ok, "share %u: no content frame at central within 15 s", i + 1);
      if (i == 0)
        {
          /* the commune's screen is seen whole three hops up, and at the other
           * commune (webrtcbin) */
          run_for (2000);
          int w = 0, h = 0;
          browser_content_size (&central, &w, &h);
          ck_assert_msg (w >= 1280 && h >= 720, "central decodes the content at %dx%d", w,
                         h);
          ck_assert_msg (wait_for (webrtcbin_content, GINT_TO_POINTER (0), 10000),
                         "trung-yen decoded no content");
        }
      if (i + 1 < G_N_ELEMENTS (took))
        {
          ContentEvent ended = { &central, g_get_monotonic_time (), 0 };
          browser_cmd (&tan_trao, "stop");
          ck_assert_msg (wait_for (content_event, &ended, 5000),
                         "central was not told the content ended");
          run_for (500);
        }
    }
  qsort (took, G_N_ELEMENTS (took), sizeof took[0], cmp_double);
  g_print ("share to the first content frame at central (3 hops up): min %.0f median "
           "%.0f max %.0f ms\n",
           took[0], took[2], took[4]);

  /* Trung Yên at audio only: stills of the content, one every 5 s, and no program */
  g_autofree char *level_path
      = g_strdup_printf ("/api/v1/occurrences/%" G_GINT64_FORMAT "/level", occ);
  g_autofree char *audio_body = g_strdup_printf (
      "{\"site_id\":%" G_GINT64_FORMAT ",\"level\":\"audio\"}", trung_yen.site_id);
  g_autoptr (JsonNode) pinned
      = api ("POST", level_path, "application/json", audio_body, 200);
  run_for (2000); /* what was on the way before the pin */
  gint64 program0 = site_frames (&trung_yen), stills0 = site_content_frames (&trung_yen);
  run_for (11000);
  gint64 program1 = site_frames (&trung_yen), stills1 = site_content_frames (&trung_yen);
  g_print ("trung-yen at audio only for 11 s: %" G_GINT64_FORMAT " content frames "
           "(stills), %" G_GINT64_FORMAT " program frames\n",
           stills1 - stills0, program1 - program0);
  ck_assert_msg (stills1 - stills0 >= 1 && stills1 - stills0 <= 4,
                 "%" G_GINT64_FORMAT " content frames in 11 s at audio only: want a "
                 "still every 5 s",
                 stills1 - stills0);
  ck_assert_int_eq (program1, program0);
  g_autofree char *full_body = g_strdup_printf (
      "{\"site_id\":%" G_GINT64_FORMAT ",\"level\":\"full\"}", trung_yen.site_id);
  g_autoptr (JsonNode) unpinned
      = api ("POST", level_path, "application/json", full_body, 200);

  /* the right to central: Tân Trào's content stops at every hall within 2 s */
  gint64 t0 = g_get_monotonic_time ();
  give_right (central_id);
  ContentEvent at_central = { &central, t0, 0 }, at_tan_trao = { &tan_trao, t0, 0 };
  gboolean stopped = wait_for (content_event, &at_central, 2000)
                     && wait_for (content_event, &at_tan_trao, 2000)
                     && wait_for (webrtcbin_told, (gpointer) "none", 2000);
  double stop_s = (double)(g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  g_print ("right taken over: content ended at every hall after %.2f s\n", stop_s);
  ck_assert_msg (stopped && stop_s <= 2.0, "the first presenter's content did not stop "
                                           "everywhere within 2 s");
  ContentAbove down = { &tan_trao, browser_int (&tan_trao, "content_frames") };
  browser_cmd (&central, "present");
  ck_assert_msg (wait_for (content_above, &down, 15000),
                 "central's content did not reach tan-trao");
  print_content ("central shares");

  /* the floor moves to Trung Yên while central presents: the content goes on */
  g_autofree char *floor_path
      = g_strdup_printf ("/api/v1/occurrences/%" G_GINT64_FORMAT "/floor", occ);
  g_autofree char *floor_body
      = g_strdup_printf ("{\"site_id\":%" G_GINT64_FORMAT "}", trung_yen.site_id);
  g_autoptr (JsonNode) fl = api ("POST", floor_path, "application/json", floor_body, 200);
  ContentAbove on = { &tan_trao, browser_int (&tan_trao, "content_frames") + 3 };
  ck_assert_msg (wait_for (content_above, &on, 5000),
                 "the content stopped at tan-trao when the floor moved");

  /* central's page closes: the content ends at every hall within 2 s */
  t0 = g_get_monotonic_time ();
  ContentEvent closed = { &tan_trao, t0, 0 };
  g_subprocess_send_signal (central.proc, SIGTERM); /* site.mjs closes the browser */
  gboolean ended = wait_for (content_event, &closed, 5000)
                   && wait_for (webrtcbin_told, (gpointer) "none", 5000);
  double end_s = (double)(g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  g_print ("presenter's page closed: content ended at every hall after %.2f s\n", end_s);
  ck_assert_msg (ended && end_s <= 2.0,
                 "content did not end everywhere within 2 s "
                 "(%.2f s)",
                 end_s);
  /* and every node lived through it: the program still reaches Tân Trào */
  gint64 program = browser_int (&tan_trao, "frames");
  run_for (2000);
  ck_assert_msg (browser_int (&tan_trao, "frames") > program,
                 "no program at tan-trao after the content ended: a node died?");

  stop_browser_site (&central);
  stop_browser_site (&tan_trao);
  stop_site (&trung_yen);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    stop_node (&nodes[i]);
  env_stop ();
}
END_TEST

int
main (int argc, char **argv)
{
  if (!env_args (argc, argv, TRUE, &units_csv))
    return 2;
  Suite *s = suite_create ("content");
  TCase *tc = tcase_create ("content");
  tcase_set_timeout (tc, 200);
  tcase_add_test (tc, test_content_across_the_tiers);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
