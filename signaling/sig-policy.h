/* sig-policy.h: who may do what, decided in one place (DESIGN.md, "signald inside,
 * and who may do what"). Pure decisions over a principal, a meeting or a unit and the
 * store's unit tree: no HTTP, no sockets, no side effects. The HTTP dispatcher (from
 * each route's access rule), the route handlers and the WebSockets all ask here, so
 * a rule changes in one function.
 *
 * The rules:
 * - read a meeting: admin and it, all; a secretary, a meeting touching their subtree
 *   (chair or a selection inside it, or a selection whose subtree reaches down into
 *   it); a site, a meeting that invites it; a node, none.
 * - edit a meeting (change, cancel): admin; a secretary whose subtree holds the chair
 *   and every selection (the booking rule of rooms/scope.h applied to what is stored).
 * - control a running meeting (floor, mute, levels): admin; the chair's secretary (a
 *   secretary whose subtree holds the chair), even when some invited units lie outside
 *   their scope (central invites provinces it does not administer).
 * - read a unit's calendar: admin, it and sites (a site's feed holds only the
 *   meetings that invite it); a secretary, units inside their subtree.
 */
#pragma once

#include <glib.h>

#include "rooms.h"
#include "sig-auth.h"

G_BEGIN_DECLS

/* Returns: %TRUE when @p may read meeting @m (rules above). */
gboolean sig_policy_may_read_meeting (RoomsStore *store, const SigPrincipal *p,
                                      const RoomsMeeting *m);

/* Returns: %TRUE when @p may change or cancel meeting @m. */
gboolean sig_policy_may_edit_meeting (RoomsStore *store, const SigPrincipal *p,
                                      const RoomsMeeting *m);

/* Returns: %TRUE when @p may control the occurrences of @m (floor, mute, levels). */
gboolean sig_policy_may_control_meeting (RoomsStore *store, const SigPrincipal *p,
                                         const RoomsMeeting *m);

/* Returns: %TRUE when @p may read the calendar of unit @unit_code (which exists). */
gboolean sig_policy_may_read_unit_calendar (RoomsStore *store, const SigPrincipal *p,
                                            const char *unit_code);

/* Returns: %TRUE when @p is a site token whose site @m invites. */
gboolean sig_policy_site_invited (const SigPrincipal *p, const RoomsMeeting *m);

G_END_DECLS
