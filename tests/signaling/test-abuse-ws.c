/* Suite signaling-abuse-ws: the real lienthong-signald (argv[1]) against fake nodes,
 * halls and dashboards that try what a security review and a black-box probe did on
 * the WebSocket side. Each case proves one attack is refused or has no effect, that
 * signald stays up, and that what the attacker tried to change is unchanged:
 * - a node token cannot register a unit other than the one the admin gave it, a unit
 *   another node serves cannot be handed out, and retiring a node ends its socket,
 *   its tokens and its hold on the unit;
 * - a node cannot answer, or trickle candidates to, a hall whose offer went to
 *   another node (join or line test);
 * - a node cannot report statistics, endpoint states or speakers for sites and links
 *   it does not host (no grade, alarm, step-down or event follows), nor grow
 *   signald's state with invented endpoints or huge names;
 * - deleting a token closes its open sockets (node, hall, dashboard) with 1008, and a
 *   token that expires closes them within about a second;
 * - tokens are not taken from URLs; browsers pass them as a subprotocol;
 * - a socket that floods is slowed, not served;
 * - only the joined hall holding the presenter right starts the content: a hall
 *   without it, one not joined, one of another meeting, dashboards and nodes are
 *   refused and change nothing;
 * - every message type of the table (sig_ws_messages_get), sent by every kind of
 *   socket, gets `forbidden` from a sender the table does not admit and never takes
 *   signald down. */
#include "lt-test.h"
#include "sig-test-util.h"
#include "sig-auth.h"
#include "sig-ws.h"

/* 2026-12-01T01:10:00Z: inside a live meeting from 08:00+07:00 to 10:00+07:00 */
#define NOW 1796087400
#define CONF "[testing]\nnow=1796087400\n[nodes]\nheartbeat-interval=60\n"
#define MEETING "[{\"unit\":\"08\"},{\"unit\":\"076\",\"down_to\":\"commune\"}]"

typedef struct
{
  SdDaemon *d;
  SoupSession *s;
  gint64 c02536, c02539;
  char *tok08, *tok076;
  WsPeer n08, n076, dash;
} Env;

static char *
register_msg (const char *id, const char *unit)
{
  return g_strdup_printf ("{\"v\":1,\"type\":\"register\",\"node_id\":\"%s\",\"unit\":"
                          "\"%s\",\"capacity\":50,\"fingerprint\":\"sha-256 %s\"}",
                          id, unit, id);
}

static void
node_register (WsPeer *p, const char *id, const char *unit)
{
  g_autofree char *reg = register_msg (id, unit);
  ws_send (p, reg);
}

/* signald with the tiny tree, a live meeting of 08 and 076's communes, node-08 and
 * node-076 registered (node-076 hosts 076's communes), and an admin dashboard
 * subscribed to the meeting. */
static void
env_start (Env *e, const char *conf)
{
  memset (e, 0, sizeof *e);
  e->d = sd_start (conf);
  import_tiny (e->d);
  e->s = soup_session_new ();
  e->c02536 = site_of (e->d, "02536");
  e->c02539 = site_of (e->d, "02539");
  guint st;
  g_autofree char *r = book (e->d, e->d->admin, "Giao ban", "08", DAY1 "08:00:00" TZ,
                             DAY1 "10:00:00" TZ, MEETING, NULL, &st);
  ck_assert_msg (st == 201, "book: %u %s", st, r);
  ck_assert (ws_open (&e->dash, e->s, e->d, "/api/v1/ws", e->d->admin, NULL));
  ws_send (&e->dash, "{\"type\":\"subscribe\",\"meeting_id\":1}");
  json_node_unref (ws_take (&e->dash, "subscribed"));
  e->tok08 = make_node_token (e->d, "node-08", "08");
  e->tok076 = make_node_token (e->d, "node-076", "076");
  ck_assert (ws_open (&e->n08, e->s, e->d, "/api/v1/nodes/ws", e->tok08, NULL));
  node_register (&e->n08, "node-08", "08");
  json_node_unref (ws_take (&e->n08, "registered"));
  ck_assert (ws_open (&e->n076, e->s, e->d, "/api/v1/nodes/ws", e->tok076, NULL));
  node_register (&e->n076, "node-076", "076");
  json_node_unref (ws_take (&e->n076, "registered"));
  json_node_unref (ws_take (&e->n076, "leg.open"));
}

static void
env_stop (Env *e)
{
  ws_close (&e->n08);
  ws_close (&e->n076);
  ws_close (&e->dash);
  g_clear_object (&e->s);
  g_free (e->tok08);
  g_free (e->tok076);
  sd_free (e->d);
}

/* A hall of @site opens its socket and joins occurrence 1 with an offer, which goes
 * to node-076 (its host). */
static void
hall_join (Env *e, WsPeer *hall, gint64 site)
{
  g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, site);
  g_autofree char *tok = make_token (e->d, "site", scope, NULL);
  ck_assert (ws_open (hall, e->s, e->d, "/api/v1/ws", tok, NULL));
  ws_send (hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 offer\"}");
  json_node_unref (ws_take (hall, "joined"));
  g_autoptr (JsonNode) offer = ws_take (&e->n076, "site.offer");
  ck_assert_int_eq (jint (offer, "site_id"), site);
}

/* Sends @msg on a node socket and returns the code of the error it is answered
 * with ("" when none came before the barrier). */
static char *
node_says (WsPeer *node, const char *msg)
{
  ws_drop (node, "error");
  ws_send (node, msg);
  ws_send (node, "{\"type\":\"barrier\"}");
  for (;;)
    {
      g_autoptr (JsonNode) n = ws_take (node, "error");
      ck_assert_ptr_nonnull (n);
      if (strstr (jstr (n, "message"), "barrier") != NULL)
        return g_strdup ("");
      char *code = g_strdup (jstr (n, "code"));
      g_autoptr (JsonNode) b = NULL;
      while ((b = ws_take (node, "error")) != NULL
             && strstr (jstr (b, "message"), "barrier") == NULL)
        g_clear_pointer (&b, json_node_unref);
      return code;
    }
}

static guint
count_alarms (Env *e, const char *kind)
{
  guint st;
  g_autofree char *r = sd_http (e->d, "GET", "/api/v1/alarms", e->d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) n = sd_json (r);
  JsonArray *a = json_object_get_array_member (json_node_get_object (n), "alarms");
  guint c = 0;
  for (guint i = 0; i < json_array_get_length (a); i++)
    c += kind == NULL
         || g_str_equal (
             json_object_get_string_member (json_array_get_object_element (a, i), "kind"),
             kind);
  return c;
}

static void
assert_up (Env *e)
{
  guint st;
  g_autofree char *r = sd_http (e->d, "GET", "/healthz", NULL, NULL, &st);
  ck_assert_msg (st == 200, "signald is not answering: %u %s", st, r);
}

START_TEST (test_node_cannot_choose_its_unit)
{
  Env e;
  env_start (&e, CONF);
  guint st;
  /* node-x's token is for 080; registering for 076 (served by node-076) or for 10
   * (served by nobody) is refused, and the registry does not change */
  g_autofree char *tokx = make_node_token (e.d, "node-x", "080");
  WsPeer x;
  ck_assert (ws_open (&x, e.s, e.d, "/api/v1/nodes/ws", tokx, NULL));
  g_autofree char *reg076 = register_msg ("node-x", "076");
  g_autofree char *c1 = node_says (&x, reg076);
  ck_assert_str_eq (c1, "forbidden");
  g_autofree char *reg10 = register_msg ("node-x", "10");
  g_autofree char *c2 = node_says (&x, reg10);
  ck_assert_str_eq (c2, "forbidden");
  /* nor may it name itself another node */
  g_autofree char *as08 = register_msg ("node-08", "080");
  g_autofree char *c3 = node_says (&x, as08);
  ck_assert_str_eq (c3, "forbidden");
  g_autofree char *nodes = sd_http (e.d, "GET", "/api/v1/nodes", e.d->admin, NULL, &st);
  ck_assert_ptr_null (strstr (nodes, "node-x"));
  /* its own unit it may take */
  node_register (&x, "node-x", "080");
  json_node_unref (ws_take (&x, "registered"));

  /* a unit another node is registered for, or a registered node moved to another
   * unit, cannot be handed out */
  const char *conflicts[]
      = { "{\"role\":\"node\",\"scope\":\"node-z\",\"unit\":\"076\"}",
          "{\"role\":\"node\",\"scope\":\"node-076\",\"unit\":\"10\"}" };
  for (guint i = 0; i < G_N_ELEMENTS (conflicts); i++)
    {
      g_autofree char *r
          = sd_http (e.d, "POST", "/api/v1/tokens", e.d->admin, conflicts[i], &st);
      ck_assert_msg (st == 409, "%s: %u %s", conflicts[i], st, r);
    }
  /* malformed node tokens: no unit, an unknown unit, a node id that is not a name */
  const char *bad[] = { "{\"role\":\"node\",\"scope\":\"node-q\"}",
                        "{\"role\":\"node\",\"scope\":\"node-q\",\"unit\":\"999\"}",
                        "{\"role\":\"node\",\"scope\":\"a b\",\"unit\":\"10\"}",
                        "{\"role\":\"site\",\"scope\":\"1\",\"unit\":\"10\"}" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *r
          = sd_http (e.d, "POST", "/api/v1/tokens", e.d->admin, bad[i], &st);
      ck_assert_msg (st == 400, "%s: %u %s", bad[i], st, r);
    }

  /* retiring node-076: its socket closes, its token stops working, its sites are told
   * to re-home, and 076 can be given to another node */
  g_autofree char *r1
      = sd_http (e.d, "DELETE", "/api/v1/nodes/node-076", e.d->admin, NULL, &st);
  ck_assert_msg (st == 204, "retire: %u %s", st, r1);
  while (!e.n076.closed)
    g_main_loop_run (e.n076.loop);
  ck_assert_int_eq (soup_websocket_connection_get_close_code (e.n076.conn), 1008);
  WsPeer again;
  ck_assert (!ws_open (&again, e.s, e.d, "/api/v1/nodes/ws", e.tok076, NULL));
  ws_close (&again);
  g_autofree char *nodes2 = sd_http (e.d, "GET", "/api/v1/nodes", e.d->admin, NULL, &st);
  ck_assert_ptr_null (strstr (nodes2, "node-076"));
  g_autofree char *tokz = make_node_token (e.d, "node-z", "076");
  g_autofree char *r2
      = sd_http (e.d, "DELETE", "/api/v1/nodes/node-none", e.d->admin, NULL, &st);
  ck_assert_uint_eq (st, 404);
  /* a retired node is not an admin's to retire twice, and nobody else's at all */
  g_autofree char *it = make_token (e.d, "it", NULL, NULL);
  g_autofree char *r3 = sd_http (e.d, "DELETE", "/api/v1/nodes/node-z", it, NULL, &st);
  ck_assert_uint_eq (st, 403);
  ws_close (&x);
  assert_up (&e);
  env_stop (&e);
}
END_TEST

START_TEST (test_node_cannot_answer_for_another)
{
  Env e;
  env_start (&e, CONF);
  WsPeer hall;
  hall_join (&e, &hall, e.c02536);
  /* node-08 answers 02536, whose offer went to node-076: refused, the hall gets
   * nothing; the same for a candidate, and for an answer naming no occurrence */
  g_autofree char *ans = g_strdup_printf (
      "{\"type\":\"site.answer\",\"occurrence_id\":1,\"site_id\":%" G_GINT64_FORMAT
      ",\"sdp\":\"v=0 hijack\"}",
      e.c02536);
  g_autofree char *c1 = node_says (&e.n08, ans);
  ck_assert_str_eq (c1, "forbidden");
  g_autofree char *ice = g_strdup_printf (
      "{\"type\":\"site.ice\",\"occurrence_id\":1,\"site_id\":%" G_GINT64_FORMAT
      ",\"candidate\":\"candidate:1 1 udp 9 192.0.2.1 5 typ host\"}",
      e.c02536);
  g_autofree char *c2 = node_says (&e.n08, ice);
  ck_assert_str_eq (c2, "forbidden");
  g_autofree char *ans0 = g_strdup_printf (
      "{\"type\":\"site.answer\",\"site_id\":%" G_GINT64_FORMAT ",\"sdp\":\"v=0 x\"}",
      e.c02536);
  g_autofree char *c3 = node_says (&e.n08, ans0);
  ck_assert_str_eq (c3, "forbidden");
  ws_barrier (&hall, FALSE);
  ck_assert_uint_eq (ws_count (&hall, "answer"), 0);
  ck_assert_uint_eq (ws_count (&hall, "ice"), 0);

  /* the line test goes to node-076 too: node-08 cannot answer it either */
  ws_send (&hall, "{\"type\":\"echo\",\"sdp\":\"v=0 echo\"}");
  json_node_unref (ws_take (&e.n076, "site.offer"));
  g_autofree char *echo = g_strdup_printf (
      "{\"type\":\"site.answer\",\"occurrence_id\":0,\"site_id\":%" G_GINT64_FORMAT
      ",\"sdp\":\"v=0 echo hijack\"}",
      e.c02536);
  g_autofree char *c4 = node_says (&e.n08, echo);
  ck_assert_str_eq (c4, "forbidden");
  ws_barrier (&hall, FALSE);
  ck_assert_uint_eq (ws_count (&hall, "answer"), 0);

  /* the hosting node's answer does arrive */
  g_autofree char *good = g_strdup_printf (
      "{\"type\":\"site.answer\",\"occurrence_id\":1,\"site_id\":%" G_GINT64_FORMAT
      ",\"sdp\":\"v=0 real\"}",
      e.c02536);
  g_autofree char *c5 = node_says (&e.n076, good);
  ck_assert_str_eq (c5, "");
  g_autoptr (JsonNode) got = ws_take (&hall, "answer");
  ck_assert_str_eq (jstr (got, "sdp"), "v=0 real");
  ws_close (&hall);
  assert_up (&e);
  env_stop (&e);
}
END_TEST

static char *
stats_msg (const char *endpoint, gint64 t, int grade)
{
  g_autofree char *dir = g_strdup_printf (
      "{\"win\":5,\"exp\":250,\"lost\":%d,\"loss\":%d,\"jit\":12,\"rtt\":80,\"kbps\":800,"
      "\"nack\":0,\"pli\":0,\"fir\":0,\"rtx\":0,\"frz\":0,\"frz_ms\":0,\"frozen\":0,"
      "\"conc\":0,\"mos\":2.1,\"grade\":%d}",
      grade == 3 ? 40 : 0, grade == 3 ? 16 : 0, grade);
  return g_strdup_printf (
      "{\"v\":1,\"type\":\"stats\",\"occurrence_id\":1,\"t\":%" G_GINT64_FORMAT
      ",\"endpoints\":[{\"endpoint\":\"%s\",\"quality\":{\"leg\":1,"
      "\"up\":%s,\"down\":%s}}]}",
      t, endpoint, dir, dir);
}

static guint
count_legs (Env *e)
{
  guint st;
  g_autofree char *r
      = sd_http (e->d, "GET", "/api/v1/meetings/1/links", e->d->admin, NULL, &st);
  ck_assert_msg (st == 200, "links: %u %s", st, r);
  g_autoptr (JsonNode) n = sd_json (r);
  JsonArray *a = json_object_get_array_member (json_node_get_object (n), "links");
  return a ? json_array_get_length (a) : 0;
}

START_TEST (test_node_cannot_report_on_others)
{
  Env e;
  env_start (&e, CONF);
  WsPeer hall;
  hall_join (&e, &hall, e.c02536);
  g_autofree char *ep = g_strdup_printf ("site:%" G_GINT64_FORMAT, e.c02536);
  guint alarms0 = count_alarms (&e, NULL);

  /* node-08 calls node-076's site very bad for a minute of reports: nothing of it is
   * kept (no leg, no alarm), and nobody is stepped down */
  for (gint64 i = 0; i < 30; i++)
    {
      g_autofree char *m = stats_msg (ep, NOW + 2 * i, 3);
      g_autofree char *code = node_says (&e.n08, m);
      ck_assert_str_eq (code, "forbidden");
    }
  ck_assert_uint_eq (count_legs (&e), 0);
  ck_assert_uint_eq (count_alarms (&e, NULL), alarms0);
  ck_assert_uint_eq (ws_count (&e.n076, "level"), 0);

  /* nor can it drop the site, or make it the speaker */
  g_autofree char *drop = g_strdup_printf (
      "{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":\"%s\","
      "\"state\":\"failed\"}",
      ep);
  g_autofree char *c1 = node_says (&e.n08, drop);
  ck_assert_str_eq (c1, "forbidden");
  g_autofree char *spk = g_strdup_printf (
      "{\"type\":\"speaker\",\"occurrence_id\":1,\"site_id\":%" G_GINT64_FORMAT "}",
      e.c02536);
  g_autofree char *c2 = node_says (&e.n08, spk);
  ck_assert_str_eq (c2, "forbidden");
  /* a link it does not have, a state nobody writes, an endpoint of 30 KB */
  g_autofree char *c3 = node_says (
      &e.n08,
      "{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":\"node:node-10\","
      "\"state\":\"failed\"}");
  ck_assert_str_eq (c3, "forbidden");
  g_autofree char *c4 = node_says (
      &e.n08,
      "{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":\"node:node-076\","
      "\"state\":\"<script>\"}");
  ck_assert_str_eq (c4, "bad_request");
  g_autofree char *huge = g_strnfill (30000, 'x');
  g_autofree char *big = g_strdup_printf (
      "{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":\"site:%s\","
      "\"state\":\"failed\"}",
      huge);
  g_autofree char *c5 = node_says (&e.n08, big);
  ck_assert_str_eq (c5, "forbidden");
  ck_assert_uint_eq (count_alarms (&e, NULL), alarms0);
  ws_send (&e.dash, "{\"type\":\"ping\"}");
  json_node_unref (ws_take (&e.dash, "pong"));
  ck_assert_uint_eq (ws_count (&e.dash, "speaker"), 0);

  /* invented endpoints and occurrences grow nothing */
  GString *many = g_string_new ("{\"v\":1,\"type\":\"stats\",\"occurrence_id\":1,"
                                "\"t\":1796087500,\"endpoints\":[");
  for (guint i = 0; i < 300; i++)
    g_string_append_printf (many, "%s{\"endpoint\":\"site:%u\",\"quality\":{}}",
                            i ? "," : "", 900000 + i);
  g_string_append (many, "]}");
  g_autofree char *c6 = node_says (&e.n08, many->str);
  g_string_free (many, TRUE);
  ck_assert_str_eq (c6, "forbidden");
  g_autofree char *other = stats_msg ("node:node-076", NOW, 0);
  other[strlen ("{\"v\":1,\"type\":\"stats\",\"occurrence_id\":")] = '9';
  g_autofree char *c7 = node_says (&e.n08, other); /* occurrence 9: not running */
  ck_assert_str_eq (c7, "");
  ck_assert_uint_eq (count_legs (&e), 0);

  /* what node-08 does host it may report: its link to node-076 */
  g_autofree char *own = stats_msg ("node:node-076", NOW, 0);
  g_autofree char *c8 = node_says (&e.n08, own);
  ck_assert_str_eq (c8, "");
  ck_assert_uint_eq (count_legs (&e), 1);
  ws_close (&hall);
  assert_up (&e);
  env_stop (&e);
}
END_TEST

static void
wait_closed_1008 (WsPeer *p)
{
  while (!p->closed)
    g_main_loop_run (p->loop);
  ck_assert_int_eq (soup_websocket_connection_get_close_code (p->conn), 1008);
}

static char *
token_id_of (Env *e, const char *role, const char *scope)
{
  guint st;
  g_autofree char *r = sd_http (e->d, "GET", "/api/v1/tokens", e->d->admin, NULL, &st);
  g_autoptr (JsonNode) n = sd_json (r);
  JsonArray *a = json_object_get_array_member (json_node_get_object (n), "tokens");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *t = json_array_get_object_element (a, i);
      JsonNode *sc = json_object_get_member (t, "scope");
      if (g_str_equal (json_object_get_string_member (t, "role"), role)
          && g_strcmp0 (JSON_NODE_HOLDS_NULL (sc) ? NULL : json_node_get_string (sc),
                        scope)
                 == 0)
        return g_strdup (json_object_get_string_member (t, "id"));
    }
  ck_abort_msg ("no %s token for %s", role, scope);
  return NULL;
}

START_TEST (test_revoking_closes_sockets)
{
  Env e;
  env_start (&e, CONF);
  WsPeer hall, secr;
  hall_join (&e, &hall, e.c02536);
  g_autofree char *sec = make_token (e.d, "secretary", "08", NULL);
  ck_assert (ws_open (&secr, e.s, e.d, "/api/v1/ws", sec, NULL));
  ws_send (&secr, "{\"type\":\"subscribe\",\"meeting_id\":1}");
  json_node_unref (ws_take (&secr, "subscribed"));

  g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, e.c02536);
  const char *roles[] = { "site", "secretary", "node" };
  const char *scopes[] = { scope, "08", "node-076" };
  WsPeer *socks[] = { &hall, &secr, &e.n076 };
  for (guint i = 0; i < G_N_ELEMENTS (roles); i++)
    {
      g_autofree char *id = token_id_of (&e, roles[i], scopes[i]);
      g_autofree char *path = g_strconcat ("/api/v1/tokens/", id, NULL);
      guint st;
      g_autofree char *r = sd_http (e.d, "DELETE", path, e.d->admin, NULL, &st);
      ck_assert_uint_eq (st, 204);
      wait_closed_1008 (socks[i]);
    }
  /* the revoked node is down at once, and cannot come back with its token */
  g_autoptr (JsonNode) down = ws_take (&e.dash, "node.down");
  ck_assert_str_eq (jstr (down, "node_id"), "node-076");
  WsPeer again;
  ck_assert (!ws_open (&again, e.s, e.d, "/api/v1/nodes/ws", e.tok076, NULL));
  ws_close (&again);
  ws_close (&hall);
  ws_close (&secr);
  assert_up (&e);
  env_stop (&e);
}
END_TEST

START_TEST (test_expiry_closes_sockets)
{
  /* the pinned clock runs here: a token that expires 3 s after signald started
   * closes its open socket soon after, without the socket sending anything */
  SdDaemon *d = sd_start ("[testing]\nnow=1796087400\nrunning=true\n");
  g_autoptr (GDateTime) at = g_date_time_new_from_unix_utc (NOW + 3);
  g_autofree char *exp = g_date_time_format (at, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *tok = make_token (d, "it", NULL, exp);
  g_autoptr (SoupSession) s = soup_session_new ();
  WsPeer dash;
  ck_assert (ws_open (&dash, s, d, "/api/v1/ws", tok, NULL));
  json_node_unref (ws_take (&dash, "hello"));
  wait_closed_1008 (&dash);
  ws_close (&dash);
  /* and the token is refused from then on */
  guint st;
  g_autofree char *r = sd_http (d, "GET", "/api/v1/units", tok, NULL, &st);
  ck_assert_uint_eq (st, 401);
  sd_free (d);
}
END_TEST

static void
proto_connected_cb (GObject *src, GAsyncResult *res, gpointer data)
{
  WsPeer *p = data;
  p->conn = soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &p->error);
  g_main_loop_quit (p->loop);
}

/* Opens /api/v1/ws the way a browser does: no Authorization, the token (if any) as
 * a subprotocol, and @query appended to the path. */
static gboolean
open_as_browser (WsPeer *p, Env *e, const char *query, char **protocols)
{
  memset (p, 0, sizeof *p);
  g_queue_init (&p->msgs);
  p->loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *uri = g_strconcat (e->d->base, "/api/v1/ws", query, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", uri);
  soup_session_websocket_connect_async (e->s, msg, NULL, protocols, G_PRIORITY_DEFAULT,
                                        NULL, proto_connected_cb, p);
  g_main_loop_run (p->loop);
  if (p->conn == NULL)
    return FALSE;
  g_signal_connect (p->conn, "message", G_CALLBACK (ws_message_cb), p);
  g_signal_connect (p->conn, "closed", G_CALLBACK (ws_closed_cb), p);
  return TRUE;
}

START_TEST (test_tokens_not_in_urls)
{
  Env e;
  env_start (&e, CONF);
  g_autofree char *query = g_strconcat ("?access_token=", e.d->admin, NULL);
  WsPeer p;
  ck_assert (!open_as_browser (&p, &e, query, NULL));
  ws_close (&p);
  g_autofree char *bearer = g_strconcat ("lienthong.bearer.", e.d->admin, NULL);
  char *protos[] = { (char *)"lienthong.v1", bearer, NULL };
  ck_assert (open_as_browser (&p, &e, "", protos));
  /* only lienthong.v1 is echoed: the token never comes back in a header */
  ck_assert_str_eq (soup_websocket_connection_get_protocol (p.conn), "lienthong.v1");
  g_autoptr (JsonNode) hello = ws_take (&p, "hello");
  ck_assert_str_eq (jstr (hello, "role"), "admin");
  ws_close (&p);
  char *wrong[] = { (char *)"lienthong.bearer.0000", (char *)"lienthong.v1", NULL };
  ck_assert (!open_as_browser (&p, &e, "", wrong));
  ws_close (&p);
  assert_up (&e);
  env_stop (&e);
}
END_TEST

START_TEST (test_flood_is_slowed)
{
  Env e;
  env_start (&e, CONF);
  WsPeer hall;
  hall_join (&e, &hall, e.c02536);
  for (guint i = 0; i < 400; i++)
    ws_send (&hall, "{\"type\":\"ping\"}");
  g_autoptr (JsonNode) err = ws_take (&hall, "error");
  ck_assert_str_eq (jstr (err, "code"), "too_many_requests");
  /* signald still serves others at once, and the hall again after a pause */
  assert_up (&e);
  g_usleep (G_USEC_PER_SEC / 2);
  ws_drop (&hall, "pong");
  ws_send (&hall, "{\"type\":\"ping\"}");
  json_node_unref (ws_take (&hall, "pong"));
  ws_close (&hall);
  env_stop (&e);
}
END_TEST

/* One masked client frame (RFC 6455 5.2) of @op with @len bytes of 'x'. */
static GBytes *
client_frame (guint8 op, gboolean fin, gsize len)
{
  GByteArray *f = g_byte_array_new ();
  guint8 b0 = (fin ? 0x80 : 0) | op;
  g_byte_array_append (f, &b0, 1);
  guint8 hdr[9] = { 0x80 | 127 };
  for (int i = 0; i < 8; i++)
    hdr[1 + i] = (guint8)((guint64)len >> (56 - 8 * i));
  g_byte_array_append (f, hdr, 9);
  guint8 mask[4] = { 0, 0, 0, 0 }; /* a zero mask leaves the payload as it is */
  g_byte_array_append (f, mask, 4);
  g_autofree guint8 *payload = g_malloc (len);
  memset (payload, 'x', len);
  g_byte_array_append (f, payload, (guint)len);
  return g_byte_array_free_to_bytes (f);
}

START_TEST (test_fragmented_message_is_bounded)
{
  /* libsoup bounds frames, not messages: a message sent as endless continuation
   * frames must be cut off by signald long before it holds megabytes */
  Env e;
  env_start (&e, CONF);
  g_autoptr (GSocketClient) sc = g_socket_client_new ();
  const char *hostport = e.d->base + strlen ("http://");
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) conn
      = g_socket_client_connect_to_host (sc, hostport, 80, NULL, &error);
  ck_assert_msg (conn != NULL, "%s", error ? error->message : "");
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  g_autofree char *req = g_strdup_printf (
      "GET /api/v1/ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: "
      "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: "
      "13\r\nAuthorization: Bearer %s\r\n\r\n",
      hostport, e.d->admin);
  ck_assert (g_output_stream_write_all (out, req, strlen (req), NULL, NULL, NULL));
  char head[1024];
  gssize got = g_input_stream_read (in, head, sizeof head - 1, NULL, NULL);
  ck_assert_int_gt (got, 12);
  head[got] = '\0';
  ck_assert_msg (g_str_has_prefix (head, "HTTP/1.1 101"), "%s", head);

  gsize sent = 0;
  gboolean cut = FALSE;
  for (guint i = 0; i < 100 && !cut; i++) /* up to 6 MB */
    {
      g_autoptr (GBytes) f = client_frame (i == 0 ? 0x1 : 0x0, FALSE, 60000);
      gsize n;
      const guint8 *d = g_bytes_get_data (f, &n);
      g_autoptr (GError) werr = NULL;
      cut = !g_output_stream_write_all (out, d, n, NULL, NULL, &werr);
      if (!cut)
        sent += 60000;
    }
  ck_assert_msg (cut, "signald took %" G_GSIZE_FORMAT " bytes of one message", sent);
  ck_assert_uint_lt (sent, 6000000);
  g_print ("fragmented message cut after %" G_GSIZE_FORMAT " bytes written\n", sent);
  assert_up (&e);
  env_stop (&e);
}
END_TEST

static guint
count_fds (SdDaemon *d)
{
  g_autofree char *dir
      = g_strdup_printf ("/proc/%s/fd", g_subprocess_get_identifier (d->proc));
  g_autoptr (GDir) dd = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (dd && g_dir_read_name (dd))
    n++;
  return n;
}

START_TEST (test_dropped_connections_are_closed)
{
  /* a client that opens connections, asks one thing (keep-alive, as HTTP/1.1 does)
   * and drops them must not leave signald holding a descriptor for each: with
   * libsoup 3.2 they stayed in CLOSE-WAIT until signald ran out (a national join
   * storm hit its 20,000 descriptors this way) */
  SdDaemon *d = sd_start (NULL);
  const char *hostport = d->base + strlen ("http://");
  g_autoptr (GSocketClient) sc = g_socket_client_new ();
  guint before = count_fds (d);
  for (guint i = 0; i < 300; i++)
    {
      g_autoptr (GSocketConnection) conn
          = g_socket_client_connect_to_host (sc, hostport, 80, NULL, NULL);
      ck_assert_ptr_nonnull (conn);
      const char *req = i % 2 ? "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                              : "GET /api/v1/units HTTP/1.1\r\nHost: x\r\n\r\n";
      GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
      ck_assert (g_output_stream_write_all (out, req, strlen (req), NULL, NULL, NULL));
      char buf[512];
      ck_assert_int_gt (
          g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)), buf,
                               sizeof buf, NULL, NULL),
          0);
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    }
  /* signald sees the last closes on its next loop iterations: ask it something */
  guint st;
  g_autofree char *r = sd_http (d, "GET", "/healthz", NULL, NULL, &st);
  ck_assert_uint_eq (st, 200);
  guint after = count_fds (d);
  g_print ("signald descriptors: %u before 300 dropped connections, %u after\n", before,
           after);
  ck_assert_uint_le (after, before + 20);
  sd_free (d);
}
END_TEST

/* The replies a socket got for @msg, up to its barrier (a node's unknown type, a
 * person's ping). Returns: (transfer full) the codes of its errors, comma-separated,
 * and the count of other replies in @others. */
static char *
replies_to (WsPeer *p, gboolean node, const char *msg, guint *others)
{
  g_queue_clear_full (&p->msgs, (GDestroyNotify)json_node_unref);
  ws_send (p, msg);
  ws_send (p, node ? "{\"type\":\"barrier\"}" : "{\"type\":\"ping\",\"barrier\":true}");
  GString *codes = g_string_new (NULL);
  *others = 0;
  for (;;)
    {
      while (g_queue_is_empty (&p->msgs) && !p->closed)
        g_main_loop_run (p->loop);
      ck_assert_msg (!p->closed, "the socket closed after %s", msg);
      g_autoptr (JsonNode) n = g_queue_pop_head (&p->msgs);
      const char *type = jstr (n, "type");
      if (g_str_equal (type, "error"))
        {
          if (node && strstr (jstr (n, "message"), "barrier"))
            break;
          g_string_append_printf (codes, "%s%s", codes->len ? "," : "", jstr (n, "code"));
        }
      else if (!node && g_str_equal (type, "pong"))
        {
          if (g_str_equal (msg, "{\"type\":\"ping\"}") && *others == 0)
            {
              (*others)++; /* the ping's own pong; the barrier's comes next */
              continue;
            }
          break;
        }
      else
        (*others)++;
    }
  return g_string_free (codes, FALSE);
}

/* Only the joined hall holding the presenter right presents (issue 16): a hall
 * without the right, one open but not joined, a hall of another meeting (which
 * cannot join this one either), a secretary's and an admin's dashboard and a node
 * sending content.start (or content.stop) are refused with `forbidden`; none of it
 * reaches a node, the meeting's followers hear nothing, and the right, the content and
 * the store are as they were. */
START_TEST (test_content_only_by_the_presenter)
{
  Env e;
  env_start (&e, CONF);
  WsPeer hall, idle, stranger, secr;
  hall_join (&e, &hall, e.c02539);
  g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, e.c02536);
  g_autofree char *idle_tok = make_token (e.d, "site", scope, NULL);
  ck_assert (ws_open (&idle, e.s, e.d, "/api/v1/ws", idle_tok, NULL));
  g_autofree char *far = g_strdup_printf ("%" G_GINT64_FORMAT, site_of (e.d, "02600"));
  g_autofree char *far_tok = make_token (e.d, "site", far, NULL);
  ck_assert (ws_open (&stranger, e.s, e.d, "/api/v1/ws", far_tok, NULL));
  g_autofree char *sec_tok = make_token (e.d, "secretary", "08", NULL);
  ck_assert (ws_open (&secr, e.s, e.d, "/api/v1/ws", sec_tok, NULL));
  /* the stranger cannot join this meeting to get closer */
  ws_send (&stranger, "{\"type\":\"join\",\"occurrence_id\":1}");
  g_autoptr (JsonNode) nj = ws_take (&stranger, "error");
  ck_assert_str_ne (jstr (nj, "code"), "internal");
  /* the roll call is written in batches: reading it writes the join now */
  guint st;
  g_autofree char *att
      = sd_http (e.d, "GET", "/api/v1/meetings/1/attendance", e.d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ws_barrier (&e.n08, TRUE);
  ws_barrier (&e.n076, TRUE);
  ws_drop (&e.n08, "content");
  ws_drop (&e.n076, "content");
  ws_barrier (&e.dash, FALSE);
  g_queue_clear_full (&e.dash.msgs, (GDestroyNotify)json_node_unref);
  g_autofree char *db_before = sd_dump_db (e.d);
  g_autofree char *media_before
      = sd_http (e.d, "GET", "/api/v1/occurrences/1/media", e.d->admin, NULL, &st);

  struct
  {
    WsPeer *p;
    const char *msg;
    const char *why; /* in the error's message */
  } tries[] = {
    { &hall, "{\"type\":\"content.start\"}", "presenter right" },
    { &idle, "{\"type\":\"content.start\"}", "join first" },
    { &idle, "{\"type\":\"content.stop\"}", "join first" },
    { &stranger, "{\"type\":\"content.start\",\"occurrence_id\":1}", "join first" },
    { &secr, "{\"type\":\"content.start\"}", "may not send" },
    { &secr, "{\"type\":\"content.stop\"}", "may not send" },
    { &e.dash, "{\"type\":\"content.start\"}", "may not send" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (tries); i++)
    {
      ws_drop (tries[i].p, "error");
      ws_send (tries[i].p, tries[i].msg);
      g_autoptr (JsonNode) err = ws_take (tries[i].p, "error");
      ck_assert_str_eq (jstr (err, "code"), "forbidden");
      ck_assert_msg (strstr (jstr (err, "message"), tries[i].why) != NULL, "try %zu: %s",
                     i, jstr (err, "message"));
    }
  g_autofree char *code = node_says (&e.n076, "{\"v\":1,\"type\":\"content.start\","
                                              "\"occurrence_id\":1}");
  ck_assert_str_eq (code, "forbidden");
  /* a joined hall's stop ends only its own content (none): answered, no effect */
  ws_send (&hall, "{\"type\":\"content.stop\"}");
  json_node_unref (ws_take (&hall, "content.ok"));

  ws_barrier (&e.n08, TRUE);
  ws_barrier (&e.n076, TRUE);
  ck_assert_uint_eq (ws_count (&e.n08, "content") + ws_count (&e.n076, "content"), 0);
  ws_barrier (&e.dash, FALSE);
  ck_assert_uint_eq (ws_count (&e.dash, "content") + ws_count (&e.dash, "presenter"), 0);
  g_autofree char *media_after
      = sd_http (e.d, "GET", "/api/v1/occurrences/1/media", e.d->admin, NULL, &st);
  ck_assert_str_eq (media_before, media_after);
  ck_assert_ptr_nonnull (strstr (media_after, "\"content_site_id\":null"));
  g_autofree char *db_after = sd_dump_db (e.d);
  ck_assert_str_eq (db_before, db_after);
  ws_close (&secr);
  ws_close (&stranger);
  ws_close (&idle);
  ws_close (&hall);
  assert_up (&e);
  env_stop (&e);
}
END_TEST

START_TEST (test_every_message_type_by_every_sender)
{
  Env e;
  env_start (&e, CONF);
  g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, e.c02539);
  g_autofree char *site_tok = make_token (e.d, "site", scope, NULL);
  g_autofree char *sec_tok = make_token (e.d, "secretary", "076", NULL);
  WsPeer hall, secr;
  ck_assert (ws_open (&hall, e.s, e.d, "/api/v1/ws", site_tok, NULL));
  ck_assert (ws_open (&secr, e.s, e.d, "/api/v1/ws", sec_tok, NULL));
  struct
  {
    WsPeer *p;
    SigRole role;
    gboolean node;
  } senders[] = { { &hall, SIG_ROLE_SITE, FALSE },
                  { &secr, SIG_ROLE_SECRETARY, FALSE },
                  { &e.dash, SIG_ROLE_ADMIN, FALSE },
                  { &e.n08, SIG_ROLE_NODE, TRUE } };
  guint n;
  const SigWsMessage *types = sig_ws_messages_get (&n);
  ck_assert_uint_ge (n, 20);
  guint checked = 0;
  for (guint i = 0; i < n; i++)
    for (guint k = 0; k < G_N_ELEMENTS (senders); k++)
      {
        /* the bare message: no fields but its type (and the version nodes send) */
        g_autofree char *msg
            = g_strdup_printf ("{\"v\":1,\"type\":\"%s\"}", types[i].type);
        guint others;
        g_autofree char *codes = replies_to (senders[k].p, senders[k].node, msg, &others);
        if (!(types[i].roles & senders[k].role))
          ck_assert_msg (g_str_equal (codes, "forbidden") && others == 0,
                         "%s from a %s: got [%s] and %u others", types[i].type,
                         sig_role_to_string (senders[k].role), codes, others);
        else
          /* admitted: a bare message lacks what it needs, or changes nothing that
           * needs answering; never anything but a plain error code */
          ck_assert_msg (strstr (codes, "internal") == NULL, "%s from a %s: got [%s]",
                         types[i].type, sig_role_to_string (senders[k].role), codes);
        checked++;
      }
  ck_assert_uint_eq (checked, n * G_N_ELEMENTS (senders));
  /* nothing of it was recorded: nobody joined, no alarm, no leg grew */
  guint st;
  g_autofree char *att
      = sd_http (e.d, "GET", "/api/v1/meetings/1/attendance", e.d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  ck_assert_ptr_nonnull (strstr (att, "\"present\":0"));
  ck_assert_ptr_nonnull (strstr (att, "\"late\":0"));
  ck_assert_uint_eq (count_alarms (&e, NULL), 0);
  ck_assert_uint_eq (count_legs (&e), 0);
  ws_close (&hall);
  ws_close (&secr);
  assert_up (&e);
  env_stop (&e);
}
END_TEST

static Suite *
abuse_suite (void)
{
  Suite *s = suite_create ("signaling-abuse-ws");
  TCase *tc = tcase_create ("ws");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_node_cannot_choose_its_unit);
  tcase_add_test (tc, test_node_cannot_answer_for_another);
  tcase_add_test (tc, test_node_cannot_report_on_others);
  tcase_add_test (tc, test_revoking_closes_sockets);
  tcase_add_test (tc, test_expiry_closes_sockets);
  tcase_add_test (tc, test_tokens_not_in_urls);
  tcase_add_test (tc, test_flood_is_slowed);
  tcase_add_test (tc, test_fragmented_message_is_bounded);
  tcase_add_test (tc, test_dropped_connections_are_closed);
  tcase_add_test (tc, test_every_message_type_by_every_sender);
  tcase_add_test (tc, test_content_only_by_the_presenter);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  g_assert (argc >= 2);
  sd_binary_path = argv[1];
  return lt_test_run (abuse_suite ());
}
