/* cascade.c: media nodes and the cascade plan (which node hosts which site, and the
 * tree of node-to-node links). */
#include "store-private.h"
#include "token.h"

#include <stdlib.h>
#include <string.h>

const char *
rooms_node_get_id (const RoomsNode *node)
{
  return node->id;
}
const char *
rooms_node_get_unit_code (const RoomsNode *node)
{
  return node->unit_code;
}
guint
rooms_node_get_capacity (const RoomsNode *node)
{
  return node->capacity;
}

void
rooms_node_free (RoomsNode *node)
{
  if (node == NULL)
    return;
  g_free (node->id);
  g_free (node->unit_code);
  g_free (node);
}

static RoomsNode *
node_copy (const RoomsNode *n)
{
  RoomsNode *c = g_new0 (RoomsNode, 1);
  c->id = g_strdup (n->id);
  c->unit_code = g_strdup (n->unit_code);
  c->capacity = n->capacity;
  return c;
}

static int
compare_nodes (gconstpointer a, gconstpointer b, gpointer data)
{
  RoomsStore *sort_store = data;
  const RoomsNode *na = *(RoomsNode *const *)a, *nb = *(RoomsNode *const *)b;
  RoomsUnit *ua = rooms_store_get_unit (sort_store, na->unit_code);
  RoomsUnit *ub = rooms_store_get_unit (sort_store, nb->unit_code);
  int da = ua ? ua->depth : G_MAXINT, db = ub ? ub->depth : G_MAXINT;
  if (da != db)
    return da < db ? -1 : 1;
  int c = strcmp (na->unit_code, nb->unit_code);
  return c ? c : strcmp (na->id, nb->id);
}

void
rooms_store_sort_nodes (GPtrArray *nodes, RoomsStore *store)
{
  g_ptr_array_sort_with_data (nodes, compare_nodes, store);
}

gboolean
rooms_store_load_nodes (RoomsStore *store, GError **error)
{
  for (guint i = 0; i < store->units->len; i++)
    ((RoomsUnit *)store->units->pdata[i])->node = NULL;
  g_ptr_array_set_size (store->nodes, 0);
  g_autoptr (RoomsStmt) st
      = rooms_store_prepare (store, "SELECT id, unit_code, capacity FROM nodes", error);
  if (!st)
    return FALSE;
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      RoomsNode *n = g_new0 (RoomsNode, 1);
      n->id = rooms_column_dup (st, 0);
      n->unit_code = rooms_column_dup (st, 1);
      n->capacity = (guint)sqlite3_column_int64 (st, 2);
      RoomsUnit *u = rooms_store_get_unit (store, n->unit_code);
      if (u)
        u->node = n;
      g_ptr_array_add (store->nodes, n);
    }
  rooms_store_sort_nodes (store->nodes, store);
  return TRUE;
}

gboolean
rooms_store_register_node (RoomsStore *store, const char *node_id, const char *unit_code,
                           guint capacity, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (node_id == NULL || *node_id == '\0' || !g_utf8_validate (node_id, -1, NULL)
      || capacity == 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "a node needs a non-empty id and a capacity above 0");
      return FALSE;
    }
  RoomsUnit *u = rooms_store_get_unit (store, unit_code);
  if (u == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "unknown unit '%s'",
                   unit_code ? unit_code : "(null)");
      return FALSE;
    }
  if (u->node && strcmp (u->node->id, node_id) != 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "unit %s is already served by node '%s'", u->code, u->node->id);
      return FALSE;
    }
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "INSERT INTO nodes (id, unit_code, capacity) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (id) DO UPDATE SET unit_code = ?2, capacity = ?3",
      error);
  if (!st)
    return FALSE;
  sqlite3_bind_text (st, 1, node_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, u->code, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 3, capacity);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "register node");
      return FALSE;
    }
  return rooms_store_load_nodes (store, error);
}

gboolean
rooms_store_remove_node (RoomsStore *store, const char *node_id, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_autoptr (RoomsStmt) st
      = rooms_store_prepare (store, "DELETE FROM nodes WHERE id = ?", error);
  if (!st)
    return FALSE;
  rooms_bind_text (st, 1, node_id);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "remove node");
      return FALSE;
    }
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no node '%s'",
                   node_id ? node_id : "(null)");
      return FALSE;
    }
  return rooms_store_load_nodes (store, error);
}

gboolean
rooms_store_retire_node (RoomsStore *store, const char *node_id, guint *n_tokens,
                         GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (!rooms_store_begin (store, error))
    return FALSE;
  gint64 tokens = rooms_store_delete_tokens_of (store, "node", node_id, error);
  g_autoptr (RoomsStmt) st
      = tokens < 0 ? NULL
                   : rooms_store_prepare (store, "DELETE FROM nodes WHERE id = ?", error);
  if (st == NULL)
    {
      rooms_store_rollback (store);
      return FALSE;
    }
  rooms_bind_text (st, 1, node_id);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "retire node");
      rooms_store_rollback (store);
      return FALSE;
    }
  gboolean had_row = sqlite3_changes (store->db) > 0;
  if (!had_row && tokens == 0)
    {
      rooms_store_rollback (store);
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "no node '%s'",
                   node_id ? node_id : "(null)");
      return FALSE;
    }
  if (!rooms_store_commit (store, error))
    return FALSE;
  if (n_tokens)
    *n_tokens = (guint)tokens;
  return rooms_store_load_nodes (store, error);
}

GPtrArray *
rooms_store_list_nodes (RoomsStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_node_free);
  for (guint i = 0; i < store->nodes->len; i++)
    g_ptr_array_add (out, node_copy (store->nodes->pdata[i]));
  return out;
}

typedef struct
{
  char *id;
  char *unit;
  char *parent_id; /* NULL for the root */
  GArray *sites;   /* gint64 ascending */
} PlanNode;

struct _RoomsCascadePlan
{
  GArray *nodes;         /* PlanNode, plan order */
  GHashTable *site_node; /* gint64* site -> guint index+1; keys in nodes' arrays */
};

static void
plan_node_clear (PlanNode *n)
{
  g_free (n->id);
  g_free (n->unit);
  g_free (n->parent_id);
  g_array_unref (n->sites);
}

void
rooms_cascade_plan_free (RoomsCascadePlan *plan)
{
  if (plan == NULL)
    return;
  g_hash_table_unref (plan->site_node);
  g_array_unref (plan->nodes);
  g_free (plan);
}

static RoomsCascadePlan *
plan_new (void)
{
  RoomsCascadePlan *p = g_new0 (RoomsCascadePlan, 1);
  p->nodes = g_array_new (FALSE, TRUE, sizeof (PlanNode));
  g_array_set_clear_func (p->nodes, (GDestroyNotify)plan_node_clear);
  p->site_node = g_hash_table_new (g_int64_hash, g_int64_equal);
  return p;
}

static void
plan_index_sites (RoomsCascadePlan *p)
{
  for (guint i = 0; i < p->nodes->len; i++)
    {
      PlanNode *n = &g_array_index (p->nodes, PlanNode, i);
      for (guint j = 0; j < n->sites->len; j++)
        g_hash_table_insert (p->site_node, &g_array_index (n->sites, gint64, j),
                             GUINT_TO_POINTER (i + 1));
    }
}

RoomsCascadePlan *
rooms_cascade_plan_copy (const RoomsCascadePlan *plan)
{
  g_return_val_if_fail (plan != NULL, NULL);
  RoomsCascadePlan *c = plan_new ();
  for (guint i = 0; i < plan->nodes->len; i++)
    {
      const PlanNode *n = &g_array_index (plan->nodes, PlanNode, i);
      PlanNode m = { g_strdup (n->id), g_strdup (n->unit), g_strdup (n->parent_id),
                     g_array_copy (n->sites) };
      g_array_append_val (c->nodes, m);
    }
  plan_index_sites (c);
  return c;
}

static RoomsNode *
nearest_node (RoomsUnit *u)
{
  for (; u; u = u->parent)
    if (u->node)
      return u->node;
  return NULL;
}

static RoomsNode *
parent_node (RoomsStore *store, RoomsNode *n)
{
  RoomsUnit *u = rooms_store_get_unit (store, n->unit_code);
  return u && u->parent ? nearest_node (u->parent) : NULL;
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
  return x < y ? -1 : x > y;
}

/* Why the plan's root is the deepest node that is an ancestor of every hosting node:
 * a Tuyên Quang meeting with nodes at VN, 08 and 076 needs only 08 and 076 unless a
 * site outside 08 takes part; climbing to VN would make central relay a provincial
 * meeting for nothing. */
static RoomsNode *
common_root (RoomsStore *store, GHashTable *hosting)
{
  RoomsNode *root = NULL;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, hosting);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      RoomsNode *n = key;
      if (root == NULL)
        {
          root = n;
          continue;
        }
      /* raise root until n lies under it */
      for (;;)
        {
          RoomsUnit *ru = rooms_store_get_unit (store, root->unit_code);
          RoomsUnit *nu = rooms_store_get_unit (store, n->unit_code);
          if (rooms_unit_is_within (nu, ru))
            break;
          root = parent_node (store, root);
          if (root == NULL)
            return NULL;
        }
    }
  return root;
}

static gboolean
check_capacity (RoomsStore *store, GHashTable *counts, GError **error)
{
  GString *msg = NULL;
  for (guint i = 0; i < store->nodes->len; i++)
    {
      RoomsNode *n = store->nodes->pdata[i];
      guint c = GPOINTER_TO_UINT (g_hash_table_lookup (counts, n));
      if (c <= n->capacity)
        continue;
      if (msg == NULL)
        msg = g_string_new ("node capacity exceeded:");
      g_string_append_printf (msg,
                              " node '%s' (unit %s) would host %u sites, capacity %u;",
                              n->id, n->unit_code, c, n->capacity);
    }
  if (msg)
    {
      g_string_truncate (msg, msg->len - 1);
      g_set_error_literal (error, ROOMS_ERROR, ROOMS_ERROR_CAPACITY, msg->str);
      g_string_free (msg, TRUE);
      return FALSE;
    }
  return TRUE;
}

RoomsCascadePlan *
rooms_store_compute_plan (RoomsStore *store, const gint64 *site_ids, guint n_sites,
                          GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (site_ids != NULL || n_sites == 0, NULL);

  g_autoptr (GHashTable) counts = g_hash_table_new (NULL, NULL); /* node -> count */
  g_autofree RoomsNode **host = g_new0 (RoomsNode *, n_sites + 1);
  for (guint i = 0; i < n_sites; i++)
    {
      RoomsSite *s = rooms_site_lookup (store, site_ids[i]);
      RoomsUnit *u = s ? rooms_store_get_unit (store, s->unit_code) : NULL;
      if (u == NULL)
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                       "unknown site %" G_GINT64_FORMAT, site_ids[i]);
          return NULL;
        }
      host[i] = nearest_node (u);
      if (host[i] == NULL)
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_CAPACITY,
                       "no node serves unit %s (site %" G_GINT64_FORMAT ")", u->code,
                       site_ids[i]);
          return NULL;
        }
      g_hash_table_insert (
          counts, host[i],
          GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, host[i]))
                            + 1));
    }
  if (!check_capacity (store, counts, error))
    return NULL;

  RoomsCascadePlan *plan = plan_new ();
  if (n_sites == 0)
    return plan;
  RoomsNode *root = common_root (store, counts);
  if (root == NULL)
    {
      rooms_cascade_plan_free (plan);
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_CAPACITY,
                   "the hosting nodes have no common ancestor node to link them");
      return NULL;
    }
  /* members: hosting nodes plus every node on their way up to the root */
  g_autoptr (GHashTable) member = g_hash_table_new (NULL, NULL); /* node -> parent */
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, counts);
  while (g_hash_table_iter_next (&it, &key, NULL))
    for (RoomsNode *n = key; n && !g_hash_table_contains (member, n);)
      {
        RoomsNode *p = n == root ? NULL : parent_node (store, n);
        g_hash_table_insert (member, n, p);
        n = p;
      }
  /* store->nodes is already in plan order */
  for (guint i = 0; i < store->nodes->len; i++)
    {
      RoomsNode *n = store->nodes->pdata[i];
      if (!g_hash_table_contains (member, n))
        continue;
      RoomsNode *p = g_hash_table_lookup (member, n);
      PlanNode pn
          = { g_strdup (n->id), g_strdup (n->unit_code), p ? g_strdup (p->id) : NULL,
              g_array_new (FALSE, FALSE, sizeof (gint64)) };
      for (guint j = 0; j < n_sites; j++)
        if (host[j] == n)
          g_array_append_val (pn.sites, site_ids[j]);
      g_array_sort (pn.sites, compare_gint64);
      g_array_append_val (plan->nodes, pn);
    }
  plan_index_sites (plan);
  return plan;
}

guint
rooms_cascade_plan_get_n_nodes (const RoomsCascadePlan *plan)
{
  g_return_val_if_fail (plan != NULL, 0);
  return plan->nodes->len;
}

static const PlanNode *
plan_node (const RoomsCascadePlan *plan, guint i)
{
  g_return_val_if_fail (plan != NULL && i < plan->nodes->len, NULL);
  return &g_array_index (plan->nodes, PlanNode, i);
}

const char *
rooms_cascade_plan_get_node_id (const RoomsCascadePlan *plan, guint i)
{
  const PlanNode *n = plan_node (plan, i);
  return n ? n->id : NULL;
}

const char *
rooms_cascade_plan_get_node_unit (const RoomsCascadePlan *plan, guint i)
{
  const PlanNode *n = plan_node (plan, i);
  return n ? n->unit : NULL;
}

const char *
rooms_cascade_plan_get_parent_node_id (const RoomsCascadePlan *plan, guint i)
{
  const PlanNode *n = plan_node (plan, i);
  return n ? n->parent_id : NULL;
}

GArray *
rooms_cascade_plan_get_node_sites (const RoomsCascadePlan *plan, guint i)
{
  const PlanNode *n = plan_node (plan, i);
  return n ? n->sites : NULL;
}

int
rooms_cascade_plan_find_node (const RoomsCascadePlan *plan, const char *node_id)
{
  g_return_val_if_fail (plan != NULL, -1);
  for (guint i = 0; i < plan->nodes->len; i++)
    if (g_strcmp0 (g_array_index (plan->nodes, PlanNode, i).id, node_id) == 0)
      return (int)i;
  return -1;
}

const char *
rooms_cascade_plan_node_for_site (const RoomsCascadePlan *plan, gint64 site_id)
{
  g_return_val_if_fail (plan != NULL, NULL);
  guint i = GPOINTER_TO_UINT (g_hash_table_lookup (plan->site_node, &site_id));
  return i ? g_array_index (plan->nodes, PlanNode, i - 1).id : NULL;
}

guint
rooms_cascade_plan_get_n_links (const RoomsCascadePlan *plan)
{
  g_return_val_if_fail (plan != NULL, 0);
  return plan->nodes->len ? plan->nodes->len - 1 : 0;
}

void
rooms_cascade_plan_get_link (const RoomsCascadePlan *plan, guint i,
                             const char **parent_id, const char **child_id)
{
  g_return_if_fail (plan != NULL && i + 1 < plan->nodes->len);
  const PlanNode *n = &g_array_index (plan->nodes, PlanNode, i + 1);
  if (parent_id)
    *parent_id = n->parent_id;
  if (child_id)
    *child_id = n->id;
}
