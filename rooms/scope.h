/* scope.h: who may book what.
 *
 * The rule: a scope is the subtree of one unit (the scope unit and everything below
 * it). A scope may book a meeting when its chair unit and every participant selection's
 * top unit lie inside the scope (a selection's subtree then lies inside too). A
 * secretary of Tuyên Quang (scope 08) may thus book "08 down to commune" chaired by 08
 * or by 076, but not a meeting chaired by VN or one inviting province 10.
 */
#pragma once

#include <glib.h>

#include "meeting.h"
#include "store.h"

G_BEGIN_DECLS

/* Returns: %TRUE when @unit_code lies in the subtree of @scope_code (both must exist). */
gboolean rooms_scope_contains (RoomsStore *store, const char *scope_code,
                               const char *unit_code);

/**
 * rooms_scope_may_book:
 * @scope_code: (transfer none): the scope's unit
 * @error: ROOMS_ERROR_PERMISSION naming the first unit outside the scope;
 *   ROOMS_ERROR_NOT_FOUND for an unknown scope, chair or selection unit
 *
 * Returns: %TRUE when the scope may book @spec under the rule above
 */
gboolean rooms_scope_may_book (RoomsStore *store, const char *scope_code,
                               const RoomsMeetingSpec *spec, GError **error);

G_END_DECLS
