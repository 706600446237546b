/* cascade.h: media nodes and the cascade plan of a meeting.
 *
 * A node (an MCU process) serves one unit's subtree and can host at most @capacity
 * sites in one meeting. The plan for a set of sites: each site is hosted by the node
 * of its nearest ancestor-or-self unit that has a node; the nodes that host sites,
 * plus the nodes on the tree paths joining them, are linked parent to child along the
 * unit tree, skipping tiers without a node. The plan is deterministic: nodes ordered
 * by tier depth then unit code then id, sites ascending.
 */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

typedef struct _RoomsNode RoomsNode;
const char *rooms_node_get_id (const RoomsNode *node);
const char *rooms_node_get_unit_code (const RoomsNode *node);
guint rooms_node_get_capacity (const RoomsNode *node);
void rooms_node_free (RoomsNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsNode, rooms_node_free)

/**
 * rooms_store_register_node:
 * @node_id: (transfer none): a stable name for the MCU process
 * @unit_code: (transfer none): the unit whose subtree it serves
 * @capacity: the most sites it hosts in one meeting (> 0)
 *
 * Registers a node, or updates it when @node_id exists. One node per unit.
 * ROOMS_ERROR_NOT_FOUND (unit), ROOMS_ERROR_INVALID (capacity 0, unit already served
 * by another node).
 */
gboolean rooms_store_register_node (RoomsStore *store, const char *node_id,
                                    const char *unit_code, guint capacity,
                                    GError **error);
gboolean rooms_store_remove_node (RoomsStore *store, const char *node_id, GError **error);
/* Retires a node in one transaction: every node token naming it is deleted and its
 * registration removed (its unit is free again). @n_tokens: (out) (optional) the
 * tokens deleted. ROOMS_ERROR_NOT_FOUND when it had neither. */
gboolean rooms_store_retire_node (RoomsStore *store, const char *node_id, guint *n_tokens,
                                  GError **error);
/* Returns: (transfer full) (element-type RoomsNode): every node, in plan order. */
GPtrArray *rooms_store_list_nodes (RoomsStore *store);

typedef struct _RoomsCascadePlan RoomsCascadePlan;

/**
 * rooms_store_compute_plan:
 * @site_ids: (array length=n_sites): the meeting's sites
 *
 * Computes the plan from the store's tree and nodes. Pure: reads only, stores nothing.
 *
 * Returns: (transfer full) (nullable): the plan; %NULL with ROOMS_ERROR_CAPACITY
 *   (message names each node over capacity with its site count and capacity, or a site
 *   no node serves) or ROOMS_ERROR_NOT_FOUND (unknown site)
 */
RoomsCascadePlan *rooms_store_compute_plan (RoomsStore *store, const gint64 *site_ids,
                                            guint n_sites, GError **error);

guint rooms_cascade_plan_get_n_nodes (const RoomsCascadePlan *plan);
/* The plan's i-th node, in plan order (index 0 is the root of the link tree). */
const char *rooms_cascade_plan_get_node_id (const RoomsCascadePlan *plan, guint i);
const char *rooms_cascade_plan_get_node_unit (const RoomsCascadePlan *plan, guint i);
/* (nullable): the node this one dials (its uplink); %NULL for the root. */
const char *rooms_cascade_plan_get_parent_node_id (const RoomsCascadePlan *plan, guint i);
/* (transfer none) (element-type gint64): the sites the i-th node hosts, ascending. */
GArray *rooms_cascade_plan_get_node_sites (const RoomsCascadePlan *plan, guint i);
/* Returns: the index of @node_id, or -1. */
int rooms_cascade_plan_find_node (const RoomsCascadePlan *plan, const char *node_id);
/* Returns: (nullable): the node hosting @site_id. */
const char *rooms_cascade_plan_node_for_site (const RoomsCascadePlan *plan,
                                              gint64 site_id);
/* Node-to-node links, parent first: as many as nodes minus one, in plan order of the
 * child. */
guint rooms_cascade_plan_get_n_links (const RoomsCascadePlan *plan);
void rooms_cascade_plan_get_link (const RoomsCascadePlan *plan, guint i,
                                  const char **parent_id, const char **child_id);
RoomsCascadePlan *rooms_cascade_plan_copy (const RoomsCascadePlan *plan);
void rooms_cascade_plan_free (RoomsCascadePlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsCascadePlan, rooms_cascade_plan_free)

G_END_DECLS
