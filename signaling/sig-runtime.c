/* sig-runtime.c: SigRuntime: the node registry (up, down, heartbeats), routing a
 * site's media to a node, the clock, and the sink every runtime file speaks through.
 * Sessions of running occurrences live in sig-cascade.c, link quality in
 * sig-links.c. */
#include "sig-recording.h"
#include "sig-runtime-private.h"

#include "sig-error.h"

#include <string.h>

static void
node_free (gpointer data)
{
  SigNode *n = data;
  g_free (n->id);
  g_free (n->fingerprint);
  g_free (n);
}

gint64
sig_runtime_now (SigRuntime *rt)
{
  return sig_config_now (rt->config);
}

SigLinks *
sig_runtime_get_links (SigRuntime *rt)
{
  return rt->links;
}

/* ---- sink ---- */

static gboolean
null_to_node (gpointer sink, const char *node_id, JsonNode *msg)
{
  return FALSE;
}

static void
null_publish (gpointer sink, gint64 meeting_id, JsonNode *event)
{
}

static void
null_broadcast (gpointer sink, JsonNode *event)
{
}

static void
null_to_site (gpointer sink, gint64 meeting_id, gint64 occurrence_id, gint64 site_id,
              JsonNode *event)
{
}

static void
null_node_down (gpointer sink, const char *node_id)
{
}

/* Until a transport is attached (and in tools that drive the runtime alone), what
 * the runtime says goes nowhere. */
static const SigSinkFuncs null_sink = {
  null_to_node, null_publish, null_publish, null_broadcast, null_to_site, null_node_down,
};

void
sig_runtime_set_sink (SigRuntime *rt, const SigSinkFuncs *funcs, gpointer sink)
{
  rt->sink = funcs ? *funcs : null_sink;
  rt->sink_data = sink;
}

/* ---- nodes ---- */

SigNode *
sig_runtime_node_up (SigRuntime *rt, const char *node_id)
{
  SigNode *n = node_id ? g_hash_table_lookup (rt->nodes, node_id) : NULL;
  return n && n->up ? n : NULL;
}

static void
publish_node (SigRuntime *rt, const char *type, const char *node_id)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "node_id");
  json_builder_add_string_value (b, node_id);
  json_builder_end_object (b);
  g_autoptr (JsonNode) n = json_builder_get_root (b);
  rt->sink.broadcast (rt->sink_data, n);
  sig_links_node (rt->links, node_id, strcmp (type, "node.up") == 0);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_NODE_ID", node_id, "MESSAGE",
                    "node %s is %s", node_id,
                    strcmp (type, "node.up") == 0 ? "up" : "down");
}

static void
mark_up (SigRuntime *rt, SigNode *n)
{
  if (n->up)
    return;
  n->up = TRUE;
  publish_node (rt, "node.up", n->id);
}

/* A node is gone: the sites it hosted are told to join again (by the transport, which
 * holds their sockets); their next join goes to the nearest node above it that is up
 * (sig_cascade_node_for_site). */
static void
mark_down (SigRuntime *rt, SigNode *n)
{
  if (!n->up)
    return;
  n->up = FALSE;
  publish_node (rt, "node.down", n->id);
  rt->sink.node_down (rt->sink_data, n->id);
  sig_cascade_node_down (rt, n->id);
}

/* Why one timer for all nodes: the check is a scan of a few hundred entries at most,
 * and it keeps "down" a function of the configured interval times misses. */
static gboolean
heartbeat_check_cb (gpointer user_data)
{
  SigRuntime *rt = user_data;
  const SigConfig *cfg = rt->config;
  gint64 limit = (gint64)cfg->heartbeat_interval * cfg->heartbeat_misses * G_USEC_PER_SEC;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, rt->nodes);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      SigNode *n = v;
      if (n->up && now - n->last_heartbeat_us > limit)
        mark_down (rt, n);
    }
  return G_SOURCE_CONTINUE;
}

gboolean
sig_runtime_node_register (SigRuntime *rt, const char *node_id, const char *unit,
                           guint capacity, const char *fingerprint, GError **error)
{
  if (!rooms_store_register_node (rt->store, node_id, unit, capacity, error))
    return FALSE;
  SigNode *n = g_hash_table_lookup (rt->nodes, node_id);
  if (n == NULL)
    {
      n = g_new0 (SigNode, 1);
      n->id = g_strdup (node_id);
      g_hash_table_insert (rt->nodes, n->id, n);
    }
  n->last_heartbeat_us = g_get_monotonic_time ();
  g_free (n->fingerprint);
  n->fingerprint = g_strdup (fingerprint);
  return TRUE;
}

void
sig_runtime_node_ready (SigRuntime *rt, const char *node_id)
{
  SigNode *n = g_hash_table_lookup (rt->nodes, node_id);
  if (n == NULL)
    return;
  n->last_heartbeat_us = g_get_monotonic_time ();
  mark_up (rt, n);
  /* a node (re)joining gets its part of every leg that should be running */
  sig_cascade_node_up (rt, node_id);
}

gboolean
sig_runtime_node_known (SigRuntime *rt, const char *node_id)
{
  return node_id != NULL && g_hash_table_contains (rt->nodes, node_id);
}

void
sig_runtime_node_heartbeat (SigRuntime *rt, const char *node_id)
{
  SigNode *n = g_hash_table_lookup (rt->nodes, node_id);
  if (n == NULL)
    return;
  n->last_heartbeat_us = g_get_monotonic_time ();
  mark_up (rt, n);
}

void
sig_runtime_node_lost (SigRuntime *rt, const char *node_id)
{
  SigNode *n = node_id ? g_hash_table_lookup (rt->nodes, node_id) : NULL;
  if (n != NULL)
    mark_down (rt, n);
}

void
sig_runtime_node_forget (SigRuntime *rt, const char *node_id)
{
  sig_runtime_node_lost (rt, node_id);
  g_hash_table_remove (rt->nodes, node_id);
}

gboolean
sig_runtime_node_is_up (SigRuntime *rt, const char *node_id)
{
  return sig_runtime_node_up (rt, node_id) != NULL;
}

guint
sig_runtime_count_nodes_up (SigRuntime *rt)
{
  guint n = 0;
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, rt->nodes);
  while (g_hash_table_iter_next (&it, NULL, &v))
    n += ((SigNode *)v)->up;
  return n;
}

/* ---- routing ---- */

/* The node of the site's nearest ancestor-or-self unit that has a registered node
 * that is up: where the site would be hosted with the nodes that are down left out. */
static const char *
nearest_up_node (SigRuntime *rt, gint64 site_id)
{
  g_autoptr (RoomsSite) site = rooms_store_get_site (rt->store, site_id, NULL);
  if (site == NULL)
    return NULL;
  g_autoptr (GHashTable) by_unit = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) nodes = rooms_store_list_nodes (rt->store);
  for (guint i = 0; nodes && i < nodes->len; i++)
    g_hash_table_insert (by_unit, (char *)rooms_node_get_unit_code (nodes->pdata[i]),
                         (char *)rooms_node_get_id (nodes->pdata[i]));
  for (RoomsUnit *u = rooms_store_get_unit (rt->store, rooms_site_get_unit_code (site));
       u != NULL; u = rooms_unit_get_parent (u))
    {
      SigNode *n = sig_runtime_node_up (
          rt, g_hash_table_lookup (by_unit, rooms_unit_get_code (u)));
      if (n != NULL)
        return n->id;
    }
  return NULL;
}

const char *
sig_runtime_echo_node (SigRuntime *rt, gint64 site_id, GError **error)
{
  const char *node = nearest_up_node (rt, site_id);
  if (node == NULL)
    g_set_error (error, SIG_ERROR, SIG_ERROR_UNAVAILABLE,
                 "no media node is up for site %" G_GINT64_FORMAT, site_id);
  return node;
}

const char *
sig_runtime_route_site (SigRuntime *rt, gint64 occurrence_id, gint64 site_id,
                        GError **error)
{
  /* an open leg knows its plan and re-homes around nodes that are down; only
   * without one is the meeting (all its sites) loaded to plan */
  const char *node_id = sig_cascade_node_for_site (rt, occurrence_id, site_id);
  g_autoptr (RoomsCascadePlan) plan = NULL;
  if (node_id == NULL)
    {
      g_autoptr (RoomsOccurrence) occ
          = rooms_store_get_occurrence (rt->store, occurrence_id, error);
      if (occ == NULL)
        return NULL;
      g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (
          rt->store, rooms_occurrence_get_meeting_id (occ), error);
      if (m == NULL)
        return NULL;
      GArray *sites = rooms_meeting_get_site_ids (m);
      plan = rooms_store_compute_plan (rt->store, (const gint64 *)sites->data, sites->len,
                                       NULL);
      node_id = plan ? rooms_cascade_plan_node_for_site (plan, site_id) : NULL;
    }
  SigNode *n = sig_runtime_node_up (rt, node_id);
  const char *id = n ? n->id : nearest_up_node (rt, site_id);
  if (id == NULL)
    g_set_error (error, SIG_ERROR, SIG_ERROR_UNAVAILABLE,
                 "no media node is up for site %" G_GINT64_FORMAT, site_id);
  return id;
}

/* ---- life ---- */

SigRuntime *
sig_runtime_new (RoomsStore *store, const SigConfig *config, GError **error)
{
  g_autoptr (SigRuntime) rt = g_new0 (SigRuntime, 1);
  rt->store = store;
  rt->config = config;
  rt->sink = null_sink;
  rt->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, node_free);
  sig_cascade_init (rt);
  sig_recording_init (rt);
  rt->links = sig_links_new (rt, error);
  if (rt->links == NULL)
    return NULL;
  rt->heartbeat_source = g_timeout_add_seconds (
      (guint)MAX (config->heartbeat_interval, 1), heartbeat_check_cb, rt);
  return g_steal_pointer (&rt);
}

void
sig_runtime_free (SigRuntime *rt)
{
  if (rt == NULL)
    return;
  g_clear_handle_id (&rt->heartbeat_source, g_source_remove);
  rt->sink = null_sink; /* the transport may be gone already */
  sig_recording_clear (rt);
  sig_cascade_clear (rt);
  g_clear_pointer (&rt->links, sig_links_free);
  g_clear_pointer (&rt->nodes, g_hash_table_unref);
  g_free (rt);
}
