/* scope.c: the booking permission rule (see scope.h). */
#include "store-private.h"

gboolean
rooms_scope_contains (RoomsStore *store, const char *scope_code, const char *unit_code)
{
  g_return_val_if_fail (store != NULL, FALSE);
  RoomsUnit *scope = rooms_store_get_unit (store, scope_code);
  RoomsUnit *u = rooms_store_get_unit (store, unit_code);
  return scope && u && rooms_unit_is_within (u, scope);
}

static gboolean
check_inside (RoomsStore *store, RoomsUnit *scope, const char *code, const char *role,
              GError **error)
{
  RoomsUnit *u = rooms_store_get_unit (store, code);
  if (u == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "unknown unit '%s'",
                   code ? code : "(null)");
      return FALSE;
    }
  if (!rooms_unit_is_within (u, scope))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_PERMISSION,
                   "%s %s (%s) lies outside the scope %s (%s)", role, u->code, u->name,
                   scope->code, scope->name);
      return FALSE;
    }
  return TRUE;
}

gboolean
rooms_scope_may_book (RoomsStore *store, const char *scope_code,
                      const RoomsMeetingSpec *spec, GError **error)
{
  g_return_val_if_fail (store != NULL && spec != NULL, FALSE);
  RoomsUnit *scope = rooms_store_get_unit (store, scope_code);
  if (scope == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "unknown scope unit '%s'",
                   scope_code ? scope_code : "(null)");
      return FALSE;
    }
  if (!check_inside (store, scope, rooms_meeting_spec_get_chair_code (spec), "chair",
                     error))
    return FALSE;
  g_autoptr (GPtrArray) sels
      = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_selection_free);
  if (!rooms_meeting_spec_collect_selections (store, spec, sels, error))
    return FALSE;
  for (guint i = 0; i < sels->len; i++)
    if (!check_inside (store, scope, ((RoomsSelection *)sels->pdata[i])->unit_code,
                       "participant", error))
      return FALSE;
  return TRUE;
}
