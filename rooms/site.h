/* site.h: sites, the meeting halls (or endpoints) attached to units. Each unit gets
 * one default site at import; more can be added, renamed and disabled. A disabled
 * site is left out of new bookings. */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

typedef struct _RoomsSite RoomsSite;

gint64 rooms_site_get_id (const RoomsSite *site);
const char *rooms_site_get_unit_code (const RoomsSite *site);
const char *rooms_site_get_name (const RoomsSite *site);
gboolean rooms_site_get_enabled (const RoomsSite *site);
/* %TRUE for the site an import created for its unit. */
gboolean rooms_site_get_is_default (const RoomsSite *site);
RoomsSite *rooms_site_copy (const RoomsSite *site);
void rooms_site_free (RoomsSite *site);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsSite, rooms_site_free)

/**
 * rooms_store_add_site:
 * @unit_code: (transfer none): the unit the hall belongs to
 * @name: (transfer none): a non-empty UTF-8 name
 *
 * Returns: (transfer full) (nullable): the new site; %NULL with ROOMS_ERROR_NOT_FOUND
 *   or ROOMS_ERROR_INVALID
 */
RoomsSite *rooms_store_add_site (RoomsStore *store, const char *unit_code,
                                 const char *name, GError **error);

/**
 * rooms_store_get_site:
 *
 * Returns: (transfer full) (nullable): a copy of the site; %NULL with
 *   ROOMS_ERROR_NOT_FOUND
 */
RoomsSite *rooms_store_get_site (RoomsStore *store, gint64 site_id, GError **error);

/* Renames a site. ROOMS_ERROR_NOT_FOUND, ROOMS_ERROR_INVALID (empty, bad UTF-8). */
gboolean rooms_store_rename_site (RoomsStore *store, gint64 site_id, const char *name,
                                  GError **error);

/* Enables or disables a site. ROOMS_ERROR_NOT_FOUND. */
gboolean rooms_store_set_site_enabled (RoomsStore *store, gint64 site_id,
                                       gboolean enabled, GError **error);

/**
 * rooms_store_list_sites:
 *
 * Returns: (transfer full) (element-type RoomsSite) (nullable): the sites of
 *   @unit_code by id, disabled ones included; %NULL with ROOMS_ERROR_NOT_FOUND
 */
GPtrArray *rooms_store_list_sites (RoomsStore *store, const char *unit_code,
                                   GError **error);

G_END_DECLS
