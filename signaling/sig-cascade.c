/* sig-cascade.c: signald's side of meeting legs and cascade links
 * (PROTOCOL.md, "Legs, echo, cascade links, floor").
 *
 * When an occurrence opens, every node of its cascade plan is told its part
 * (leg.open) and every child node is told to dial its parent (link.open); the
 * offers, answers and candidates of those links pass through here with the peer's
 * registered fingerprint, which is how a node knows whom to trust. The floor is
 * told to each node as the direction its video comes from. A node that returns is
 * given its legs again; the sites of a node that dies are told to join again and
 * are routed to the nearest node above it that is up. */
#include "sig-ws-private.h"

#include <string.h>

typedef struct
{
  gint64 meeting_id, occurrence_id;
  char *title;
  RoomsCascadePlan *plan;
  gint64 chair_site, floor_site;
} Leg;

static void
leg_free (gpointer data)
{
  Leg *leg = data;
  g_free (leg->title);
  g_clear_pointer (&leg->plan, rooms_cascade_plan_free);
  g_free (leg);
}

static JsonBuilder *
msg_begin (const char *type, gint64 occurrence_id)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occurrence_id);
  return b;
}

static void
msg_send (SigWs *ws, const char *node_id, JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  NodeState *n = node_id ? g_hash_table_lookup (ws->nodes, node_id) : NULL;
  if (n && n->up && n->client)
    sig_ws_send_json (n->client, root);
}

static void
add_peer (JsonBuilder *b, SigWs *ws, const char *name, const char *node_id)
{
  NodeState *n = node_id ? g_hash_table_lookup (ws->nodes, node_id) : NULL;
  json_builder_set_member_name (b, name);
  if (node_id == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "node_id");
  json_builder_add_string_value (b, node_id);
  json_builder_set_member_name (b, "fingerprint");
  json_builder_add_string_value (b, n && n->fingerprint ? n->fingerprint : "");
  json_builder_end_object (b);
}

/* Where the floor site's video enters @node: "site:<id>" on its own node, else the
 * link toward the floor's node ("node:<child>" below, "node:<parent>" above). */
static char *
floor_via (Leg *leg, const char *node)
{
  if (leg->floor_site <= 0)
    return NULL;
  const char *fnode = rooms_cascade_plan_node_for_site (leg->plan, leg->floor_site);
  if (fnode == NULL)
    return NULL;
  if (g_strcmp0 (fnode, node) == 0)
    return g_strdup_printf ("site:%" G_GINT64_FORMAT, leg->floor_site);
  /* walk up from the floor's node: if @node is on that path, the step below it is
   * the way down; if not, the floor is above @node */
  const char *step = fnode;
  for (int guard = 0; guard < 64 && step != NULL; guard++)
    {
      int i = rooms_cascade_plan_find_node (leg->plan, step);
      const char *up
          = i >= 0 ? rooms_cascade_plan_get_parent_node_id (leg->plan, (guint)i) : NULL;
      if (g_strcmp0 (up, node) == 0)
        return g_strdup_printf ("node:%s", step);
      step = up;
    }
  int me = rooms_cascade_plan_find_node (leg->plan, node);
  const char *parent
      = me >= 0 ? rooms_cascade_plan_get_parent_node_id (leg->plan, (guint)me) : NULL;
  return parent ? g_strdup_printf ("node:%s", parent) : NULL;
}

static void
send_floor (SigWs *ws, Leg *leg, const char *node)
{
  g_autofree char *via = floor_via (leg, node);
  g_autoptr (JsonBuilder) b = msg_begin ("floor", leg->occurrence_id);
  json_builder_set_member_name (b, "site_id");
  if (leg->floor_site > 0)
    json_builder_add_int_value (b, leg->floor_site);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "via");
  if (via)
    json_builder_add_string_value (b, via);
  else
    json_builder_add_null_value (b);
  msg_send (ws, node, b);
}

/* Tells one node its part of a leg: leg.open, then (a child) dial the parent, then
 * the floor. Children of a node that just came back must redial it too. */
static void
open_on_node (SigWs *ws, Leg *leg, guint i)
{
  const char *node = rooms_cascade_plan_get_node_id (leg->plan, i);
  const char *parent = rooms_cascade_plan_get_parent_node_id (leg->plan, i);
  g_autoptr (JsonBuilder) b = msg_begin ("leg.open", leg->occurrence_id);
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, leg->meeting_id);
  json_builder_set_member_name (b, "title");
  json_builder_add_string_value (b, leg->title);
  json_builder_set_member_name (b, "chair_site_id");
  json_builder_add_int_value (b, leg->chair_site);
  add_peer (b, ws, "parent", parent);
  json_builder_set_member_name (b, "children");
  json_builder_begin_array (b);
  for (guint k = 0; k < rooms_cascade_plan_get_n_links (leg->plan); k++)
    {
      const char *p, *c;
      rooms_cascade_plan_get_link (leg->plan, k, &p, &c);
      if (g_strcmp0 (p, node) == 0)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "node_id");
          json_builder_add_string_value (b, c);
          json_builder_end_object (b);
        }
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "sites");
  json_builder_begin_array (b);
  GArray *sites = rooms_cascade_plan_get_node_sites (leg->plan, i);
  for (guint k = 0; sites && k < sites->len; k++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "site_id");
      json_builder_add_int_value (b, g_array_index (sites, gint64, k));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  msg_send (ws, node, b);
  if (parent)
    sig_cascade_dial (ws, leg->occurrence_id, node);
  send_floor (ws, leg, node);
}

void
sig_cascade_dial (SigWs *ws, gint64 occurrence_id, const char *child)
{
  Leg *leg = g_hash_table_lookup (ws->legs, &occurrence_id);
  int i = leg ? rooms_cascade_plan_find_node (leg->plan, child) : -1;
  const char *parent
      = i >= 0 ? rooms_cascade_plan_get_parent_node_id (leg->plan, (guint)i) : NULL;
  NodeState *pn = parent ? g_hash_table_lookup (ws->nodes, parent) : NULL;
  if (pn == NULL || !pn->up)
    return; /* dialled again when the parent registers */
  g_autoptr (JsonBuilder) b = msg_begin ("link.open", occurrence_id);
  json_builder_set_member_name (b, "peer_node_id");
  json_builder_add_string_value (b, parent);
  json_builder_set_member_name (b, "peer_fingerprint");
  json_builder_add_string_value (b, pn->fingerprint ? pn->fingerprint : "");
  msg_send (ws, child, b);
}

static gint64
chair_site (SigServer *srv, const RoomsMeeting *m)
{
  g_autoptr (GPtrArray) sites
      = rooms_store_list_sites (srv->store, rooms_meeting_get_chair_code (m), NULL);
  for (guint i = 0; sites && i < sites->len; i++)
    if (rooms_site_get_is_default (sites->pdata[i]))
      return rooms_site_get_id (sites->pdata[i]);
  return sites && sites->len ? rooms_site_get_id (sites->pdata[0]) : 0;
}

void
sig_cascade_open (SigWs *ws, gint64 meeting_id, gint64 occurrence_id)
{
  SigServer *srv = ws->server;
  if (g_hash_table_contains (ws->legs, &occurrence_id))
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (srv->store, meeting_id, &error);
  if (m == NULL)
    return;
  GArray *sites = rooms_meeting_get_site_ids (m);
  RoomsCascadePlan *plan = rooms_store_compute_plan (
      srv->store, (const gint64 *)sites->data, sites->len, &error);
  if (plan == NULL)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                        "occurrence %" G_GINT64_FORMAT ": no cascade plan: %s",
                        occurrence_id, error ? error->message : "no node registered");
      return;
    }
  Leg *leg = g_new0 (Leg, 1);
  leg->meeting_id = meeting_id;
  leg->occurrence_id = occurrence_id;
  leg->title = g_strdup (rooms_meeting_get_title (m));
  leg->plan = plan;
  leg->chair_site = leg->floor_site = chair_site (srv, m);
  g_hash_table_insert (ws->legs, g_memdup2 (&occurrence_id, sizeof occurrence_id), leg);
  for (guint i = 0; i < rooms_cascade_plan_get_n_nodes (plan); i++)
    open_on_node (ws, leg, i);
}

void
sig_cascade_close (SigWs *ws, gint64 occurrence_id)
{
  Leg *leg = g_hash_table_lookup (ws->legs, &occurrence_id);
  if (leg == NULL)
    return;
  for (guint i = 0; i < rooms_cascade_plan_get_n_nodes (leg->plan); i++)
    {
      g_autoptr (JsonBuilder) b = msg_begin ("leg.close", occurrence_id);
      msg_send (ws, rooms_cascade_plan_get_node_id (leg->plan, i), b);
    }
  g_hash_table_remove (ws->legs, &occurrence_id);
}

void
sig_cascade_node_up (SigWs *ws, const char *node_id)
{
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, ws->legs);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      Leg *leg = v;
      int i = rooms_cascade_plan_find_node (leg->plan, node_id);
      if (i < 0)
        continue;
      open_on_node (ws, leg, (guint)i);
      /* its children lost their uplink with it: they dial again */
      for (guint k = 0; k < rooms_cascade_plan_get_n_links (leg->plan); k++)
        {
          const char *p, *c;
          rooms_cascade_plan_get_link (leg->plan, k, &p, &c);
          if (g_strcmp0 (p, node_id) == 0)
            sig_cascade_dial (ws, leg->occurrence_id, c);
        }
    }
}

const char *
sig_cascade_node_for_site (SigWs *ws, gint64 occurrence_id, gint64 site_id)
{
  Leg *leg = g_hash_table_lookup (ws->legs, &occurrence_id);
  if (leg == NULL)
    return NULL;
  /* the planned node, or the nearest node above it that is up (re-homing) */
  const char *node = rooms_cascade_plan_node_for_site (leg->plan, site_id);
  for (int guard = 0; node && guard < 64; guard++)
    {
      NodeState *n = g_hash_table_lookup (ws->nodes, node);
      if (n && n->up && n->client)
        return node;
      int i = rooms_cascade_plan_find_node (leg->plan, node);
      node = i >= 0 ? rooms_cascade_plan_get_parent_node_id (leg->plan, (guint)i) : NULL;
    }
  return NULL;
}

gboolean
sig_cascade_set_floor (SigWs *ws, gint64 occurrence_id, gint64 site_id)
{
  Leg *leg = g_hash_table_lookup (ws->legs, &occurrence_id);
  if (leg == NULL)
    return FALSE;
  leg->floor_site = site_id > 0 ? site_id : leg->chair_site;
  for (guint i = 0; i < rooms_cascade_plan_get_n_nodes (leg->plan); i++)
    send_floor (ws, leg, rooms_cascade_plan_get_node_id (leg->plan, i));
  return TRUE;
}

gboolean
sig_cascade_is_open (SigWs *ws, gint64 occurrence_id)
{
  return g_hash_table_contains (ws->legs, &occurrence_id);
}

const char *
sig_cascade_parent_of (SigWs *ws, gint64 occurrence_id, const char *node)
{
  Leg *leg = g_hash_table_lookup (ws->legs, &occurrence_id);
  int i = leg ? rooms_cascade_plan_find_node (leg->plan, node) : -1;
  return i >= 0 ? rooms_cascade_plan_get_parent_node_id (leg->plan, (guint)i) : NULL;
}

gboolean
sig_cascade_planned_on (SigWs *ws, gint64 occurrence_id, gint64 site_id, const char *node)
{
  Leg *leg = g_hash_table_lookup (ws->legs, &occurrence_id);
  return leg
         && g_strcmp0 (rooms_cascade_plan_node_for_site (leg->plan, site_id), node) == 0;
}

/* Relays a link message from one node to its peer, naming the sender as the peer
 * and, for offers, adding the sender's registered fingerprint. */
gboolean
sig_cascade_relay_link (SigWs *ws, const char *from, JsonObject *o, GError **error)
{
  const char *to = json_object_get_string_member_with_default (o, "peer_node_id", NULL);
  NodeState *dest = to ? g_hash_table_lookup (ws->nodes, to) : NULL;
  NodeState *src = g_hash_table_lookup (ws->nodes, from);
  if (dest == NULL || !dest->up || dest->client == NULL)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_UNAVAILABLE, "node %s is not up",
                   to ? to : "(none)");
      return FALSE;
    }
  json_object_set_string_member (o, "peer_node_id", from);
  const char *type = json_object_get_string_member_with_default (o, "type", "");
  if (g_str_equal (type, "link.offer"))
    json_object_set_string_member (o, "peer_fingerprint",
                                   src && src->fingerprint ? src->fingerprint : "");
  json_object_set_int_member (o, "v", 1);
  g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), o);
  sig_ws_send_json (dest->client, n);
  return TRUE;
}

void
sig_cascade_init (SigWs *ws)
{
  ws->legs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, leg_free);
}

void
sig_cascade_clear (SigWs *ws)
{
  g_clear_pointer (&ws->legs, g_hash_table_unref);
}
