/* store.h: RoomsStore, the durable home of everything librooms knows.
 *
 * A store holds one unit tree (its tier list is configuration), the sites, the
 * meetings with their occurrences, attendance, nodes, saved groups and tokens. The
 * default backend is SQLite (WAL, synchronous=FULL, foreign keys, busy timeout,
 * quick_check at open, versioned migrations); callers see only this type, so another
 * backend can come later. Every mutating call is one transaction: it succeeds
 * completely or changes nothing. A store belongs to one thread (one GMainContext).
 *
 * Times are UTC unix seconds (gint64) everywhere in librooms.
 */
#pragma once

#include <glib.h>

#include "rooms-error.h"

G_BEGIN_DECLS

typedef struct _RoomsStore RoomsStore;

/**
 * rooms_store_open:
 * @path: (transfer none): database file, or ":memory:"
 * @tiers: (transfer none) (nullable): the tier list, top first, e.g.
 *   {"central","province","commune",NULL}; %NULL means the tiers already stored in the
 *   file, or the default four (central, province, district, commune) for a new file
 * @error: ROOMS_ERROR_STORE when the file cannot be opened, fails quick_check or has a
 *   newer schema; ROOMS_ERROR_INVALID when @tiers differs from the stored tier list of
 *   a file that already holds units
 *
 * Opens (creating and migrating as needed) a store and loads the unit tree and sites
 * into memory.
 *
 * Returns: (transfer full) (nullable): the store, free with rooms_store_free()
 */
RoomsStore *rooms_store_open (const char *path, const char *const *tiers, GError **error);

/**
 * rooms_store_free:
 * @store: (transfer full) (nullable): the store
 *
 * Closes the database. Every (transfer none) pointer obtained from @store dies here.
 */
void rooms_store_free (RoomsStore *store);

/**
 * rooms_store_get_tiers:
 *
 * Returns: (transfer none): the tier names, top first, %NULL-terminated
 */
const char *const *rooms_store_get_tiers (RoomsStore *store);

/**
 * rooms_store_tier_depth:
 * @tier: (transfer none): a tier name
 *
 * Returns: the depth of @tier (0 for the top tier), or -1 when it is not a tier
 */
int rooms_store_tier_depth (RoomsStore *store, const char *tier);

/**
 * rooms_store_set_lobby_window:
 * @seconds: how long before its start an occurrence opens (default 900)
 */
void rooms_store_set_lobby_window (RoomsStore *store, gint64 seconds);
gint64 rooms_store_get_lobby_window (RoomsStore *store);

/**
 * rooms_store_set_now:
 * @now: the time librooms takes as "now", or -1 (the default) for the real clock
 *
 * Only "future meeting" checks read the clock (re-import refusals); tests pin it.
 */
void rooms_store_set_now (RoomsStore *store, gint64 now);
gint64 rooms_store_now (RoomsStore *store);

/**
 * rooms_store_integrity_check:
 * @error: ROOMS_ERROR_STORE naming the first problem
 *
 * Runs the full PRAGMA integrity_check (slow on big files; quick_check runs at open).
 *
 * Returns: %TRUE when the database reports "ok"
 */
gboolean rooms_store_integrity_check (RoomsStore *store, GError **error);

/**
 * rooms_store_checkpoint:
 * @truncate: also empty the write-ahead log file (waits for nothing: %TRUE even when a
 *   reader elsewhere kept it from finishing)
 * @wal_frames: (out) (optional): frames in the log before the checkpoint, or -1
 *
 * Copies the write-ahead log into the database file. Call it when no statement of
 * the store is running (an idle moment of the main loop). ROOMS_ERROR_STORE.
 */
gboolean rooms_store_checkpoint (RoomsStore *store, gboolean truncate, int *wal_frames,
                                 GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsStore, rooms_store_free)

G_END_DECLS
