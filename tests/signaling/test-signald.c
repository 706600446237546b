/* Suite signaling-signald: black-box tests of the real lienthong-signald binary
 * (path in argv[1]) started on an ephemeral loopback port with a temporary state
 * folder. They prove: CSV import and diacritic-free search over HTTP; booking with a
 * cascade plan, the 409 body naming every clash, Idempotency-Key; .ics invitations
 * whose SEQUENCE and METHOD follow changes and cancellation; attendance in JSON and
 * CSV; the whole role x route matrix; that every class of bad input is refused with
 * its status and field and leaves the database byte-for-byte unchanged; token expiry
 * and the failed-authentication limit; persistence across a restart; a start missed
 * while the daemon was down firing exactly once; SIGTERM draining (503 + Retry-After
 * for bookings, reads still served, clean exit after the grace); and that the
 * OpenAPI document lists every route of the route table; the WebSocket rules (auth and
 * Origin before the handshake, 1009 over 64 KiB, node registry and heartbeats, offer and
 * answer relayed between a site and its node); and ltctl's output and exit codes. */
#include "lt-test.h"
#include "sig-server-private.h"
#include "sig-test-daemon.h"
#include "sig-test-util.h"

#include <sys/wait.h>

START_TEST (test_import_search)
{
  SdDaemon *d = sd_start (NULL);
  guint st;
  g_autofree char *r = sd_http_full (d, "POST", "/api/v1/units/import", d->admin,
                                     "text/csv", tiny_csv, -1, NULL, &st, NULL);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) n = sd_json (r);
  JsonObject *o = json_node_get_object (n);
  ck_assert_int_eq (json_object_get_int_member (o, "imported"), 10);
  JsonObject *bt = json_object_get_object_member (o, "by_tier");
  ck_assert_int_eq (json_object_get_int_member (bt, "province"), 2);
  ck_assert_int_eq (json_object_get_int_member (bt, "commune"), 4);

  g_autofree char *s
      = sd_http (d, "GET", "/api/v1/units/search?q=son%20duong", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) sn = sd_json (s);
  JsonArray *units = json_object_get_array_member (json_node_get_object (sn), "units");
  ck_assert_uint_ge (json_array_get_length (units), 2);
  ck_assert_str_eq (
      json_object_get_string_member (json_array_get_object_element (units, 0), "code"),
      "076");

  g_autofree char *c = sd_http (d, "GET", "/api/v1/units?parent=08", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_ptr_nonnull (strstr (c, "\"070\""));
  ck_assert_ptr_null (strstr (c, "\"080\""));
  g_autofree char *u = sd_http (d, "GET", "/api/v1/units/0999", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 404);
  g_autofree char *metrics = sd_http (d, "GET", "/metrics", d->admin, NULL, &st);
  ck_assert_ptr_nonnull (strstr (metrics,
                                 "lienthong_http_requests_total{route=\"/api/v1/"
                                 "units/search\",method=\"GET\",status=\"200\"} 1\n"));
  ck_assert_ptr_nonnull (strstr (metrics,
                                 "lienthong_http_requests_total{route=\"/api/v1/"
                                 "units/{code}\",method=\"GET\",status=\"404\"} 1\n"));
  ck_assert_ptr_nonnull (strstr (metrics, "lienthong_units 10\n"));
  ck_assert_ptr_nonnull (strstr (metrics, "lienthong_build_info{version=\""));
  sd_free (d);
}
END_TEST

START_TEST (test_import_tuyen_quang)
{
  LT_REQUIRE_SHARED_FILE (path, "vn-units-2024-tuyen-quang.csv");
  g_autofree char *csv = NULL;
  gsize len;
  ck_assert (g_file_get_contents (path, &csv, &len, NULL));
  SdDaemon *d = sd_start (NULL);
  guint st;
  g_autofree char *r = sd_http_full (d, "POST", "/api/v1/units/import", d->admin,
                                     "text/csv", csv, (gssize)len, NULL, &st, NULL);
  ck_assert_uint_eq (st, 200);
  ck_assert_ptr_nonnull (strstr (
      r, "\"by_tier\":{\"central\":1,\"province\":1,\"district\":7,\"commune\":138}"));
  g_autofree char *b
      = book (d, d->admin, "Giao ban", "08", DAY1 "08:00:00" TZ, DAY1 "10:00:00" TZ,
              "[{\"unit\":\"08\",\"down_to\":\"commune\"}]", NULL, &st);
  ck_assert_uint_eq (st, 201);
  ck_assert_ptr_nonnull (strstr (b, "\"site_count\":146"));
  sd_free (d);
}
END_TEST

START_TEST (test_book_conflict_idempotency)
{
  SdDaemon *d = sd_start (NULL);
  import_tiny (d);
  guint st;
  g_autofree char *a
      = book (d, d->admin, "Họp tỉnh", "08", DAY1 "08:00:00" TZ, DAY1 "10:00:00" TZ,
              "[{\"unit\":\"08\",\"down_to\":\"commune\"}]", "k-1", &st);
  ck_assert_msg (st == 201, "%s", a);
  g_autoptr (JsonNode) an = sd_json (a);
  JsonObject *ao = json_node_get_object (an);
  gint64 id = json_object_get_int_member (ao, "id");
  ck_assert_int_eq (json_object_get_int_member (ao, "site_count"), 6);
  ck_assert (json_object_has_member (ao, "cascade_plan"));

  /* the same key again: the same meeting, nothing new booked */
  g_autofree char *a2
      = book (d, d->admin, "Họp tỉnh", "08", DAY1 "08:00:00" TZ, DAY1 "10:00:00" TZ,
              "[{\"unit\":\"08\",\"down_to\":\"commune\"}]", "k-1", &st);
  ck_assert_uint_eq (st, 201);
  g_autoptr (JsonNode) a2n = sd_json (a2);
  ck_assert_int_eq (json_object_get_int_member (json_node_get_object (a2n), "id"), id);
  ck_assert (json_object_get_boolean_member (json_node_get_object (a2n), "replayed"));

  /* overlapping at 076's two sites (the district and its communes) */
  g_autofree char *c
      = book (d, d->admin, "Họp huyện", "076", DAY1 "09:00:00" TZ, DAY1 "11:00:00" TZ,
              "[{\"unit\":\"076\",\"down_to\":\"commune\"}]", NULL, &st);
  ck_assert_uint_eq (st, 409);
  g_autoptr (JsonNode) cn = sd_json (c);
  JsonObject *err = json_object_get_object_member (json_node_get_object (cn), "error");
  ck_assert_str_eq (json_object_get_string_member (err, "code"), "conflict");
  JsonArray *cl = json_object_get_array_member (err, "conflicts");
  ck_assert_uint_eq (json_array_get_length (cl), 3); /* 076, 02536, 02539 */
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *ci = json_array_get_object_element (cl, i);
      ck_assert_int_eq (json_object_get_int_member (ci, "meeting_id"), id);
      ck_assert_str_eq (json_object_get_string_member (ci, "meeting_title"), "Họp tỉnh");
    }

  /* the booking form's check before saving: the same 409 and list, nothing stored;
   * a free slot is counted; a secretary of another province is refused as on booking */
  g_autofree char *lc = make_token (d, "secretary", "10", NULL);
  g_autofree char *before = sd_dump_db (d);
  const char *clash = "{\"title\":\"Họp huyện\",\"chair\":\"076\",\"starts_at\":\"" DAY1
                      "09:00:00" TZ "\",\"ends_at\":\"" DAY1 "11:00:00" TZ
                      "\",\"participants\":[{\"unit\":\"076\",\"down_to\":\"commune\"}]}";
  g_autofree char *k
      = sd_http (d, "POST", "/api/v1/meetings/check", d->admin, clash, &st);
  ck_assert_uint_eq (st, 409);
  g_autoptr (JsonNode) kn = sd_json (k);
  JsonObject *kerr = json_object_get_object_member (json_node_get_object (kn), "error");
  ck_assert_uint_eq (
      json_array_get_length (json_object_get_array_member (kerr, "conflicts")), 3);
  const char *later = "{\"title\":\"Họp huyện\",\"chair\":\"076\",\"starts_at\":\"" DAY1
                      "10:00:00" TZ "\",\"ends_at\":\"" DAY1 "11:00:00" TZ
                      "\",\"participants\":[{\"unit\":\"076\",\"down_to\":\"commune\"}],"
                      "\"recurrence\":\"FREQ=DAILY;COUNT=3\"}";
  g_autofree char *ok
      = sd_http (d, "POST", "/api/v1/meetings/check", d->admin, later, &st);
  ck_assert_msg (st == 200, "%s", ok);
  ck_assert_ptr_nonnull (strstr (ok, "\"site_count\":3"));
  ck_assert_ptr_nonnull (strstr (ok, "\"occurrence_count\":3"));
  g_autofree char *out = sd_http (d, "POST", "/api/v1/meetings/check", lc, later, &st);
  ck_assert_uint_eq (st, 403);
  g_autofree char *bad
      = sd_http (d, "POST", "/api/v1/meetings/check", d->admin, "{\"title\":1}", &st);
  ck_assert_uint_eq (st, 400);
  g_autofree char *after = sd_dump_db (d);
  ck_assert_str_eq (before, after);

  /* a later slot is free; Lào Cai at the same time too */
  g_autofree char *f
      = book (d, d->admin, "Họp Lào Cai", "10", DAY1 "08:00:00" TZ, DAY1 "10:00:00" TZ,
              "[{\"unit\":\"10\",\"down_to\":\"commune\"}]", NULL, &st);
  ck_assert_uint_eq (st, 201);
  g_autofree char *l = sd_http (d, "GET",
                                "/api/v1/meetings?from=2026-12-01T00:00:00%2B07:00&to="
                                "2026-12-02T00:00:00%2B07:00",
                                d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_ptr_nonnull (strstr (l, "Họp tỉnh"));
  ck_assert_ptr_nonnull (strstr (l, "Họp Lào Cai"));
  ck_assert_ptr_null (strstr (l, "Họp huyện"));
  sd_free (d);
}
END_TEST

START_TEST (test_ics_and_attendance)
{
  SdDaemon *d = sd_start (NULL);
  import_tiny (d);
  guint st;
  g_autofree char *a
      = book (d, d->admin, "Họp", "08", DAY1 "08:00:00" TZ, DAY1 "10:00:00" TZ,
              "[{\"unit\":\"08\",\"down_to\":\"commune\"}]", NULL, &st);
  ck_assert_uint_eq (st, 201);
  g_autoptr (SoupMessageHeaders) h = NULL;
  g_autofree char *ics = sd_http_full (d, "GET", "/api/v1/meetings/1.ics", d->admin, NULL,
                                       NULL, 0, NULL, &st, &h);
  ck_assert_uint_eq (st, 200);
  ck_assert_str_eq (soup_message_headers_get_content_type (h, NULL), "text/calendar");
  ck_assert_ptr_nonnull (strstr (ics, "METHOD:REQUEST"));
  ck_assert_ptr_nonnull (strstr (ics, "UID:meeting-1@lienthong"));
  ck_assert_ptr_nonnull (strstr (ics, "SEQUENCE:0"));
  ck_assert_ptr_nonnull (strstr (ics, "DTSTART:20261201T010000Z"));

  g_autofree char *p
      = sd_http (d, "PATCH", "/api/v1/meetings/1", d->admin,
                 "{\"title\":\"Họp (dời)\",\"starts_at\":\"" DAY1 "13:00:00" TZ
                 "\",\"ends_at\":\"" DAY1 "15:00:00" TZ "\"}",
                 &st);
  ck_assert_msg (st == 200, "%s", p);
  g_autofree char *ics2
      = sd_http (d, "GET", "/api/v1/meetings/1.ics", d->admin, NULL, &st);
  ck_assert_ptr_nonnull (strstr (ics2, "SEQUENCE:1"));
  ck_assert_ptr_nonnull (strstr (ics2, "DTSTART:20261201T060000Z"));

  g_autofree char *att
      = sd_http (d, "GET", "/api/v1/meetings/1/attendance", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) an = sd_json (att);
  JsonObject *counts
      = json_object_get_object_member (json_node_get_object (an), "counts");
  ck_assert_int_eq (json_object_get_int_member (counts, "absent"), 6);
  ck_assert_int_eq (json_object_get_int_member (counts, "present"), 0);
  const char *accept[] = { "Accept: text/csv", NULL };
  g_autofree char *csv = sd_http_full (d, "GET", "/api/v1/meetings/1/attendance",
                                       d->admin, NULL, NULL, 0, accept, &st, NULL);
  ck_assert_uint_eq (st, 200);
  ck_assert (g_str_has_prefix (csv, "site_id,site_name,unit_code,unit_name,status"));
  ck_assert_ptr_nonnull (strstr (csv, "Thị trấn Sơn Dương"));

  g_autofree char *feed
      = sd_http (d, "GET", "/api/v1/units/076/calendar.ics", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_ptr_nonnull (strstr (feed, "METHOD:PUBLISH"));
  ck_assert_ptr_nonnull (strstr (feed, "UID:meeting-1@lienthong"));

  /* a weekly series: three occurrences, one RRULE in the invitation */
  g_autofree char *rec = sd_http (
      d, "POST", "/api/v1/meetings", d->admin,
      "{\"title\":\"Giao ban tuần\",\"chair\":\"10\",\"starts_at\":\"" DAY1 "08:00:00" TZ
      "\",\"ends_at\":\"" DAY1 "09:00:00" TZ "\",\"participants\":[{"
      "\"unit\":\"10\",\"down_to\":\"commune\"}],\"recurrence\":\"FREQ=WEEKLY;COUNT=3\"}",
      &st);
  ck_assert_msg (st == 201, "%s", rec);
  g_autoptr (JsonNode) rn = sd_json (rec);
  JsonObject *ro = json_node_get_object (rn);
  ck_assert_uint_eq (
      json_array_get_length (json_object_get_array_member (ro, "occurrences")), 3);
  g_autofree char *rpath = g_strdup_printf ("/api/v1/meetings/%" G_GINT64_FORMAT ".ics",
                                            json_object_get_int_member (ro, "id"));
  g_autofree char *rics = sd_http (d, "GET", rpath, d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_ptr_nonnull (strstr (rics, "RRULE:FREQ=WEEKLY;COUNT=3"));

  g_autofree char *del = sd_http (d, "DELETE", "/api/v1/meetings/1", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autofree char *ics3
      = sd_http (d, "GET", "/api/v1/meetings/1.ics", d->admin, NULL, &st);
  ck_assert_ptr_nonnull (strstr (ics3, "METHOD:CANCEL"));
  ck_assert_ptr_nonnull (strstr (ics3, "STATUS:CANCELLED"));
  ck_assert_ptr_nonnull (strstr (ics3, "SEQUENCE:2"));
  g_autofree char *del2
      = sd_http (d, "DELETE", "/api/v1/meetings/1", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 409);
  sd_free (d);
}
END_TEST

/* Roles: admin, secretary of 08, secretary of 10, site (02536's hall), it, node. */
enum
{
  R_ADMIN,
  R_SEC08,
  R_SEC10,
  R_SITE,
  R_IT,
  R_NODE,
  R_NONE,
  N_ROLES
};

START_TEST (test_role_matrix)
{
  SdDaemon *d = sd_start (NULL);
  import_tiny (d);
  g_autofree char *site_scope
      = g_strdup_printf ("%" G_GINT64_FORMAT, site_of (d, "02536"));
  char *tokens[N_ROLES] = {
    g_strdup (d->admin),
    make_token (d, "secretary", "08", NULL),
    make_token (d, "secretary", "10", NULL),
    make_token (d, "site", site_scope, NULL),
    make_token (d, "it", NULL, NULL),
    make_node_token (d, "node-08", "08"),
    NULL,
  };
  guint st;
  /* meeting 1 in 08 (invites 02536's site); each write row below re-creates state it
   * needs, in order */
  g_autofree char *m
      = book (d, d->admin, "M08", "08", DAY1 "08:00:00" TZ, DAY1 "09:00:00" TZ,
              "[{\"unit\":\"08\",\"down_to\":\"commune\"}]", NULL, &st);
  ck_assert_uint_eq (st, 201);

  static const struct
  {
    const char *method;
    const char *path;
    const char *body; /* "BOOK": a booking on a distinct day per request */
    guint expect[N_ROLES];
  } rows[] = {
    /*                                                     admin sec08 sec10 site  it  node none */
    { "GET", "/healthz", NULL, { 200, 200, 200, 200, 200, 200, 200 } },
    { "GET", "/metrics", NULL, { 200, 403, 403, 403, 200, 403, 401 } },
    { "GET", "/api/v1/openapi.json", NULL, { 200, 200, 200, 200, 200, 200, 200 } },
    { "GET", "/api/v1/units", NULL, { 200, 200, 200, 200, 200, 403, 401 } },
    { "GET", "/api/v1/units/076", NULL, { 200, 200, 200, 200, 200, 403, 401 } },
    { "GET", "/api/v1/units/search?q=lao", NULL, { 200, 200, 200, 200, 200, 403, 401 } },
    { "GET",
      "/api/v1/units/08/calendar.ics",
      NULL,
      { 200, 200, 403, 200, 200, 403, 401 } },
    { "POST", "/api/v1/units/import", "", { 400, 403, 403, 403, 403, 403, 401 } },
    { "GET", "/api/v1/meetings", NULL, { 200, 200, 200, 200, 200, 403, 401 } },
    { "GET", "/api/v1/meetings/1", NULL, { 200, 200, 404, 200, 200, 403, 401 } },
    { "GET", "/api/v1/meetings/1.ics", NULL, { 200, 200, 404, 200, 200, 403, 401 } },
    { "GET",
      "/api/v1/meetings/1/attendance",
      NULL,
      { 200, 200, 404, 403, 200, 403, 401 } },
    { "POST", "/api/v1/meetings", "BOOK", { 201, 201, 403, 403, 403, 403, 401 } },
    { "PATCH",
      "/api/v1/meetings/1",
      "{\"title\":\"M08b\"}",
      { 200, 200, 404, 403, 403, 403, 401 } },
    { "GET", "/api/v1/tokens", NULL, { 200, 403, 403, 403, 403, 403, 401 } },
    { "POST",
      "/api/v1/tokens",
      "{\"role\":\"it\"}",
      { 201, 403, 403, 403, 403, 403, 401 } },
    { "DELETE", "/api/v1/tokens/tok_none", NULL, { 404, 403, 403, 403, 403, 403, 401 } },
    { "GET", "/api/v1/nodes", NULL, { 200, 403, 403, 403, 200, 403, 401 } },
    /* control needs an open leg: 409 for those who may control meeting 1 */
    { "POST",
      "/api/v1/occurrences/1/floor",
      "{\"site_id\":null}",
      { 409, 409, 404, 403, 403, 403, 401 } },
    { "POST",
      "/api/v1/occurrences/1/content",
      "{\"site\":1}",
      { 409, 409, 404, 403, 403, 403, 401 } },
    { "DELETE",
      "/api/v1/occurrences/1/content",
      NULL,
      { 409, 409, 404, 403, 403, 403, 401 } },
    { "POST",
      "/api/v1/occurrences/1/mute",
      "{\"all_but_chair\":true}",
      { 409, 409, 404, 403, 403, 403, 401 } },
    { "POST",
      "/api/v1/occurrences/1/level",
      "{\"site_id\":1,\"level\":\"low\"}",
      { 409, 409, 404, 403, 403, 403, 401 } },
    { "GET", "/api/v1/occurrences/1/media", NULL, { 200, 200, 404, 403, 200, 403, 401 } },
    { "POST",
      "/api/v1/occurrences/42/floor",
      "{\"site_id\":null}",
      { 404, 404, 404, 403, 403, 403, 401 } },
    { "DELETE", "/api/v1/meetings/1", NULL, { 200, 409, 404, 403, 403, 403, 401 } },
  };
  int day = 1;
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    for (int r = 0; r < N_ROLES; r++)
      {
        g_autofree char *body = NULL;
        if (rows[i].body != NULL)
          {
            day++;
            /* distinct days keep the booking rows from clashing with each other */
            body = g_str_equal (rows[i].body, "BOOK")
                       ? g_strdup_printf ("{\"title\":\"B\",\"chair\":\"08\","
                                          "\"starts_at\":\"2026-12-%02dT08:00:00+07:00\","
                                          "\"ends_at\":\"2026-12-%02dT09:00:00+07:00\","
                                          "\"participants\":[{\"unit\":\"070\"}]}",
                                          day % 27 + 2, day % 27 + 2)
                       : g_strdup (rows[i].body);
          }
        g_autofree char *resp
            = sd_http_full (d, rows[i].method, rows[i].path, tokens[r],
                            strstr (rows[i].path, "import") ? "text/csv" : NULL, body, -1,
                            NULL, &st, NULL);
        ck_assert_msg (st == rows[i].expect[r], "%s %s as role %d: %u, wanted %u: %s",
                       rows[i].method, rows[i].path, r, st, rows[i].expect[r], resp);
      }
  for (int r = 0; r < N_ROLES; r++)
    g_free (tokens[r]);
  sd_free (d);
}
END_TEST

START_TEST (test_bad_input_changes_nothing)
{
  SdDaemon *d = sd_start (NULL);
  import_tiny (d);
  guint st;
  g_autofree char *m = book (d, d->admin, "M", "08", DAY1 "08:00:00" TZ,
                             DAY1 "09:00:00" TZ, "[{\"unit\":\"08\"}]", NULL, &st);
  ck_assert_uint_eq (st, 201);
  g_autofree char *before = sd_dump_db (d);

  g_autofree char *deep = g_strnfill (33, '[');
  g_autofree char *deep_body = g_strconcat ("{\"title\":", deep, NULL);
  g_autofree char *big = g_strnfill (SIG_MAX_BODY + 10, ' ');
  static const char ok_tail[]
      = "\"chair\":\"08\",\"starts_at\":\"2026-12-02T08:00:00+07:00\","
        "\"ends_at\":\"2026-12-02T09:00:00+07:00\",";
  struct
  {
    const char *method, *path, *ctype, *body;
    guint status;
    const char *field; /* NULL: no field expected */
  } cases[] = {
    { "POST", "/api/v1/meetings", NULL, "{\"title\":", 400, NULL },
    { "POST", "/api/v1/meetings", NULL, "[1,2]", 400, NULL },
    { "POST", "/api/v1/meetings", NULL, "", 400, NULL },
    { "POST", "/api/v1/meetings", NULL, deep_body, 400, NULL },
    { "POST", "/api/v1/meetings", NULL, big, 413, NULL },
    { "POST", "/api/v1/meetings", "text/plain", "{}", 415, NULL },
    { "POST", "/api/v1/meetings", NULL,
      g_strconcat ("{\"title\":\"x\",", ok_tail,
                   "\"participants\":[{\"unit\":\"08\"}],\"colour\":1}", NULL),
      400, "colour" },
    { "POST", "/api/v1/meetings", NULL,
      g_strconcat ("{\"title\":\"x\",", ok_tail,
                   "\"participants\":[{\"unit\":\"08\",\"depth\":2}]}", NULL),
      400, "participants[0].depth" },
    { "POST", "/api/v1/meetings", NULL,
      g_strconcat ("{\"title\":7,", ok_tail, "\"participants\":[{\"unit\":\"08\"}]}",
                   NULL),
      400, "title" },
    { "POST", "/api/v1/meetings", NULL,
      g_strconcat ("{\"title\":\"x\",", ok_tail, "\"participants\":[]}", NULL), 400,
      "participants" },
    { "POST", "/api/v1/meetings", NULL,
      "{\"title\":\"x\",\"chair\":\"08\",\"starts_at\":\"tomorrow\",\"ends_at\":\"2026-"
      "12-02T09:00:00+07:00\",\"participants\":[{\"unit\":\"08\"}]}",
      400, "starts_at" },
    { "POST", "/api/v1/meetings", NULL,
      "{\"title\":\"x\",\"chair\":\"08\",\"starts_at\":\"2026-12-02T09:00:00+07:00\","
      "\"ends_at\":\"2026-12-02T08:00:00+07:00\",\"participants\":[{\"unit\":\"08\"}]}",
      400, "ends_at" },
    { "POST", "/api/v1/meetings", NULL,
      g_strdup ("{\"title\":\"x\",\"chair\":\"08\",\"starts_at\":\"2026-12-01T08:30:00+"
                "07:00\",\"ends_at\":\"2026-12-01T09:30:00+07:00\",\"participants\":[{"
                "\"unit\":\"08\"}]}"),
      409, NULL },
    { "POST", "/api/v1/meetings", NULL,
      g_strconcat ("{\"title\":\"x\",", ok_tail,
                   "\"participants\":[{\"unit\":\"0999\"}]}", NULL),
      404, NULL },
    { "POST", "/api/v1/meetings", NULL,
      g_strconcat ("{\"title\":\"x\",", ok_tail,
                   "\"participants\":[{\"unit\":\"08\",\"down_to\":\"hamlet\"}]}", NULL),
      400, NULL },
    { "POST", "/api/v1/units/import", "text/csv",
      "code,name,tier,parent_code\nVN,Việt Nam,central,\n08,Tỉnh X,province,99\n", 400,
      NULL },
    { "POST", "/api/v1/units/import", "text/csv", "bad header\n", 400, NULL },
    { "PATCH", "/api/v1/meetings/1", NULL, "{\"title\":\"\"}", 400, "title" },
    { "PATCH", "/api/v1/meetings/1", NULL, "{\"id\":5}", 400, "id" },
    { "PATCH", "/api/v1/meetings/99", NULL, "{\"title\":\"y\"}", 404, NULL },
    { "POST", "/api/v1/tokens", NULL, "{\"role\":\"king\"}", 400, "role" },
    { "POST", "/api/v1/tokens", NULL, "{\"role\":\"secretary\",\"scope\":\"0999\"}", 400,
      "scope" },
    { "POST", "/api/v1/tokens", NULL,
      "{\"role\":\"it\",\"expires_at\":\"2001-01-01T00:00:00Z\"}", 400, "expires_at" },
    { "GET", "/api/v1/units/search?q=", NULL, NULL, 400, "q" },
    { "GET", "/api/v1/meetings?from=yesterday", NULL, NULL, 400, "from" },
    { "PUT", "/api/v1/meetings", NULL, "{}", 405, NULL },
    { "GET", "/api/v1/nowhere", NULL, NULL, 404, NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *r
          = sd_http_full (d, cases[i].method, cases[i].path, d->admin, cases[i].ctype,
                          cases[i].body, -1, NULL, &st, NULL);
      ck_assert_msg (st == cases[i].status, "case %zu %s %s: %u, wanted %u: %s", i,
                     cases[i].method, cases[i].path, st, cases[i].status, r);
      if (st == 413 && *r == '\0')
        continue; /* refused before the body was read; libsoup may drop the body */
      g_autoptr (JsonNode) n = sd_json (r);
      JsonObject *err = json_object_get_object_member (json_node_get_object (n), "error");
      ck_assert_msg (err != NULL && json_object_has_member (err, "code")
                         && json_object_has_member (err, "message"),
                     "case %zu: %s", i, r);
      if (cases[i].field)
        ck_assert_msg (
            g_strcmp0 (json_object_get_string_member_with_default (err, "field", ""),
                       cases[i].field)
                == 0,
            "case %zu field: %s", i, r);
    }
  /* a chunked body (no Content-Length) is refused before it is read */
  {
    g_autofree char *uri = g_strconcat (d->base, "/api/v1/meetings", NULL);
    g_autoptr (SoupMessage) msg = soup_message_new ("POST", uri);
    g_autofree char *auth = g_strconcat ("Bearer ", d->admin, NULL);
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                  auth);
    g_autoptr (GInputStream) in = g_memory_input_stream_new_from_data ("{}", 2, NULL);
    soup_message_set_request_body (msg, "application/json", in, -1);
    g_autoptr (GBytes) r = soup_session_send_and_read (d->session, msg, NULL, NULL);
    ck_assert_uint_eq (soup_message_get_status (msg), 411);
  }
  g_autofree char *after = sd_dump_db (d);
  ck_assert_str_eq (before, after);
  for (gsize i = 6; i <= 14; i++)
    if (i != 10 && i != 11)
      g_free ((char *)cases[i].body);
  sd_free (d);
}
END_TEST

START_TEST (test_auth_expiry_and_limit)
{
  SdDaemon *d = sd_start ("[testing]\nnow=1790000000\n");
  import_tiny (d);
  g_autofree char *t = make_token (d, "it", NULL, "2026-09-22T00:00:00Z"); /* > now */
  guint st;
  g_autofree char *r1 = sd_http (d, "GET", "/api/v1/units", t, NULL, &st);
  ck_assert_uint_eq (st, 200);
  /* an hour past its expiry the same token is refused */
  sd_restart (d, "[testing]\nnow=1790100000\n");
  g_autofree char *r2 = sd_http (d, "GET", "/api/v1/units", t, NULL, &st);
  ck_assert_uint_eq (st, 401);
  /* 10 failures a minute from one address (1 so far) block it: a bad token is told
   * 429, while a valid one still passes (everyone behind one proxy shares it) */
  for (int i = 0; i < 9; i++)
    {
      g_autofree char *r = sd_http (d, "GET", "/api/v1/units", "wrong", NULL, &st);
      ck_assert_uint_eq (st, 401);
    }
  g_autofree char *r3 = sd_http (d, "GET", "/api/v1/units", "wrong", NULL, &st);
  ck_assert_uint_eq (st, 429);
  g_autofree char *r5 = sd_http (d, "GET", "/api/v1/units", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autofree char *r4 = sd_http (d, "GET", "/healthz", NULL, NULL, &st);
  ck_assert_uint_eq (st, 200);
  sd_free (d);
}
END_TEST

/* Behind a trusted proxy the limit counts each client by the address the proxy saw
 * (the rightmost X-Forwarded-For entry that is not itself a trusted proxy): one
 * guesser is blocked while another hall behind the same proxy is not; an address a
 * client writes further left changes nothing; and without trusted-proxies the header
 * is ignored (a guesser cannot dodge the limit by writing it). A bad token shows
 * whether a bucket is blocked (429) or not (401); a valid one passes either way. A bad
 * entry in trusted-proxies stops signald with a message naming it. */
static guint
get_units_from (SdDaemon *d, const char *token, const char *xff)
{
  const char *headers[] = { xff, NULL };
  guint st;
  g_autofree char *r = sd_http_full (d, "GET", "/api/v1/units", token, NULL, NULL, -1,
                                     xff ? headers : NULL, &st, NULL);
  return st;
}

START_TEST (test_limit_behind_trusted_proxy)
{
  SdDaemon *d = sd_start ("trusted-proxies=127.0.0.1;::1\n");
  const char *guesser = "X-Forwarded-For: 198.51.100.7";
  for (int i = 0; i < 10; i++)
    ck_assert_uint_eq (get_units_from (d, "wrong", guesser), 401);
  ck_assert_uint_eq (get_units_from (d, "wrong", guesser), 429);
  ck_assert_uint_eq (get_units_from (d, d->admin, guesser), 200);
  /* what the client wrote on the left does not move it to another bucket */
  ck_assert_uint_eq (
      get_units_from (d, "wrong", "X-Forwarded-For: 198.51.100.8, 198.51.100.7"), 429);
  ck_assert_uint_eq (get_units_from (d, "wrong", "X-Forwarded-For: 198.51.100.8"), 401);
  /* a chain of two trusted proxies: the address the first one saw */
  ck_assert_uint_eq (
      get_units_from (d, "wrong", "X-Forwarded-For: 198.51.100.7, 127.0.0.1"), 429);
  ck_assert_uint_eq (get_units_from (d, "wrong", NULL), 401);

  /* not trusted: the header is ignored and the proxy's own address is counted */
  sd_restart (d, NULL);
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *xff = g_strdup_printf ("X-Forwarded-For: 198.51.100.%d", i + 1);
      ck_assert_uint_eq (get_units_from (d, "wrong", xff), 401);
    }
  ck_assert_uint_eq (get_units_from (d, "wrong", "X-Forwarded-For: 198.51.100.99"), 429);
  ck_assert_uint_eq (get_units_from (d, d->admin, "X-Forwarded-For: 198.51.100.99"), 200);
  sd_stop (d);

  sd_write_conf (d, "trusted-proxies=127.0.0.1;proxy.example\n");
  g_autoptr (GSubprocess) p = g_subprocess_new (
      G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE, NULL, d->binary,
      "--config", d->conf_path, "--state-dir", d->state_dir, NULL);
  ck_assert_ptr_nonnull (p);
  g_autofree char *err = NULL;
  ck_assert (g_subprocess_communicate_utf8 (p, NULL, NULL, NULL, &err, NULL));
  ck_assert_int_ne (g_subprocess_get_exit_status (p), 0);
  ck_assert_msg (strstr (err, "proxy.example") != NULL, "%s", err);
  sd_free (d);
}
END_TEST

START_TEST (test_restart_persists)
{
  SdDaemon *d = sd_start (NULL);
  import_tiny (d);
  g_autofree char *admin = g_strdup (d->admin);
  guint st;
  g_autofree char *m
      = book (d, d->admin, "Bền", "076", DAY1 "08:00:00" TZ, DAY1 "09:00:00" TZ,
              "[{\"unit\":\"076\",\"down_to\":\"commune\"}]", NULL, &st);
  ck_assert_uint_eq (st, 201);
  sd_restart (d, NULL);
  ck_assert_str_eq (admin, d->admin); /* no second admin token */
  g_autofree char *g = sd_http (d, "GET", "/api/v1/meetings/1", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_ptr_nonnull (strstr (g, "\"title\":\"Bền\""));
  ck_assert_ptr_nonnull (strstr (g, "\"site_count\":3"));
  g_autofree char *s
      = sd_http (d, "GET", "/api/v1/units/search?q=trung%20yen", d->admin, NULL, &st);
  ck_assert_ptr_nonnull (strstr (s, "02539"));
  sd_free (d);
}
END_TEST

/* The iCalendar SEQUENCE is the store's: it survives a restart; a change signald or
 * the store refuses (a scope refusal, a clash) leaves it as it was; a counter file
 * an older signald left beside the store is read into it once and removed. Fails if a
 * refused change bumped it, a restart lost it, or the old file were ignored. */
static gint64
sequence_of (SdDaemon *d, gint64 id)
{
  guint st;
  g_autofree char *path = g_strdup_printf ("/api/v1/meetings/%" G_GINT64_FORMAT, id);
  g_autofree char *r = sd_http (d, "GET", path, d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) n = sd_json (r);
  g_autofree char *ics_path = g_strconcat (path, ".ics", NULL);
  g_autofree char *ics = sd_http (d, "GET", ics_path, d->admin, NULL, &st);
  gint64 seq = json_object_get_int_member (json_node_get_object (n), "sequence");
  g_autofree char *line = g_strdup_printf ("SEQUENCE:%" G_GINT64_FORMAT "\r\n", seq);
  ck_assert_msg (strstr (ics, line) != NULL, "%s not in\n%s", line, ics);
  return seq;
}

START_TEST (test_sequence_survives_restart)
{
  SdDaemon *d = sd_start (NULL);
  import_tiny (d);
  guint st;
  g_autofree char *a = book (d, d->admin, "A", "076", DAY1 "08:00:00" TZ,
                             DAY1 "09:00:00" TZ, "[{\"unit\":\"076\"}]", NULL, &st);
  ck_assert_uint_eq (st, 201);
  g_autofree char *b = book (d, d->admin, "B", "076", DAY1 "10:00:00" TZ,
                             DAY1 "11:00:00" TZ, "[{\"unit\":\"076\"}]", NULL, &st);
  ck_assert_uint_eq (st, 201);
  ck_assert_int_eq (sequence_of (d, 1), 0);
  g_autofree char *p1
      = sd_http (d, "PATCH", "/api/v1/meetings/1", d->admin, "{\"title\":\"A2\"}", &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_int_eq (sequence_of (d, 1), 1);

  /* refused by the store: onto B's hour (409) */
  g_autofree char *p2 = sd_http (d, "PATCH", "/api/v1/meetings/1", d->admin,
                                 "{\"title\":\"A3\",\"starts_at\":\"" DAY1 "10:00:00" TZ
                                 "\",\"ends_at\":\"" DAY1 "11:00:00" TZ "\"}",
                                 &st);
  ck_assert_uint_eq (st, 409);
  /* refused by signald: a secretary of another province (404), a bad body (400) */
  g_autofree char *sec10 = make_token (d, "secretary", "10", NULL);
  g_autofree char *p3
      = sd_http (d, "PATCH", "/api/v1/meetings/1", sec10, "{\"title\":\"A4\"}", &st);
  ck_assert_uint_eq (st, 404);
  g_autofree char *p4
      = sd_http (d, "PATCH", "/api/v1/meetings/1", d->admin, "{\"title\":''}", &st);
  ck_assert_uint_eq (st, 400);
  ck_assert_int_eq (sequence_of (d, 1), 1);

  sd_restart (d, NULL);
  ck_assert_int_eq (sequence_of (d, 1), 1);
  ck_assert_int_eq (sequence_of (d, 2), 0);

  /* an older signald's counters: raised into the store (never lowered), file gone */
  sd_stop (d);
  g_autofree char *old = g_build_filename (d->state_dir, "ics-sequence.ini", NULL);
  ck_assert (g_file_set_contents (old, "[sequence]\n1=0\n2=4\n99=3\nx=1\n", -1, NULL));
  sd_launch (d);
  ck_assert_int_eq (sequence_of (d, 1), 1);
  ck_assert_int_eq (sequence_of (d, 2), 4);
  ck_assert (!g_file_test (old, G_FILE_TEST_EXISTS));
  g_autofree char *del = sd_http (d, "DELETE", "/api/v1/meetings/2", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_int_eq (sequence_of (d, 2), 5);
  sd_free (d);
}
END_TEST

static guint64
metric (SdDaemon *d, const char *line_prefix)
{
  guint st;
  g_autofree char *m = sd_http (d, "GET", "/metrics", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  const char *p = strstr (m, line_prefix);
  ck_assert_msg (p != NULL, "no %s in\n%s", line_prefix, m);
  return g_ascii_strtoull (p + strlen (line_prefix), NULL, 10);
}

START_TEST (test_missed_start_fires_once)
{
  /* 2026-12-01T00:00:00Z; the meeting is at 01:00Z-03:00Z that day */
  SdDaemon *d = sd_start ("[testing]\nnow=1796083200\n[meetings]\nlobby-window=900\n");
  import_tiny (d);
  guint st;
  g_autofree char *m = book (d, d->admin, "Lỡ", "08", DAY1 "08:00:00" TZ,
                             DAY1 "10:00:00" TZ, "[{\"unit\":\"08\"}]", NULL, &st);
  ck_assert_uint_eq (st, 201);
  ck_assert_uint_eq (metric (d, "lienthong_lifecycle_transitions_total{to=\"live\"} "),
                     0);

  /* down over the start; up again at 01:30Z */
  sd_restart (d, "[testing]\nnow=1796089800\n");
  ck_assert_uint_eq (metric (d, "lienthong_lifecycle_transitions_total{to=\"open\"} "),
                     1);
  ck_assert_uint_eq (metric (d, "lienthong_lifecycle_transitions_total{to=\"live\"} "),
                     1);
  g_autofree char *g = sd_http (d, "GET", "/api/v1/meetings/1", d->admin, NULL, &st);
  ck_assert_ptr_nonnull (strstr (g, "\"state\":\"live\""));

  /* and not again on the next start */
  sd_restart (d, "[testing]\nnow=1796089900\n");
  ck_assert_uint_eq (metric (d, "lienthong_lifecycle_transitions_total{to=\"live\"} "),
                     0);
  ck_assert_uint_eq (metric (d, "lienthong_lifecycle_transitions_total{to=\"open\"} "),
                     0);
  g_autofree char *g2 = sd_http (d, "GET", "/api/v1/meetings/1", d->admin, NULL, &st);
  ck_assert_ptr_nonnull (strstr (g2, "\"state\":\"live\""));
  sd_free (d);
}
END_TEST

START_TEST (test_sigterm_drains)
{
  SdDaemon *d = sd_start ("drain-grace=2\nretry-after=7\n");
  import_tiny (d);
  gsize mark = sd_log_len (d);
  g_subprocess_send_signal (d->proc, SIGTERM);
  ck_assert (sd_wait_log (d, "draining", mark));
  guint st;
  g_autoptr (SoupMessageHeaders) h = NULL;
  g_autofree char *b = NULL;
  {
    g_autofree char *body = g_strdup ("{\"title\":\"late\",\"chair\":\"08\",\"starts_"
                                      "at\":\"2026-12-01T08:00:00+07:00\","
                                      "\"ends_at\":\"2026-12-01T09:00:00+07:00\","
                                      "\"participants\":[{\"unit\":\"08\"}]}");
    b = sd_http_full (d, "POST", "/api/v1/meetings", d->admin, NULL, body, -1, NULL, &st,
                      &h);
  }
  ck_assert_uint_eq (st, 503);
  ck_assert_str_eq (soup_message_headers_get_one (h, "Retry-After"), "7");
  g_autofree char *s
      = sd_http (d, "GET", "/api/v1/units/search?q=lao", d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autofree char *hz = sd_http (d, "GET", "/healthz", NULL, NULL, &st);
  ck_assert_ptr_nonnull (strstr (hz, "draining"));
  sd_reap (d, 0); /* exits by itself after the grace */
  sd_free (d);
}
END_TEST

START_TEST (test_websockets)
{
  /* 2026-12-01T00:50Z: inside the lobby of the meeting at 08:00+07:00, so the site may
   * join it */
  SdDaemon *d = sd_start ("[nodes]\nheartbeat-interval=1\nheartbeat-misses=3\n"
                          "[testing]\nnow=1796086200\n");
  import_tiny (d);
  guint st;
  g_autofree char *m
      = book (d, d->admin, "WS", "08", DAY1 "08:00:00" TZ, DAY1 "10:00:00" TZ,
              "[{\"unit\":\"08\",\"down_to\":\"commune\"}]", NULL, &st);
  ck_assert_uint_eq (st, 201);
  gint64 site = site_of (d, "02536");
  g_autofree char *site_scope = g_strdup_printf ("%" G_GINT64_FORMAT, site);
  g_autofree char *site_tok = make_token (d, "site", site_scope, NULL);
  g_autofree char *node_tok = make_node_token (d, "node-08", "08");
  g_autoptr (SoupSession) s = soup_session_new ();

  /* refused handshakes: bad Origin, wrong token, a person on the node channel */
  WsPeer bad;
  ck_assert (!ws_open (&bad, s, d, "/api/v1/ws", d->admin, "http://evil.example"));
  ws_close (&bad);
  ck_assert (!ws_open (&bad, s, d, "/api/v1/ws", "wrong", NULL));
  ws_close (&bad);
  ck_assert (!ws_open (&bad, s, d, "/api/v1/nodes/ws", d->admin, NULL));
  ws_close (&bad);

  WsPeer dash, node, hall;
  ck_assert (ws_open (&dash, s, d, "/api/v1/ws", d->admin, NULL));
  ws_send (&dash, "{\"type\":\"subscribe\",\"meeting_id\":1}");
  json_node_unref (ws_wait (&dash, "subscribed"));

  ck_assert (ws_open (&node, s, d, "/api/v1/nodes/ws", node_tok, NULL));
  ws_send (&node,
           "{\"v\":1,\"type\":\"register\",\"node_id\":\"node-08\",\"unit\":\"08\","
           "\"capacity\":500,\"fingerprint\":\"sha-256 AB:CD\"}");
  json_node_unref (ws_wait (&node, "registered"));
  json_node_unref (ws_wait (&dash, "node.up"));
  g_autofree char *nodes = sd_http (d, "GET", "/api/v1/nodes", d->admin, NULL, &st);
  ck_assert_ptr_nonnull (strstr (nodes, "\"id\":\"node-08\""));
  ck_assert_ptr_nonnull (strstr (nodes, "\"state\":\"up\""));

  /* a site joins with an offer: roll call, the node gets the offer, the site the
   * answer */
  ck_assert (ws_open (&hall, s, d, "/api/v1/ws", site_tok, NULL));
  ws_send (&node, "{\"type\":\"heartbeat\"}");
  ws_send (&hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 offer\"}");
  json_node_unref (ws_wait (&hall, "joined"));
  g_autoptr (JsonNode) offer = ws_wait (&node, "site.offer");
  ck_assert_ptr_nonnull (offer);
  ck_assert_int_eq (json_object_get_int_member (json_node_get_object (offer), "site_id"),
                    site);
  g_autofree char *answer = g_strdup_printf (
      "{\"type\":\"site.answer\",\"occurrence_id\":1,\"site_id\":%" G_GINT64_FORMAT
      ",\"sdp\":\"v=0 answer\"}",
      site);
  ws_send (&node, answer);
  ws_send (
      &hall,
      "{\"type\":\"ice\",\"candidate\":\"candidate:1 1 udp 1 127.0.0.1 9 typ host\"}");
  g_autoptr (JsonNode) ice = ws_wait (&node, "site.ice");
  ck_assert_int_eq (json_object_get_int_member (json_node_get_object (ice), "site_id"),
                    site);
  ck_assert_ptr_nonnull (
      strstr (json_object_get_string_member (json_node_get_object (ice), "candidate"),
              "127.0.0.1"));
  g_autoptr (JsonNode) got = ws_wait (&hall, "answer");
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (got), "sdp"),
                    "v=0 answer");
  g_autoptr (JsonNode) joined = ws_wait (&dash, "site.joined");
  ck_assert_int_eq (json_object_get_int_member (json_node_get_object (joined), "site_id"),
                    site);
  g_autofree char *att
      = sd_http (d, "GET", "/api/v1/meetings/1/attendance", d->admin, NULL, &st);
  ck_assert_ptr_nonnull (strstr (att, "\"absent\":5"));

  /* the node falls silent: after the missed heartbeats it is down, and dashboards hear */
  g_autoptr (JsonNode) down = ws_wait (&dash, "node.down");
  ck_assert_ptr_nonnull (down);
  g_autofree char *nodes2 = sd_http (d, "GET", "/api/v1/nodes", d->admin, NULL, &st);
  ck_assert_ptr_nonnull (strstr (nodes2, "\"state\":\"down\""));

  /* a frame over 64 KiB closes the socket with 1009 */
  g_autofree char *big = g_strnfill (70 * 1024, 'x');
  ws_send (&dash, big);
  while (!dash.closed)
    g_main_loop_run (dash.loop);
  ck_assert_int_eq (soup_websocket_connection_get_close_code (dash.conn), 1009);

  ws_close (&hall);
  ws_close (&node);
  ws_close (&dash);
  sd_free (d);
}
END_TEST

START_TEST (test_drain_refuses_joins)
{
  SdDaemon *d = sd_start ("drain-grace=2\n");
  import_tiny (d);
  guint st;
  g_autofree char *m
      = book (d, d->admin, "D", "076", DAY1 "08:00:00" TZ, DAY1 "10:00:00" TZ,
              "[{\"unit\":\"076\",\"down_to\":\"commune\"}]", NULL, &st);
  ck_assert_uint_eq (st, 201);
  g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, site_of (d, "02536"));
  g_autofree char *tok = make_token (d, "site", scope, NULL);
  g_autoptr (SoupSession) s = soup_session_new ();
  WsPeer hall;
  ck_assert (ws_open (&hall, s, d, "/api/v1/ws", tok, NULL));
  gsize mark = sd_log_len (d);
  g_subprocess_send_signal (d->proc, SIGTERM);
  ck_assert (sd_wait_log (d, "draining", mark));
  ws_send (&hall, "{\"type\":\"join\",\"occurrence_id\":1}");
  g_autoptr (JsonNode) err = ws_wait (&hall, "error");
  ck_assert_ptr_nonnull (err);
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (err), "code"),
                    "unavailable");
  ws_close (&hall);
  sd_reap (d, 0);
  sd_free (d);
}
END_TEST

static char *ltctl_path;

/* Runs ltctl against @d with the server and token from the environment; returns its
 * exit status and stdout. */
static int
run_ltctl (SdDaemon *d, const char *token, char **out, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_ptr_array_add (args, ltctl_path);
  va_list ap;
  va_start (ap, out);
  for (const char *a; (a = va_arg (ap, const char *)) != NULL;)
    g_ptr_array_add (args, (char *)a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  g_auto (GStrv) env = g_get_environ ();
  env = g_environ_setenv (env, "LTCTL_SERVER", d->base, TRUE);
  env = g_environ_setenv (env, "LTCTL_TOKEN", token, TRUE);
  env = g_environ_setenv (env, "LANG", "C", TRUE);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", d->dir, TRUE);
  int status = -1;
  g_autoptr (GError) error = NULL;
  ck_assert_msg (g_spawn_sync (NULL, (char **)args->pdata, env,
                               G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, out, NULL, &status,
                               &error),
                 "%s", error ? error->message : "");
  ck_assert (g_spawn_check_wait_status (status, NULL) || WIFEXITED (status));
  return WEXITSTATUS (status);
}

START_TEST (test_ltctl)
{
  SdDaemon *d = sd_start (NULL);
  import_tiny (d);
  g_autofree char *o1 = NULL, *o2 = NULL, *o3 = NULL, *o4 = NULL, *o5 = NULL, *o6 = NULL,
                  *o7 = NULL;
  ck_assert_int_eq (run_ltctl (d, d->admin, &o1, "units", "search", "son duong", NULL),
                    0);
  ck_assert (g_str_has_prefix (o1, "CODE   NAME"));
  ck_assert_ptr_nonnull (strstr (o1, "076    Huyện Sơn Dương"));
  ck_assert_int_eq (
      run_ltctl (d, d->admin, &o2, "--json", "units", "search", "son duong", NULL), 0);
  g_autoptr (JsonNode) j = sd_json (o2);
  ck_assert (json_object_has_member (json_node_get_object (j), "units"));
  ck_assert_int_eq (run_ltctl (d, d->admin, &o3, "meetings", "create", "--title",
                               "Họp quý", "--chair", "076", "--start",
                               "2026-12-01T08:00:00+07:00", "--end",
                               "2026-12-01T09:00:00+07:00", "-p", "076:commune", NULL),
                    0);
  ck_assert_str_eq (o3, "booked meeting 1 with 3 sites\n");
  ck_assert_int_eq (run_ltctl (d, d->admin, &o4, "meetings", "create", "--title", "Trùng",
                               "--chair", "076", "--start", "2026-12-01T08:30:00+07:00",
                               "--end", "2026-12-01T09:30:00+07:00", "-p", "076", NULL),
                    6);
  ck_assert_int_eq (run_ltctl (d, d->admin, &o5, "meetings", "show", "1", NULL), 0);
  ck_assert_ptr_nonnull (strstr (o5, "Họp quý"));
  ck_assert_ptr_nonnull (strstr (o5, "scheduled"));
  ck_assert_int_eq (run_ltctl (d, d->admin, &o6, "meetings", "show", "42", NULL), 5);
  ck_assert_int_eq (run_ltctl (d, "wrong", &o7, "nodes", NULL), 4);
  g_autofree char *o8 = NULL, *o9 = NULL;
  ck_assert_int_eq (run_ltctl (d, d->admin, &o8, "frobnicate", NULL), 2);
  ck_assert_int_eq (run_ltctl (d, d->admin, &o9, "meetings", "list", "--from",
                               "2026-11-30T00:00:00+07:00", NULL),
                    0);
  ck_assert_ptr_nonnull (strstr (o9, "Họp quý"));
  /* retiring an enrolled node deletes its token; a second time it is unknown (5) */
  g_autofree char *ntok = make_node_token (d, "node-076", "076");
  g_autofree char *o10 = NULL, *o11 = NULL;
  ck_assert_int_eq (run_ltctl (d, d->admin, &o10, "nodes", "retire", "node-076", NULL),
                    0);
  ck_assert_str_eq (o10, "node node-076 retired\n");
  guint st;
  g_autofree char *r = sd_http (d, "GET", "/api/v1/units", ntok, NULL, &st);
  ck_assert_uint_eq (st, 401);
  ck_assert_int_eq (run_ltctl (d, d->admin, &o11, "nodes", "retire", "node-076", NULL),
                    5);
  sd_free (d);
}
END_TEST

START_TEST (test_openapi_lists_every_route)
{
  SdDaemon *d = sd_start (NULL);
  guint st;
  g_autofree char *doc = sd_http (d, "GET", "/api/v1/openapi.json", NULL, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) n = sd_json (doc);
  JsonObject *paths = json_object_get_object_member (json_node_get_object (n), "paths");
  guint nr;
  const SigRoute *routes = sig_routes_get (&nr);
  ck_assert_uint_gt (nr, 10);
  for (guint i = 0; i < nr; i++)
    {
      JsonObject *p = json_object_get_object_member (paths, routes[i].pattern);
      ck_assert_msg (p != NULL, "%s missing from openapi.json", routes[i].pattern);
      g_autofree char *m = g_ascii_strdown (routes[i].method, -1);
      ck_assert_msg (json_object_has_member (p, m), "%s %s missing from openapi.json",
                     routes[i].method, routes[i].pattern);
    }
  sd_free (d);
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
  ltctl_path = argc > 2 ? argv[2] : NULL;
  Suite *s = suite_create ("signaling-signald");
  TCase *tc = tcase_create ("blackbox");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_import_search);
  tcase_add_test (tc, test_import_tuyen_quang);
  tcase_add_test (tc, test_book_conflict_idempotency);
  tcase_add_test (tc, test_ics_and_attendance);
  tcase_add_test (tc, test_role_matrix);
  tcase_add_test (tc, test_bad_input_changes_nothing);
  tcase_add_test (tc, test_auth_expiry_and_limit);
  tcase_add_test (tc, test_limit_behind_trusted_proxy);
  tcase_add_test (tc, test_restart_persists);
  tcase_add_test (tc, test_sequence_survives_restart);
  tcase_add_test (tc, test_missed_start_fires_once);
  tcase_add_test (tc, test_sigterm_drains);
  tcase_add_test (tc, test_openapi_lists_every_route);
  tcase_add_test (tc, test_websockets);
  tcase_add_test (tc, test_drain_refuses_joins);
  if (ltctl_path != NULL)
    tcase_add_test (tc, test_ltctl);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
