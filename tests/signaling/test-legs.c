/* Suite signaling-legs: black-box tests of the real lienthong-signald (path in
 * argv[1]) with fake media nodes (libsoup WebSocket clients holding node tokens, at
 * VN, 08 and 076, plus one at 10 that no meeting here needs) and fake sites. They
 * prove, at the level of the messages of PROTOCOL.md ("Legs, echo, cascade links,
 * floor"): a site's echo goes to the node of its nearest ancestor with a node that
 * is up, and the answer and candidates come back; when an occurrence opens, leg.open
 * reaches exactly the nodes of its cascade plan (parents, children, fingerprints and
 * sites right) and link.open exactly the child nodes; link offers, answers and
 * candidates are relayed with the sender as peer and its registered fingerprint,
 * and only between linked nodes; the floor reaches every node with the right `via`
 * (a commune under 076: central gets node:08, 08 gets node:076, 076 gets site:<id>);
 * mute and level reach only the hosting node, mute again when the site reconnects;
 * hand, mute, floor and endpoint.state become events of the meeting; leaving sends
 * site.leave; cancelling closes every leg; a failed uplink is redialled with a
 * doubling delay; a node that dies has its sites told to rehome and their next join
 * goes to the node above (also when it only stops its heartbeats), and a node that
 * returns gets its leg again; a leg that opened with no node waits for the first
 * one, and takes a new node only when that adds it to the tree without re-linking
 * others. */
#include "lt-test.h"
#include "sig-test-util.h"

/* 2026-12-01T00:50:00Z: inside the lobby of a meeting at 08:00+07:00 (01:00Z) */
#define LEGS_CONF                                                                  \
  "[testing]\nnow=1796086200\n[nodes]\nheartbeat-interval=60\nredial-base-ms=20\n" \
  "redial-max-ms=80\n"

#define MEETING "[{\"unit\":\"VN\"},{\"unit\":\"076\",\"down_to\":\"commune\"}]"

typedef struct
{
  SdDaemon *d;
  SoupSession *s;
  gint64 vn, d076, c02536, c02539, c02215; /* default sites */
} Env;

static void
env_start (Env *e)
{
  e->d = sd_start (LEGS_CONF);
  import_tiny (e->d);
  e->s = soup_session_new ();
  e->vn = site_of (e->d, "VN");
  e->d076 = site_of (e->d, "076");
  e->c02536 = site_of (e->d, "02536");
  e->c02539 = site_of (e->d, "02539");
  e->c02215 = site_of (e->d, "02215");
}

static void
env_stop (Env *e)
{
  g_clear_object (&e->s);
  sd_free (e->d);
}

/* Opens a node socket and registers @id serving @unit, fingerprint "sha-256 <id>". */
static void
site_connect (Env *e, WsPeer *p, gint64 site)
{
  g_autofree char *scope = g_strdup_printf ("%" G_GINT64_FORMAT, site);
  g_autofree char *tok = make_token (e->d, "site", scope, NULL);
  ck_assert (ws_open (p, e->s, e->d, "/api/v1/ws", tok, NULL));
}

static void
book_meeting (Env *e)
{
  guint st;
  g_autofree char *r = book (e->d, e->d->admin, "Giao ban", "VN", DAY1 "08:00:00" TZ,
                             DAY1 "10:00:00" TZ, MEETING, NULL, &st);
  ck_assert_msg (st == 201, "book: %u %s", st, r);
}

static void
post_ok (Env *e, const char *path, const char *body)
{
  guint st;
  g_autofree char *r = sd_http (e->d, "POST", path, e->d->admin, body, &st);
  ck_assert_msg (st == 200, "%s %s: %u %s", path, body, st, r);
}

/* Takes the floor message and checks its via. */
static void
expect_floor (WsPeer *p, const char *via)
{
  g_autoptr (JsonNode) f = ws_take (p, "floor");
  ck_assert_int_eq (jint (f, "occurrence_id"), 1);
  ck_assert_str_eq (jstr (f, "via"), via);
}

START_TEST (test_echo_routed_to_nearest_node)
{
  Env e = { 0 };
  env_start (&e);
  WsPeer n08, n076, site, far, dash;
  ck_assert (ws_open (&dash, e.s, e.d, "/api/v1/ws", e.d->admin, NULL));
  node_connect (e.d, e.s, &n08, "node-08", "08");
  node_connect (e.d, e.s, &n076, "node-076", "076");
  site_connect (&e, &site, e.c02536);
  site_connect (&e, &far, e.c02215);

  /* a commune of 076 tests its line at node-076 */
  ws_send (&site, "{\"type\":\"echo\",\"sdp\":\"v=0 echo-offer\"}");
  g_autoptr (JsonNode) offer = ws_take (&n076, "site.offer");
  ck_assert_int_eq (jint (offer, "site_id"), e.c02536);
  ck_assert_int_eq (jint (offer, "occurrence_id"), 0);
  ck_assert_str_eq (jstr (offer, "sdp"), "v=0 echo-offer");
  ck_assert (json_object_get_boolean_member (json_node_get_object (offer), "echo"));
  g_autofree char *ans = g_strdup_printf (
      "{\"type\":\"site.answer\",\"occurrence_id\":0,\"site_id\":%" G_GINT64_FORMAT
      ",\"sdp\":\"v=0 echo-answer\"}",
      e.c02536);
  ws_send (&n076, ans);
  g_autoptr (JsonNode) got = ws_take (&site, "answer");
  ck_assert_str_eq (jstr (got, "sdp"), "v=0 echo-answer");
  /* candidates both ways */
  ws_send (&site, "{\"type\":\"ice\",\"candidate\":\"candidate:1 1 udp 9 127.0.0.1 5 "
                  "typ host\",\"sdpMLineIndex\":0}");
  g_autoptr (JsonNode) ice = ws_take (&n076, "site.ice");
  ck_assert_int_eq (jint (ice, "site_id"), e.c02536);
  ck_assert_ptr_nonnull (strstr (jstr (ice, "candidate"), "127.0.0.1 5"));
  g_autofree char *nice = g_strdup_printf (
      "{\"type\":\"site.ice\",\"occurrence_id\":0,\"site_id\":%" G_GINT64_FORMAT
      ",\"candidate\":\"candidate:2 1 udp 9 127.0.0.1 6 typ host\"}",
      e.c02536);
  ws_send (&n076, nice);
  g_autoptr (JsonNode) sice = ws_take (&site, "ice");
  ck_assert_ptr_nonnull (strstr (jstr (sice, "candidate"), "127.0.0.1 6"));

  /* a commune of 070 (no node) tests at the province's node, and only there */
  ws_send (&far, "{\"type\":\"echo\",\"sdp\":\"v=0 far\"}");
  g_autoptr (JsonNode) foffer = ws_take (&n08, "site.offer");
  ck_assert_int_eq (jint (foffer, "site_id"), e.c02215);
  ws_barrier (&n076, TRUE);
  ck_assert_uint_eq (ws_count (&n076, "site.offer"), 0);

  /* with node-076 gone, 076's commune tests at node-08 */
  ws_close (&n076);
  g_autoptr (JsonNode) down = ws_take (&dash, "node.down"); /* signald saw it */
  ck_assert_str_eq (jstr (down, "node_id"), "node-076");
  ws_send (&site, "{\"type\":\"echo\",\"sdp\":\"v=0 again\"}");
  g_autoptr (JsonNode) again = ws_take (&n08, "site.offer");
  ck_assert_int_eq (jint (again, "site_id"), e.c02536);
  ck_assert_str_eq (jstr (again, "sdp"), "v=0 again");

  /* only sites test lines, and an offer is needed */
  ws_send (&dash, "{\"type\":\"echo\",\"sdp\":\"v=0\"}");
  g_autoptr (JsonNode) err = ws_take (&dash, "error");
  ck_assert_str_eq (jstr (err, "code"), "forbidden");
  ws_send (&site, "{\"type\":\"echo\"}");
  g_autoptr (JsonNode) err2 = ws_take (&site, "error");
  ck_assert_str_eq (jstr (err2, "code"), "bad_request");

  ws_close (&dash);
  ws_close (&far);
  ws_close (&site);
  ws_close (&n08);
  env_stop (&e);
}
END_TEST

/* Sorts site ids ascending, the order of a plan's site lists. */
static void
sort_ids (gint64 *ids, guint n)
{
  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++)
      if (ids[j] < ids[i])
        {
          gint64 t = ids[i];
          ids[i] = ids[j];
          ids[j] = t;
        }
}

/* Checks a leg.open: its parent, its one child (or none) and its sites. */
static void
expect_leg_open (WsPeer *p, const char *parent, const char *child, const gint64 *sites,
                 guint n_sites)
{
  g_autoptr (JsonNode) lo = ws_take (p, "leg.open");
  ck_assert_ptr_nonnull (lo);
  JsonObject *o = json_node_get_object (lo);
  ck_assert_int_eq (json_object_get_int_member (o, "occurrence_id"), 1);
  ck_assert_int_eq (json_object_get_int_member (o, "meeting_id"), 1);
  ck_assert_str_eq (json_object_get_string_member (o, "title"), "Giao ban");
  JsonNode *pn = json_object_get_member (o, "parent");
  if (parent == NULL)
    ck_assert (JSON_NODE_HOLDS_NULL (pn));
  else
    {
      JsonObject *po = json_node_get_object (pn);
      ck_assert_str_eq (json_object_get_string_member (po, "node_id"), parent);
      g_autofree char *fp = g_strconcat ("sha-256 ", parent, NULL);
      ck_assert_str_eq (json_object_get_string_member (po, "fingerprint"), fp);
    }
  JsonArray *ch = json_object_get_array_member (o, "children");
  ck_assert_uint_eq (json_array_get_length (ch), child ? 1 : 0);
  if (child)
    {
      JsonObject *co = json_array_get_object_element (ch, 0);
      ck_assert_str_eq (json_object_get_string_member (co, "node_id"), child);
      g_autofree char *fp = g_strconcat ("sha-256 ", child, NULL);
      ck_assert_str_eq (json_object_get_string_member (co, "fingerprint"), fp);
    }
  JsonArray *sa = json_object_get_array_member (o, "sites");
  ck_assert_uint_eq (json_array_get_length (sa), n_sites);
  for (guint i = 0; i < n_sites; i++)
    {
      JsonObject *so = json_array_get_object_element (sa, i);
      ck_assert_int_eq (json_object_get_int_member (so, "site_id"), sites[i]);
      ck_assert (strlen (json_object_get_string_member (so, "unit")) > 0);
      ck_assert (strlen (json_object_get_string_member (so, "name")) > 0);
    }
}

static void
expect_link_open (WsPeer *p, const char *peer)
{
  g_autoptr (JsonNode) lk = ws_take (p, "link.open");
  ck_assert_str_eq (jstr (lk, "peer_node_id"), peer);
  g_autofree char *fp = g_strconcat ("sha-256 ", peer, NULL);
  ck_assert_str_eq (jstr (lk, "peer_fingerprint"), fp);
}

START_TEST (test_meeting_across_nodes)
{
  Env e = { 0 };
  env_start (&e);
  WsPeer vn, n08, n076, n10, dash, hall, hall2;
  node_connect (e.d, e.s, &vn, "node-vn", "VN");
  node_connect (e.d, e.s, &n08, "node-08", "08");
  node_connect (e.d, e.s, &n076, "node-076", "076");
  node_connect (e.d, e.s, &n10, "node-10", "10");
  book_meeting (&e); /* inside its lobby window: it opens at once */

  gint64 s076[] = { e.d076, e.c02536, e.c02539 };
  sort_ids (s076, 3);
  expect_leg_open (&vn, NULL, "node-08", &e.vn, 1);
  expect_leg_open (&n08, "node-vn", "node-076", NULL, 0);
  expect_leg_open (&n076, "node-08", NULL, s076, 3);
  expect_link_open (&n08, "node-vn");
  expect_link_open (&n076, "node-08");
  /* the floor starts with the chair, at central */
  g_autofree char *chair_via = g_strdup_printf ("site:%" G_GINT64_FORMAT, e.vn);
  expect_floor (&vn, chair_via);
  expect_floor (&n08, "node:node-vn");
  expect_floor (&n076, "node:node-08");
  /* exactly the plan's nodes: central dials nobody, node-10 has no part */
  ws_barrier (&vn, TRUE);
  ws_barrier (&n10, TRUE);
  ck_assert_uint_eq (ws_count (&vn, "link.open"), 0);
  ck_assert_uint_eq (ws_count (&n10, "leg.open"), 0);

  /* the link between 076 and 08, relayed with the sender's name and fingerprint */
  ws_send (&n076,
           "{\"type\":\"link.offer\",\"occurrence_id\":1,\"peer_node_id\":"
           "\"node-08\",\"sdp\":\"v=0 link-offer\",\"peer_fingerprint\":\"forged\"}");
  g_autoptr (JsonNode) lo = ws_take (&n08, "link.offer");
  ck_assert_str_eq (jstr (lo, "peer_node_id"), "node-076");
  ck_assert_str_eq (jstr (lo, "peer_fingerprint"), "sha-256 node-076");
  ck_assert_str_eq (jstr (lo, "sdp"), "v=0 link-offer");
  ws_send (&n08, "{\"type\":\"link.answer\",\"occurrence_id\":1,\"peer_node_id\":"
                 "\"node-076\",\"sdp\":\"v=0 link-answer\"}");
  g_autoptr (JsonNode) la = ws_take (&n076, "link.answer");
  ck_assert_str_eq (jstr (la, "peer_node_id"), "node-08");
  ck_assert_str_eq (jstr (la, "sdp"), "v=0 link-answer");
  ws_send (&n076,
           "{\"type\":\"link.ice\",\"occurrence_id\":1,\"peer_node_id\":"
           "\"node-08\",\"candidate\":\"candidate:7 1 udp 1 127.0.0.1 7 typ host\"}");
  g_autoptr (JsonNode) li = ws_take (&n08, "link.ice");
  ck_assert_str_eq (jstr (li, "peer_node_id"), "node-076");
  ck_assert_ptr_nonnull (strstr (jstr (li, "candidate"), "127.0.0.1 7"));
  ws_send (&n08,
           "{\"type\":\"link.ice\",\"occurrence_id\":1,\"peer_node_id\":"
           "\"node-076\",\"candidate\":\"candidate:8 1 udp 1 127.0.0.1 8 typ host\"}");
  g_autoptr (JsonNode) li2 = ws_take (&n076, "link.ice");
  ck_assert_str_eq (jstr (li2, "peer_node_id"), "node-08");
  /* a node outside the link is refused and nothing reaches node-08 */
  ws_send (&n10, "{\"type\":\"link.offer\",\"occurrence_id\":1,\"peer_node_id\":"
                 "\"node-08\",\"sdp\":\"v=0 intruder\"}");
  g_autoptr (JsonNode) lerr = ws_take (&n10, "error");
  ck_assert_str_eq (jstr (lerr, "code"), "forbidden");
  ws_barrier (&n08, TRUE);
  ck_assert_uint_eq (ws_count (&n08, "link.offer"), 0);

  /* a dashboard follows the meeting; a commune joins at node-076 */
  ck_assert (ws_open (&dash, e.s, e.d, "/api/v1/ws", e.d->admin, NULL));
  ws_send (&dash, "{\"type\":\"subscribe\",\"meeting_id\":1}");
  json_node_unref (ws_take (&dash, "subscribed"));
  site_connect (&e, &hall, e.c02539);
  /* the hall's page is open: dashboards see it online, and so does the roll call */
  g_autoptr (JsonNode) pres = ws_take (&dash, "site.presence");
  ck_assert_int_eq (jint (pres, "site_id"), e.c02539);
  ck_assert (json_object_get_boolean_member (json_node_get_object (pres), "online"));
  guint ast;
  g_autofree char *att = sd_http (
      e.d, "GET", "/api/v1/meetings/1/attendance?occurrence=1", e.d->admin, NULL, &ast);
  ck_assert_uint_eq (ast, 200);
  g_autoptr (JsonNode) attn = sd_json (att);
  JsonArray *rows = json_object_get_array_member (json_node_get_object (attn), "sites");
  guint online = 0;
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      gboolean on = json_object_get_boolean_member (row, "online");
      online += on;
      ck_assert (on == (json_object_get_int_member (row, "site_id") == e.c02539));
    }
  ck_assert_uint_eq (online, 1);
  ws_send (&hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 join\"}");
  g_autoptr (JsonNode) so = ws_take (&n076, "site.offer");
  ck_assert_int_eq (jint (so, "site_id"), e.c02539);
  ck_assert_int_eq (jint (so, "occurrence_id"), 1);

  /* the floor to that commune: the way to it at every node */
  g_autofree char *body
      = g_strdup_printf ("{\"site_id\":%" G_GINT64_FORMAT "}", e.c02539);
  post_ok (&e, "/api/v1/occurrences/1/floor", body);
  g_autofree char *own = g_strdup_printf ("site:%" G_GINT64_FORMAT, e.c02539);
  expect_floor (&vn, "node:node-08");
  expect_floor (&n08, "node:node-076");
  expect_floor (&n076, own);
  g_autoptr (JsonNode) fev = ws_take (&dash, "floor");
  ck_assert_int_eq (jint (fev, "site_id"), e.c02539);

  /* mute reaches the hosting node only, and is an event */
  g_autofree char *mute
      = g_strdup_printf ("{\"site_id\":%" G_GINT64_FORMAT ",\"muted\":true}", e.c02539);
  post_ok (&e, "/api/v1/occurrences/1/mute", mute);
  g_autoptr (JsonNode) m1 = ws_take (&n076, "mute");
  ck_assert_int_eq (jint (m1, "site_id"), e.c02539);
  ck_assert (json_object_get_boolean_member (json_node_get_object (m1), "muted"));
  g_autoptr (JsonNode) mev = ws_take (&dash, "mute");
  ck_assert_int_eq (jint (mev, "site_id"), e.c02539);
  ws_barrier (&vn, TRUE);
  ws_barrier (&n08, TRUE);
  ck_assert_uint_eq (ws_count (&vn, "mute") + ws_count (&n08, "mute"), 0);

  /* the node reports the site connected: an event, and the mute again (a node
   * forgets what it did not know) */
  g_autofree char *st
      = g_strdup_printf ("{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":"
                         "\"site:%" G_GINT64_FORMAT "\",\"state\":\"connected\"}",
                         e.c02539);
  ws_send (&n076, st);
  g_autoptr (JsonNode) sev = ws_take (&dash, "endpoint.state");
  ck_assert_str_eq (jstr (sev, "node_id"), "node-076");
  ck_assert_str_eq (jstr (sev, "endpoint"), own);
  ck_assert_str_eq (jstr (sev, "state"), "connected");
  g_autoptr (JsonNode) m2 = ws_take (&n076, "mute");
  ck_assert_int_eq (jint (m2, "site_id"), e.c02539);

  /* level: to the hosting node; an unknown level is refused on its field */
  g_autofree char *lvl = g_strdup_printf (
      "{\"site_id\":%" G_GINT64_FORMAT ",\"level\":\"low\"}", e.c02539);
  post_ok (&e, "/api/v1/occurrences/1/level", lvl);
  g_autoptr (JsonNode) lv = ws_take (&n076, "level");
  ck_assert_str_eq (jstr (lv, "level"), "low");
  /* the hall itself is told, though it subscribed to nothing */
  g_autoptr (JsonNode) hlv = ws_take (&hall, "level");
  ck_assert_str_eq (jstr (hlv, "level"), "low");
  ck_assert_int_eq (jint (hlv, "site_id"), e.c02539);
  guint code;
  g_autofree char *bad_lvl
      = g_strdup_printf ("{\"site_id\":%" G_GINT64_FORMAT ",\"level\":\"hd\"}", e.c02539);
  g_autofree char *r400
      = sd_http (e.d, "POST", "/api/v1/occurrences/1/level", e.d->admin, bad_lvl, &code);
  ck_assert_uint_eq (code, 400);
  ck_assert_ptr_nonnull (strstr (r400, "\"field\":\"level\""));
  /* a pinned level rides on the site's next offer */
  ws_send (&hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 again\"}");
  g_autoptr (JsonNode) so_low = ws_take (&n076, "site.offer");
  ck_assert_str_eq (jstr (so_low, "level"), "low");
  g_autofree char *r400b = sd_http (e.d, "POST", "/api/v1/occurrences/1/mute", e.d->admin,
                                    "{\"site_id\":1,\"all_but_chair\":true}", &code);
  ck_assert_uint_eq (code, 400);

  /* all but the chair: the three sites of 076 at node-076, nothing at central */
  post_ok (&e, "/api/v1/occurrences/1/mute", "{\"all_but_chair\":true}");
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (JsonNode) m = ws_take (&n076, "mute");
      ck_assert (jint (m, "site_id") == e.d076 || jint (m, "site_id") == e.c02536
                 || jint (m, "site_id") == e.c02539);
    }
  ws_barrier (&vn, TRUE);
  ck_assert_uint_eq (ws_count (&vn, "mute"), 0);

  /* the live view of the leg: nodes up, floor, mutes, levels, reported states */
  guint mst;
  g_autofree char *media
      = sd_http (e.d, "GET", "/api/v1/occurrences/1/media", e.d->admin, NULL, &mst);
  ck_assert_uint_eq (mst, 200);
  g_autoptr (JsonNode) mj = sd_json (media);
  JsonObject *leg = json_object_get_object_member (json_node_get_object (mj), "leg");
  ck_assert_str_eq (json_object_get_string_member (json_node_get_object (mj), "state"),
                    "open");
  ck_assert_int_eq (json_object_get_int_member (leg, "floor_site_id"), e.c02539);
  JsonArray *mn = json_object_get_array_member (leg, "nodes");
  ck_assert_uint_eq (json_array_get_length (mn), 3);
  JsonObject *n2 = json_array_get_object_element (mn, 2);
  ck_assert_str_eq (json_object_get_string_member (n2, "node_id"), "node-076");
  ck_assert_str_eq (json_object_get_string_member (n2, "parent"), "node-08");
  ck_assert (json_object_get_boolean_member (n2, "up"));
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (n2, "sites")),
                     3);
  ck_assert_uint_eq (json_array_get_length (json_object_get_array_member (leg, "muted")),
                     3);
  g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, e.c02539);
  ck_assert_str_eq (
      json_object_get_string_member (json_object_get_object_member (leg, "levels"), key),
      "low");
  JsonArray *eps = json_object_get_array_member (leg, "endpoints");
  ck_assert_uint_eq (json_array_get_length (eps), 1);
  ck_assert_str_eq (
      json_object_get_string_member (json_array_get_object_element (eps, 0), "state"),
      "connected");

  /* a raised hand is shown to the meeting's followers */
  ws_send (&hall, "{\"type\":\"hand\",\"raised\":true}");
  g_autoptr (JsonNode) hand = ws_take (&dash, "hand");
  ck_assert_int_eq (jint (hand, "site_id"), e.c02539);
  ck_assert (json_object_get_boolean_member (json_node_get_object (hand), "raised"));

  /* a second commune joins, then leaves: its node lets it go */
  site_connect (&e, &hall2, e.c02536);
  ws_send (&hall2, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 two\"}");
  g_autoptr (JsonNode) so2 = ws_take (&n076, "site.offer");
  ck_assert_int_eq (jint (so2, "site_id"), e.c02536);
  ws_send (&hall2, "{\"type\":\"leave\"}");
  g_autoptr (JsonNode) sl = ws_take (&n076, "site.leave");
  ck_assert_int_eq (jint (sl, "site_id"), e.c02536);
  ck_assert_int_eq (jint (sl, "occurrence_id"), 1);
  /* its page closes: offline for the dashboards */
  ws_close (&hall2);
  g_autoptr (JsonNode) p_on2 = ws_take (&dash, "site.presence");
  ck_assert_int_eq (jint (p_on2, "site_id"), e.c02536);
  g_autoptr (JsonNode) p_off = ws_take (&dash, "site.presence");
  ck_assert_int_eq (jint (p_off, "site_id"), e.c02536);
  ck_assert (!json_object_get_boolean_member (json_node_get_object (p_off), "online"));

  /* cancelling the meeting closes the leg on exactly its nodes */
  guint dst;
  g_autofree char *del
      = sd_http (e.d, "DELETE", "/api/v1/meetings/1", e.d->admin, NULL, &dst);
  ck_assert_msg (dst == 200, "cancel: %u %s", dst, del);
  json_node_unref (ws_take (&vn, "leg.close"));
  json_node_unref (ws_take (&n08, "leg.close"));
  json_node_unref (ws_take (&n076, "leg.close"));
  ws_barrier (&n10, TRUE);
  ck_assert_uint_eq (ws_count (&n10, "leg.close"), 0);
  g_autofree char *media2
      = sd_http (e.d, "GET", "/api/v1/occurrences/1/media", e.d->admin, NULL, &mst);
  ck_assert_ptr_nonnull (strstr (media2, "\"leg\":null"));
  ck_assert_ptr_nonnull (strstr (media2, "\"state\":\"cancelled\""));
  /* and control refuses an occurrence without media */
  g_autofree char *r409 = sd_http (e.d, "POST", "/api/v1/occurrences/1/floor", e.d->admin,
                                   "{\"site_id\":null}", &code);
  ck_assert_msg (code == 409, "%u %s", code, r409);

  ws_close (&hall);
  ws_close (&dash);
  ws_close (&n10);
  ws_close (&n076);
  ws_close (&n08);
  ws_close (&vn);
  env_stop (&e);
}
END_TEST

START_TEST (test_rehome_and_redial)
{
  Env e = { 0 };
  env_start (&e);
  WsPeer vn, n08, n076, hall, hall2;
  node_connect (e.d, e.s, &vn, "node-vn", "VN");
  node_connect (e.d, e.s, &n08, "node-08", "08");
  node_connect (e.d, e.s, &n076, "node-076", "076");
  book_meeting (&e);
  json_node_unref (ws_take (&n076, "leg.open"));
  expect_link_open (&n076, "node-08");

  /* the uplink fails: redialled after 20, then 40 ms (doubling), until connected */
  gsize mark = sd_log_len (e.d);
  ws_send (&n076, "{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":"
                  "\"node:node-08\",\"state\":\"failed\"}");
  expect_link_open (&n076, "node-08");
  ck_assert (sd_wait_log (e.d, "node-076 redials its uplink in 20 ms (attempt 1)", mark));
  ws_send (&n076, "{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":"
                  "\"node:node-08\",\"state\":\"failed\"}");
  expect_link_open (&n076, "node-08");
  ck_assert (sd_wait_log (e.d, "node-076 redials its uplink in 40 ms (attempt 2)", mark));
  gsize mark2 = sd_log_len (e.d);
  ws_send (&n076, "{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":"
                  "\"node:node-08\",\"state\":\"connected\"}");
  ws_send (&n076, "{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":"
                  "\"node:node-08\",\"state\":\"failed\"}");
  expect_link_open (&n076, "node-08");
  /* connected started the backoff over */
  ck_assert (
      sd_wait_log (e.d, "node-076 redials its uplink in 20 ms (attempt 1)", mark2));
  /* the parent's view of a failed downlink is not a reason to redial */
  ws_send (&n08, "{\"type\":\"endpoint.state\",\"occurrence_id\":1,\"endpoint\":"
                 "\"node:node-076\",\"state\":\"failed\"}");
  ws_barrier (&n08, TRUE);

  /* a commune joins at node-076; node-076 dies: the commune is told to rehome and
   * its next join goes to node-08 */
  site_connect (&e, &hall, e.c02536);
  ws_send (&hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 a\"}");
  json_node_unref (ws_take (&n076, "site.offer"));
  ws_close (&n076);
  g_autoptr (JsonNode) rh = ws_take (&hall, "rehome");
  ck_assert_int_eq (jint (rh, "occurrence_id"), 1);
  ws_send (&hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 b\"}");
  g_autoptr (JsonNode) so = ws_take (&n08, "site.offer");
  ck_assert_int_eq (jint (so, "site_id"), e.c02536);
  ck_assert_str_eq (jstr (so, "sdp"), "v=0 b");
  /* commands follow the site to its new node */
  g_autofree char *mute
      = g_strdup_printf ("{\"site_id\":%" G_GINT64_FORMAT ",\"muted\":true}", e.c02536);
  post_ok (&e, "/api/v1/occurrences/1/mute", mute);
  g_autoptr (JsonNode) m = ws_take (&n08, "mute");
  ck_assert_int_eq (jint (m, "site_id"), e.c02536);
  /* the floor to the re-homed commune enters node-08 from the site itself */
  g_autofree char *fl = g_strdup_printf ("{\"site_id\":%" G_GINT64_FORMAT "}", e.c02536);
  ws_barrier (&n08, TRUE);
  ws_barrier (&vn, TRUE);
  ws_drop (&n08, "floor"); /* the chair's, told again when node-076 went down */
  ws_drop (&vn, "floor");
  post_ok (&e, "/api/v1/occurrences/1/floor", fl);
  g_autofree char *own = g_strdup_printf ("site:%" G_GINT64_FORMAT, e.c02536);
  expect_floor (&n08, own);
  expect_floor (&vn, "node:node-08");

  /* node-076 comes back: its leg and uplink again, and new joins go to it */
  node_connect (e.d, e.s, &n076, "node-076", "076");
  json_node_unref (ws_take (&n076, "leg.open"));
  expect_link_open (&n076, "node-08");
  site_connect (&e, &hall2, e.c02539);
  ws_send (&hall2, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 c\"}");
  g_autoptr (JsonNode) so2 = ws_take (&n076, "site.offer");
  ck_assert_int_eq (jint (so2, "site_id"), e.c02539);

  ws_close (&hall2);
  ws_close (&hall);
  ws_close (&n076);
  ws_close (&n08);
  ws_close (&vn);
  env_stop (&e);
}
END_TEST

static gboolean
heartbeat_cb (gpointer data)
{
  WsPeer **nodes = data;
  for (int i = 0; nodes[i] != NULL; i++)
    ws_send (nodes[i], "{\"type\":\"heartbeat\"}");
  return G_SOURCE_CONTINUE;
}

/* A node whose socket stays open but whose heartbeats stop is down just the same:
 * its sites are told to rehome while the others keep beating. */
START_TEST (test_silent_node_rehomes)
{
  Env e = { 0 };
  e.d = sd_start ("[testing]\nnow=1796086200\n[nodes]\nheartbeat-interval=1\n"
                  "heartbeat-misses=2\n");
  import_tiny (e.d);
  e.s = soup_session_new ();
  e.c02536 = site_of (e.d, "02536");
  WsPeer vn, n08, n076, hall;
  node_connect (e.d, e.s, &vn, "node-vn", "VN");
  node_connect (e.d, e.s, &n08, "node-08", "08");
  node_connect (e.d, e.s, &n076, "node-076", "076");
  WsPeer *beating[] = { &vn, &n08, NULL };
  guint beat = g_timeout_add (200, heartbeat_cb, beating);
  book_meeting (&e);
  site_connect (&e, &hall, e.c02536);
  ws_send (&hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 a\"}");
  json_node_unref (ws_take (&n076, "site.offer"));
  /* node-076 says nothing more */
  g_autoptr (JsonNode) rh = ws_take (&hall, "rehome");
  ck_assert_int_eq (jint (rh, "occurrence_id"), 1);
  ws_send (&hall, "{\"type\":\"join\",\"occurrence_id\":1,\"sdp\":\"v=0 b\"}");
  g_autoptr (JsonNode) so = ws_take (&n08, "site.offer");
  ck_assert_int_eq (jint (so, "site_id"), e.c02536);
  g_source_remove (beat);
  ws_close (&hall);
  ws_close (&n076);
  ws_close (&n08);
  ws_close (&vn);
  env_stop (&e);
}
END_TEST

START_TEST (test_leg_waits_for_nodes)
{
  Env e = { 0 };
  env_start (&e);
  book_meeting (&e); /* opens with no node registered: no plan yet */
  WsPeer vn, n076, n08;
  /* the first node carries the whole meeting */
  node_connect (e.d, e.s, &vn, "node-vn", "VN");
  gint64 all[] = { e.vn, e.d076, e.c02536, e.c02539 };
  sort_ids (all, 4);
  expect_leg_open (&vn, NULL, NULL, all, 4);
  /* a new node that only adds to the tree joins the running leg */
  node_connect (e.d, e.s, &n076, "node-076", "076");
  gint64 s076[] = { e.d076, e.c02536, e.c02539 };
  sort_ids (s076, 3);
  expect_leg_open (&n076, "node-vn", NULL, s076, 3);
  expect_link_open (&n076, "node-vn");
  /* one that would come between two linked nodes waits for the next occurrence */
  node_connect (e.d, e.s, &n08, "node-08", "08");
  ws_barrier (&n08, TRUE);
  ck_assert_uint_eq (ws_count (&n08, "leg.open"), 0);
  ws_barrier (&n076, TRUE);
  ck_assert_uint_eq (ws_count (&n076, "link.open"), 0);

  ws_close (&n08);
  ws_close (&n076);
  ws_close (&vn);
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
  Suite *s = suite_create ("signaling-legs");
  TCase *tc = tcase_create ("fake-nodes");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_echo_routed_to_nearest_node);
  tcase_add_test (tc, test_meeting_across_nodes);
  tcase_add_test (tc, test_rehome_and_redial);
  tcase_add_test (tc, test_leg_waits_for_nodes);
  tcase_add_test (tc, test_silent_node_rehomes);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
