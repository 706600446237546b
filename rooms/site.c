/* site.c: meeting halls attached to units. */
#include "store-private.h"

gint64
rooms_site_get_id (const RoomsSite *site)
{
  g_return_val_if_fail (site != NULL, 0);
  return site->id;
}

const char *
rooms_site_get_unit_code (const RoomsSite *site)
{
  g_return_val_if_fail (site != NULL, NULL);
  return site->unit_code;
}

const char *
rooms_site_get_name (const RoomsSite *site)
{
  g_return_val_if_fail (site != NULL, NULL);
  return site->name;
}

gboolean
rooms_site_get_enabled (const RoomsSite *site)
{
  g_return_val_if_fail (site != NULL, FALSE);
  return site->enabled;
}

gboolean
rooms_site_get_is_default (const RoomsSite *site)
{
  g_return_val_if_fail (site != NULL, FALSE);
  return site->is_default;
}

RoomsSite *
rooms_site_copy (const RoomsSite *site)
{
  g_return_val_if_fail (site != NULL, NULL);
  RoomsSite *c = g_new0 (RoomsSite, 1);
  *c = *site;
  c->unit_code = g_strdup (site->unit_code);
  c->name = g_strdup (site->name);
  return c;
}

void
rooms_site_free_internal (RoomsSite *site)
{
  if (site == NULL)
    return;
  g_free (site->unit_code);
  g_free (site->name);
  g_free (site);
}

void
rooms_site_free (RoomsSite *site)
{
  rooms_site_free_internal (site);
}

RoomsSite *
rooms_site_lookup (RoomsStore *store, gint64 site_id)
{
  return g_hash_table_lookup (store->sites, &site_id);
}

static gboolean
check_name (const char *name, GError **error)
{
  if (name == NULL || !g_utf8_validate (name, -1, NULL) || *name == '\0')
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "a site name must be non-empty UTF-8");
      return FALSE;
    }
  return TRUE;
}

static RoomsSite *
site_or_error (RoomsStore *store, gint64 site_id, GError **error)
{
  RoomsSite *s = rooms_site_lookup (store, site_id);
  if (s == NULL)
    g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                 "unknown site %" G_GINT64_FORMAT, site_id);
  return s;
}

RoomsSite *
rooms_store_add_site (RoomsStore *store, const char *unit_code, const char *name,
                      GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  RoomsUnit *u = rooms_store_get_unit (store, unit_code);
  if (u == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "unknown unit '%s'",
                   unit_code ? unit_code : "(null)");
      return NULL;
    }
  if (!check_name (name, error))
    return NULL;
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "INSERT INTO sites (unit_code, name, enabled, is_default) VALUES (?, ?, 1, 0)",
      error);
  if (!st)
    return NULL;
  sqlite3_bind_text (st, 1, u->code, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, name, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "add site");
      return NULL;
    }
  RoomsSite *s = g_new0 (RoomsSite, 1);
  s->id = sqlite3_last_insert_rowid (store->db);
  s->unit_code = g_strdup (u->code);
  s->name = g_strdup (name);
  s->enabled = TRUE;
  g_hash_table_insert (store->sites, &s->id, s);
  g_ptr_array_add (u->sites, s); /* ids grow, so the list stays sorted */
  return rooms_site_copy (s);
}

RoomsSite *
rooms_store_get_site (RoomsStore *store, gint64 site_id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  RoomsSite *s = site_or_error (store, site_id, error);
  return s ? rooms_site_copy (s) : NULL;
}

static gboolean
update_site (RoomsStore *store, const char *sql, gint64 site_id, const char *text,
             int value, GError **error)
{
  g_autoptr (RoomsStmt) st = rooms_store_prepare (store, sql, error);
  if (!st)
    return FALSE;
  if (text)
    sqlite3_bind_text (st, 1, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_int (st, 1, value);
  sqlite3_bind_int64 (st, 2, site_id);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "update site");
      return FALSE;
    }
  return TRUE;
}

gboolean
rooms_store_rename_site (RoomsStore *store, gint64 site_id, const char *name,
                         GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  RoomsSite *s = site_or_error (store, site_id, error);
  if (s == NULL || !check_name (name, error)
      || !update_site (store, "UPDATE sites SET name = ? WHERE id = ?", site_id, name, 0,
                       error))
    return FALSE;
  g_free (s->name);
  s->name = g_strdup (name);
  return TRUE;
}

gboolean
rooms_store_set_site_enabled (RoomsStore *store, gint64 site_id, gboolean enabled,
                              GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  RoomsSite *s = site_or_error (store, site_id, error);
  if (s == NULL
      || !update_site (store, "UPDATE sites SET enabled = ? WHERE id = ?", site_id, NULL,
                       enabled ? 1 : 0, error))
    return FALSE;
  s->enabled = enabled != FALSE;
  return TRUE;
}

GPtrArray *
rooms_store_list_sites (RoomsStore *store, const char *unit_code, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  RoomsUnit *u = rooms_store_get_unit (store, unit_code);
  if (u == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "unknown unit '%s'",
                   unit_code ? unit_code : "(null)");
      return NULL;
    }
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_site_free);
  for (guint i = 0; i < u->sites->len; i++)
    g_ptr_array_add (out, rooms_site_copy (u->sites->pdata[i]));
  return out;
}
