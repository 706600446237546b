/* store-private.h: the insides of RoomsStore shared by librooms' .c files.
 *
 * The store keeps the unit tree, the sites and the nodes in memory (they change only
 * through the store, so the copy is always current) and everything else in SQLite.
 * The SQLite calls sit in the files of each type; a second backend would replace
 * store.c and the SQL in them, not the callers.
 */
#pragma once

#include <sqlite3.h>

#include "rooms.h"

struct _RoomsUnit
{
  char *code;
  char *name;
  char *folded;
  const char *bare; /* into folded: the folded name without its type prefix */
  const char *tier; /* into store->tiers */
  int depth;
  guint index; /* position in store->units */
  RoomsUnit *parent;
  GPtrArray *children; /* RoomsUnit*, by code, not owned */
  GPtrArray *sites;    /* RoomsSite*, by id, not owned */
  RoomsNode *node;     /* not owned, NULL when no node serves exactly this unit */
};

struct _RoomsSite
{
  gint64 id;
  char *unit_code;
  char *name;
  gboolean enabled;
  gboolean is_default;
};

struct _RoomsNode
{
  char *id;
  char *unit_code;
  guint capacity;
};

struct _RoomsStore
{
  sqlite3 *db;
  char **tiers;
  guint n_tiers;
  gint64 lobby_window;
  gint64 now;

  GPtrArray *units;    /* RoomsUnit*, owned, in load order (parents first) */
  GHashTable *by_code; /* code -> RoomsUnit* */
  RoomsUnit *root;
  guint *tier_counts; /* n_tiers entries */
  GHashTable *sites;  /* gint64* id -> RoomsSite*, owned */
  GPtrArray *nodes;   /* RoomsNode*, owned, plan order */

  gboolean outer; /* an audited change's transaction is open (audit.c) */
  gboolean attendance_batching;
  GArray *attendance_queue; /* RoomsAttendanceUpdate (attendance.c), not yet written */
};

/* Why these bounds: the automatic checkpoint runs once the log holds 1000 pages
 * (about 4 MiB at 4 KiB pages); journal_size_limit cuts the file back to 4 MiB
 * whenever it is reset, so one large transaction (an import) does not leave a large
 * file behind for good. */
#define ROOMS_STORE_WAL_PRAGMAS \
  "PRAGMA wal_autocheckpoint = 1000; PRAGMA journal_size_limit = 4194304;"

/* store.c */
gboolean rooms_store_exec (RoomsStore *store, const char *sql, GError **error);
sqlite3_stmt *rooms_store_prepare (RoomsStore *store, const char *sql, GError **error);
gboolean rooms_store_begin (RoomsStore *store, GError **error);
gboolean rooms_store_commit (RoomsStore *store, GError **error);
void rooms_store_rollback (RoomsStore *store);
void rooms_store_set_sqlite_error (RoomsStore *store, GError **error, const char *what);
gboolean rooms_store_load_tree (RoomsStore *store, GError **error);
gboolean rooms_store_load_nodes (RoomsStore *store, GError **error);
void rooms_store_sort_nodes (GPtrArray *nodes, RoomsStore *store);

/* site.c */
RoomsSite *rooms_site_lookup (RoomsStore *store, gint64 site_id);
void rooms_site_free_internal (RoomsSite *site);

/* occurrence.c: registers lt_occurrence_due(), the lifecycle rule, on @db. */
gboolean rooms_occurrence_register_sql (sqlite3 *db);

/* attendance.c: writes what is queued (warning on failure) and frees the queue. */
void rooms_store_attendance_close (RoomsStore *store);

/* meeting.c */
/* Appends the spec's selections plus those of its saved groups (transfer full
 * RoomsSelection* into @out). ROOMS_ERROR_NOT_FOUND for an unknown group. */
gboolean rooms_meeting_spec_collect_selections (RoomsStore *store,
                                                const RoomsMeetingSpec *spec,
                                                GPtrArray *out, GError **error);

/* Binding helpers: text may be NULL (binds NULL). */
static inline void
rooms_bind_text (sqlite3_stmt *st, int i, const char *text)
{
  if (text)
    sqlite3_bind_text (st, i, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (st, i);
}

static inline char *
rooms_column_dup (sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text (st, i);
  return t ? g_strdup ((const char *)t) : NULL;
}

static inline void
rooms_stmt_finalize (sqlite3_stmt *st)
{
  sqlite3_finalize (st);
}
typedef sqlite3_stmt RoomsStmt;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsStmt, rooms_stmt_finalize)
