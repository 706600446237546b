/* Suite signaling-abuse: black-box tests of the real lienthong-signald (argv[1]) under
 * attack (issue 13). A fixture holds a live meeting 1 chaired by 08 ("08 down to
 * commune") on a fake media node-08 with link statistics flowing, its twin meeting 2
 * (for destructive requests), meeting 3 in province 10, and one token per role.
 * They prove:
 * - the role x route matrix, generated from the route table itself (sig_routes_get):
 *   every route, tried by admin, the secretary of 08 (in scope), of 076 (below the
 *   chair: reads, neither edits nor controls), of 10 (out of scope), it, the site of
 *   an invited hall, a node, no token, a bad and an expired token, answers what its
 *   roles and access rule (SigAccess) say: 401, 403, 404, or past the gate (2xx, or
 *   400/409 for the deliberately empty bodies). A route added without an access rule
 *   fails here, as does one whose openapi.json x-roles/x-access disagree;
 * - the same matrix with people signed in (session cookies for admin, the
 *   secretaries and it; a made-up cookie and an idle-expired session for the bad and
 *   expired credentials), every write route first refused (403, store unchanged)
 *   without the CSRF token or from another Origin;
 * - every route that may change something names an audit action, and each accepted
 *   request of the matrix wrote exactly one entry, each refused one none;
 * - each attack of the review fails and changes nothing, and signald stays up: a
 *   district secretary pinning the chair's hall to audio; anyone but an admin or the
 *   chair's secretary moving the presenter right while the chair presents; a hall's
 *   token reading another province through a unit calendar; 200 KB of nesting, plain
 *   or hidden behind a single-quoted string or a comment, over HTTP and WebSocket;
 *   /metrics without a token; ten bad tokens locking everybody out. */
#include "lt-test.h"
#include "sig-server-private.h"
#include "sig-test-util.h"
#include "sig-test-accounts.h"

/* DAY1 08:00+07:00, the meetings' start; the suite runs ten minutes into meeting 1 */
#define START 1796086800
#define NOW (START + 600)
#define M08 "[{\"unit\":\"08\",\"down_to\":\"commune\"}]"

typedef enum
{
  R_ADMIN,
  R_SEC08,
  R_SEC076,
  R_SEC10,
  R_IT,
  R_SITE,
  R_NODE,
  R_NONE,
  R_BAD,
  R_EXPIRED,
  N_ROLES
} Role;

static const char *const role_names[N_ROLES] = {
  "admin",      "secretary 08", "secretary 076", "secretary 10", "it",
  "site 02536", "node",         "no token",      "bad token",    "expired token",
};

/* The SigRole bit of each role; 0 for those that do not authenticate. */
static const guint role_bits[N_ROLES] = {
  SIG_ROLE_ADMIN,
  SIG_ROLE_SECRETARY,
  SIG_ROLE_SECRETARY,
  SIG_ROLE_SECRETARY,
  SIG_ROLE_IT,
  SIG_ROLE_SITE,
  SIG_ROLE_NODE,
  0,
  0,
  0,
};

/* What sig-policy.h says of each role and meeting 1 (and its twin), and of unit 08:
 * the fixture's facts, from which the matrix follows for every route. */
static const gboolean reads[N_ROLES] = { TRUE, TRUE, TRUE, FALSE, TRUE, TRUE };
static const gboolean edits[N_ROLES] = { TRUE, TRUE, FALSE, FALSE, FALSE, FALSE };
static const gboolean controls[N_ROLES] = { TRUE, TRUE, FALSE, FALSE, FALSE, FALSE };
static const gboolean calendar08[N_ROLES] = { TRUE, TRUE, FALSE, FALSE, TRUE, TRUE };

typedef struct
{
  SdDaemon *d;
  SoupSession *s;
  char *tokens[N_ROLES];
  char *victim_token; /* the id of a token for DELETE /api/v1/tokens/{id} */
  gint64 chair_site, site;
  char *leg;
  WsPeer node;
  WsPeer chair_hall; /* joined with an offer: node-08 hosts the chair's site */
  guint xff;         /* a fresh client address for each failing authentication */
  gboolean sessions; /* people (admin, secretaries, it) call with session cookies */
  AccSession acc[N_ROLES];
} Env;

/* The accounts of the session matrix, by role (NULL: the role keeps its token). */
static const char *const acc_users[N_ROLES][3] = {
  { "quan.tri", "admin", NULL },
  { "thu.ky.08", "secretary", "08" },
  { "thu.ky.076", "secretary", "076" },
  { "thu.ky.10", "secretary", "10" },
  { "ky.thuat", "it", NULL },
  { NULL },
  { NULL },
  { NULL },
  { NULL },
  { "het.han", "it", NULL },
};

/* SHA-256 of "webm bytes", the fixture's recorded file */
#define SHA_OF_WEBM_BYTES \
  "937516b3532e53e5c93de5585281580161569b5d50be226945e06d15bbd8effa"

static char *
rfc3339 (gint64 t)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

static void
report_stats (Env *e, gint64 t)
{
  g_autofree char *msg = g_strdup_printf (
      "{\"v\":1,\"type\":\"stats\",\"occurrence_id\":1,\"t\":%" G_GINT64_FORMAT
      ",\"endpoints\":[{\"endpoint\":\"site:%" G_GINT64_FORMAT "\",\"srtp\":"
      "\"AEAD_AES_128_GCM\",\"pair\":{\"local\":\"host\",\"remote\":\"host\"},"
      "\"quality\":{\"leg\":1,\"up\":{\"loss\":0.1,\"rtt\":20,\"mos\":4.4,\"grade\":0},"
      "\"down\":{\"loss\":0.1,\"rtt\":20,\"mos\":4.4,\"grade\":0}}}]}",
      t, e->chair_site);
  ws_send (&e->node, msg);
  ws_barrier (&e->node, TRUE);
}

/* trusted-proxies lets each failing request name its own client address, so the
 * matrix's bad and expired tokens see 401, not the limiter's 429 (tested apart). */
static void
env_start (Env *e, gboolean sessions)
{
  memset (e, 0, sizeof *e);
  e->sessions = sessions;
  g_autofree char *conf0 = g_strdup_printf (
      "trusted-proxies=127.0.0.1\n[auth]\nsession-idle=60\n[testing]\nnow=%d\n"
      "[nodes]\nheartbeat-interval=60\n",
      NOW);
  e->d = sd_start (conf0);
  import_tiny (e->d);
  e->s = soup_session_new ();
  e->chair_site = site_of (e->d, "08");
  e->site = site_of (e->d, "02536");
  g_autofree char *site_scope = g_strdup_printf ("%" G_GINT64_FORMAT, e->site);
  g_autofree char *soon = rfc3339 (NOW + 60);
  e->tokens[R_ADMIN] = g_strdup (e->d->admin);
  e->tokens[R_SEC08] = make_token (e->d, "secretary", "08", NULL);
  e->tokens[R_SEC076] = make_token (e->d, "secretary", "076", NULL);
  e->tokens[R_SEC10] = make_token (e->d, "secretary", "10", NULL);
  e->tokens[R_IT] = make_token (e->d, "it", NULL, NULL);
  e->tokens[R_SITE] = make_token (e->d, "site", site_scope, NULL);
  e->tokens[R_NODE] = make_node_token (e->d, "node-08", "08");
  e->tokens[R_BAD] = g_strnfill (64, 'f');
  e->tokens[R_EXPIRED] = make_token (e->d, "it", NULL, soon);
  guint st;
  g_autofree char *v = sd_http (e->d, "POST", "/api/v1/tokens", e->d->admin,
                                "{\"role\":\"it\",\"label\":\"victim\"}", &st);
  ck_assert_uint_eq (st, 201);
  g_autoptr (JsonNode) vn = sd_json (v);
  e->victim_token = g_strdup (jstr (vn, "id"));
  /* a node enrolled (its token made) that the matrix may retire */
  g_autofree char *victim_node = make_node_token (e->d, "node-victim", "080");
  g_autofree char *m1 = book (e->d, e->d->admin, "Giao ban", "08", DAY1 "08:00:00" TZ,
                              DAY1 "10:00:00" TZ, M08, NULL, &st);
  ck_assert_msg (st == 201, "book: %s", m1);
  g_autofree char *m2
      = book (e->d, e->d->admin, "Giao ban (twin)", "08", "2026-12-02T08:00:00" TZ,
              "2026-12-02T10:00:00" TZ, M08, NULL, &st);
  ck_assert_msg (st == 201, "book twin: %s", m2);
  /* meeting 3, another province's, for the calendar leak (booked while no node is
   * registered: with node-08 alone, 10 could not be served) */
  g_autofree char *m3 = book (e->d, e->d->admin, "Mật: Lào Cai", "10",
                              "2026-12-03T08:00:00" TZ, "2026-12-03T09:00:00" TZ,
                              "[{\"unit\":\"10\",\"down_to\":\"commune\"}]", NULL, &st);
  ck_assert_msg (st == 201, "book 10: %s", m3);

  /* an account the matrix may disable, enable and reset */
  ck_assert_uint_eq (acc_create (e->d, "victim", "it", NULL, ACC_FIRST_PW), 201);
  if (sessions)
    {
      /* signed in now, idle for two minutes by the time the matrix runs */
      acc_ready (e->d, acc_users[R_EXPIRED][0], acc_users[R_EXPIRED][1], NULL,
                 &e->acc[R_EXPIRED]);
      e->acc[R_BAD].cookie = g_strconcat ("lt_session=", e->tokens[R_BAD], NULL);
    }

  /* two minutes on, the expiring token and session have expired; meeting 1 is live */
  g_autofree char *conf = g_strdup_printf (
      "trusted-proxies=127.0.0.1\n[auth]\nsession-idle=60\n[testing]\nnow=%d\n"
      "[nodes]\nheartbeat-interval=60\n",
      NOW + 120);
  sd_restart (e->d, conf);
  for (int r = 0; sessions && r < R_NODE; r++)
    if (acc_users[r][0] != NULL)
      acc_ready (e->d, acc_users[r][0], acc_users[r][1], acc_users[r][2], &e->acc[r]);
  ck_assert (ws_open (&e->node, e->s, e->d, "/api/v1/nodes/ws", e->tokens[R_NODE], NULL));
  ws_send (&e->node, "{\"v\":1,\"type\":\"register\",\"node_id\":\"node-08\","
                     "\"unit\":\"08\",\"capacity\":50,\"fingerprint\":\"sha-256 x\"}");
  json_node_unref (ws_take (&e->node, "registered"));
  json_node_unref (ws_take (&e->node, "leg.open"));
  /* the chair's hall joins, so node-08 hosts it and may report on it */
  g_autofree char *chair_scope = g_strdup_printf ("%" G_GINT64_FORMAT, e->chair_site);
  g_autofree char *chair_tok = make_token (e->d, "site", chair_scope, NULL);
  ck_assert (ws_open (&e->chair_hall, e->s, e->d, "/api/v1/ws", chair_tok, NULL));
  ws_send (&e->chair_hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 x\"}");
  json_node_unref (ws_take (&e->chair_hall, "joined"));
  json_node_unref (ws_take (&e->node, "site.offer"));
  /* the roll call is written in batches: reading it writes the join now, so the
   * store dumps the attack cases compare hold no write still pending */
  g_autofree char *att
      = sd_http (e->d, "GET", "/api/v1/meetings/1/attendance", e->d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  report_stats (e, NOW + 120);
  g_autofree char *links
      = sd_http (e->d, "GET", "/api/v1/meetings/1/links", e->d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) ln = sd_json (links);
  JsonArray *legs = json_object_get_array_member (json_node_get_object (ln), "links");
  ck_assert_uint_ge (json_array_get_length (legs), 1);
  e->leg = g_strdup (
      json_object_get_string_member (json_array_get_object_element (legs, 0), "leg"));
  /* recording 1 of meeting 1, with one finished file node-08 reported (issue 17) */
  g_autofree char *rec = sd_http (e->d, "POST", "/api/v1/occurrences/1/recording",
                                  e->d->admin, "{\"action\":\"start\"}", &st);
  ck_assert_msg (st == 200, "recording: %u %s", st, rec);
  json_node_unref (ws_take (&e->node, "record.start"));
  g_autofree char *rdir = g_build_filename (e->d->state_dir, "recordings", "1", NULL);
  g_autofree char *rfile = g_build_filename (rdir, "p1-program-00001.webm", NULL);
  ck_assert_int_eq (g_mkdir_with_parents (rdir, 0700), 0);
  ck_assert (g_file_set_contents (rfile, "webm bytes", -1, NULL));
  ws_send (&e->node, "{\"v\":1,\"type\":\"record.segment\",\"occurrence_id\":1,"
                     "\"recording_id\":1,\"part\":1,\"file\":\"p1-program-00001.webm\","
                     "\"bytes\":10,\"sha256\":\"" SHA_OF_WEBM_BYTES "\"}");
  ws_barrier (&e->node, TRUE);
}

static void
env_stop (Env *e)
{
  ws_close (&e->chair_hall);
  ws_close (&e->node);
  g_clear_object (&e->s);
  sd_free (e->d);
  for (int r = 0; r < N_ROLES; r++)
    {
      g_free (e->tokens[r]);
      acc_session_clear (&e->acc[r]);
    }
  g_free (e->victim_token);
  g_free (e->leg);
}

/* One request as @role; failing authentications come from a fresh address each. */
static char *
call (Env *e, Role role, const char *method, const char *path, const char *ctype,
      const char *body, guint *status)
{
  g_autofree char *xff = NULL;
  if (role == R_BAD || role == R_EXPIRED)
    {
      xff = g_strdup_printf ("X-Forwarded-For: 198.51.%u.%u", 100 + e->xff / 250,
                             1 + e->xff % 250);
      e->xff++;
    }
  const char *headers[] = { xff, NULL };
  if (e->sessions && e->acc[role].cookie != NULL)
    return acc_http_raw (e->d, method, path, e->acc[role].cookie, e->acc[role].csrf,
                         e->d->base, xff, ctype, body, status);
  return sd_http_full (e->d, method, path, e->tokens[role], ctype, body, -1,
                       xff ? headers : NULL, status, NULL);
}

static void
assert_alive (Env *e)
{
  guint st;
  g_autofree char *h = sd_http (e->d, "GET", "/healthz", NULL, NULL, &st);
  ck_assert_msg (st == 200 && strstr (h, "\"ok\"") != NULL, "signald is down: %u %s", st,
                 h);
}

/* ---- the matrix ---- */

#define PASS 0 /* past the access gate: 2xx, or 400/409 for the empty bodies sent */

static guint
expected (const SigRoute *r, Role role)
{
  if (r->roles & SIG_ROLE_PUBLIC)
    return PASS;
  if (role_bits[role] == 0)
    return 401;
  if (!(r->roles & role_bits[role]))
    return 403;
  switch (r->access)
    {
    case SIG_ACCESS_ROLE:
    case SIG_ACCESS_FILTERED:
    case SIG_ACCESS_BOOKING:
      return PASS;
    case SIG_ACCESS_UNIT_CALENDAR:
      return calendar08[role] ? PASS : 403;
    case SIG_ACCESS_MEETING_READ:
    case SIG_ACCESS_OCCURRENCE_READ:
    case SIG_ACCESS_LEG_READ:
    case SIG_ACCESS_RECORDING_READ:
      return reads[role] ? PASS : 404;
    case SIG_ACCESS_MEETING_EDIT:
      return !reads[role] ? 404 : edits[role] ? PASS : 403;
    case SIG_ACCESS_OCCURRENCE_CONTROL:
      return !reads[role] ? 404 : controls[role] ? PASS : 403;
    case SIG_ACCESS_UNSET:
    default:
      ck_abort_msg ("%s %s has no access rule", r->method, r->pattern);
      return 0;
    }
}

/* The route's pattern with the fixture's objects in it: {id} is meeting 1 (its twin
 * for DELETE), occurrence 1, the victim token, or the victim node; {code} unit 08; {site} the
 * chair's hall; {leg} a leg of meeting 1. */
static char *
instantiate (Env *e, const SigRoute *r)
{
  gboolean occurrence = r->access == SIG_ACCESS_OCCURRENCE_READ
                        || r->access == SIG_ACCESS_OCCURRENCE_CONTROL;
  const char *id = g_str_has_prefix (r->pattern, "/api/v1/nodes/") ? "node-victim"
                   : r->access == SIG_ACCESS_ROLE                  ? e->victim_token
                   : g_str_equal (r->method, "DELETE")             ? "2"
                                                                   : "1";
  g_autofree char *site = g_strdup_printf ("%" G_GINT64_FORMAT, e->chair_site);
  const char *subst[][2] = {
    { "{id}", occurrence ? "1" : id },
    { "{code}", "08" },
    { "{site}", site },
    { "{leg}", e->leg },
    { "{name}",
      strstr (r->pattern, "/recordings/") ? "p1-program-00001.webm" : "victim" },
  };
  char *path = g_strdup (r->pattern);
  for (gsize i = 0; i < G_N_ELEMENTS (subst); i++)
    {
      g_auto (GStrv) parts = g_strsplit (path, subst[i][0], -1);
      g_free (path);
      path = g_strjoinv (subst[i][1], parts);
    }
  ck_assert_msg (strchr (path, '{') == NULL, "no fixture for a parameter of %s",
                 r->pattern);
  return path;
}

static const char *
role_mask_name (guint bit)
{
  return bit == SIG_ROLE_PUBLIC ? "public" : sig_role_to_string (bit);
}

/* openapi.json documents each route's roles and access: the same as the table. */
static void
check_openapi (Env *e, const SigRoute *r)
{
  static JsonNode *doc;
  if (doc == NULL)
    {
      guint st;
      g_autofree char *t = sd_http (e->d, "GET", "/api/v1/openapi.json", NULL, NULL, &st);
      doc = sd_json (t);
    }
  JsonObject *paths = json_object_get_object_member (json_node_get_object (doc), "paths");
  JsonObject *p = json_object_get_object_member (paths, r->pattern);
  ck_assert_msg (p != NULL, "%s missing from openapi.json", r->pattern);
  g_autofree char *m = g_ascii_strdown (r->method, -1);
  JsonObject *op = json_object_get_object_member (p, m);
  ck_assert_msg (op != NULL, "%s %s missing from openapi.json", r->method, r->pattern);
  GString *want = g_string_new (NULL), *have = g_string_new (NULL);
  static const guint order[] = { SIG_ROLE_PUBLIC, SIG_ROLE_ADMIN, SIG_ROLE_SECRETARY,
                                 SIG_ROLE_SITE,   SIG_ROLE_IT,    SIG_ROLE_NODE };
  for (gsize i = 0; i < G_N_ELEMENTS (order); i++)
    if (r->roles & order[i])
      g_string_append_printf (want, "%s ", role_mask_name (order[i]));
  JsonArray *xr = json_object_get_array_member (op, "x-roles");
  for (guint i = 0; xr && i < json_array_get_length (xr); i++)
    g_string_append_printf (have, "%s ", json_array_get_string_element (xr, i));
  ck_assert_msg (g_str_equal (want->str, have->str),
                 "%s %s: roles %s in the table, %s in openapi.json", r->method,
                 r->pattern, want->str, have->str);
  static const char *const access_names[] = {
    "unset",
    "role",
    "unit-calendar",
    "meeting-read",
    "meeting-edit",
    "occurrence-read",
    "occurrence-control",
    "recording-read",
    "filtered",
    "booking",
    "leg-read",
  };
  ck_assert_uint_lt (r->access, G_N_ELEMENTS (access_names));
  ck_assert_msg (
      g_strcmp0 (json_object_get_string_member_with_default (op, "x-access", ""),
                 access_names[r->access])
          == 0,
      "%s %s: x-access is not %s", r->method, r->pattern, access_names[r->access]);
  g_string_free (want, TRUE);
  g_string_free (have, TRUE);
}

/* The number of audit entries of @action in the daemon's store. */
static gint64
audit_count (Env *e, const char *action)
{
  g_autofree char *path = g_build_filename (e->d->state_dir, "lienthong.db", NULL);
  sqlite3 *db = NULL;
  ck_assert_int_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  ck_assert_int_eq (sqlite3_prepare_v2 (db, "SELECT count(*) FROM audit WHERE action = ?",
                                        -1, &st, NULL),
                    SQLITE_OK);
  sqlite3_bind_text (st, 1, action, -1, SQLITE_STATIC);
  ck_assert_int_eq (sqlite3_step (st), SQLITE_ROW);
  gint64 n = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return n;
}

/* A cookie write without the session's CSRF token, or from another Origin, is
 * refused (403) before anything else and changes nothing. */
static void
check_csrf (Env *e, const SigRoute *r, const char *path, const char *ctype,
            const char *body)
{
  if ((r->roles & SIG_ROLE_PUBLIC) || strcmp (r->method, "GET") == 0)
    return;
  g_autofree char *before = sd_dump_db (e->d);
  const AccSession *a = &e->acc[R_ADMIN];
  const char *cases[][2] = {
    { NULL, e->d->base },               /* no token */
    { "0000", e->d->base },             /* a wrong token */
    { a->csrf, "http://evil.example" }, /* the token, from another site */
    { a->csrf, NULL },                  /* the token, no Origin */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint st;
      g_autofree char *resp = acc_http_raw (e->d, r->method, path, a->cookie, cases[i][0],
                                            cases[i][1], NULL, ctype, body, &st);
      ck_assert_msg (st == 403, "%s %s without CSRF defence (case %zu): %u %s", r->method,
                     path, i, st, resp);
    }
  g_autofree char *after = sd_dump_db (e->d);
  ck_assert_msg (g_str_equal (before, after), "%s %s: a refused write changed the store",
                 r->method, path);
}

static void
run_matrix (gboolean sessions)
{
  Env e;
  env_start (&e, sessions);
  guint n;
  const SigRoute *routes = sig_routes_get (&n);
  ck_assert_uint_gt (n, 10);
  for (guint i = 0; i < n; i++)
    {
      const SigRoute *r = &routes[i];
      ck_assert_msg (r->access != SIG_ACCESS_UNSET, "%s %s: no access rule decided",
                     r->method, r->pattern);
      check_openapi (&e, r);
      g_autofree char *path = instantiate (&e, r);
      const char *ctype = (r->flags & SIG_ROUTE_CSV_BODY) ? "text/csv" : NULL;
      const char *body = (r->flags & SIG_ROUTE_JSON_BODY)  ? "{}"
                         : (r->flags & SIG_ROUTE_CSV_BODY) ? ""
                                                           : NULL;
      if (sessions)
        check_csrf (&e, r, path, ctype, body);
      /* every route that may change something names its audit action */
      ck_assert_msg (r->audit != NULL || strcmp (r->method, "GET") == 0
                         || (r->flags & SIG_ROUTE_NO_CHANGE),
                     "%s %s changes the store without an audit action", r->method,
                     r->pattern);
      gint64 audited = r->audit ? audit_count (&e, r->audit) : 0;
      guint accepted = 0;
      for (int role = 0; role < N_ROLES; role++)
        {
          guint st;
          g_autofree char *resp = call (&e, role, r->method, path, ctype, body, &st);
          accepted += st >= 200 && st < 300;
          /* signing out ended the session: sign in again for the next routes */
          if (sessions && r->handler == sig_route_session_delete && role < R_SITE)
            {
              guint sst;
              g_free (acc_sign_in (e.d, acc_users[role][0], ACC_PW, NULL, &e.acc[role],
                                   &sst));
              ck_assert_uint_eq (sst, 201);
            }
          guint want = expected (r, role);
          gboolean ok = want == PASS ? (st >= 200 && st < 300) || st == 400 || st == 409
                                     : st == want;
          ck_assert_msg (ok, "%s %s as %s: %u, wanted %s%u: %s", r->method, path,
                         role_names[role], st, want == PASS ? "past the gate, not " : "",
                         want == PASS ? st : want, resp);
        }
      /* one entry per accepted request, none for a refused one */
      if (r->audit != NULL)
        ck_assert_msg (audit_count (&e, r->audit) - audited == accepted,
                       "%s %s: %u accepted, %" G_GINT64_FORMAT " audited", r->method,
                       r->pattern, accepted, audit_count (&e, r->audit) - audited);
    }
  assert_alive (&e);
  env_stop (&e);
}

START_TEST (test_role_route_matrix)
{
  run_matrix (FALSE);
}
END_TEST

/* The same matrix with people signed in: admin, the secretaries and it call with
 * their session cookies (and the CSRF token), the bad and the expired credential are
 * a made-up cookie and a session idle past [auth] session-idle; sites and nodes keep
 * their tokens. Every write route is also tried without the CSRF defence first. */
START_TEST (test_role_route_matrix_sessions)
{
  run_matrix (TRUE);
}
END_TEST

/* ---- the attacks ---- */

static JsonNode *
chair_link (Env *e)
{
  guint st;
  g_autofree char *r
      = sd_http (e->d, "GET", "/api/v1/meetings/1/links", e->d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) n = sd_json (r);
  JsonArray *a = json_object_get_array_member (json_node_get_object (n), "links");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (json_object_get_int_member_with_default (o, "site_id", 0) == e->chair_site)
        return json_node_copy (json_array_get_element (a, i));
    }
  ck_abort_msg ("no link of the chair's hall: %s", r);
  return NULL;
}

/* A district secretary (076, under the chair 08) may read meeting 1 but not control
 * it: pinning the chair's hall to audio through either level route is refused (403),
 * the node is told nothing, the hall's level and pin are as before; IT staff may not
 * either. The chair's secretary may (200, the node is told): the refusal is about
 * who asks, not about the request. */
START_TEST (test_level_pin_by_district_secretary)
{
  Env e;
  env_start (&e, FALSE);
  g_autofree char *path = g_strdup_printf (
      "/api/v1/occurrences/1/sites/%" G_GINT64_FORMAT "/level", e.chair_site);
  g_autofree char *body2 = g_strdup_printf (
      "{\"site_id\":%" G_GINT64_FORMAT ",\"level\":\"audio\"}", e.chair_site);
  g_autoptr (JsonNode) before = chair_link (&e);
  g_autofree char *db_before = sd_dump_db (e.d);
  guint st;
  static const Role refused[] = { R_SEC076, R_IT };
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      Role r = refused[i];
      g_autofree char *a = call (&e, r, "POST", path, NULL, "{\"level\":\"audio\"}", &st);
      ck_assert_msg (st == 403, "%s pinned the chair's hall: %u %s", role_names[r], st,
                     a);
      g_autofree char *b
          = call (&e, r, "POST", "/api/v1/occurrences/1/level", NULL, body2, &st);
      ck_assert_uint_eq (st, 403);
    }
  ws_barrier (&e.node, TRUE);
  ck_assert_uint_eq (ws_count (&e.node, "level"), 0);
  g_autoptr (JsonNode) after = chair_link (&e);
  ck_assert_str_eq (jstr (after, "level"), jstr (before, "level"));
  ck_assert (!json_object_get_boolean_member (json_node_get_object (after), "pinned"));
  g_autofree char *db_after = sd_dump_db (e.d);
  ck_assert_str_eq (db_before, db_after);
  assert_alive (&e);

  g_autofree char *ok
      = call (&e, R_SEC08, "POST", path, NULL, "{\"level\":\"low\"}", &st);
  ck_assert_msg (st == 200, "%s", ok);
  g_autoptr (JsonNode) told = ws_take (&e.node, "level");
  ck_assert_int_eq (jint (told, "site_id"), e.chair_site);
  env_stop (&e);
}
END_TEST

/* The presenter right of meeting 1 as the media view shows it: who holds it, and
 * who presents (0: nobody). */
static void
presenting (Env *e, gint64 *presenter, gint64 *content)
{
  guint st;
  g_autofree char *r
      = sd_http (e->d, "GET", "/api/v1/occurrences/1/media", e->d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) n = sd_json (r);
  JsonObject *leg = json_object_get_object_member (json_node_get_object (n), "leg");
  *presenter = json_object_get_int_member (leg, "presenter_site_id");
  JsonNode *c = json_object_get_member (leg, "content_site_id");
  *content = JSON_NODE_HOLDS_NULL (c) ? 0 : json_node_get_int (c);
}

/* While the chair's hall presents (issue 16), nobody but an admin or the chair's
 * secretary may move the presenter right: a district secretary who reads the meeting,
 * IT staff, the invited hall and the node are refused (403), the other province's
 * secretary does not even see the occurrence (404), an admin naming a site the
 * meeting does not invite (or none) is refused on the field (400). Each leaves the
 * store, the right and the content as they were, and the node is told nothing. The
 * chair's secretary may (200): the refusal is about who asks. */
START_TEST (test_presenter_right_by_others)
{
  Env e;
  env_start (&e, FALSE);
  ws_send (&e.chair_hall, "{\"type\":\"content.start\"}");
  json_node_unref (ws_take (&e.chair_hall, "content.ok"));
  ws_barrier (&e.node, TRUE);
  ws_drop (&e.node, "content");
  g_autofree char *db_before = sd_dump_db (e.d);
  gint64 other = site_of (e.d, "02600"); /* province 10: not invited */
  g_autofree char *to_site = g_strdup_printf ("{\"site\":%" G_GINT64_FORMAT "}", e.site);
  g_autofree char *to_other = g_strdup_printf ("{\"site\":%" G_GINT64_FORMAT "}", other);
  static const struct
  {
    Role role;
    guint status;
  } refused[] = { { R_SEC076, 403 }, { R_IT, 403 },    { R_SITE, 403 },
                  { R_NODE, 403 },   { R_SEC10, 404 }, { R_NONE, 401 } };
  guint st;
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      Role r = refused[i].role;
      g_autofree char *a
          = call (&e, r, "POST", "/api/v1/occurrences/1/content", NULL, to_site, &st);
      ck_assert_msg (st == refused[i].status, "%s gave the right: %u %s", role_names[r],
                     st, a);
      g_autofree char *b
          = call (&e, r, "DELETE", "/api/v1/occurrences/1/content", NULL, NULL, &st);
      ck_assert_msg (st == refused[i].status, "%s took the right: %u %s", role_names[r],
                     st, b);
    }
  const char *bad[]
      = { to_other, "{\"site\":0}", "{\"site\":null}", "{}", "{\"site\":\"1\"}" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *a = call (&e, R_ADMIN, "POST", "/api/v1/occurrences/1/content",
                                 NULL, bad[i], &st);
      ck_assert_msg (st == 400 && strstr (a, "\"field\":\"site\"") != NULL, "%s: %u %s",
                     bad[i], st, a);
    }
  ws_barrier (&e.node, TRUE);
  ck_assert_uint_eq (ws_count (&e.node, "content"), 0);
  gint64 presenter, content;
  presenting (&e, &presenter, &content);
  ck_assert_int_eq (presenter, e.chair_site);
  ck_assert_int_eq (content, e.chair_site);
  g_autofree char *db_after = sd_dump_db (e.d);
  ck_assert_str_eq (db_before, db_after);
  assert_alive (&e);

  /* the chair's secretary gives the right to the commune: the chair's screen stops */
  g_autofree char *ok
      = call (&e, R_SEC08, "POST", "/api/v1/occurrences/1/content", NULL, to_site, &st);
  ck_assert_msg (st == 200, "%s", ok);
  g_autoptr (JsonNode) told = ws_take (&e.node, "content");
  ck_assert (JSON_NODE_HOLDS_NULL (
      json_object_get_member (json_node_get_object (told), "site_id")));
  presenting (&e, &presenter, &content);
  ck_assert_int_eq (presenter, e.site);
  ck_assert_int_eq (content, 0);
  env_stop (&e);
}
END_TEST

/* A commune hall's token asking for the calendar of a unit above it (VN) gets only
 * the meetings that invite it: not another province's title and agenda. A secretary
 * may not ask for units outside their subtree (403), and gets their own unit's feed
 * with their meetings; an admin sees the other province's meeting (so the test would
 * see a leak). Nothing changes in the store. */
START_TEST (test_calendar_leak)
{
  Env e;
  env_start (&e, FALSE);
  guint st;
  g_autofree char *db_before = sd_dump_db (e.d);

  g_autofree char *admin_vn
      = call (&e, R_ADMIN, "GET", "/api/v1/units/VN/calendar.ics", NULL, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_ptr_nonnull (strstr (admin_vn, "Lào Cai"));
  g_autofree char *site_vn
      = call (&e, R_SITE, "GET", "/api/v1/units/VN/calendar.ics", NULL, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_msg (strstr (site_vn, "Lào Cai") == NULL, "leaked:\n%s", site_vn);
  ck_assert_ptr_nonnull (strstr (site_vn, "UID:meeting-1@lienthong"));
  g_autofree char *site_10
      = call (&e, R_SITE, "GET", "/api/v1/units/10/calendar.ics", NULL, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_ptr_null (strstr (site_10, "BEGIN:VEVENT"));

  g_autofree char *sec_10
      = call (&e, R_SEC08, "GET", "/api/v1/units/10/calendar.ics", NULL, NULL, &st);
  ck_assert_uint_eq (st, 403);
  ck_assert_ptr_null (strstr (sec_10, "Lào Cai"));
  g_autofree char *sec_vn
      = call (&e, R_SEC08, "GET", "/api/v1/units/VN/calendar.ics", NULL, NULL, &st);
  ck_assert_uint_eq (st, 403);
  g_autofree char *sec_08
      = call (&e, R_SEC08, "GET", "/api/v1/units/08/calendar.ics", NULL, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_ptr_nonnull (strstr (sec_08, "UID:meeting-1@lienthong"));
  ck_assert_ptr_null (strstr (sec_08, "Lào Cai"));

  g_autofree char *db_after = sd_dump_db (e.d);
  ck_assert_str_eq (db_before, db_after);
  assert_alive (&e);
  env_stop (&e);
}
END_TEST

/* 200 KB of nesting, plain or hidden behind a single-quoted string, a block comment
 * or a line comment (json-glib takes all three), posted by a secretary and by an
 * admin to every route with a JSON body they may call, gets 400 with the one error
 * body and changes nothing; IT staff are refused before the body is read; the same
 * attacks as WebSocket messages (under the 64 KiB frame limit) get an error and the
 * socket stays open. signald is up after each (before the fix the first one killed
 * it with SIGSEGV). */
START_TEST (test_nesting_attacks)
{
  Env e;
  env_start (&e, FALSE);
  const gsize n = 200 * 1024;
  g_autofree char *deep = g_strnfill (n, '[');
  char *variants[] = {
    g_strdup (deep),
    g_strconcat ("{\"title\":'", deep, "'}", NULL),
    g_strconcat ("{\"title\":\"x\"/*", deep, "*/}", NULL),
    g_strconcat ("{\"title\":\"x\"//", deep, "\n}", NULL),
  };
  g_autofree char *db_before = sd_dump_db (e.d);
  guint nr;
  const SigRoute *routes = sig_routes_get (&nr);
  guint tried = 0;
  for (guint i = 0; i < nr; i++)
    {
      const SigRoute *r = &routes[i];
      if (!(r->flags & SIG_ROUTE_JSON_BODY))
        continue;
      g_autofree char *path = instantiate (&e, r);
      Role who = (r->roles & SIG_ROLE_SECRETARY) ? R_SEC08 : R_ADMIN;
      for (gsize v = 0; v < G_N_ELEMENTS (variants); v++)
        {
          guint st;
          g_autofree char *resp = call (&e, who, r->method, path, NULL, variants[v], &st);
          ck_assert_msg (st == 400, "%s %s variant %zu: %u %s", r->method, path, v, st,
                         resp);
          g_autoptr (JsonNode) err = sd_json (resp);
          ck_assert_ptr_nonnull (
              json_object_get_object_member (json_node_get_object (err), "error"));
          assert_alive (&e);
          tried++;
        }
      if (!(r->roles & (SIG_ROLE_IT | SIG_ROLE_PUBLIC)))
        {
          guint st;
          g_autofree char *resp
              = call (&e, R_IT, r->method, path, NULL, variants[1], &st);
          ck_assert_uint_eq (st, 403);
        }
    }
  ck_assert_uint_ge (tried, 4 * 6);

  WsPeer dash;
  ck_assert (ws_open (&dash, e.s, e.d, "/api/v1/ws", e.tokens[R_SEC08], NULL));
  g_autofree char *ws_deep = g_strnfill (60 * 1024, '[');
  char *ws_variants[] = {
    g_strdup (ws_deep),
    g_strconcat ("{\"type\":'", ws_deep, "'}", NULL),
    g_strconcat ("{\"type\":\"ping\"/*", ws_deep, "*/}", NULL),
    g_strconcat ("{\"type\":\"ping\"//", ws_deep, "\n}", NULL),
  };
  for (gsize v = 0; v < G_N_ELEMENTS (ws_variants); v++)
    {
      ws_send (&dash, ws_variants[v]);
      g_autoptr (JsonNode) err = ws_take (&dash, "error");
      ck_assert_msg (err != NULL, "socket closed on WebSocket variant %zu", v);
      ck_assert_str_eq (jstr (err, "code"), "bad_request");
      g_free (ws_variants[v]);
    }
  ws_barrier (&dash, FALSE); /* still answering */
  ws_close (&dash);

  g_autofree char *db_after = sd_dump_db (e.d);
  ck_assert_str_eq (db_before, db_after);
  assert_alive (&e);
  for (gsize v = 0; v < G_N_ELEMENTS (variants); v++)
    g_free (variants[v]);
  env_stop (&e);
}
END_TEST

/* /metrics names each province's worst links: without a token it is 401 and says
 * nothing; a bad token 401; sites, secretaries and nodes 403; it and admin 200. */
START_TEST (test_metrics_without_token)
{
  Env e;
  env_start (&e, FALSE);
  static const struct
  {
    Role role;
    guint status;
  } cases[] = {
    { R_NONE, 401 },  { R_BAD, 401 },  { R_EXPIRED, 401 }, { R_SITE, 403 },
    { R_SEC08, 403 }, { R_NODE, 403 }, { R_IT, 200 },      { R_ADMIN, 200 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint st;
      g_autofree char *m = call (&e, cases[i].role, "GET", "/metrics", NULL, NULL, &st);
      ck_assert_msg (st == cases[i].status, "/metrics as %s: %u",
                     role_names[cases[i].role], st);
      ck_assert ((strstr (m, "lienthong_link") != NULL) == (st == 200));
    }
  assert_alive (&e);
  env_stop (&e);
}
END_TEST

/* Ten bad tokens from one address (the proxy's, with trusted-proxies unset) block it
 * for failures only: a bad token then gets 429, while the admin's, a site's and a
 * node's valid tokens still get in over HTTP and WebSocket from the same address.
 * Nothing changes in the store. */
START_TEST (test_limiter_lets_valid_tokens_in)
{
  Env e;
  env_start (&e, FALSE);
  g_autofree char *conf = g_strdup_printf ("[testing]\nnow=%d\n", NOW + 120);
  sd_restart (e.d, conf); /* the same clock, no trusted proxy */
  g_autofree char *db_before = sd_dump_db (e.d);
  guint st;
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *r = sd_http (e.d, "GET", "/api/v1/units", "bad", NULL, &st);
      ck_assert_uint_eq (st, 401);
    }
  g_autofree char *blocked = sd_http (e.d, "GET", "/api/v1/units", "bad", NULL, &st);
  ck_assert_uint_eq (st, 429);
  g_autofree char *a = sd_http (e.d, "GET", "/api/v1/units", e.d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autofree char *s
      = sd_http (e.d, "GET", "/api/v1/meetings/1", e.tokens[R_SITE], NULL, &st);
  ck_assert_uint_eq (st, 200);
  WsPeer ws;
  ck_assert (ws_open (&ws, e.s, e.d, "/api/v1/ws", e.tokens[R_SITE], NULL));
  json_node_unref (ws_take (&ws, "hello"));
  ws_close (&ws);
  ck_assert (!ws_open (&ws, e.s, e.d, "/api/v1/ws", "bad", NULL));
  ws_close (&ws);
  g_autofree char *again = sd_http (e.d, "GET", "/api/v1/units", "bad", NULL, &st);
  ck_assert_uint_eq (st, 429);
  g_autofree char *db_after = sd_dump_db (e.d);
  ck_assert_str_eq (db_before, db_after);
  assert_alive (&e);
  env_stop (&e);
}
END_TEST

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      g_printerr ("usage: %s PATH-TO-lienthong-signald-test\n", argv[0]);
      return 2;
    }
  sd_binary_path = argv[1];
  Suite *s = suite_create ("signaling-abuse");
  TCase *tc = tcase_create ("abuse");
  tcase_set_timeout (tc, 150);
  tcase_add_test (tc, test_role_route_matrix);
  tcase_add_test (tc, test_role_route_matrix_sessions);
  tcase_add_test (tc, test_level_pin_by_district_secretary);
  tcase_add_test (tc, test_presenter_right_by_others);
  tcase_add_test (tc, test_calendar_leak);
  tcase_add_test (tc, test_nesting_attacks);
  tcase_add_test (tc, test_metrics_without_token);
  tcase_add_test (tc, test_limiter_lets_valid_tokens_in);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
