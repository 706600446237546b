/* sig-policy.c: who may read, edit and control what (see sig-policy.h). */
#include "sig-policy.h"

/* A secretary sees a meeting when it touches their subtree: the chair is inside, a
 * selection's top unit is inside, or a selection's subtree reaches down into the scope
 * (a national meeting "VN down to commune" concerns Tuyên Quang's secretary too). */
static gboolean
secretary_may_read (RoomsStore *store, const char *scope, const RoomsMeeting *m)
{
  if (rooms_scope_contains (store, scope, rooms_meeting_get_chair_code (m)))
    return TRUE;
  RoomsUnit *su = rooms_store_get_unit (store, scope);
  for (guint i = 0; i < rooms_meeting_get_n_selections (m); i++)
    {
      const RoomsSelection *sel = rooms_meeting_get_selection (m, i);
      if (rooms_scope_contains (store, scope, sel->unit_code))
        return TRUE;
      RoomsUnit *top = rooms_store_get_unit (store, sel->unit_code);
      if (su != NULL && top != NULL && sel->down_to != NULL
          && rooms_unit_is_within (su, top)
          && rooms_unit_get_depth (su) <= rooms_store_tier_depth (store, sel->down_to))
        return TRUE;
    }
  return FALSE;
}

gboolean
sig_policy_site_invited (const SigPrincipal *p, const RoomsMeeting *m)
{
  guint64 site;
  if (p == NULL || p->role != SIG_ROLE_SITE || p->scope == NULL
      || !g_ascii_string_to_unsigned (p->scope, 10, 1, G_MAXINT64, &site, NULL))
    return FALSE;
  GArray *ids = rooms_meeting_get_site_ids (m);
  for (guint i = 0; ids && i < ids->len; i++)
    if (g_array_index (ids, gint64, i) == (gint64)site)
      return TRUE;
  return FALSE;
}

gboolean
sig_policy_may_read_meeting (RoomsStore *store, const SigPrincipal *p,
                             const RoomsMeeting *m)
{
  g_return_val_if_fail (store != NULL && m != NULL, FALSE);
  if (p == NULL)
    return FALSE;
  switch (p->role)
    {
    case SIG_ROLE_ADMIN:
    case SIG_ROLE_IT:
      return TRUE;
    case SIG_ROLE_SECRETARY:
      return secretary_may_read (store, p->scope, m);
    case SIG_ROLE_SITE:
      return sig_policy_site_invited (p, m);
    default:
      return FALSE;
    }
}

gboolean
sig_policy_may_edit_meeting (RoomsStore *store, const SigPrincipal *p,
                             const RoomsMeeting *m)
{
  g_return_val_if_fail (store != NULL && m != NULL, FALSE);
  if (p == NULL)
    return FALSE;
  if (p->role == SIG_ROLE_ADMIN)
    return TRUE;
  if (p->role != SIG_ROLE_SECRETARY)
    return FALSE;
  if (!rooms_scope_contains (store, p->scope, rooms_meeting_get_chair_code (m)))
    return FALSE;
  for (guint i = 0; i < rooms_meeting_get_n_selections (m); i++)
    if (!rooms_scope_contains (store, p->scope,
                               rooms_meeting_get_selection (m, i)->unit_code))
      return FALSE;
  return TRUE;
}

gboolean
sig_policy_may_control_meeting (RoomsStore *store, const SigPrincipal *p,
                                const RoomsMeeting *m)
{
  g_return_val_if_fail (store != NULL && m != NULL, FALSE);
  if (p == NULL)
    return FALSE;
  if (p->role == SIG_ROLE_ADMIN)
    return TRUE;
  return p->role == SIG_ROLE_SECRETARY
         && rooms_scope_contains (store, p->scope, rooms_meeting_get_chair_code (m));
}

gboolean
sig_policy_may_read_unit_calendar (RoomsStore *store, const SigPrincipal *p,
                                   const char *unit_code)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (p == NULL)
    return FALSE;
  switch (p->role)
    {
    case SIG_ROLE_ADMIN:
    case SIG_ROLE_IT:
    case SIG_ROLE_SITE:
      return TRUE;
    case SIG_ROLE_SECRETARY:
      return rooms_scope_contains (store, p->scope, unit_code);
    default:
      return FALSE;
    }
}
