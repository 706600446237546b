/* Suite signaling-recording: black-box tests of the real lienthong-signald (path in
 * argv[1]) with fake media nodes at 08 and 076 and fake halls, about recordings
 * (issue 17; PROTOCOL.md, "Recording"). They prove, at the level of the messages:
 * - a meeting booked with "record" starts recording when its leg opens, on the node
 *   hosting the chair's hall and no other (record.start, part 1); halls and
 *   subscribers see `recording`, and a hall's `joined` says it records;
 * - pause and resume reach that node and are kept with who did them; stop ends it;
 * - a node's record.segment is listed only for a part it writes, with a name of the
 *   form a node makes and a lower-case SHA-256; another node, a path, a repeat are
 *   refused and list nothing;
 * - the files are served in ranges (206 with Content-Range, 416 past the end, 200
 *   whole) to those who may read the meeting, 404 to another province's secretary,
 *   401 to a revoked token;
 * - a node that stops for lack of disk raises an alarm and ends the recording, the
 *   meeting going on;
 * - when the chair's node dies the node above records, in part 2;
 * - past [recordings] keep-days the files are deleted, the recording is "expired"
 *   and the audit log says so. */
#include "lt-test.h"
#include "sig-test-util.h"

#include <glib/gstdio.h>

/* 2026-12-01T00:50:00Z: inside the lobby of a meeting at 08:00+07:00 (01:00Z) */
#define NOW 1796086200
#define CONF_FMT                                                      \
  "[testing]\nnow=%d\n[nodes]\nheartbeat-interval=60\n[recordings]\n" \
  "segment-seconds=5\nkeep-days=%d\n"
/* chair 076 (a district, hosted by node-076 under node-08) with its communes, and the
 * province's hall (on node-08) */
#define MEETING "[{\"unit\":\"08\"},{\"unit\":\"076\",\"down_to\":\"commune\"}]"

typedef struct
{
  SdDaemon *d;
  SoupSession *s;
  gint64 chair, commune;
  WsPeer n08, n076, dash;
} Env;

static void
env_start (Env *e, gboolean record)
{
  memset (e, 0, sizeof *e);
  g_autofree char *conf = g_strdup_printf (CONF_FMT, NOW, 1);
  e->d = sd_start (conf);
  import_tiny (e->d);
  e->s = soup_session_new ();
  e->chair = site_of (e->d, "076");
  e->commune = site_of (e->d, "02536");
  node_connect (e->d, e->s, &e->n08, "node-08", "08");
  node_connect (e->d, e->s, &e->n076, "node-076", "076");
  guint st;
  g_autofree char *body = g_strdup_printf (
      "{\"title\":\"Giao ban\",\"chair\":\"076\",\"starts_at\":\"%s\",\"ends_at\":"
      "\"%s\",\"participants\":%s,\"record\":%s}",
      DAY1 "08:00:00" TZ, DAY1 "10:00:00" TZ, MEETING, record ? "true" : "false");
  g_autofree char *r = sd_http_full (e->d, "POST", "/api/v1/meetings", e->d->admin, NULL,
                                     body, -1, NULL, &st, NULL);
  ck_assert_msg (st == 201, "book: %u %s", st, r);
  g_autofree char *mr
      = sd_http (e->d, "GET", "/api/v1/meetings/1", e->d->admin, NULL, &st);
  g_autoptr (JsonNode) m = sd_json (mr);
  ck_assert (json_object_get_boolean_member (json_node_get_object (m), "record")
             == record);
  /* the dashboard follows it from here: a booked recording's start is already told
   * to the node (checked by the tests), the dashboard sees what comes after */
  ck_assert (ws_open (&e->dash, e->s, e->d, "/api/v1/ws", e->d->admin, NULL));
  ws_send (&e->dash, "{\"type\":\"subscribe\",\"meeting_id\":1}");
  json_node_unref (ws_take (&e->dash, "subscribed"));
}

static void
env_stop (Env *e)
{
  ws_close (&e->dash);
  if (e->n076.loop != NULL)
    ws_close (&e->n076);
  ws_close (&e->n08);
  g_clear_object (&e->s);
  sd_free (e->d);
}

static JsonNode *
get_json (Env *e, const char *path, guint want)
{
  guint st;
  g_autofree char *body = sd_http (e->d, "GET", path, e->d->admin, NULL, &st);
  ck_assert_msg (st == want, "GET %s: %u %s", path, st, body);
  return sd_json (body);
}

static JsonNode *
control (Env *e, const char *action, guint want)
{
  g_autofree char *body = g_strdup_printf ("{\"action\":\"%s\"}", action);
  guint st;
  g_autofree char *r
      = sd_http (e->d, "POST", "/api/v1/occurrences/1/recording", e->d->admin, body, &st);
  ck_assert_msg (st == want, "%s: %u %s", action, st, r);
  return st == 200 ? sd_json (r) : NULL;
}

/* The node's next record.start: recording 1, @part, the configured length. */
static void
expect_start (WsPeer *node, gint64 part)
{
  g_autoptr (JsonNode) s = ws_take (node, "record.start");
  ck_assert_int_eq (jint (s, "occurrence_id"), 1);
  ck_assert_int_eq (jint (s, "recording_id"), 1);
  ck_assert_int_eq (jint (s, "part"), part);
  ck_assert_int_eq (jint (s, "segment_s"), 5);
}

static void
expect_event (Env *e, const char *state)
{
  g_autoptr (JsonNode) ev = ws_take (&e->dash, "recording");
  ck_assert_int_eq (jint (ev, "recording_id"), 1);
  ck_assert_int_eq (jint (ev, "meeting_id"), 1);
  ck_assert_str_eq (jstr (ev, "state"), state);
}

/* Sends a node message and returns the error signald answered (NULL: none); the
 * barrier after it (an unknown type, answered with an error of its own) proves no
 * answer is still on its way. */
static JsonNode *
node_says (WsPeer *node, const char *msg)
{
  ws_drop (node, "error");
  ws_send (node, msg);
  ws_send (node, "{\"type\":\"barrier\"}");
  JsonNode *found = NULL;
  for (;;)
    {
      JsonNode *n = ws_take (node, "error");
      ck_assert_ptr_nonnull (n);
      if (strstr (jstr (n, "message"), "barrier") != NULL)
        {
          json_node_unref (n);
          return found;
        }
      if (found == NULL)
        found = n;
      else
        json_node_unref (n);
    }
}

static char *
segment_msg (const char *file, gint64 part, gsize bytes, const char *sha)
{
  return g_strdup_printf ("{\"v\":1,\"type\":\"record.segment\",\"occurrence_id\":1,"
                          "\"recording_id\":1,\"part\":%" G_GINT64_FORMAT
                          ",\"file\":\"%s\","
                          "\"bytes\":%zu,\"sha256\":\"%s\"}",
                          part, file, bytes, sha);
}

static guint
n_files (Env *e)
{
  g_autoptr (JsonNode) r = get_json (e, "/api/v1/recordings/1", 200);
  JsonArray *files = json_object_get_array_member (json_node_get_object (r), "files");
  guint n = 0;
  for (guint i = 0; i < json_array_get_length (files); i++)
    if (g_strcmp0 (json_object_get_string_member (
                       json_array_get_object_element (files, i), "track"),
                   "manifest")
        != 0)
      n++;
  return n;
}

START_TEST (test_booked_recording_runs_on_the_chair_node)
{
  Env e;
  env_start (&e, TRUE);
  expect_start (&e.n076, 1);
  ws_barrier (&e.n08, TRUE);
  ck_assert_uint_eq (ws_count (&e.n08, "record.start"), 0);
  g_autoptr (JsonNode) media = get_json (&e, "/api/v1/occurrences/1/media", 200);
  JsonObject *leg = json_object_get_object_member (json_node_get_object (media), "leg");
  JsonObject *rec = json_object_get_object_member (leg, "recording");
  ck_assert_int_eq (json_object_get_int_member (rec, "id"), 1);
  ck_assert_str_eq (json_object_get_string_member (rec, "state"), "recording");

  /* a hall that joins learns it is recorded */
  WsPeer hall;
  g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, e.commune);
  g_autofree char *tok = make_token (e.d, "site", scope, NULL);
  ck_assert (ws_open (&hall, e.s, e.d, "/api/v1/ws", tok, NULL));
  ws_send (&hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 offer\"}");
  g_autoptr (JsonNode) joined = ws_take (&hall, "joined");
  ck_assert_str_eq (jstr (joined, "recording"), "recording");

  /* a second start is a conflict; pause and resume go to the recording node */
  ck_assert_ptr_null (control (&e, "start", 409));
  g_autoptr (JsonNode) p = control (&e, "pause", 200);
  ck_assert_str_eq (jstr (p, "state"), "paused");
  g_autoptr (JsonNode) pm = ws_take (&e.n076, "record.pause");
  ck_assert (json_object_get_boolean_member (json_node_get_object (pm), "paused"));
  expect_event (&e, "paused");
  g_autoptr (JsonNode) hp = ws_take (&hall, "recording");
  ck_assert_str_eq (jstr (hp, "state"), "paused");
  ck_assert_ptr_null (control (&e, "pause", 409));
  g_autoptr (JsonNode) r = control (&e, "resume", 200);
  g_autoptr (JsonNode) rm = ws_take (&e.n076, "record.pause");
  ck_assert (!json_object_get_boolean_member (json_node_get_object (rm), "paused"));
  expect_event (&e, "recording");
  JsonArray *pauses = json_object_get_array_member (json_node_get_object (r), "pauses");
  ck_assert_uint_eq (json_array_get_length (pauses), 1);
  JsonObject *p0 = json_array_get_object_element (pauses, 0);
  /* who: the account signed in, or (here) the admin token's id */
  ck_assert (g_str_has_prefix (json_object_get_string_member (p0, "by"), "tok_"));
  ck_assert_ptr_nonnull (json_object_get_string_member (p0, "resumed_at"));
  ck_assert_str_eq (jstr (r, "started_by"), "schedule");

  /* a hall may not control it; stop ends it at the node */
  guint st;
  g_autofree char *h = sd_http (e.d, "POST", "/api/v1/occurrences/1/recording", tok,
                                "{\"action\":\"stop\"}", &st);
  ck_assert_uint_eq (st, 403);
  g_autoptr (JsonNode) s = control (&e, "stop", 200);
  ck_assert_str_eq (jstr (s, "state"), "stopped");
  ck_assert_str_eq (jstr (s, "stop_reason"), "stopped");
  json_node_unref (ws_take (&e.n076, "record.stop"));
  expect_event (&e, "stopped");
  ws_close (&hall);
  env_stop (&e);
}
END_TEST

/* The file node-076 "wrote", in signald's recordings folder. */
static void
write_file (Env *e, const char *name, const char *text)
{
  g_autofree char *dir = g_build_filename (e->d->state_dir, "recordings", "1", NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  ck_assert_int_eq (g_mkdir_with_parents (dir, 0700), 0);
  ck_assert (g_file_set_contents (path, text, -1, NULL));
}

static char *
file_get (Env *e, const char *token, const char *range, guint *st,
          SoupMessageHeaders **rh)
{
  g_autofree char *hdr = range ? g_strconcat ("Range: ", range, NULL) : NULL;
  const char *headers[] = { hdr, NULL };
  return sd_http_full (e->d, "GET", "/api/v1/recordings/1/files/p1-program-00001.webm",
                       token, NULL, NULL, 0, headers, st, rh);
}

START_TEST (test_segments_are_checked_and_served_in_ranges)
{
  Env e;
  env_start (&e, FALSE);
  ck_assert_ptr_null (control (&e, "stop", 409)); /* nothing runs yet */
  g_autoptr (JsonNode) started = control (&e, "start", 200);
  ck_assert (g_str_has_prefix (jstr (started, "started_by"), "tok_"));
  expect_start (&e.n076, 1);
  const char *text = "0123456789abcdef";
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  write_file (&e, "p1-program-00001.webm", text);

  /* refused, each changing nothing: another node; a name no node makes; a part
   * nobody writes; an upper-case digest */
  g_autofree char *ok = segment_msg ("p1-program-00001.webm", 1, 16, sha);
  g_autofree char *bad_name = segment_msg ("../../lienthong.db", 1, 16, sha);
  g_autofree char *bad_part = segment_msg ("p2-program-00001.webm", 2, 16, sha);
  g_autofree char *upper = g_ascii_strup (sha, -1);
  g_autofree char *bad_sha = segment_msg ("p1-program-00002.webm", 1, 16, upper);
  g_autoptr (JsonNode) e1 = node_says (&e.n08, ok);
  ck_assert_str_eq (jstr (e1, "code"), "forbidden");
  g_autoptr (JsonNode) e2 = node_says (&e.n076, bad_name);
  ck_assert_ptr_nonnull (e2);
  g_autoptr (JsonNode) e3 = node_says (&e.n076, bad_part);
  ck_assert_str_eq (jstr (e3, "code"), "forbidden");
  g_autoptr (JsonNode) e4 = node_says (&e.n076, bad_sha);
  ck_assert_ptr_nonnull (e4);
  g_autoptr (JsonNode) e5
      = node_says (&e.n08, "{\"v\":1,\"type\":\"record.started\",\"occurrence_id\":1,"
                           "\"recording_id\":1,\"part\":1}");
  ck_assert_str_eq (jstr (e5, "code"), "forbidden");
  ck_assert_uint_eq (n_files (&e), 0);
  /* its own file is listed once */
  ck_assert_ptr_null (node_says (&e.n076, ok));
  g_autoptr (JsonNode) again = node_says (&e.n076, ok);
  ck_assert_ptr_nonnull (again);
  ck_assert_uint_eq (n_files (&e), 1);

  guint st;
  SoupMessageHeaders *rh = NULL;
  g_autofree char *whole = file_get (&e, e.d->admin, NULL, &st, &rh);
  ck_assert_uint_eq (st, 200);
  ck_assert_str_eq (whole, text);
  ck_assert_str_eq (soup_message_headers_get_one (rh, "Accept-Ranges"), "bytes");
  g_clear_pointer (&rh, soup_message_headers_unref);
  g_autofree char *mid = file_get (&e, e.d->admin, "bytes=2-5", &st, &rh);
  ck_assert_uint_eq (st, 206);
  ck_assert_str_eq (mid, "2345");
  ck_assert_str_eq (soup_message_headers_get_one (rh, "Content-Range"), "bytes 2-5/16");
  g_clear_pointer (&rh, soup_message_headers_unref);
  g_autofree char *tail = file_get (&e, e.d->admin, "bytes=-3", &st, NULL);
  ck_assert_uint_eq (st, 206);
  ck_assert_str_eq (tail, "def");
  g_autofree char *past = file_get (&e, e.d->admin, "bytes=16-", &st, &rh);
  ck_assert_uint_eq (st, 416);
  ck_assert_str_eq (soup_message_headers_get_one (rh, "Content-Range"), "bytes */16");
  g_clear_pointer (&rh, soup_message_headers_unref);

  /* another province's secretary does not learn it exists; a hall may not read it;
   * a revoked token gets nothing */
  g_autofree char *sec10 = make_token (e.d, "secretary", "10", NULL);
  g_autofree char *x = file_get (&e, sec10, NULL, &st, NULL);
  ck_assert_uint_eq (st, 404);
  g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, e.commune);
  g_autofree char *hall = make_token (e.d, "site", scope, NULL);
  g_autofree char *y = file_get (&e, hall, NULL, &st, NULL);
  ck_assert_uint_eq (st, 403);
  g_autofree char *sec08 = make_token (e.d, "secretary", "08", NULL);
  g_autofree char *z = file_get (&e, sec08, "bytes=0-0", &st, NULL);
  ck_assert_uint_eq (st, 206);
  g_autoptr (JsonNode) toks = get_json (&e, "/api/v1/tokens", 200);
  JsonArray *ta = json_object_get_array_member (json_node_get_object (toks), "tokens");
  const char *sec08_id = NULL; /* the one secretary token of 08 (ids are random) */
  for (guint i = 0; i < json_array_get_length (ta); i++)
    {
      JsonObject *t = json_array_get_object_element (ta, i);
      if (g_strcmp0 (json_object_get_string_member_with_default (t, "role", ""),
                     "secretary")
              == 0
          && g_strcmp0 (json_object_get_string_member_with_default (t, "scope", ""), "08")
                 == 0)
        sec08_id = json_object_get_string_member (t, "id");
    }
  ck_assert_ptr_nonnull (sec08_id);
  g_autofree char *del_path = g_strdup_printf ("/api/v1/tokens/%s", sec08_id);
  g_autofree char *del = sd_http (e.d, "DELETE", del_path, e.d->admin, NULL, &st);
  ck_assert_uint_eq (st, 204);
  g_autofree char *w = file_get (&e, sec08, NULL, &st, NULL);
  ck_assert_uint_eq (st, 401);
  env_stop (&e);
}
END_TEST

START_TEST (test_disk_full_raises_an_alarm)
{
  Env e;
  env_start (&e, TRUE);
  expect_start (&e.n076, 1);
  /* a stop about a part it does not write is refused and ends nothing */
  g_autoptr (JsonNode) e1
      = node_says (&e.n08, "{\"v\":1,\"type\":\"record.stopped\",\"occurrence_id\":1,"
                           "\"recording_id\":1,\"part\":1,\"reason\":\"disk\"}");
  ck_assert_str_eq (jstr (e1, "code"), "forbidden");
  g_autoptr (JsonNode) r0 = get_json (&e, "/api/v1/recordings/1", 200);
  ck_assert_str_eq (jstr (r0, "state"), "recording");
  ck_assert_ptr_null (
      node_says (&e.n076, "{\"v\":1,\"type\":\"record.stopped\",\"occurrence_id\":1,"
                          "\"recording_id\":1,\"part\":1,\"reason\":\"disk\",\"message\":"
                          "\"12 MiB free, 256 MiB wanted\"}"));
  expect_event (&e, "stopped");
  g_autoptr (JsonNode) alarm = ws_take (&e.dash, "alarm.raised");
  ck_assert_str_eq (jstr (alarm, "kind"), "recording.disk");
  g_autoptr (JsonNode) r = get_json (&e, "/api/v1/recordings/1", 200);
  ck_assert_str_eq (jstr (r, "state"), "stopped");
  ck_assert_str_eq (jstr (r, "stop_reason"), "disk");
  /* the meeting goes on: its leg still runs */
  g_autoptr (JsonNode) media = get_json (&e, "/api/v1/occurrences/1/media", 200);
  JsonObject *leg = json_object_get_object_member (json_node_get_object (media), "leg");
  ck_assert_ptr_nonnull (leg);
  ck_assert (JSON_NODE_HOLDS_NULL (json_object_get_member (leg, "recording")));
  env_stop (&e);
}
END_TEST

START_TEST (test_the_node_above_takes_over)
{
  Env e;
  env_start (&e, TRUE);
  expect_start (&e.n076, 1);
  ws_close (&e.n076); /* its socket closes: down */
  memset (&e.n076, 0, sizeof e.n076);
  expect_start (&e.n08, 2);
  g_autoptr (JsonNode) r = get_json (&e, "/api/v1/recordings/1", 200);
  JsonArray *parts = json_object_get_array_member (json_node_get_object (r), "parts");
  ck_assert_uint_eq (json_array_get_length (parts), 2);
  JsonObject *p1 = json_array_get_object_element (parts, 0);
  JsonObject *p2 = json_array_get_object_element (parts, 1);
  ck_assert_str_eq (json_object_get_string_member (p1, "node_id"), "node-076");
  ck_assert_str_eq (json_object_get_string_member (p1, "reason"), "node");
  ck_assert_str_eq (json_object_get_string_member (p2, "node_id"), "node-08");
  ck_assert (JSON_NODE_HOLDS_NULL (json_object_get_member (p2, "ended_at")));
  ck_assert_str_eq (jstr (r, "state"), "recording");
  env_stop (&e);
}
END_TEST

START_TEST (test_expired_recordings_are_deleted)
{
  Env e;
  env_start (&e, TRUE);
  expect_start (&e.n076, 1);
  const char *text = "segment";
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  write_file (&e, "p1-program-00001.webm", text);
  g_autofree char *ok = segment_msg ("p1-program-00001.webm", 1, 7, sha);
  ck_assert_ptr_null (node_says (&e.n076, ok));
  g_autoptr (JsonNode) s = control (&e, "stop", 200);
  /* a day later it is kept; two days later it is gone */
  for (int days = 1; days <= 2; days++)
    {
      g_autofree char *conf
          = g_strdup_printf (CONF_FMT, days == 1 ? NOW + 86400 - 60 : NOW + 2 * 86400, 1);
      ws_close (&e.n076);
      ws_close (&e.n08);
      sd_restart (e.d, conf);
      g_autoptr (JsonNode) r = get_json (&e, "/api/v1/recordings/1", 200);
      ck_assert_str_eq (jstr (r, "state"), days == 1 ? "stopped" : "expired");
      g_autofree char *path = g_build_filename (e.d->state_dir, "recordings", "1",
                                                "p1-program-00001.webm", NULL);
      ck_assert (g_file_test (path, G_FILE_TEST_EXISTS) == (days == 1));
      node_connect (e.d, e.s, &e.n08, "node-08", "08");
      node_connect (e.d, e.s, &e.n076, "node-076", "076");
    }
  g_autoptr (JsonNode) audit
      = get_json (&e, "/api/v1/audit?action=recording.expire", 200);
  g_autofree char *text_audit = json_to_string (audit, FALSE);
  ck_assert_msg (strstr (text_audit, "recording.expire") != NULL, "no audit: %s",
                 text_audit);
  env_stop (&e);
}
END_TEST

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      g_printerr ("usage: %s PATH-TO-lienthong-signald\n", argv[0]);
      return 2;
    }
  sd_binary_path = argv[1];
  Suite *s = suite_create ("signaling-recording");
  TCase *tc = tcase_create ("recording");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_booked_recording_runs_on_the_chair_node);
  tcase_add_test (tc, test_segments_are_checked_and_served_in_ranges);
  tcase_add_test (tc, test_disk_full_raises_an_alarm);
  tcase_add_test (tc, test_the_node_above_takes_over);
  tcase_add_test (tc, test_expired_recordings_are_deleted);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
