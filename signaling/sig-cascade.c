/* sig-cascade.c: signald's side of meeting legs and cascade links
 * (PROTOCOL.md, "Legs, echo, cascade links, floor").
 *
 * When an occurrence opens, every node of its cascade plan is told its part
 * (leg.open) and every child node is told to dial its parent (link.open); the
 * offers, answers and candidates of those links pass through here with the peer's
 * registered fingerprint, which is how a node knows whom to trust. The floor is
 * told to each node as the direction its video comes from, and so is the content (the
 * screen one presenting site shares, issue 16); mutes and levels go to
 * the node hosting the site and are remembered, so a site that connects again (or
 * re-homes) gets them again. A node that returns is given its legs again; a child
 * whose uplink failed is told to dial again with a growing delay; the sites of a
 * node that dies are told to join again and are routed to the nearest node above it
 * that is up. */
#include "sig-runtime-private.h"

#include "sig-error.h"
#include "sig-recording.h"
#include "sig-validate.h"

#include <string.h>

typedef struct
{
  SigRuntime *rt;
  gint64 occurrence;
  char *child;
  guint attempts;
  guint source;
} Redial;

/* What a site receives in the session: the one copy, read by the step-down
 * (sig-links.c), the site's next offer and the media view. */
typedef struct
{
  char *level;     /* "full", "low", "audio" */
  gboolean pinned; /* set by a person: the automatic steps leave it alone */
} SiteLevel;

static void
site_level_free (gpointer data)
{
  SiteLevel *l = data;
  g_free (l->level);
  g_free (l);
}

typedef struct
{
  gint64 meeting_id, occurrence_id;
  char *title;
  RoomsCascadePlan *plan;
  gint64 chair_site, floor_site;
  gint64 presenter_site; /* holds the presenter right: the chair's site by default */
  gint64 content_site;   /* presenting now (it holds the right), or 0 */
  GHashTable *muted;     /* gint64* site id set: muted sites */
  GHashTable *levels;    /* gint64* site id -> SiteLevel*: the one level per site */
  GHashTable *states;    /* "node\tendpoint" -> char* state, as the nodes report */
  GHashTable *redials;   /* child node id -> Redial* (uplink backoff) */
  GHashTable *known;     /* node ids the plan was computed with, or judged since */
  GHashTable *hosts;     /* gint64* site id -> char* node id its last offer went to */
} Leg;

static void
redial_free (gpointer data)
{
  Redial *r = data;
  g_clear_handle_id (&r->source, g_source_remove);
  g_free (r->child);
  g_free (r);
}

static void
leg_free (gpointer data)
{
  Leg *leg = data;
  g_free (leg->title);
  g_clear_pointer (&leg->plan, rooms_cascade_plan_free);
  g_hash_table_unref (leg->muted);
  g_hash_table_unref (leg->levels);
  g_hash_table_unref (leg->states);
  g_hash_table_unref (leg->redials);
  g_hash_table_unref (leg->known);
  g_hash_table_unref (leg->hosts);
  g_free (leg);
}

static Leg *
leg_lookup (SigRuntime *rt, gint64 occurrence_id)
{
  return rt->legs ? g_hash_table_lookup (rt->legs, &occurrence_id) : NULL;
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

/* Ends @b and sends it to @node_id when that node is up. Returns: whether sent. */
static gboolean
msg_send (SigRuntime *rt, const char *node_id, JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return sig_runtime_node_up (rt, node_id) != NULL
         && rt->sink.to_node (rt->sink_data, node_id, root);
}

/* Ends @b and publishes it to the meeting's subscribers. */
static void
event_publish (SigRuntime *rt, Leg *leg, JsonBuilder *b)
{
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, leg->meeting_id);
  json_builder_end_object (b);
  g_autoptr (JsonNode) ev = json_builder_get_root (b);
  rt->sink.publish (rt->sink_data, leg->meeting_id, ev);
}

static void
add_peer_object (JsonBuilder *b, SigRuntime *rt, const char *node_id)
{
  SigNode *n = g_hash_table_lookup (rt->nodes, node_id);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "node_id");
  json_builder_add_string_value (b, node_id);
  json_builder_set_member_name (b, "fingerprint");
  json_builder_add_string_value (b, n && n->fingerprint ? n->fingerprint : "");
  json_builder_end_object (b);
}

static const char *
plan_parent (Leg *leg, const char *node)
{
  int i = rooms_cascade_plan_find_node (leg->plan, node);
  return i >= 0 ? rooms_cascade_plan_get_parent_node_id (leg->plan, (guint)i) : NULL;
}

/* Where the video of @site enters @node: "site:<id>" on the node hosting it now, else
 * the link toward that node ("node:<child>" below, "node:<parent>" above). The floor
 * and the content are both told this way. */
static char *
site_via (SigRuntime *rt, Leg *leg, gint64 site, const char *node)
{
  if (site <= 0)
    return NULL;
  const char *fnode = sig_cascade_site_node (rt, leg->occurrence_id, site);
  if (fnode == NULL)
    return NULL;
  if (g_strcmp0 (fnode, node) == 0)
    return g_strdup_printf ("site:%" G_GINT64_FORMAT, site);
  /* walk up from the site's node: if @node is on that path, the step below it is
   * the way down; if not, the site is above @node */
  const char *step = fnode;
  for (int guard = 0; guard < 64 && step != NULL; guard++)
    {
      const char *up = plan_parent (leg, step);
      if (g_strcmp0 (up, node) == 0)
        return g_strdup_printf ("node:%s", step);
      step = up;
    }
  const char *parent = plan_parent (leg, node);
  return parent ? g_strdup_printf ("node:%s", parent) : NULL;
}

/* Adds "site_id" (null for none) and "via" of @site as seen from @node. */
static void
add_site_via (JsonBuilder *b, SigRuntime *rt, Leg *leg, gint64 site, const char *node)
{
  g_autofree char *via = site_via (rt, leg, site, node);
  json_builder_set_member_name (b, "site_id");
  if (site > 0)
    json_builder_add_int_value (b, site);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "via");
  if (via)
    json_builder_add_string_value (b, via);
  else
    json_builder_add_null_value (b);
}

static void
send_floor (SigRuntime *rt, Leg *leg, const char *node)
{
  g_autoptr (JsonBuilder) b = msg_begin ("floor", leg->occurrence_id);
  add_site_via (b, rt, leg, leg->floor_site, node);
  msg_send (rt, node, b);
}

/* The content: which site presents (null: none) and where its screen enters @node;
 * the node drops content from any other site itself. */
static void
send_content (SigRuntime *rt, Leg *leg, const char *node)
{
  g_autoptr (JsonBuilder) b = msg_begin ("content", leg->occurrence_id);
  add_site_via (b, rt, leg, leg->content_site, node);
  msg_send (rt, node, b);
}

static void
send_content_all (SigRuntime *rt, Leg *leg)
{
  for (guint i = 0; i < rooms_cascade_plan_get_n_nodes (leg->plan); i++)
    send_content (rt, leg, rooms_cascade_plan_get_node_id (leg->plan, i));
}

static void
send_floor_all (SigRuntime *rt, Leg *leg)
{
  for (guint i = 0; i < rooms_cascade_plan_get_n_nodes (leg->plan); i++)
    send_floor (rt, leg, rooms_cascade_plan_get_node_id (leg->plan, i));
}

static void
add_sites (JsonBuilder *b, SigRuntime *rt, GArray *sites)
{
  json_builder_set_member_name (b, "sites");
  json_builder_begin_array (b);
  for (guint k = 0; sites && k < sites->len; k++)
    {
      gint64 id = g_array_index (sites, gint64, k);
      g_autoptr (RoomsSite) s = rooms_store_get_site (rt->store, id, NULL);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "site_id");
      json_builder_add_int_value (b, id);
      json_builder_set_member_name (b, "unit");
      json_builder_add_string_value (b, s ? rooms_site_get_unit_code (s) : "");
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, s ? rooms_site_get_name (s) : "");
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

/* Tells one node its part of a leg: leg.open, then (a child) dial the parent, then
 * the floor and the content. */
static void
open_on_node (SigRuntime *rt, Leg *leg, guint i)
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
  json_builder_set_member_name (b, "parent");
  if (parent)
    add_peer_object (b, rt, parent);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "children");
  json_builder_begin_array (b);
  for (guint k = 0; k < rooms_cascade_plan_get_n_links (leg->plan); k++)
    {
      const char *p, *c;
      rooms_cascade_plan_get_link (leg->plan, k, &p, &c);
      if (g_strcmp0 (p, node) == 0)
        add_peer_object (b, rt, c);
    }
  json_builder_end_array (b);
  add_sites (b, rt, rooms_cascade_plan_get_node_sites (leg->plan, i));
  if (!msg_send (rt, node, b))
    return; /* given again when it registers */
  if (parent)
    sig_cascade_dial (rt, leg->occurrence_id, node);
  send_floor (rt, leg, node);
  send_content (rt, leg, node);
}

void
sig_cascade_dial (SigRuntime *rt, gint64 occurrence_id, const char *child)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  const char *parent = leg ? plan_parent (leg, child) : NULL;
  SigNode *pn = sig_runtime_node_up (rt, parent);
  if (pn == NULL)
    return; /* dialled again when the parent registers */
  g_autoptr (JsonBuilder) b = msg_begin ("link.open", occurrence_id);
  json_builder_set_member_name (b, "peer_node_id");
  json_builder_add_string_value (b, parent);
  json_builder_set_member_name (b, "peer_fingerprint");
  json_builder_add_string_value (b, pn->fingerprint ? pn->fingerprint : "");
  msg_send (rt, child, b);
}

static gint64
chair_site (SigRuntime *srv, const RoomsMeeting *m)
{
  g_autoptr (GPtrArray) sites
      = rooms_store_list_sites (srv->store, rooms_meeting_get_chair_code (m), NULL);
  for (guint i = 0; sites && i < sites->len; i++)
    if (rooms_site_get_is_default (sites->pdata[i]))
      return rooms_site_get_id (sites->pdata[i]);
  return sites && sites->len ? rooms_site_get_id (sites->pdata[0]) : 0;
}

/* Files every node of the registry as known to @leg: a node that was registered
 * when its plan was computed cannot change that plan by registering again. */
static void
leg_know_registry (SigRuntime *srv, Leg *leg)
{
  g_autoptr (GPtrArray) nodes = rooms_store_list_nodes (srv->store);
  for (guint i = 0; nodes && i < nodes->len; i++)
    g_hash_table_add (leg->known, g_strdup (rooms_node_get_id (nodes->pdata[i])));
}

static RoomsCascadePlan *
plan_for_meeting (SigRuntime *srv, const RoomsMeeting *m, GError **error)
{
  GArray *sites = rooms_meeting_get_site_ids (m);
  return rooms_store_compute_plan (srv->store, (const gint64 *)sites->data, sites->len,
                                   error);
}

void
sig_cascade_open (SigRuntime *rt, gint64 meeting_id, gint64 occurrence_id)
{
  SigRuntime *srv = rt;
  if (leg_lookup (rt, occurrence_id) != NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (srv->store, meeting_id, &error);
  if (m == NULL)
    return;
  RoomsCascadePlan *plan = plan_for_meeting (srv, m, &error);
  if (plan == NULL)
    {
      /* tried again whenever a node registers (sig_cascade_node_up) */
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
                        "occurrence %" G_GINT64_FORMAT ": no cascade plan yet: %s",
                        occurrence_id, error ? error->message : "no node registered");
      return;
    }
  Leg *leg = g_new0 (Leg, 1);
  leg->meeting_id = meeting_id;
  leg->occurrence_id = occurrence_id;
  leg->title = g_strdup (rooms_meeting_get_title (m));
  leg->plan = plan;
  leg->chair_site = leg->floor_site = leg->presenter_site = chair_site (srv, m);
  leg->muted = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  leg->levels
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, site_level_free);
  leg->states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  leg->redials = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, redial_free);
  leg->known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  leg->hosts = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  leg_know_registry (srv, leg);
  g_hash_table_insert (rt->legs, g_memdup2 (&occurrence_id, sizeof occurrence_id), leg);
  for (guint i = 0; i < rooms_cascade_plan_get_n_nodes (plan); i++)
    open_on_node (rt, leg, i);
  sig_recording_leg_opened (rt, meeting_id, occurrence_id);
}

void
sig_cascade_close (SigRuntime *rt, gint64 occurrence_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL)
    return;
  sig_recording_leg_closing (rt, occurrence_id);
  for (guint i = 0; i < rooms_cascade_plan_get_n_nodes (leg->plan); i++)
    {
      g_autoptr (JsonBuilder) b = msg_begin ("leg.close", occurrence_id);
      msg_send (rt, rooms_cascade_plan_get_node_id (leg->plan, i), b);
    }
  g_hash_table_remove (rt->legs, &occurrence_id);
  sig_links_forget (rt->links, occurrence_id);
}

void
sig_cascade_close_meeting (SigRuntime *rt, gint64 meeting_id)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, rt->legs);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (((Leg *)v)->meeting_id == meeting_id)
      g_array_append_val (ids, ((Leg *)v)->occurrence_id);
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 occ = g_array_index (ids, gint64, i);
      g_autoptr (RoomsOccurrence) o = rooms_store_get_occurrence (rt->store, occ, NULL);
      RoomsOccurrenceState s
          = o ? rooms_occurrence_get_state (o) : ROOMS_OCCURRENCE_CANCELLED;
      if (s != ROOMS_OCCURRENCE_OPEN && s != ROOMS_OCCURRENCE_LIVE)
        sig_cascade_close (rt, occ);
    }
}

/* Why a scan on every registration: an occurrence that opened while no node was up
 * (or before a restart of signald) has no leg yet; the first node that can carry it
 * starts it. Open and live occurrences overlap [now, now + lobby window]. */
static void
open_missing_legs (SigRuntime *rt)
{
  SigRuntime *srv = rt;
  gint64 now = sig_runtime_now (srv);
  g_autoptr (GPtrArray) meetings = rooms_store_list_meetings (
      srv->store, now, now + srv->config->lobby_window + 1, NULL, NULL);
  for (guint i = 0; meetings && i < meetings->len; i++)
    {
      gint64 mid = rooms_meeting_get_id (meetings->pdata[i]);
      g_autoptr (GPtrArray) occs = rooms_store_list_occurrences (srv->store, mid, NULL);
      for (guint k = 0; occs && k < occs->len; k++)
        {
          RoomsOccurrenceState s = rooms_occurrence_get_state (occs->pdata[k]);
          if (s == ROOMS_OCCURRENCE_OPEN || s == ROOMS_OCCURRENCE_LIVE)
            sig_cascade_open (rt, mid, rooms_occurrence_get_id (occs->pdata[k]));
        }
    }
}

/* A node that was not in a leg's plan registered (a node new to the registry): the
 * leg takes the new plan when it only adds nodes, keeping every linked node's parent.
 * A node that would come between two linked nodes waits for the next occurrence: a
 * node keeps one uplink per leg (PROTOCOL.md). */
static void
replan_for (SigRuntime *rt, Leg *leg, const char *node_id)
{
  if (g_hash_table_contains (leg->known, node_id))
    return; /* judged already: planning again would give the same answer */
  g_hash_table_add (leg->known, g_strdup (node_id));
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (rt->store, leg->meeting_id, NULL);
  g_autoptr (RoomsCascadePlan) plan = m ? plan_for_meeting (rt, m, NULL) : NULL;
  int at = plan ? rooms_cascade_plan_find_node (plan, node_id) : -1;
  if (at < 0)
    return;
  for (guint i = 0; i < rooms_cascade_plan_get_n_nodes (leg->plan); i++)
    {
      const char *id = rooms_cascade_plan_get_node_id (leg->plan, i);
      int j = rooms_cascade_plan_find_node (plan, id);
      if (j < 0
          || g_strcmp0 (rooms_cascade_plan_get_parent_node_id (leg->plan, i),
                        rooms_cascade_plan_get_parent_node_id (plan, (guint)j))
                 != 0)
        {
          g_log_structured (
              G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
              "occurrence %" G_GINT64_FORMAT
              ": node %s joins at the next occurrence (it would re-link %s)",
              leg->occurrence_id, node_id, id);
          return;
        }
    }
  rooms_cascade_plan_free (leg->plan);
  leg->plan = g_steal_pointer (&plan);
  open_on_node (rt, leg, (guint)at);
  send_floor_all (rt, leg);
  send_content_all (rt, leg);
}

void
sig_cascade_node_up (SigRuntime *rt, const char *node_id)
{
  /* a node registering again may be a new process: whatever it recorded ended */
  sig_recording_node_gone (rt, node_id);
  open_missing_legs (rt);
  g_autoptr (GList) legs = g_hash_table_get_values (rt->legs);
  for (GList *l = legs; l != NULL; l = l->next)
    {
      Leg *leg = l->data;
      int i = rooms_cascade_plan_find_node (leg->plan, node_id);
      if (i < 0)
        {
          replan_for (rt, leg, node_id);
          continue;
        }
      open_on_node (rt, leg, (guint)i);
      /* its children lost their uplink with it: they dial again */
      for (guint k = 0; k < rooms_cascade_plan_get_n_links (leg->plan); k++)
        {
          const char *p, *c;
          rooms_cascade_plan_get_link (leg->plan, k, &p, &c);
          if (g_strcmp0 (p, node_id) == 0)
            sig_cascade_dial (rt, leg->occurrence_id, c);
        }
    }
  sig_recording_follow (rt);
}

void
sig_cascade_node_down (SigRuntime *rt, const char *node_id)
{
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, rt->legs);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (rooms_cascade_plan_find_node (((Leg *)v)->plan, node_id) >= 0)
      {
        /* the floor and presenting sites may be re-homed: their ways change */
        send_floor_all (rt, v);
        if (((Leg *)v)->content_site > 0)
          send_content_all (rt, v);
      }
  sig_recording_node_gone (rt, node_id);
  sig_recording_follow (rt);
}

const char *
sig_cascade_node_for_site (SigRuntime *rt, gint64 occurrence_id, gint64 site_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL)
    return NULL;
  /* the planned node, or the nearest node above it that is up (re-homing): the
   * hosting node of a plan computed without the nodes that are down */
  const char *node = rooms_cascade_plan_node_for_site (leg->plan, site_id);
  for (int guard = 0; node && guard < 64; guard++)
    {
      if (sig_runtime_node_up (rt, node))
        return node;
      node = plan_parent (leg, node);
    }
  return NULL;
}

gboolean
sig_cascade_set_floor (SigRuntime *rt, gint64 occurrence_id, gint64 site_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL)
    return FALSE;
  leg->floor_site = site_id > 0 ? site_id : leg->chair_site;
  send_floor_all (rt, leg);
  return TRUE;
}

/* Ends @b (an event of the leg's meeting) and sends it to the meeting's subscribers
 * and to every site joined to the occurrence that does not follow the meeting: a hall
 * must know who may present and who presents, as it knows its level. Why the plan's
 * site lists: they hold every site of the occurrence, and the sink finds a site's
 * sockets by its id. */
static void
event_to_all (SigRuntime *rt, Leg *leg, JsonBuilder *b)
{
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, leg->meeting_id);
  json_builder_end_object (b);
  g_autoptr (JsonNode) ev = json_builder_get_root (b);
  rt->sink.publish (rt->sink_data, leg->meeting_id, ev);
  for (guint i = 0; i < rooms_cascade_plan_get_n_nodes (leg->plan); i++)
    {
      GArray *sites = rooms_cascade_plan_get_node_sites (leg->plan, i);
      for (guint k = 0; sites && k < sites->len; k++)
        rt->sink.to_site (rt->sink_data, leg->meeting_id, leg->occurrence_id,
                          g_array_index (sites, gint64, k), ev);
    }
}

void
sig_cascade_publish_all (SigRuntime *rt, gint64 occurrence_id, JsonBuilder *b)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg != NULL)
    event_to_all (rt, leg, b);
}

static JsonBuilder *
site_event_begin (const char *type, Leg *leg, gint64 site)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, leg->occurrence_id);
  json_builder_set_member_name (b, "site_id");
  if (site > 0)
    json_builder_add_int_value (b, site);
  else
    json_builder_add_null_value (b);
  return b;
}

/* The content becomes @site's (0: none): every node is told where it enters, and
 * the meeting and its halls see a content event. Nothing when it is so already. */
static void
content_set (SigRuntime *rt, Leg *leg, gint64 site)
{
  gint64 was = leg->content_site;
  if (was == site)
    return;
  leg->content_site = site;
  send_content_all (rt, leg);
  g_autoptr (JsonBuilder) b = site_event_begin ("content", leg, site);
  event_to_all (rt, leg, b);
  g_autofree char *mid = g_strdup_printf ("%" G_GINT64_FORMAT, leg->meeting_id);
  g_autofree char *sid = g_strdup_printf ("%" G_GINT64_FORMAT, site > 0 ? site : was);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_MEETING_ID", mid, "LT_SITE_ID",
                    sid, "MESSAGE", "occurrence %" G_GINT64_FORMAT ": content %s",
                    leg->occurrence_id, site > 0 ? "starts" : "stops");
}

gboolean
sig_cascade_set_presenter (SigRuntime *rt, gint64 occurrence_id, gint64 site_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL)
    return FALSE;
  gint64 to = site_id > 0 ? site_id : leg->chair_site;
  /* one site presents, and only the one holding the right: the former holder's
   * screen (or anyone else's) goes before the right moves */
  if (leg->content_site > 0 && leg->content_site != to)
    content_set (rt, leg, 0);
  if (leg->presenter_site == to)
    return TRUE;
  leg->presenter_site = to;
  g_autoptr (JsonBuilder) b = site_event_begin ("presenter", leg, to);
  event_to_all (rt, leg, b);
  return TRUE;
}

gboolean
sig_cascade_start_content (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                           GError **error)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "occurrence %" G_GINT64_FORMAT " is not open: no media runs",
                   occurrence_id);
      return FALSE;
    }
  if (site_id <= 0 || leg->presenter_site != site_id)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                   "site %" G_GINT64_FORMAT " does not hold the presenter right "
                   "(site %" G_GINT64_FORMAT " does): the secretary gives it",
                   site_id, leg->presenter_site);
      return FALSE;
    }
  content_set (rt, leg, site_id);
  return TRUE;
}

gboolean
sig_cascade_stop_content (SigRuntime *rt, gint64 occurrence_id, gint64 site_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL || site_id <= 0 || leg->content_site != site_id)
    return FALSE;
  content_set (rt, leg, 0);
  return TRUE;
}

gint64
sig_cascade_presenter_site (SigRuntime *rt, gint64 occurrence_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  return leg ? leg->presenter_site : 0;
}

gint64
sig_cascade_content_site (SigRuntime *rt, gint64 occurrence_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  return leg ? leg->content_site : 0;
}

gboolean
sig_cascade_is_open (SigRuntime *rt, gint64 occurrence_id)
{
  return leg_lookup (rt, occurrence_id) != NULL;
}

gint64
sig_cascade_chair_site (SigRuntime *rt, gint64 occurrence_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  return leg ? leg->chair_site : 0;
}

static void
send_mute (SigRuntime *rt, Leg *leg, gint64 site_id, const char *node)
{
  g_autoptr (JsonBuilder) b = msg_begin ("mute", leg->occurrence_id);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, site_id);
  json_builder_set_member_name (b, "muted");
  json_builder_add_boolean_value (b, g_hash_table_contains (leg->muted, &site_id));
  msg_send (rt, node, b);
}

gboolean
sig_cascade_set_muted (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                       gboolean muted)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL)
    return FALSE;
  if (muted)
    g_hash_table_add (leg->muted, g_memdup2 (&site_id, sizeof site_id));
  else
    g_hash_table_remove (leg->muted, &site_id);
  const char *node = sig_cascade_site_node (rt, occurrence_id, site_id);
  if (node)
    send_mute (rt, leg, site_id, node);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "mute");
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occurrence_id);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, site_id);
  json_builder_set_member_name (b, "muted");
  json_builder_add_boolean_value (b, muted);
  event_publish (rt, leg, b);
  return TRUE;
}

gboolean
sig_cascade_set_level (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                       const char *level, gboolean pinned)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL)
    return FALSE;
  SiteLevel *sl = g_new0 (SiteLevel, 1);
  sl->level = g_strdup (level);
  sl->pinned = pinned;
  g_hash_table_insert (leg->levels, g_memdup2 (&site_id, sizeof site_id), sl);
  const char *node = sig_cascade_site_node (rt, occurrence_id, site_id);
  g_autoptr (JsonBuilder) m = msg_begin ("level", occurrence_id);
  json_builder_set_member_name (m, "site_id");
  json_builder_add_int_value (m, site_id);
  json_builder_set_member_name (m, "level");
  json_builder_add_string_value (m, level);
  msg_send (rt, node, m);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "level");
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occurrence_id);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, site_id);
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, level);
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, leg->meeting_id);
  json_builder_end_object (b);
  g_autoptr (JsonNode) ev = json_builder_get_root (b);
  rt->sink.publish (rt->sink_data, leg->meeting_id, ev);
  /* the hall itself is told, so it can say why its picture went */
  rt->sink.to_site (rt->sink_data, leg->meeting_id, occurrence_id, site_id, ev);
  return TRUE;
}

gboolean
sig_cascade_unpin_level (SigRuntime *rt, gint64 occurrence_id, gint64 site_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL)
    return FALSE;
  SiteLevel *sl = g_hash_table_lookup (leg->levels, &site_id);
  if (sl != NULL)
    sl->pinned = FALSE;
  return TRUE;
}

const char *
sig_cascade_site_level (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                        gboolean *pinned)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  SiteLevel *sl = leg ? g_hash_table_lookup (leg->levels, &site_id) : NULL;
  if (pinned)
    *pinned = sl != NULL && sl->pinned;
  return sl ? sl->level : NULL;
}

const char *
sig_cascade_site_node (SigRuntime *rt, gint64 occurrence_id, gint64 site_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  const char *host = leg ? g_hash_table_lookup (leg->hosts, &site_id) : NULL;
  if (host != NULL && sig_runtime_node_up (rt, host))
    return host;
  return sig_cascade_node_for_site (rt, occurrence_id, site_id);
}

const char *
sig_cascade_plan_parent (SigRuntime *rt, gint64 occurrence_id, const char *node_id,
                         gboolean *found)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  gboolean in = leg != NULL && rooms_cascade_plan_find_node (leg->plan, node_id) >= 0;
  if (found)
    *found = in;
  return in ? plan_parent (leg, node_id) : NULL;
}

void
sig_cascade_site_routed (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                         const char *node_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL)
    return;
  g_hash_table_insert (leg->hosts, g_memdup2 (&site_id, sizeof site_id),
                       g_strdup (node_id));
  if (site_id == leg->floor_site)
    send_floor_all (rt, leg); /* its node (and so every way to it) may have changed */
  if (site_id == leg->content_site)
    send_content_all (rt, leg); /* re-homed while presenting: its screen moved too */
  if (site_id == leg->chair_site)
    sig_recording_follow (rt); /* the chair's node records */
}

/* Reads "site:<id>" (a positive decimal id, nothing else) into @site. */
static gboolean
parse_site_endpoint (const char *endpoint, gint64 *site)
{
  guint64 v;
  if (!g_str_has_prefix (endpoint, "site:")
      || !g_ascii_string_to_unsigned (endpoint + 5, 10, 1, G_MAXINT64, &v, NULL))
    return FALSE;
  *site = (gint64)v;
  return TRUE;
}

gboolean
sig_cascade_node_hosts_site (SigRuntime *rt, gint64 occurrence_id, const char *node_id,
                             gint64 site_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  const char *host = leg ? g_hash_table_lookup (leg->hosts, &site_id) : NULL;
  return host != NULL && node_id != NULL && g_str_equal (host, node_id);
}

gboolean
sig_cascade_node_speaks_for (SigRuntime *rt, gint64 occurrence_id, const char *node_id,
                             const char *endpoint)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL || endpoint == NULL || node_id == NULL)
    return FALSE;
  gint64 site;
  if (parse_site_endpoint (endpoint, &site))
    return sig_cascade_node_hosts_site (rt, occurrence_id, node_id, site);
  if (!g_str_has_prefix (endpoint, "node:"))
    return FALSE;
  const char *peer = endpoint + 5;
  /* a link exists only between a node and its parent or child in the leg's plan */
  return rooms_cascade_plan_find_node (leg->plan, node_id) >= 0
         && rooms_cascade_plan_find_node (leg->plan, peer) >= 0
         && (g_strcmp0 (plan_parent (leg, node_id), peer) == 0
             || g_strcmp0 (plan_parent (leg, peer), node_id) == 0);
}

void
sig_cascade_event (SigRuntime *rt, gint64 occurrence_id, const char *type, gint64 site_id,
                   const char *bool_name, gboolean value)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL)
    return;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, occurrence_id);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, site_id);
  if (bool_name)
    {
      json_builder_set_member_name (b, bool_name);
      json_builder_add_boolean_value (b, value);
    }
  event_publish (rt, leg, b);
}

static gboolean
redial_cb (gpointer data)
{
  Redial *r = data;
  r->source = 0;
  sig_cascade_dial (r->rt, r->occurrence, r->child);
  return G_SOURCE_REMOVE;
}

/* Why a timer per child and not a loop: the child says when its uplink failed; the
 * delay doubles from [nodes] redial-base-ms up to redial-max-ms and starts over once
 * the link is connected. The timer dies with the leg. */
static void
schedule_redial (SigRuntime *rt, Leg *leg, const char *child)
{
  Redial *r = g_hash_table_lookup (leg->redials, child);
  if (r == NULL)
    {
      r = g_new0 (Redial, 1);
      r->rt = rt;
      r->occurrence = leg->occurrence_id;
      r->child = g_strdup (child);
      g_hash_table_insert (leg->redials, r->child, r);
    }
  if (r->source != 0)
    return; /* already waiting */
  const SigConfig *cfg = rt->config;
  gint64 delay = cfg->redial_base_ms << MIN (r->attempts, 20u);
  delay = MIN (delay, cfg->redial_max_ms);
  r->attempts++;
  r->source = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint)delay, redial_cb, r, NULL);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_NODE_ID", child, "MESSAGE",
                    "occurrence %" G_GINT64_FORMAT
                    ": %s redials its uplink in %" G_GINT64_FORMAT " ms (attempt %u)",
                    leg->occurrence_id, child, delay, r->attempts);
}

gboolean
sig_cascade_endpoint_state (SigRuntime *rt, const char *node_id, JsonObject *o,
                            GError **error)
{
  JsonNode *on = json_object_get_member (o, "occurrence_id");
  const char *endpoint = sig_json_string (o, "endpoint");
  const char *state = sig_json_string (o, "state");
  Leg *leg
      = on && JSON_NODE_HOLDS_VALUE (on) && json_node_get_value_type (on) == G_TYPE_INT64
            ? leg_lookup (rt, json_node_get_int (on))
            : NULL;
  static const char *const states[]
      = { "new", "connecting", "connected", "disconnected", "failed", "closed", NULL };
  if (endpoint == NULL || state == NULL || !g_strv_contains (states, state))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "endpoint.state needs occurrence_id, endpoint and a state "
                           "(new, connecting, connected, disconnected, failed, closed)");
      return FALSE;
    }
  if (leg == NULL)
    return TRUE; /* a leg that ended meanwhile */
  /* a node reports only what it hosts: its own sites, its own links */
  if (!sig_cascade_node_speaks_for (rt, leg->occurrence_id, node_id, endpoint))
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                   "%s does not host %.64s in occurrence %" G_GINT64_FORMAT, node_id,
                   endpoint, leg->occurrence_id);
      return FALSE;
    }
  g_hash_table_insert (leg->states, g_strconcat (node_id, "\t", endpoint, NULL),
                       g_strdup (state));
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "endpoint.state");
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, leg->occurrence_id);
  json_builder_set_member_name (b, "node_id");
  json_builder_add_string_value (b, node_id);
  json_builder_set_member_name (b, "endpoint");
  json_builder_add_string_value (b, endpoint);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, state);
  event_publish (rt, leg, b);

  const char *parent = plan_parent (leg, node_id);
  gboolean uplink = parent && g_str_has_prefix (endpoint, "node:")
                    && g_str_equal (endpoint + 5, parent);
  if (uplink && g_str_equal (state, "connected"))
    g_hash_table_remove (leg->redials, node_id);
  else if (uplink && g_str_equal (state, "failed"))
    schedule_redial (rt, leg, node_id);
  else if (g_str_has_prefix (endpoint, "site:") && g_str_equal (state, "connected"))
    {
      /* a site that (re)connected gets its mute again: nodes forget unknown sites */
      gint64 site = g_ascii_strtoll (endpoint + 5, NULL, 10);
      if (g_hash_table_contains (leg->muted, &site))
        send_mute (rt, leg, site, node_id);
    }
  return TRUE;
}

const char *
sig_cascade_endpoint_get_state (SigRuntime *rt, gint64 occurrence_id, const char *node_id,
                                const char *endpoint)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  g_autofree char *key = g_strconcat (node_id, "\t", endpoint, NULL);
  return leg ? g_hash_table_lookup (leg->states, key) : NULL;
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
  return x < y ? -1 : x > y;
}

static void
add_id_array (JsonBuilder *b, const char *name, GArray *ids)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; ids && i < ids->len; i++)
    json_builder_add_int_value (b, g_array_index (ids, gint64, i));
  json_builder_end_array (b);
}

static int
compare_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* The endpoint states, sorted so the view is stable: "node\tendpoint" keys. */
static void
add_states (JsonBuilder *b, Leg *leg)
{
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (leg->states, NULL);
  guint n = g_hash_table_size (leg->states);
  qsort (keys, n, sizeof (gpointer), compare_str);
  json_builder_set_member_name (b, "endpoints");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    {
      const char *key = keys[i];
      const char *tab = strchr (key, '\t');
      g_autofree char *node = g_strndup (key, (gsize)(tab - key));
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "node_id");
      json_builder_add_string_value (b, node);
      json_builder_set_member_name (b, "endpoint");
      json_builder_add_string_value (b, tab + 1);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, g_hash_table_lookup (leg->states, key));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

JsonNode *
sig_cascade_describe (SigRuntime *rt, gint64 occurrence_id)
{
  Leg *leg = leg_lookup (rt, occurrence_id);
  if (leg == NULL)
    return NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "chair_site_id");
  json_builder_add_int_value (b, leg->chair_site);
  json_builder_set_member_name (b, "floor_site_id");
  json_builder_add_int_value (b, leg->floor_site);
  json_builder_set_member_name (b, "presenter_site_id");
  json_builder_add_int_value (b, leg->presenter_site);
  json_builder_set_member_name (b, "content_site_id");
  if (leg->content_site > 0)
    json_builder_add_int_value (b, leg->content_site);
  else
    json_builder_add_null_value (b);
  gboolean paused = FALSE;
  gint64 rec = sig_recording_current (rt, occurrence_id, &paused);
  json_builder_set_member_name (b, "recording");
  if (rec > 0)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, rec);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, paused ? "paused" : "recording");
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "nodes");
  json_builder_begin_array (b);
  for (guint i = 0; i < rooms_cascade_plan_get_n_nodes (leg->plan); i++)
    {
      const char *id = rooms_cascade_plan_get_node_id (leg->plan, i);
      const char *parent = rooms_cascade_plan_get_parent_node_id (leg->plan, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "node_id");
      json_builder_add_string_value (b, id);
      json_builder_set_member_name (b, "unit");
      json_builder_add_string_value (b, rooms_cascade_plan_get_node_unit (leg->plan, i));
      json_builder_set_member_name (b, "parent");
      if (parent)
        json_builder_add_string_value (b, parent);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "up");
      json_builder_add_boolean_value (b, sig_runtime_node_up (rt, id) != NULL);
      add_id_array (b, "sites", rooms_cascade_plan_get_node_sites (leg->plan, i));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  g_autoptr (GArray) muted = g_array_new (FALSE, FALSE, sizeof (gint64));
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, leg->muted);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_array_append_val (muted, *(gint64 *)k);
  g_array_sort (muted, (GCompareFunc)compare_gint64);
  add_id_array (b, "muted", muted);
  json_builder_set_member_name (b, "levels");
  json_builder_begin_object (b);
  g_hash_table_iter_init (&it, leg->levels);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      g_autofree char *site = g_strdup_printf ("%" G_GINT64_FORMAT, *(gint64 *)k);
      json_builder_set_member_name (b, site);
      json_builder_add_string_value (b, ((SiteLevel *)v)->level);
    }
  json_builder_end_object (b);
  add_states (b, leg);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Relays a link message from one node to its peer, naming the sender as the peer
 * and, for offers, adding the sender's registered fingerprint. */
gboolean
sig_cascade_relay_link (SigRuntime *rt, const char *from, JsonObject *o, GError **error)
{
  const char *to = sig_json_string (o, "peer_node_id");
  SigNode *dest = sig_runtime_node_up (rt, to);
  SigNode *src = g_hash_table_lookup (rt->nodes, from);
  JsonNode *on = json_object_get_member (o, "occurrence_id");
  Leg *leg
      = on && JSON_NODE_HOLDS_VALUE (on) && json_node_get_value_type (on) == G_TYPE_INT64
            ? leg_lookup (rt, json_node_get_int (on))
            : NULL;
  /* a node speaks only to its own parent or children in a leg that runs */
  if (leg == NULL || to == NULL
      || (g_strcmp0 (plan_parent (leg, from), to) != 0
          && g_strcmp0 (plan_parent (leg, to), from) != 0))
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                   "%s is not linked to %s in a running leg", from, to ? to : "(none)");
      return FALSE;
    }
  if (dest == NULL)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_UNAVAILABLE, "node %s is not up", to);
      return FALSE;
    }
  json_object_set_string_member (o, "peer_node_id", from);
  const char *type = (sig_json_string (o, "type") ? sig_json_string (o, "type") : "");
  if (g_str_equal (type, "link.offer"))
    json_object_set_string_member (o, "peer_fingerprint",
                                   src && src->fingerprint ? src->fingerprint : "");
  json_object_set_int_member (o, "v", 1);
  g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), o);
  rt->sink.to_node (rt->sink_data, dest->id, n);
  return TRUE;
}

void
sig_cascade_init (SigRuntime *rt)
{
  rt->legs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, leg_free);
}

void
sig_cascade_clear (SigRuntime *rt)
{
  g_clear_pointer (&rt->legs, g_hash_table_unref);
}
