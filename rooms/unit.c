/* unit.c: the in-memory unit tree: lookups, subtree resolution and name search. */
#include "store-private.h"

#include <string.h>

const char *
rooms_unit_get_code (const RoomsUnit *unit)
{
  g_return_val_if_fail (unit != NULL, NULL);
  return unit->code;
}

const char *
rooms_unit_get_name (const RoomsUnit *unit)
{
  g_return_val_if_fail (unit != NULL, NULL);
  return unit->name;
}

const char *
rooms_unit_get_folded_name (const RoomsUnit *unit)
{
  g_return_val_if_fail (unit != NULL, NULL);
  return unit->folded;
}

const char *
rooms_unit_get_tier (const RoomsUnit *unit)
{
  g_return_val_if_fail (unit != NULL, NULL);
  return unit->tier;
}

int
rooms_unit_get_depth (const RoomsUnit *unit)
{
  g_return_val_if_fail (unit != NULL, -1);
  return unit->depth;
}

const char *
rooms_unit_get_parent_code (const RoomsUnit *unit)
{
  g_return_val_if_fail (unit != NULL, NULL);
  return unit->parent ? unit->parent->code : NULL;
}

RoomsUnit *
rooms_unit_get_parent (const RoomsUnit *unit)
{
  g_return_val_if_fail (unit != NULL, NULL);
  return unit->parent;
}

guint
rooms_unit_get_n_children (const RoomsUnit *unit)
{
  g_return_val_if_fail (unit != NULL, 0);
  return unit->children->len;
}

RoomsUnit *
rooms_store_get_unit (RoomsStore *store, const char *code)
{
  g_return_val_if_fail (store != NULL, NULL);
  if (code == NULL)
    return NULL;
  return g_hash_table_lookup (store->by_code, code);
}

RoomsUnit *
rooms_store_get_root (RoomsStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store->root;
}

guint
rooms_store_count_units (RoomsStore *store)
{
  g_return_val_if_fail (store != NULL, 0);
  return store->units->len;
}

guint
rooms_store_count_tier (RoomsStore *store, const char *tier)
{
  g_return_val_if_fail (store != NULL, 0);
  int d = rooms_store_tier_depth (store, tier);
  return d < 0 ? 0 : store->tier_counts[d];
}

static RoomsUnit *
unit_or_error (RoomsStore *store, const char *code, GError **error)
{
  RoomsUnit *u = rooms_store_get_unit (store, code);
  if (u == NULL)
    g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "unknown unit '%s'",
                 code ? code : "(null)");
  return u;
}

GPtrArray *
rooms_store_get_children (RoomsStore *store, const char *code, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  RoomsUnit *u = unit_or_error (store, code, error);
  if (u == NULL)
    return NULL;
  GPtrArray *out = g_ptr_array_sized_new (u->children->len);
  for (guint i = 0; i < u->children->len; i++)
    g_ptr_array_add (out, u->children->pdata[i]);
  return out;
}

GPtrArray *
rooms_store_get_ancestors (RoomsStore *store, const char *code, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  RoomsUnit *u = unit_or_error (store, code, error);
  if (u == NULL)
    return NULL;
  GPtrArray *out = g_ptr_array_new ();
  for (RoomsUnit *p = u->parent; p; p = p->parent)
    g_ptr_array_insert (out, 0, p);
  return out;
}

static void
collect_subtree (RoomsUnit *u, int max_depth, GPtrArray *out)
{
  g_ptr_array_add (out, u);
  if (u->depth >= max_depth)
    return;
  for (guint i = 0; i < u->children->len; i++)
    collect_subtree (u->children->pdata[i], max_depth, out);
}

GPtrArray *
rooms_store_resolve_subtree (RoomsStore *store, const char *code, const char *down_to,
                             GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  RoomsUnit *u = unit_or_error (store, code, error);
  if (u == NULL)
    return NULL;
  int max_depth = u->depth;
  if (down_to)
    {
      max_depth = rooms_store_tier_depth (store, down_to);
      if (max_depth < 0)
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID, "unknown tier '%s'",
                       down_to);
          return NULL;
        }
    }
  GPtrArray *out = g_ptr_array_new ();
  collect_subtree (u, max_depth, out);
  return out;
}

gboolean
rooms_unit_is_within (const RoomsUnit *unit, const RoomsUnit *ancestor)
{
  g_return_val_if_fail (unit != NULL && ancestor != NULL, FALSE);
  for (const RoomsUnit *p = unit; p; p = p->parent)
    if (p == ancestor)
      return TRUE;
  return FALSE;
}

typedef struct
{
  RoomsUnit *unit;
  int rank;
} Hit;

/* Lower is better: 0 exact (bare name, full name or code), 1 name prefix, 2 word
 * prefix, 3 substring; -1 no match. */
static int
rank_unit (const RoomsUnit *u, const char *q, gsize qlen)
{
  if (strcmp (u->bare, q) == 0 || strcmp (u->folded, q) == 0 || strcmp (u->code, q) == 0)
    return 0;
  const char *hit = strstr (u->folded, q);
  if (hit == NULL)
    return -1;
  if (g_str_has_prefix (u->bare, q) || hit == u->folded)
    return 1;
  for (; hit; hit = strstr (hit + 1, q))
    if (hit[-1] == ' ')
      return 2;
  return 3;
}

static int
compare_hits (gconstpointer a, gconstpointer b)
{
  const Hit *ha = a, *hb = b;
  if (ha->rank != hb->rank)
    return ha->rank - hb->rank;
  if (ha->unit->depth != hb->unit->depth)
    return ha->unit->depth - hb->unit->depth;
  gsize la = strlen (ha->unit->folded), lb = strlen (hb->unit->folded);
  if (la != lb)
    return la < lb ? -1 : 1;
  return strcmp (ha->unit->code, hb->unit->code);
}

/* Why a linear scan: 11,364 folded names are about 250 kB; one strstr pass over them
 * costs well under a millisecond, which an n-gram index would not beat by enough to
 * pay for its memory and upkeep across imports. */
GPtrArray *
rooms_store_search_units (RoomsStore *store, const char *query, guint limit)
{
  g_return_val_if_fail (store != NULL, NULL);
  GPtrArray *out = g_ptr_array_new ();
  if (query == NULL)
    return out;
  g_autofree char *q = rooms_text_fold (query);
  if (q == NULL || *q == '\0')
    return out;
  if (limit == 0)
    limit = 20;
  gsize qlen = strlen (q);
  g_autoptr (GArray) hits = g_array_new (FALSE, FALSE, sizeof (Hit));
  for (guint i = 0; i < store->units->len; i++)
    {
      RoomsUnit *u = store->units->pdata[i];
      int r = rank_unit (u, q, qlen);
      if (r >= 0)
        {
          Hit h = { u, r };
          g_array_append_val (hits, h);
        }
    }
  g_array_sort (hits, compare_hits);
  for (guint i = 0; i < hits->len && i < limit; i++)
    g_ptr_array_add (out, g_array_index (hits, Hit, i).unit);
  return out;
}
