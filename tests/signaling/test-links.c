/* Suite quality-links: black-box tests of link quality in the real lienthong-signald
 * (argv[1]) with a fake media node (a libsoup WebSocket client holding a node token)
 * that sends crafted `stats` messages whose clock `t` the test advances, 2 s per
 * report, without sleeping. They prove: the links of a meeting come worst first and
 * a leg's history holds its samples (and say how many bytes a leg takes); a site
 * graded very bad raises the leg alarm after raise-after seconds, is stepped to
 * `low` after stepdown-after and to `audio` after as long again (the node receives
 * `level`, the dashboard `link.level`, `link.stats` and `alarm.raised`), and good
 * reports step it back up one level per stepup-after and clear the alarm after
 * clear-after; a pinned level is left alone; a site that fails in a live meeting and
 * a node that goes away raise alarms; alarms survive a restart; /metrics and the
 * deploy/prometheus samples pass promtool (skipped when promtool is absent), and
 * the sample scrapes with a token of role it, which /metrics needs. */
#include "lt-test.h"
#include "sig-test-util.h"

#include <glib/gstdio.h>
#include <stdio.h>

/* 2026-12-01T01:10:00Z: inside a meeting from 08:00+07:00 to 10:00+07:00: live */
#define NOW 1796087400
#define CONF "[testing]\nnow=1796087400\n[nodes]\nheartbeat-interval=60\n"
#define MEETING "[{\"unit\":\"076\",\"down_to\":\"commune\"}]"

static char *ltctl_path;

typedef struct
{
  SdDaemon *d;
  SoupSession *s;
  gint64 d076, bad, good; /* sites */
  WsPeer node, dash, hall_bad, hall_good;
  gint64 t; /* the fake node's clock */
} Env;

/* Site @site joins occurrence 1 with an offer, which signald routes to the fake node:
 * from then on the node hosts the site and may report on it. */
static void
host_site (Env *e, WsPeer *hall, gint64 site)
{
  g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, site);
  g_autofree char *tok = make_token (e->d, "site", scope, NULL);
  ck_assert (ws_open (hall, e->s, e->d, "/api/v1/ws", tok, NULL));
  ws_send (hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 offer\"}");
  json_node_unref (ws_take (hall, "joined"));
  g_autoptr (JsonNode) offer = ws_take (&e->node, "site.offer");
  ck_assert_int_eq (jint (offer, "site_id"), site);
}

static void
env_start (Env *e)
{
  memset (e, 0, sizeof *e);
  e->d = sd_start (CONF);
  import_tiny (e->d);
  e->s = soup_session_new ();
  e->d076 = site_of (e->d, "076");
  e->bad = site_of (e->d, "02536");
  e->good = site_of (e->d, "02539");
  guint st;
  g_autofree char *r = book (e->d, e->d->admin, "Giao ban", "076", DAY1 "08:00:00" TZ,
                             DAY1 "10:00:00" TZ, MEETING, NULL, &st);
  ck_assert_msg (st == 201, "book: %u %s", st, r);
  ck_assert (ws_open (&e->dash, e->s, e->d, "/api/v1/ws", e->d->admin, NULL));
  ws_send (&e->dash, "{\"type\":\"subscribe\",\"meeting_id\":1}");
  json_node_unref (ws_take (&e->dash, "subscribed"));
  g_autofree char *tok = make_node_token (e->d, "node-076", "076");
  ck_assert (ws_open (&e->node, e->s, e->d, "/api/v1/nodes/ws", tok, NULL));
  ws_send (&e->node, "{\"v\":1,\"type\":\"register\",\"node_id\":\"node-076\","
                     "\"unit\":\"076\",\"capacity\":50,\"fingerprint\":\"sha-256 x\"}");
  json_node_unref (ws_take (&e->node, "registered"));
  json_node_unref (ws_take (&e->node, "leg.open"));
  host_site (e, &e->hall_bad, e->bad);
  host_site (e, &e->hall_good, e->good);
  e->t = NOW;
}

static void
env_stop (Env *e)
{
  ws_close (&e->hall_bad);
  ws_close (&e->hall_good);
  ws_close (&e->node);
  ws_close (&e->dash);
  g_clear_object (&e->s);
  sd_free (e->d);
}

/* One direction as mcu/quality.c writes it. */
static char *
dir_json (double loss, double rtt, int grade)
{
  /* a very bad direction also conceals audio and has frozen video */
  gboolean bad = grade == 3;
  return g_strdup_printf (
      "{\"win\":5,\"exp\":250,\"lost\":%d,\"loss\":%.2f,\"jit\":12,\"rtt\":%.0f,"
      "\"kbps\":800,\"nack\":0,\"pli\":0,\"fir\":0,\"rtx\":0,\"frz\":%d,\"frz_ms\":%d,"
      "\"frozen\":%d,\"conc\":%s,\"mos\":%.2f,\"grade\":%d}",
      (int)(loss * 2.5), loss, rtt, bad ? 1 : 0, bad ? 900 : 0, bad ? 1 : 0,
      bad ? "12.5" : "0", grade == 3 ? 2.1 : 4.3, grade);
}

/* The fake node reports both sites (the bad one at @bad_grade) at its clock, then
 * advances it by 2 s. */
static void
report (Env *e, int bad_grade)
{
  double bad_loss = bad_grade == 3 ? 15 : 0.5;
  g_autofree char *bu = dir_json (bad_loss, 80, bad_grade);
  g_autofree char *bd = dir_json (bad_loss / 2, 80, bad_grade);
  g_autofree char *gu = dir_json (0.2, 30, 0);
  g_autofree char *msg = g_strdup_printf (
      "{\"v\":1,\"type\":\"stats\",\"occurrence_id\":1,\"t\":%" G_GINT64_FORMAT
      ",\"endpoints\":[{\"endpoint\":\"site:%" G_GINT64_FORMAT "\",\"srtp\":"
      "\"AEAD_AES_128_GCM\",\"pair\":{\"local\":\"host\",\"remote\":\"relay\"},"
      "\"quality\":{\"leg\":1,\"up\":%s,\"down\":%s}},"
      /* a pair type no node writes is ignored, like an unselected pair */
      "{\"endpoint\":\"site:%" G_GINT64_FORMAT "\",\"srtp\":\"AEAD_AES_128_GCM\","
      "\"pair\":{\"local\":\"host\",\"remote\":\"<b>relay</b>\"},"
      "\"quality\":{\"leg\":2,\"up\":%s,\"down\":%s}}]}",
      e->t, e->bad, bu, bd, e->good, gu, gu);
  ws_send (&e->node, msg);
  e->t += 2;
}

static JsonNode *
get_json (Env *e, const char *path)
{
  guint st;
  g_autofree char *r = sd_http (e->d, "GET", path, e->d->admin, NULL, &st);
  ck_assert_msg (st == 200, "GET %s: %u %s", path, st, r);
  return sd_json (r);
}

static guint
count_alarms (Env *e, const char *query, const char *kind)
{
  g_autofree char *path = g_strconcat ("/api/v1/alarms", query, NULL);
  g_autoptr (JsonNode) n = get_json (e, path);
  JsonArray *a = json_object_get_array_member (json_node_get_object (n), "alarms");
  guint c = 0;
  for (guint i = 0; i < json_array_get_length (a); i++)
    c += g_str_equal (
        json_object_get_string_member (json_array_get_object_element (a, i), "kind"),
        kind);
  return c;
}

/* Reports until the node is told a level; returns the reports it took. */
static guint
reports_until_level (Env *e, int grade, const char *want)
{
  for (guint i = 1; i <= 40; i++)
    {
      report (e, grade);
      ws_barrier (&e->node, TRUE);
      if (ws_count (&e->node, "level") > 0)
        {
          g_autoptr (JsonNode) lv = ws_take (&e->node, "level");
          ck_assert_int_eq (jint (lv, "site_id"), e->bad);
          ck_assert_str_eq (jstr (lv, "level"), want);
          g_autoptr (JsonNode) ev = ws_take (&e->dash, "link.level");
          ck_assert_str_eq (jstr (ev, "level"), want);
          return i;
        }
    }
  ck_abort_msg ("no level %s", want);
  return 0;
}

static gboolean
run_tool (const char *const *argv, char **out)
{
  g_autoptr (GError) error = NULL;
  int status = -1;
  g_autofree char *o = NULL, *err = NULL;
  ck_assert (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &o,
                           &err, &status, &error));
  *out = g_strconcat (o, err, NULL);
  return g_spawn_check_wait_status (status, NULL);
}

START_TEST (test_stepdown_alarm_and_back)
{
  Env e;
  env_start (&e);
  /* very bad from t0: reports at t0, t0+2, .. ; low once 10 s have passed (6th) */
  ck_assert_uint_eq (reports_until_level (&e, 3, "low"), 6);
  g_autoptr (JsonNode) raised = ws_take (&e.dash, "alarm.raised");
  ck_assert_str_eq (jstr (raised, "kind"), "leg.very_bad");
  ck_assert_int_eq (jint (raised, "meeting_id"), 1);
  ck_assert_uint_eq (count_alarms (&e, "?open=1", "leg.very_bad"), 1);
  g_autoptr (JsonNode) st = ws_take (&e.dash, "link.stats");
  ck_assert_int_eq (jint (st, "occurrence_id"), 1);
  /* audio 10 s after the step to low */
  ck_assert_uint_eq (reports_until_level (&e, 3, "audio"), 5);

  /* worst first, with both directions of the last sample */
  g_autoptr (JsonNode) links = get_json (&e, "/api/v1/meetings/1/links");
  JsonArray *a = json_object_get_array_member (json_node_get_object (links), "links");
  ck_assert_uint_eq (json_array_get_length (a), 2);
  JsonObject *first = json_array_get_object_element (a, 0);
  ck_assert_int_eq (json_object_get_int_member (first, "site_id"), e.bad);
  ck_assert_int_eq (json_object_get_int_member (first, "grade"), 3);
  ck_assert_str_eq (json_object_get_string_member (first, "level"), "audio");
  ck_assert_str_eq (json_object_get_string_member (first, "srtp"), "AEAD_AES_128_GCM");
  /* Prometheus counts the site stepped down to audio only, and the other at full */
  guint mst;
  g_autofree char *metrics = sd_http (e.d, "GET", "/metrics", e.d->admin, NULL, &mst);
  ck_assert_uint_eq (mst, 200);
  ck_assert_ptr_nonnull (strstr (metrics, "level=\"audio\"} 1\n"));
  ck_assert_ptr_nonnull (strstr (metrics, "level=\"full\"} 1\n"));
  ck_assert_double_eq_tol (
      json_object_get_double_member (json_object_get_object_member (first, "up"), "loss"),
      15, 0.01);
  ck_assert_int_eq (
      json_object_get_int_member (json_array_get_object_element (a, 1), "grade"), 0);
  /* the selected pair's types, and the up direction's concealed and frozen media */
  JsonObject *pair = json_object_get_object_member (first, "pair");
  ck_assert_str_eq (json_object_get_string_member (pair, "local"), "host");
  ck_assert_str_eq (json_object_get_string_member (pair, "remote"), "relay");
  ck_assert (json_object_get_null_member (json_array_get_object_element (a, 1), "pair"));
  JsonObject *fu = json_object_get_object_member (first, "up");
  ck_assert_double_eq_tol (json_object_get_double_member (fu, "concealed"), 12.5, 0.01);
  ck_assert_int_eq (json_object_get_int_member (fu, "frozen"), 1);
  ck_assert_double_eq_tol (json_object_get_double_member (fu, "frozen_ms"), 900, 0.01);
  JsonObject *gu
      = json_object_get_object_member (json_array_get_object_element (a, 1), "up");
  ck_assert_int_eq (json_object_get_int_member (gu, "frozen"), 0);
  ck_assert_double_eq_tol (json_object_get_double_member (gu, "concealed"), 0, 0.01);
  /* the live event carries the same leg objects */
  JsonArray *sl = json_object_get_array_member (json_node_get_object (st), "links");
  gboolean seen = FALSE;
  for (guint i = 0; i < json_array_get_length (sl); i++)
    {
      JsonObject *o = json_array_get_object_element (sl, i);
      if (json_object_get_int_member_with_default (o, "site_id", 0) == e.bad)
        {
          JsonObject *p = json_object_get_object_member (o, "pair");
          ck_assert_str_eq (json_object_get_string_member (p, "remote"), "relay");
          ck_assert (
              json_object_has_member (json_object_get_object_member (o, "up"), "frozen"));
          seen = TRUE;
        }
    }
  ck_assert (seen);

  /* ltctl shows the same, worst first, and the open alarm */
  if (ltctl_path != NULL)
    {
      const char *lk[] = { ltctl_path, "--server",  e.d->base, "--token", e.d->admin,
                           "links",    "--meeting", "1",       NULL };
      g_autofree char *out = NULL;
      ck_assert_msg (run_tool (lk, &out), "ltctl links: %s", out);
      char *worst = strstr (out, "Rất kém"), *best = strstr (out, "Tốt");
      ck_assert_msg (worst && best && worst < best, "ltctl links:\n%s", out);
      /* the remote pair type: "relay" on the bad site's row, "-" where unknown */
      char *eol = strchr (worst, '\n');
      ck_assert_msg (eol && g_strstr_len (worst, eol - worst, "relay") != NULL,
                     "ltctl links:\n%s", out);
      ck_assert_msg (strstr (out, "PAIR") != NULL, "ltctl links:\n%s", out);
      const char *al[] = { ltctl_path, "--server", e.d->base, "--token",
                           e.d->admin, "alarms",   "--open",  NULL };
      g_autofree char *out2 = NULL;
      ck_assert_msg (run_tool (al, &out2), "ltctl alarms: %s", out2);
      ck_assert_msg (strstr (out2, "leg.very_bad") != NULL, "ltctl alarms:\n%s", out2);
    }

  /* the history has every report of the leg, oldest first */
  g_autofree char *hp = g_strdup_printf (
      "/api/v1/links/1:node-076:site:%" G_GINT64_FORMAT "/history", e.bad);
  g_autoptr (JsonNode) h = get_json (&e, hp);
  JsonObject *ho = json_node_get_object (h);
  JsonArray *up = json_object_get_array_member (ho, "up");
  ck_assert_uint_eq (json_array_get_length (up), 11);
  ck_assert_int_eq (
      json_object_get_int_member (json_array_get_object_element (up, 0), "t"), NOW);
  ck_assert_int_eq (json_object_get_int_member (ho, "capacity"), 450);
  gint64 bytes = json_object_get_int_member (ho, "bytes");
  ck_assert_int_ge (bytes, 450 * 16 * 2);
  ck_assert_int_le (bytes, 450 * 16 * 2 + 512);
  printf ("memory per leg (both directions, 15 min of 2 s samples): %" G_GINT64_FORMAT
          " bytes; 11,000 legs: %.1f MiB\n",
          bytes, bytes * 11000.0 / (1024 * 1024));

  /* good again: up one level per 30 s good, the alarm cleared after 30 s good */
  ck_assert_uint_eq (reports_until_level (&e, 0, "low"), 16);
  g_autoptr (JsonNode) cleared = ws_take (&e.dash, "alarm.cleared");
  ck_assert_str_eq (jstr (cleared, "kind"), "leg.very_bad");
  ck_assert_uint_eq (count_alarms (&e, "?open=1", "leg.very_bad"), 0);
  ck_assert_uint_eq (reports_until_level (&e, 0, "full"), 15);
  ck_assert_uint_eq (count_alarms (&e, "", "leg.very_bad"), 1);

  /* the record survives a restart */
  ws_close (&e.node);
  ws_close (&e.dash);
  ws_close (&e.hall_bad);
  ws_close (&e.hall_good);
  sd_restart (e.d, CONF);
  ck_assert_uint_eq (count_alarms (&e, "?meeting=1", "leg.very_bad"), 1);
  ck_assert_uint_eq (count_alarms (&e, "?meeting=2", "leg.very_bad"), 0);
  g_clear_object (&e.s);
  sd_free (e.d);
}
END_TEST

START_TEST (test_pinned_level_is_left_alone)
{
  Env e;
  env_start (&e);
  g_autofree char *path
      = g_strdup_printf ("/api/v1/occurrences/1/sites/%" G_GINT64_FORMAT "/level", e.bad);
  guint st;
  g_autofree char *r
      = sd_http (e.d, "POST", path, e.d->admin, "{\"level\":\"full\"}", &st);
  ck_assert_msg (st == 200, "%u %s", st, r);
  json_node_unref (ws_take (&e.node, "level"));
  g_autofree char *r2
      = sd_http (e.d, "POST", path, e.d->admin, "{\"level\":\"max\"}", &st);
  ck_assert_uint_eq (st, 400);
  for (int i = 0; i < 15; i++)
    report (&e, 3);
  ws_barrier (&e.node, TRUE);
  ck_assert_uint_eq (ws_count (&e.node, "level"), 0);
  /* the alarm is raised all the same: it is about the link, not the level */
  ck_assert_uint_eq (count_alarms (&e, "?open=1", "leg.very_bad"), 1);
  /* back to automatic: the next very bad run steps it down */
  g_autofree char *r3
      = sd_http (e.d, "POST", path, e.d->admin, "{\"level\":\"auto\"}", &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_uint_eq (reports_until_level (&e, 3, "low"), 6);
  env_stop (&e);
}
END_TEST

START_TEST (test_older_level_route_pins_too)
{
  /* POST /occurrences/{id}/level (the meeting controllers' route) pins like the
   * per-site route: a very bad run then leaves the site at the level set by hand */
  Env e;
  env_start (&e);
  g_autofree char *body
      = g_strdup_printf ("{\"site_id\":%" G_GINT64_FORMAT ",\"level\":\"low\"}", e.bad);
  guint st;
  g_autofree char *r
      = sd_http (e.d, "POST", "/api/v1/occurrences/1/level", e.d->admin, body, &st);
  ck_assert_msg (st == 200, "%u %s", st, r);
  ck_assert_ptr_nonnull (strstr (r, "\"pinned\":true"));
  json_node_unref (ws_take (&e.node, "level"));
  for (int i = 0; i < 15; i++)
    report (&e, 3);
  ws_barrier (&e.node, TRUE);
  ck_assert_uint_eq (ws_count (&e.node, "level"), 0);
  env_stop (&e);
}
END_TEST

START_TEST (test_dropped_site_and_node_down)
{
  Env e;
  env_start (&e);
  g_autofree char *failed
      = g_strdup_printf ("{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":"
                         "\"site:%" G_GINT64_FORMAT "\",\"state\":\"failed\"}",
                         e.good);
  ws_send (&e.node, failed);
  g_autoptr (JsonNode) a = ws_take (&e.dash, "alarm.raised");
  ck_assert_str_eq (jstr (a, "kind"), "site.dropped");
  g_autofree char *back
      = g_strdup_printf ("{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":"
                         "\"site:%" G_GINT64_FORMAT "\",\"state\":\"connected\"}",
                         e.good);
  ws_send (&e.node, back);
  g_autoptr (JsonNode) c = ws_take (&e.dash, "alarm.cleared");
  ck_assert_str_eq (jstr (c, "kind"), "site.dropped");
  gsize from = sd_log_len (e.d);
  ws_close (&e.node);
  ck_assert (sd_wait_log (e.d, "alarm raised: node.down node-076", from));
  g_autoptr (JsonNode) nd = ws_take (&e.dash, "alarm.raised");
  ck_assert_str_eq (jstr (nd, "kind"), "node.down");
  ck_assert_uint_eq (count_alarms (&e, "?open=1", "node.down"), 1);
  ws_close (&e.dash);
  ws_close (&e.hall_bad);
  ws_close (&e.hall_good);
  g_clear_object (&e.s);
  sd_free (e.d);
}
END_TEST

START_TEST (test_metrics_pass_promtool)
{
  g_autofree char *promtool = g_find_program_in_path ("promtool");
  if (promtool == NULL)
    {
      g_print ("SKIP test_metrics_pass_promtool: promtool not found (Debian package "
               "prometheus)\n");
      return;
    }
  Env e;
  env_start (&e);
  for (int i = 0; i < 8; i++)
    report (&e, 3);
  ws_barrier (&e.node, TRUE);
  guint st;
  g_autofree char *m = sd_http (e.d, "GET", "/metrics", e.d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_ptr_nonnull (strstr (m, "lienthong_link_legs{kind=\"site\",tier=\"commune\","
                                    "province=\"08\",grade=\"very_bad\"} 1"));
  ck_assert_ptr_nonnull (
      strstr (m, "lienthong_link_rtt_seconds_count{kind=\"site\"} 32"));
  ck_assert_ptr_nonnull (strstr (m, "lienthong_link_packets_lost_total{kind=\"site\""));
  g_autofree char *file = g_build_filename (e.d->dir, "metrics.txt", NULL);
  ck_assert (g_file_set_contents (file, m, -1, NULL));
  g_autofree char *cmd
      = g_strdup_printf ("'%s' check metrics < '%s' 2>&1", promtool, file);
  const char *sh[] = { "/bin/sh", "-c", cmd, NULL };
  g_autofree char *out = NULL;
  ck_assert_msg (run_tool (sh, &out), "promtool check metrics:\n%s", out);

  const char *root = g_getenv ("LT_SOURCE_ROOT");
  ck_assert_ptr_nonnull (root);
  g_autofree char *rules
      = g_build_filename (root, "deploy", "prometheus", "lienthong-rules.yml", NULL);
  g_autofree char *conf
      = g_build_filename (root, "deploy", "prometheus", "prometheus.yml", NULL);
  const char *cr[] = { promtool, "check", "rules", rules, NULL };
  g_autofree char *out2 = NULL;
  ck_assert_msg (run_tool (cr, &out2), "promtool check rules:\n%s", out2);
  /* check config resolves rule_files relative to the config: copy both beside */
  g_autofree char *cdir = g_build_filename (e.d->dir, "prom", NULL);
  g_mkdir (cdir, 0700);
  g_autofree char *ctext = NULL, *rtext = NULL;
  ck_assert (g_file_get_contents (conf, &ctext, NULL, NULL));
  ck_assert (g_file_get_contents (rules, &rtext, NULL, NULL));
  g_autofree char *c2 = g_build_filename (cdir, "prometheus.yml", NULL);
  g_autofree char *r2 = g_build_filename (cdir, "lienthong-rules.yml", NULL);
  /* the sample scrapes with a bearer token from a file (/metrics is not public):
   * promtool wants the file to exist, and the token an operator puts there as the
   * sample says (a new token of role it) must be one /metrics answers */
  static const char cred[] = "/etc/prometheus/lienthong-signald.token";
  ck_assert_msg (strstr (ctext, cred) != NULL, "no credentials_file %s in the sample",
                 cred);
  g_autofree char *tokfile = g_build_filename (cdir, "lienthong-signald.token", NULL);
  g_autofree char *it = make_token (e.d, "it", NULL, NULL);
  ck_assert (g_file_set_contents (tokfile, it, -1, NULL));
  g_autofree char *scraped = sd_http (e.d, "GET", "/metrics", it, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autofree char *anonymous = sd_http (e.d, "GET", "/metrics", NULL, NULL, &st);
  ck_assert_uint_eq (st, 401);
  g_auto (GStrv) halves = g_strsplit (ctext, cred, 2);
  g_autofree char *ctext2 = g_strconcat (halves[0], tokfile, halves[1], NULL);
  ck_assert (g_file_set_contents (c2, ctext2, -1, NULL));
  ck_assert (g_file_set_contents (r2, rtext, -1, NULL));
  const char *cc[] = { promtool, "check", "config", c2, NULL };
  g_autofree char *out3 = NULL;
  ck_assert_msg (run_tool (cc, &out3), "promtool check config:\n%s", out3);
  env_stop (&e);
}
END_TEST

/* One stats message for the bad site with @extra (",\"retransmission\":..") after
 * its quality; returns the site's leg as GET .../links shows it (owned by @out). */
static JsonObject *
report_extra (Env *e, const char *extra, JsonNode **out)
{
  g_autofree char *d = dir_json (5, 60, 1);
  g_autofree char *msg = g_strdup_printf (
      "{\"v\":1,\"type\":\"stats\",\"occurrence_id\":1,\"t\":%" G_GINT64_FORMAT
      ",\"endpoints\":[{\"endpoint\":\"site:%" G_GINT64_FORMAT "\",\"quality\":"
      "{\"leg\":1,\"up\":%s,\"down\":%s}%s}]}",
      e->t, e->bad, d, d, extra);
  e->t += 2;
  ws_send (&e->node, msg);
  ws_barrier (&e->node, TRUE);
  *out = get_json (e, "/api/v1/meetings/1/links");
  JsonArray *a = json_object_get_array_member (json_node_get_object (*out), "links");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (json_object_get_int_member_with_default (o, "site_id", 0) == e->bad)
        return o;
    }
  ck_abort_msg ("no leg of site %" G_GINT64_FORMAT, e->bad);
  return NULL;
}

/* What the node says of retransmission and of its downlink estimate reaches the IT
 * board with the leg (so a lossy line that is repaired can be told from one that is
 * not); values no node writes (negative, fractional, huge, of the wrong type) are
 * shown as unknown, never as numbers, and a report without them keeps the last. */
START_TEST (test_repair_and_estimate_reach_the_board)
{
  Env e;
  env_start (&e);
  g_autoptr (JsonNode) n0 = NULL;
  JsonObject *leg = report_extra (&e, "", &n0);
  ck_assert (json_object_get_null_member (leg, "repair"));
  ck_assert (json_object_get_null_member (leg, "cc"));

  g_autoptr (JsonNode) n1 = NULL;
  leg = report_extra (
      &e,
      ",\"retransmission\":{\"nacks_in\":72,\"retransmitted\":67,\"nack_misses\":5,"
      "\"rtx_held\":0,\"nacks_out\":30,\"nacked\":49,\"lost\":49,\"rtx_in\":49,"
      "\"recovered\":48,\"rtx_dropped\":0,\"given_up\":1},"
      "\"cc\":{\"level\":\"low\",\"estimate\":612345,\"sent\":1500000,"
      "\"acked\":600000,\"limited\":true,\"twcc\":false}",
      &n1);
  JsonObject *r = json_object_get_object_member (leg, "repair");
  ck_assert_int_eq (json_object_get_int_member (r, "up_lost"), 49);
  ck_assert_int_eq (json_object_get_int_member (r, "up_recovered"), 48);
  ck_assert_int_eq (json_object_get_int_member (r, "down_asked"), 72);
  ck_assert_int_eq (json_object_get_int_member (r, "down_answered"), 67);
  JsonObject *c = json_object_get_object_member (leg, "cc");
  ck_assert_int_eq (json_object_get_int_member (c, "estimate_kbps"), 612);
  ck_assert_int_eq (json_object_get_int_member (c, "sent_kbps"), 1500);
  ck_assert (json_object_get_boolean_member (c, "limited"));
  ck_assert (!json_object_get_boolean_member (c, "twcc"));

  /* a report without them keeps what the last said */
  g_autoptr (JsonNode) n2 = NULL;
  leg = report_extra (&e, "", &n2);
  r = json_object_get_object_member (leg, "repair");
  ck_assert_int_eq (json_object_get_int_member (r, "up_recovered"), 48);

  /* nonsense is unknown, not a number */
  g_autoptr (JsonNode) n3 = NULL;
  leg = report_extra (
      &e,
      ",\"retransmission\":{\"nacks_in\":-1,\"retransmitted\":1.5,"
      "\"lost\":1e300,\"recovered\":\"48\"},"
      "\"cc\":{\"estimate\":-5,\"sent\":1e300,\"limited\":1,\"twcc\":\"yes\"}",
      &n3);
  ck_assert (json_object_get_null_member (leg, "repair")); /* no count is known */
  c = json_object_get_object_member (leg, "cc");
  ck_assert (json_object_get_null_member (c, "estimate_kbps"));
  /* a rate past what 16 bits of kbit/s hold is shown at its ceiling, as kbps is */
  ck_assert_int_eq (json_object_get_int_member (c, "sent_kbps"), 65534);
  ck_assert (json_object_get_null_member (c, "limited"));
  ck_assert (json_object_get_null_member (c, "twcc"));
  env_stop (&e);
}
END_TEST

/* What the node sends a site of the content reaches the hall itself and the board
 * (content.receive) when it changes, and only then: a hall at audio only can say
 * that stills come, or nothing; an unknown value changes nothing. */
START_TEST (test_content_receive_reaches_the_hall)
{
  Env e;
  env_start (&e);
  g_autoptr (JsonNode) n0 = NULL;
  JsonObject *leg = report_extra (&e, ",\"content\":{\"gets\":\"full\"}", &n0);
  ck_assert_str_eq (json_object_get_string_member (leg, "content_gets"), "full");
  g_autoptr (JsonNode) ev0 = ws_take (&e.hall_bad, "content.receive");
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (ev0), "gets"),
                    "full");
  g_autoptr (JsonNode) n1 = NULL;
  leg = report_extra (&e, ",\"content\":{\"gets\":\"stills\",\"forwarded\":9}", &n1);
  g_autoptr (JsonNode) ev1 = ws_take (&e.hall_bad, "content.receive");
  JsonObject *o = json_node_get_object (ev1);
  ck_assert_str_eq (json_object_get_string_member (o, "gets"), "stills");
  ck_assert_int_eq (json_object_get_int_member (o, "site_id"), e.bad);
  ck_assert_int_eq (json_object_get_int_member (o, "occurrence_id"), 1);
  g_autoptr (JsonNode) evd = ws_take (&e.dash, "content.receive");
  ck_assert_ptr_nonnull (evd);
  /* the same again, or nonsense: no event, the last value stays */
  g_autoptr (JsonNode) n2 = NULL;
  leg = report_extra (&e, ",\"content\":{\"gets\":\"stills\"}", &n2);
  g_autoptr (JsonNode) n3 = NULL;
  leg = report_extra (&e, ",\"content\":{\"gets\":\"everything\"}", &n3);
  g_autoptr (JsonNode) n4 = NULL;
  leg = report_extra (&e, ",\"content\":\"none\"", &n4);
  ck_assert_str_eq (json_object_get_string_member (leg, "content_gets"), "stills");
  ws_barrier (&e.hall_bad, FALSE);
  ck_assert_uint_eq (ws_count (&e.hall_bad, "content.receive"), 0);
  ck_assert_uint_eq (ws_count (&e.hall_good, "content.receive"), 0);
  env_stop (&e);
}
END_TEST

static Suite *
links_suite (void)
{
  Suite *s = suite_create ("quality-links");
  TCase *tc = tcase_create ("links");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_stepdown_alarm_and_back);
  tcase_add_test (tc, test_pinned_level_is_left_alone);
  tcase_add_test (tc, test_older_level_route_pins_too);
  tcase_add_test (tc, test_dropped_site_and_node_down);
  tcase_add_test (tc, test_metrics_pass_promtool);
  tcase_add_test (tc, test_repair_and_estimate_reach_the_board);
  tcase_add_test (tc, test_content_receive_reaches_the_hall);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  g_assert (argc >= 2);
  sd_binary_path = argv[1];
  ltctl_path = argc >= 3 ? argv[2] : NULL;
  return lt_test_run (links_suite ());
}
