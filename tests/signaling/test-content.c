/* Suite signaling-content: black-box tests of the real lienthong-signald (path in
 * argv[1]) with fake media nodes at VN, 08 and 076 (a cascade: central, province,
 * district) and fake halls, about the content of issue 16 (PROTOCOL.md, "Content:
 * the presenter right"). They prove, at the level of the messages:
 * - every node of the plan hears at once that nobody presents (`content`, site and
 *   via null), and a hall's `joined` says who holds the right (the chair's site);
 * - a commune under 076 given the right presents: every node gets `content` with the
 *   way its screen enters it (central node:08, 08 node:076, 076 site:<id>), the
 *   meeting's subscribers and every joined hall, subscribed or not, see `presenter`
 *   and `content`; the media view and the audit log show it; a second start changes
 *   nothing; a site without the right is refused with `forbidden` and no node hears;
 * - the right moved to another hall, or back to the chair, stops the former holder's
 *   content (nodes get site null), and that hall may not start again; the chair's own
 *   content survives the right coming back to it;
 * - the presenting hall leaving (`leave`, its socket closing) stops its content and
 *   the nodes get site null, yet it keeps the right and presents again on its return;
 * - a presenting hall whose node dies keeps presenting: the nodes are told the new
 *   way to it at once and again when it joins the node above. */
#include "lt-test.h"
#include "sig-test-util.h"

/* 2026-12-01T00:50:00Z: inside the lobby of a meeting at 08:00+07:00 (01:00Z) */
#define CONTENT_CONF "[testing]\nnow=1796086200\n[nodes]\nheartbeat-interval=60\n"
#define MEETING "[{\"unit\":\"VN\"},{\"unit\":\"076\",\"down_to\":\"commune\"}]"

typedef struct
{
  SdDaemon *d;
  SoupSession *s;
  gint64 vn, c02536, c02539; /* default sites */
  WsPeer nvn, n08, n076, dash;
} Env;

/* Checks a content message (or event) names @site (0: null). */
static void
check_site (JsonNode *n, gint64 site)
{
  ck_assert_ptr_nonnull (n);
  ck_assert_int_eq (jint (n, "occurrence_id"), 1);
  JsonNode *s = json_object_get_member (json_node_get_object (n), "site_id");
  ck_assert_ptr_nonnull (s);
  if (site > 0)
    ck_assert_int_eq (json_node_get_int (s), site);
  else
    ck_assert_msg (JSON_NODE_HOLDS_NULL (s), "site_id is not null");
}

/* Takes @p's next `content` command and checks its site (0: null) and via. */
static void
expect_content (WsPeer *p, gint64 site, const char *via)
{
  g_autoptr (JsonNode) c = ws_take (p, "content");
  check_site (c, site);
  const char *v = jstr (c, "via");
  if (via == NULL)
    ck_assert_msg (v == NULL, "via %s, wanted null", v);
  else
    ck_assert_str_eq (v, via);
}

/* Takes @p's next event of @type and checks its meeting and site (0: null). */
static void
expect_event (WsPeer *p, const char *type, gint64 site)
{
  g_autoptr (JsonNode) ev = ws_take (p, type);
  check_site (ev, site);
  ck_assert_int_eq (jint (ev, "meeting_id"), 1);
}

/* Forgets what @p was told so far: every message signald sent it before now. */
static void
forget_events (WsPeer *p)
{
  ws_barrier (p, FALSE);
  g_queue_clear_full (&p->msgs, (GDestroyNotify)json_node_unref);
}

/* No node got a content command since the last check. */
static void
no_content (Env *e)
{
  WsPeer *nodes[] = { &e->nvn, &e->n08, &e->n076 };
  for (gsize i = 0; i < G_N_ELEMENTS (nodes); i++)
    {
      ws_barrier (nodes[i], TRUE);
      ck_assert_uint_eq (ws_count (nodes[i], "content"), 0);
    }
}

static char *
via_site (gint64 site)
{
  return g_strdup_printf ("site:%" G_GINT64_FORMAT, site);
}

/* The content of a commune under 076 at each node: the way down from central. */
static void
expect_commune_content (Env *e, gint64 site)
{
  g_autofree char *own = via_site (site);
  expect_content (&e->nvn, site, "node:node-08");
  expect_content (&e->n08, site, "node:node-076");
  expect_content (&e->n076, site, own);
}

static void
expect_no_content_anywhere (Env *e)
{
  expect_content (&e->nvn, 0, NULL);
  expect_content (&e->n08, 0, NULL);
  expect_content (&e->n076, 0, NULL);
}

/* signald with the tiny tree, three nodes of a cascade, meeting 1 (chair VN, 076
 * down to commune) open, its content told to every node, and an admin dashboard
 * following it. */
static void
env_start (Env *e)
{
  memset (e, 0, sizeof *e);
  e->d = sd_start (CONTENT_CONF);
  import_tiny (e->d);
  e->s = soup_session_new ();
  e->vn = site_of (e->d, "VN");
  e->c02536 = site_of (e->d, "02536");
  e->c02539 = site_of (e->d, "02539");
  node_connect (e->d, e->s, &e->nvn, "node-vn", "VN");
  node_connect (e->d, e->s, &e->n08, "node-08", "08");
  node_connect (e->d, e->s, &e->n076, "node-076", "076");
  guint st;
  g_autofree char *r = book (e->d, e->d->admin, "Giao ban", "VN", DAY1 "08:00:00" TZ,
                             DAY1 "10:00:00" TZ, MEETING, NULL, &st);
  ck_assert_msg (st == 201, "book: %u %s", st, r);
  /* the leg opens: every node hears there is no content yet, after its floor */
  expect_no_content_anywhere (e);
  ck_assert (ws_open (&e->dash, e->s, e->d, "/api/v1/ws", e->d->admin, NULL));
  ws_send (&e->dash, "{\"type\":\"subscribe\",\"meeting_id\":1}");
  json_node_unref (ws_take (&e->dash, "subscribed"));
}

static void
env_stop (Env *e)
{
  ws_close (&e->dash);
  if (e->n076.loop != NULL) /* a test may have closed it */
    ws_close (&e->n076);
  ws_close (&e->n08);
  ws_close (&e->nvn);
  g_clear_object (&e->s);
  sd_free (e->d);
}

/* A hall of @site opens its socket and joins occurrence 1 with an offer, which goes
 * to @node; returns its `joined` answer. */
static JsonNode *
hall_join (Env *e, WsPeer *hall, gint64 site, WsPeer *node)
{
  g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, site);
  g_autofree char *tok = make_token (e->d, "site", scope, NULL);
  ck_assert (ws_open (hall, e->s, e->d, "/api/v1/ws", tok, NULL));
  ws_send (hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 offer\"}");
  JsonNode *joined = ws_take (hall, "joined");
  g_autoptr (JsonNode) offer = ws_take (node, "site.offer");
  ck_assert_int_eq (jint (offer, "site_id"), site);
  return joined;
}

/* Sends @msg on a hall's socket and returns its content.ok; an error fails the test.
 * The hall's other messages (events) stay queued. */
static JsonNode *
hall_says (WsPeer *hall, const char *msg)
{
  ws_drop (hall, "error");
  ws_send (hall, msg);
  for (;;)
    {
      for (GList *l = hall->msgs.head; l != NULL; l = l->next)
        {
          const char *t = jstr (l->data, "type");
          ck_assert_msg (!g_str_equal (t, "error"), "%s: error %s", msg,
                         jstr (l->data, "message"));
          if (g_str_equal (t, "content.ok"))
            {
              JsonNode *n = l->data;
              g_queue_delete_link (&hall->msgs, l);
              return n;
            }
        }
      ck_assert (!hall->closed);
      g_main_loop_run (hall->loop);
    }
}

/* Sends @msg on a hall's socket and expects `error` `forbidden` naming @what. */
static void
hall_refused (WsPeer *hall, const char *msg, const char *what)
{
  ws_drop (hall, "error");
  ws_send (hall, msg);
  g_autoptr (JsonNode) err = ws_take (hall, "error");
  ck_assert_str_eq (jstr (err, "code"), "forbidden");
  ck_assert_msg (strstr (jstr (err, "message"), what) != NULL, "message: %s",
                 jstr (err, "message"));
}

/* Gives the presenter right (@site > 0) or takes it back (0) as the admin; returns the
 * answer. */
static JsonNode *
give_right (Env *e, gint64 site)
{
  guint st;
  g_autofree char *body
      = site > 0 ? g_strdup_printf ("{\"site\":%" G_GINT64_FORMAT "}", site) : NULL;
  g_autofree char *r = sd_http (e->d, site > 0 ? "POST" : "DELETE",
                                "/api/v1/occurrences/1/content", e->d->admin, body, &st);
  ck_assert_msg (st == 200, "content %s: %u %s", body ? body : "DELETE", st, r);
  return sd_json (r);
}

static JsonObject *
media_leg (Env *e, JsonNode **keep)
{
  guint st;
  g_autofree char *r
      = sd_http (e->d, "GET", "/api/v1/occurrences/1/media", e->d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  *keep = sd_json (r);
  return json_object_get_object_member (json_node_get_object (*keep), "leg");
}

/* The state members of a content.ok, joined, an HTTP answer or the media view. */
static void
check_state (JsonObject *o, gint64 presenter, gint64 content)
{
  ck_assert_int_eq (json_object_get_int_member (o, "presenter_site_id"), presenter);
  JsonNode *c = json_object_get_member (o, "content_site_id");
  ck_assert_ptr_nonnull (c);
  if (content > 0)
    ck_assert_int_eq (json_node_get_int (c), content);
  else
    ck_assert_msg (JSON_NODE_HOLDS_NULL (c), "content_site_id is not null");
}

#define START "{\"type\":\"content.start\"}"
#define STOP "{\"type\":\"content.stop\"}"

START_TEST (test_content_reaches_every_node)
{
  Env e;
  env_start (&e);
  WsPeer hall, other;
  /* the chair's site holds the right when the leg opens: the joined hall says so */
  g_autoptr (JsonNode) j = hall_join (&e, &hall, e.c02539, &e.n076);
  check_state (json_node_get_object (j), e.vn, 0);
  ck_assert_int_eq (jint (j, "site_id"), e.c02539); /* the hall learns its own id */
  g_autoptr (JsonNode) j2 = hall_join (&e, &other, e.c02536, &e.n076);

  /* without the right, a commune may not present: refused, and no node hears */
  hall_refused (&hall, START, "presenter right");
  no_content (&e);

  /* the right to the commune: its hall and every other joined hall are told, though
   * they follow nothing, and so are the meeting's subscribers */
  g_autoptr (JsonNode) ans = give_right (&e, e.c02539);
  check_state (json_node_get_object (ans), e.c02539, 0);
  expect_event (&e.dash, "presenter", e.c02539);
  expect_event (&hall, "presenter", e.c02539);
  expect_event (&other, "presenter", e.c02539);
  no_content (&e); /* nothing shows yet */

  /* it presents: each node is told where the commune's screen enters it */
  g_autoptr (JsonNode) ok = hall_says (&hall, START);
  check_state (json_node_get_object (ok), e.c02539, e.c02539);
  expect_commune_content (&e, e.c02539);
  expect_event (&e.dash, "content", e.c02539);
  expect_event (&other, "content", e.c02539);
  expect_event (&hall, "content", e.c02539);
  JsonNode *mkeep;
  JsonObject *leg = media_leg (&e, &mkeep);
  check_state (leg, e.c02539, e.c02539);
  json_node_unref (mkeep);

  /* a second start by the presenter is no error and tells no node anything */
  g_autoptr (JsonNode) again = hall_says (&hall, START);
  check_state (json_node_get_object (again), e.c02539, e.c02539);
  no_content (&e);
  ws_barrier (&e.dash, FALSE);
  ck_assert_uint_eq (ws_count (&e.dash, "content"), 0);
  /* another hall's stop ends only its own content: none */
  g_autoptr (JsonNode) ostop = hall_says (&other, STOP);
  check_state (json_node_get_object (ostop), e.c02539, e.c02539);
  no_content (&e);

  /* the audit log names who gave the right, and to which site */
  guint st;
  g_autofree char *aud
      = sd_http (e.d, "GET", "/api/v1/audit?meeting=1", e.d->admin, NULL, &st);
  ck_assert_uint_eq (st, 200);
  g_autoptr (JsonNode) an = sd_json (aud);
  JsonArray *entries
      = json_object_get_array_member (json_node_get_object (an), "entries");
  guint given = 0;
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *en = json_array_get_object_element (entries, i);
      if (g_str_equal (json_object_get_string_member (en, "action"),
                       "occurrence.presenter"))
        {
          ck_assert_int_eq (json_object_get_int_member (en, "site_id"), e.c02539);
          given++;
        }
    }
  ck_assert_uint_eq (given, 1);

  /* it stops: every node hears nobody presents */
  g_autoptr (JsonNode) stop = hall_says (&hall, STOP);
  check_state (json_node_get_object (stop), e.c02539, 0);
  expect_no_content_anywhere (&e);
  expect_event (&e.dash, "content", 0);
  expect_event (&other, "content", 0);

  ws_close (&other);
  ws_close (&hall);
  env_stop (&e);
}
END_TEST

START_TEST (test_right_moves_and_stops_content)
{
  Env e;
  env_start (&e);
  WsPeer a, b, chair;
  g_autoptr (JsonNode) ja = hall_join (&e, &a, e.c02539, &e.n076);
  g_autoptr (JsonNode) jb = hall_join (&e, &b, e.c02536, &e.n076);
  json_node_unref (give_right (&e, e.c02539));
  json_node_unref (hall_says (&a, START));
  expect_commune_content (&e, e.c02539);
  forget_events (&e.dash);
  forget_events (&a);
  forget_events (&b);

  /* the right to the other commune: the first one's content stops on every node,
   * then the right moves; the first hall hears both */
  g_autoptr (JsonNode) ans = give_right (&e, e.c02536);
  check_state (json_node_get_object (ans), e.c02536, 0);
  expect_no_content_anywhere (&e);
  expect_event (&e.dash, "content", 0);
  expect_event (&e.dash, "presenter", e.c02536);
  expect_event (&a, "presenter", e.c02536);
  /* it may not start again; the new holder may */
  hall_refused (&a, START, "presenter right");
  no_content (&e);
  json_node_unref (hall_says (&b, START));
  expect_commune_content (&e, e.c02536);
  forget_events (&b);

  /* the right back to the chair: the commune's content stops, it may not start */
  g_autoptr (JsonNode) back = give_right (&e, 0);
  check_state (json_node_get_object (back), e.vn, 0);
  expect_no_content_anywhere (&e);
  expect_event (&b, "presenter", e.vn);
  hall_refused (&b, START, "presenter right");

  /* the chair's hall presents from central: its screen goes down the tree */
  g_autoptr (JsonNode) jc = hall_join (&e, &chair, e.vn, &e.nvn);
  json_node_unref (hall_says (&chair, START));
  g_autofree char *own = via_site (e.vn);
  expect_content (&e.nvn, e.vn, own);
  expect_content (&e.n08, e.vn, "node:node-vn");
  expect_content (&e.n076, e.vn, "node:node-08");
  /* taking the right "back" to the chair that holds it stops nothing */
  g_autoptr (JsonNode) same = give_right (&e, 0);
  check_state (json_node_get_object (same), e.vn, e.vn);
  no_content (&e);

  ws_close (&chair);
  ws_close (&b);
  ws_close (&a);
  env_stop (&e);
}
END_TEST

START_TEST (test_presenter_leaving_stops_content)
{
  Env e;
  env_start (&e);
  WsPeer a, a2;
  g_autoptr (JsonNode) ja = hall_join (&e, &a, e.c02539, &e.n076);
  json_node_unref (give_right (&e, e.c02539));
  json_node_unref (hall_says (&a, START));
  expect_commune_content (&e, e.c02539);
  forget_events (&e.dash);

  /* it leaves: its content stops at every node; it keeps the right */
  ws_send (&a, "{\"type\":\"leave\"}");
  json_node_unref (ws_take (&a, "left"));
  expect_no_content_anywhere (&e);
  expect_event (&e.dash, "content", 0);
  JsonNode *mkeep;
  check_state (media_leg (&e, &mkeep), e.c02539, 0);
  json_node_unref (mkeep);

  /* back in the meeting it presents again; then its socket closes: stopped again */
  ws_send (&a, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 again\"}");
  g_autoptr (JsonNode) rejoined = ws_take (&a, "joined");
  check_state (json_node_get_object (rejoined), e.c02539, 0);
  json_node_unref (ws_take (&e.n076, "site.offer"));
  json_node_unref (hall_says (&a, START));
  expect_commune_content (&e, e.c02539);
  ws_close (&a);
  expect_no_content_anywhere (&e);

  /* a presenting hall whose node dies keeps presenting: the nodes are told the way
   * to it through the node above at once, and again once it joins there */
  g_autoptr (JsonNode) j2 = hall_join (&e, &a2, e.c02539, &e.n076);
  json_node_unref (hall_says (&a2, START));
  expect_commune_content (&e, e.c02539);
  ws_close (&e.n076);
  memset (&e.n076, 0, sizeof e.n076);
  g_autofree char *own = via_site (e.c02539);
  expect_content (&e.nvn, e.c02539, "node:node-08");
  expect_content (&e.n08, e.c02539, own);
  json_node_unref (ws_take (&a2, "rehome"));
  ws_send (&a2, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 rehomed\"}");
  json_node_unref (ws_take (&e.n08, "site.offer"));
  expect_content (&e.nvn, e.c02539, "node:node-08");
  expect_content (&e.n08, e.c02539, own);
  check_state (media_leg (&e, &mkeep), e.c02539, e.c02539);
  json_node_unref (mkeep);

  ws_close (&a2);
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
  Suite *s = suite_create ("signaling-content");
  TCase *tc = tcase_create ("fake-nodes");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_content_reaches_every_node);
  tcase_add_test (tc, test_right_moves_and_stops_content);
  tcase_add_test (tc, test_presenter_leaving_stops_content);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
