/* store.c: opening, migrating and loading the SQLite store behind RoomsStore. */
#include "store-private.h"

#include <string.h>

static const char *const default_tiers[]
    = { "central", "province", "district", "commune", NULL };

/* Each entry moves the schema from version i to i+1; never edit a released entry,
 * append a new one. */
static const char *const migrations[] = {
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
  "CREATE TABLE units (code TEXT PRIMARY KEY, name TEXT NOT NULL, tier TEXT NOT NULL,"
  "  parent_code TEXT, removed INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE sites (id INTEGER PRIMARY KEY, unit_code TEXT NOT NULL REFERENCES "
  "units(code),"
  "  name TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,"
  "  is_default INTEGER NOT NULL DEFAULT 0);"
  "CREATE INDEX sites_unit ON sites(unit_code);"
  "CREATE TABLE meetings (id INTEGER PRIMARY KEY, title TEXT NOT NULL, agenda TEXT,"
  "  chair_code TEXT NOT NULL REFERENCES units(code), start INTEGER NOT NULL,"
  "  end INTEGER NOT NULL, rrule TEXT, idem_key TEXT UNIQUE,"
  "  cancelled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
  "CREATE TABLE meeting_selections (meeting_id INTEGER NOT NULL REFERENCES meetings(id)"
  "  ON DELETE CASCADE, pos INTEGER NOT NULL, unit_code TEXT NOT NULL, down_to TEXT,"
  "  PRIMARY KEY (meeting_id, pos));"
  "CREATE TABLE meeting_exdates (meeting_id INTEGER NOT NULL REFERENCES meetings(id)"
  "  ON DELETE CASCADE, at INTEGER NOT NULL, PRIMARY KEY (meeting_id, at));"
  "CREATE TABLE meeting_sites (meeting_id INTEGER NOT NULL REFERENCES meetings(id)"
  "  ON DELETE CASCADE, site_id INTEGER NOT NULL REFERENCES sites(id),"
  "  PRIMARY KEY (meeting_id, site_id)) WITHOUT ROWID;"
  "CREATE INDEX meeting_sites_site ON meeting_sites(site_id);"
  "CREATE TABLE occurrences (id INTEGER PRIMARY KEY, meeting_id INTEGER NOT NULL"
  "  REFERENCES meetings(id) ON DELETE CASCADE, original_start INTEGER NOT NULL,"
  "  start INTEGER NOT NULL, end INTEGER NOT NULL, state INTEGER NOT NULL,"
  "  UNIQUE (meeting_id, original_start));"
  "CREATE INDEX occurrences_end ON occurrences(end);"
  "CREATE INDEX occurrences_state ON occurrences(state, start);"
  "CREATE TABLE attendance (id INTEGER PRIMARY KEY, occurrence_id INTEGER NOT NULL"
  "  REFERENCES occurrences(id) ON DELETE CASCADE, site_id INTEGER NOT NULL"
  "  REFERENCES sites(id), kind INTEGER NOT NULL, at INTEGER NOT NULL);"
  "CREATE INDEX attendance_occ ON attendance(occurrence_id, site_id, at);"
  "CREATE TABLE nodes (id TEXT PRIMARY KEY, unit_code TEXT NOT NULL UNIQUE"
  "  REFERENCES units(code), capacity INTEGER NOT NULL);"
  "CREATE TABLE groups (name TEXT PRIMARY KEY);"
  "CREATE TABLE group_selections (group_name TEXT NOT NULL REFERENCES groups(name)"
  "  ON DELETE CASCADE, pos INTEGER NOT NULL, unit_code TEXT NOT NULL, down_to TEXT,"
  "  PRIMARY KEY (group_name, pos));"
  "CREATE TABLE tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, role TEXT NOT "
  "NULL,"
  "  scope TEXT, expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL);",
  /* 2: durable alarms (alarm.c) */
  "CREATE TABLE alarms (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT "
  "NULL, meeting_id INTEGER NOT NULL, occurrence_id INTEGER NOT NULL, detail TEXT,"
  "  raised_at INTEGER NOT NULL, cleared_at INTEGER NOT NULL);"
  "CREATE INDEX alarms_open ON alarms(kind, subject, cleared_at);"
  "CREATE INDEX alarms_meeting ON alarms(meeting_id, raised_at);",
  /* 3: the iCalendar SEQUENCE of a meeting (RFC 5546), bumped in the transaction of
   * each change an attendee must see; signald kept it in a file of its own before */
  "ALTER TABLE meetings ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;",
  /* 4: a node token names the unit its node serves (fixed by the admin) */
  "ALTER TABLE tokens ADD COLUMN unit TEXT;",
  /* 5: attendance keeps one row per site per occurrence instead of one per join or
   * leave (attendance.c). The events are replayed the way the report read them:
   * ordered by (at, id), a span opens at the first join after a leave and closes at
   * the next leave, clipped to the occurrence; joins after the last leave leave the
   * span open (open_since). */
  "CREATE TABLE attendance_v3 (occurrence_id INTEGER NOT NULL REFERENCES"
  "  occurrences(id) ON DELETE CASCADE, site_id INTEGER NOT NULL REFERENCES sites(id),"
  "  first_join INTEGER, last_leave INTEGER, seconds_present INTEGER NOT NULL DEFAULT 0,"
  "  join_count INTEGER NOT NULL DEFAULT 0, open_since INTEGER,"
  "  PRIMARY KEY (occurrence_id, site_id)) WITHOUT ROWID;"
  "INSERT INTO attendance_v3 (occurrence_id, site_id, first_join, last_leave,"
  "  seconds_present, join_count, open_since)"
  " WITH ev AS (SELECT occurrence_id AS occ, site_id AS site, kind, at,"
  "  SUM(kind) OVER (PARTITION BY occurrence_id, site_id ORDER BY at, id"
  "  ROWS UNBOUNDED PRECEDING) - kind AS seg FROM attendance),"
  " segs AS (SELECT occ, site, MIN(CASE WHEN kind = 0 THEN at END) AS joined,"
  "  MAX(CASE WHEN kind = 1 THEN at END) AS left_at, SUM(kind = 0) AS joins"
  "  FROM ev GROUP BY occ, site, seg)"
  " SELECT s.occ, s.site, MIN(s.joined), MAX(s.left_at),"
  "  COALESCE(SUM(CASE WHEN s.joined IS NOT NULL AND s.left_at IS NOT NULL"
  "  THEN MAX(0, MIN(s.left_at, o.end) - MAX(s.joined, o.start)) END), 0),"
  "  SUM(s.joins), MAX(CASE WHEN s.left_at IS NULL THEN s.joined END)"
  " FROM segs s JOIN occurrences o ON o.id = s.occ GROUP BY s.occ, s.site;"
  "DROP TABLE attendance;"
  "ALTER TABLE attendance_v3 RENAME TO attendance;",
  /* 6: people's accounts and their sign-in sessions (account.c); names are stored
   * folded, so UNIQUE holds across case */
  "CREATE TABLE accounts (name TEXT PRIMARY KEY, full_name TEXT NOT NULL,"
  "  role TEXT NOT NULL, scope TEXT, disabled INTEGER NOT NULL DEFAULT 0,"
  "  password TEXT NOT NULL, must_change INTEGER NOT NULL DEFAULT 0,"
  "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
  "CREATE TABLE sessions (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE,"
  "  account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,"
  "  csrf TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
  "CREATE INDEX sessions_account ON sessions(account);",
  /* 7: the audit log (audit.c) */
  "CREATE TABLE audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
  "  actor_kind TEXT NOT NULL, actor_id TEXT NOT NULL, actor_label TEXT,"
  "  action TEXT NOT NULL, meeting_id INTEGER, site_id INTEGER, target TEXT,"
  "  address TEXT, detail TEXT);"
  "CREATE INDEX audit_at ON audit(at);"
  "CREATE INDEX audit_meeting ON audit(meeting_id, id);"
  "CREATE INDEX audit_actor ON audit(actor_id, id);",
  /* 8: recordings (recording.c) and whether a meeting records; a unit's default */
  "ALTER TABLE meetings ADD COLUMN record INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE units ADD COLUMN record_default INTEGER NOT NULL DEFAULT 0;"
  "CREATE TABLE recordings (id INTEGER PRIMARY KEY, occurrence_id INTEGER NOT NULL"
  "  REFERENCES occurrences(id) ON DELETE CASCADE, state TEXT NOT NULL,"
  "  started_by TEXT NOT NULL, stop_reason TEXT, started_at INTEGER NOT NULL,"
  "  ended_at INTEGER NOT NULL DEFAULT 0, expired_at INTEGER NOT NULL DEFAULT 0);"
  "CREATE INDEX recordings_occurrence ON recordings(occurrence_id, state);"
  "CREATE TABLE recording_parts (recording_id INTEGER NOT NULL REFERENCES"
  "  recordings(id) ON DELETE CASCADE, part INTEGER NOT NULL, node_id TEXT NOT NULL,"
  "  started_at INTEGER NOT NULL, ended_at INTEGER NOT NULL, reason TEXT,"
  "  PRIMARY KEY (recording_id, part));"
  "CREATE TABLE recording_files (recording_id INTEGER NOT NULL REFERENCES"
  "  recordings(id) ON DELETE CASCADE, name TEXT NOT NULL, part INTEGER NOT NULL,"
  "  track TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,"
  "  at INTEGER NOT NULL, PRIMARY KEY (recording_id, name));"
  "CREATE TABLE recording_pauses (recording_id INTEGER NOT NULL REFERENCES"
  "  recordings(id) ON DELETE CASCADE, at INTEGER NOT NULL, by TEXT NOT NULL,"
  "  resumed_at INTEGER NOT NULL, resumed_by TEXT);",
};

void
rooms_store_set_sqlite_error (RoomsStore *store, GError **error, const char *what)
{
  g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_STORE, "%s: %s", what,
               store->db ? sqlite3_errmsg (store->db) : "no database");
}

gboolean
rooms_store_exec (RoomsStore *store, const char *sql, GError **error)
{
  char *msg = NULL;
  if (sqlite3_exec (store->db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_STORE, "database: %s",
                   msg ? msg : "unknown error");
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

sqlite3_stmt *
rooms_store_prepare (RoomsStore *store, const char *sql, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (store->db, sql, -1, &st, NULL) != SQLITE_OK)
    {
      rooms_store_set_sqlite_error (store, error, "prepare");
      return NULL;
    }
  return st;
}

/* IMMEDIATE takes the write lock up front, so the checks a mutation makes (conflicts,
 * idempotency) and its writes see the same database even with a second process. */
gboolean
rooms_store_begin (RoomsStore *store, GError **error)
{
  /* inside an audited change (audit.c) a transaction nests as a savepoint */
  return rooms_store_exec (store, store->outer ? "SAVEPOINT lt_inner" : "BEGIN IMMEDIATE",
                           error);
}

gboolean
rooms_store_commit (RoomsStore *store, GError **error)
{
  if (!rooms_store_exec (store, store->outer ? "RELEASE lt_inner" : "COMMIT", error))
    {
      rooms_store_rollback (store);
      return FALSE;
    }
  return TRUE;
}

void
rooms_store_rollback (RoomsStore *store)
{
  /* a savepoint already released or rolled back is no error: callers may roll back
   * after a failed commit did */
  if (store->outer)
    sqlite3_exec (store->db, "ROLLBACK TO lt_inner; RELEASE lt_inner", NULL, NULL, NULL);
  else if (!sqlite3_get_autocommit (store->db))
    sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
}

static gboolean
migrate (RoomsStore *store, GError **error)
{
  g_autoptr (RoomsStmt) st = rooms_store_prepare (store, "PRAGMA user_version", error);
  if (!st)
    return FALSE;
  int version = sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int (st, 0) : 0;
  sqlite3_reset (st); /* a running statement would lock the tables a migration drops */
  if (version > (int)G_N_ELEMENTS (migrations))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_STORE,
                   "database schema version %d is newer than this program's (%u)",
                   version, (guint)G_N_ELEMENTS (migrations));
      return FALSE;
    }
  for (guint v = version; v < G_N_ELEMENTS (migrations); v++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %u", v + 1);
      if (!rooms_store_begin (store, error))
        return FALSE;
      if (!rooms_store_exec (store, migrations[v], error)
          || !rooms_store_exec (store, bump, error) || !rooms_store_commit (store, error))
        {
          rooms_store_rollback (store);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
pragma_is_ok (RoomsStore *store, const char *pragma, GError **error)
{
  g_autoptr (RoomsStmt) st = rooms_store_prepare (store, pragma, error);
  if (!st)
    return FALSE;
  int rc = sqlite3_step (st);
  if (rc != SQLITE_ROW)
    {
      rooms_store_set_sqlite_error (store, error, pragma);
      return FALSE;
    }
  const char *res = (const char *)sqlite3_column_text (st, 0);
  if (g_strcmp0 (res, "ok") != 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_STORE, "%s: %s", pragma,
                   res ? res : "(null)");
      return FALSE;
    }
  return TRUE;
}

gboolean
rooms_store_integrity_check (RoomsStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  return pragma_is_ok (store, "PRAGMA integrity_check", error);
}

/* The tier list is stored once; a file's tree is only meaningful with its own tiers,
 * so a different list is refused once units exist. */
static gboolean
settle_tiers (RoomsStore *store, const char *const *tiers, GError **error)
{
  g_autoptr (RoomsStmt) st
      = rooms_store_prepare (store, "SELECT value FROM meta WHERE key = 'tiers'", error);
  if (!st)
    return FALSE;
  g_autofree char *stored = NULL;
  if (sqlite3_step (st) == SQLITE_ROW)
    stored = rooms_column_dup (st, 0);

  g_autofree char *wanted = tiers ? g_strjoinv (",", (char **)tiers) : NULL;
  if (tiers)
    {
      if (tiers[0] == NULL)
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID, "the tier list is empty");
          return FALSE;
        }
      for (guint i = 0; tiers[i]; i++)
        if (*tiers[i] == '\0' || strchr (tiers[i], ',')
            || g_strv_contains (tiers + i + 1, tiers[i]))
          {
            g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID, "bad tier name '%s'",
                         tiers[i]);
            return FALSE;
          }
    }
  if (stored && wanted && strcmp (stored, wanted) != 0)
    {
      g_autoptr (RoomsStmt) cnt = rooms_store_prepare (
          store, "SELECT count(*) FROM units WHERE removed = 0", error);
      if (!cnt)
        return FALSE;
      if (sqlite3_step (cnt) == SQLITE_ROW && sqlite3_column_int (cnt, 0) > 0)
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                       "the store's tiers are %s, not %s", stored, wanted);
          return FALSE;
        }
    }
  const char *use = wanted ? wanted : stored;
  if (use == NULL)
    {
      store->tiers = g_strdupv ((char **)default_tiers);
      use = NULL;
    }
  else
    store->tiers = g_strsplit (use, ",", -1);
  store->n_tiers = g_strv_length (store->tiers);
  store->tier_counts = g_new0 (guint, store->n_tiers);

  g_autofree char *joined = g_strjoinv (",", store->tiers);
  if (g_strcmp0 (stored, joined) != 0)
    {
      g_autoptr (RoomsStmt) up = rooms_store_prepare (
          store, "INSERT OR REPLACE INTO meta (key, value) VALUES ('tiers', ?)", error);
      if (!up)
        return FALSE;
      sqlite3_bind_text (up, 1, joined, -1, SQLITE_STATIC);
      if (sqlite3_step (up) != SQLITE_DONE)
        {
          rooms_store_set_sqlite_error (store, error, "store tiers");
          return FALSE;
        }
    }
  return TRUE;
}

RoomsStore *
rooms_store_open (const char *path, const char *const *tiers, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  g_autoptr (RoomsStore) store = g_new0 (RoomsStore, 1);
  store->lobby_window = 900;
  store->now = -1;
  store->units = g_ptr_array_new ();
  store->by_code = g_hash_table_new (g_str_hash, g_str_equal);
  store->sites = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                        (GDestroyNotify)rooms_site_free_internal);
  store->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_node_free);

  if (sqlite3_open_v2 (path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
      != SQLITE_OK)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_STORE, "cannot open %s: %s", path,
                   store->db ? sqlite3_errmsg (store->db) : "out of memory");
      return NULL;
    }
  sqlite3_busy_timeout (store->db, 5000);
  if (!rooms_occurrence_register_sql (store->db))
    {
      rooms_store_set_sqlite_error (store, error, "register functions");
      return NULL;
    }
  if (!pragma_is_ok (store, "PRAGMA quick_check", error))
    return NULL;
  if (!rooms_store_exec (store,
                         "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                         "PRAGMA foreign_keys = ON;" ROOMS_STORE_WAL_PRAGMAS,
                         error))
    return NULL;
  if (!migrate (store, error) || !settle_tiers (store, tiers, error))
    return NULL;
  if (!rooms_store_load_tree (store, error) || !rooms_store_load_nodes (store, error))
    return NULL;
  return g_steal_pointer (&store);
}

static void
unit_free (RoomsUnit *unit)
{
  g_free (unit->code);
  g_free (unit->name);
  g_free (unit->folded);
  g_ptr_array_unref (unit->children);
  g_ptr_array_unref (unit->sites);
  g_free (unit);
}

static void
clear_tree (RoomsStore *store)
{
  g_hash_table_remove_all (store->by_code);
  g_hash_table_remove_all (store->sites);
  for (guint i = 0; i < store->units->len; i++)
    unit_free (store->units->pdata[i]);
  g_ptr_array_set_size (store->units, 0);
  store->root = NULL;
  if (store->tier_counts)
    memset (store->tier_counts, 0, sizeof (guint) * store->n_tiers);
}

void
rooms_store_free (RoomsStore *store)
{
  if (store == NULL)
    return;
  rooms_store_attendance_close (store);
  clear_tree (store);
  g_ptr_array_unref (store->units);
  g_hash_table_unref (store->by_code);
  g_hash_table_unref (store->sites);
  g_ptr_array_unref (store->nodes);
  g_strfreev (store->tiers);
  g_free (store->tier_counts);
  if (store->db)
    sqlite3_close (store->db);
  g_free (store);
}

/* Folded type prefixes, longest first, stripped for the "exact name" search rank. */
static const char *const name_prefixes[]
    = { "thanh pho ", "thi tran ", "trung uong", "dac khu ", "thi xa ", "phuong ",
        "huyen ",     "tinh ",     "quan ",      "xa ",      NULL };

static const char *
bare_name (const char *folded)
{
  for (guint i = 0; name_prefixes[i]; i++)
    if (g_str_has_prefix (folded, name_prefixes[i]) && folded[strlen (name_prefixes[i])])
      return folded + strlen (name_prefixes[i]);
  return folded;
}

static int
compare_units_by_code (gconstpointer a, gconstpointer b)
{
  const RoomsUnit *ua = *(RoomsUnit *const *)a, *ub = *(RoomsUnit *const *)b;
  return strcmp (ua->code, ub->code);
}

static int
compare_sites_by_id (gconstpointer a, gconstpointer b)
{
  const RoomsSite *sa = *(RoomsSite *const *)a, *sb = *(RoomsSite *const *)b;
  return sa->id < sb->id ? -1 : sa->id > sb->id;
}

/* Why reload the whole tree rather than patch it: an import is rare and reloading
 * 11,364 units takes milliseconds, while patching in place would need its own rules
 * for every kind of change. The tree in the database was validated on import. */
gboolean
rooms_store_load_tree (RoomsStore *store, GError **error)
{
  clear_tree (store);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store, "SELECT code, name, tier, parent_code FROM units WHERE removed = 0", error);
  if (!st)
    return FALSE;
  g_autoptr (GPtrArray) parents = g_ptr_array_new_with_free_func (g_free);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      RoomsUnit *u = g_new0 (RoomsUnit, 1);
      u->code = rooms_column_dup (st, 0);
      u->name = rooms_column_dup (st, 1);
      u->folded = rooms_text_fold (u->name);
      if (u->folded == NULL)
        u->folded = g_strdup ("");
      u->bare = bare_name (u->folded);
      int depth
          = rooms_store_tier_depth (store, (const char *)sqlite3_column_text (st, 2));
      u->depth = depth < 0 ? 0 : depth;
      u->tier = store->tiers[u->depth];
      u->children = g_ptr_array_new ();
      u->sites = g_ptr_array_new ();
      u->index = store->units->len;
      g_ptr_array_add (store->units, u);
      g_hash_table_insert (store->by_code, u->code, u);
      g_ptr_array_add (parents, rooms_column_dup (st, 3));
      store->tier_counts[u->depth]++;
    }
  if (rc != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "load units");
      return FALSE;
    }
  for (guint i = 0; i < store->units->len; i++)
    {
      RoomsUnit *u = store->units->pdata[i];
      const char *pcode = parents->pdata[i];
      u->parent = pcode ? g_hash_table_lookup (store->by_code, pcode) : NULL;
      if (u->parent)
        g_ptr_array_add (u->parent->children, u);
      else if (u->depth == 0)
        store->root = u;
    }
  for (guint i = 0; i < store->units->len; i++)
    {
      RoomsUnit *u = store->units->pdata[i];
      g_ptr_array_sort (u->children, compare_units_by_code);
    }

  g_autoptr (RoomsStmt) ss = rooms_store_prepare (
      store, "SELECT id, unit_code, name, enabled, is_default FROM sites ORDER BY id",
      error);
  if (!ss)
    return FALSE;
  while ((rc = sqlite3_step (ss)) == SQLITE_ROW)
    {
      RoomsSite *s = g_new0 (RoomsSite, 1);
      s->id = sqlite3_column_int64 (ss, 0);
      s->unit_code = rooms_column_dup (ss, 1);
      s->name = rooms_column_dup (ss, 2);
      s->enabled = sqlite3_column_int (ss, 3) != 0;
      s->is_default = sqlite3_column_int (ss, 4) != 0;
      g_hash_table_insert (store->sites, &s->id, s);
      RoomsUnit *u = g_hash_table_lookup (store->by_code, s->unit_code);
      if (u)
        g_ptr_array_add (u->sites, s);
    }
  if (rc != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "load sites");
      return FALSE;
    }
  for (guint i = 0; i < store->units->len; i++)
    g_ptr_array_sort (((RoomsUnit *)store->units->pdata[i])->sites, compare_sites_by_id);
  /* node pointers on units are restored by rooms_store_load_nodes() */
  for (guint i = 0; i < store->nodes->len; i++)
    {
      RoomsNode *n = store->nodes->pdata[i];
      RoomsUnit *u = g_hash_table_lookup (store->by_code, n->unit_code);
      if (u)
        u->node = n;
    }
  return TRUE;
}

const char *const *
rooms_store_get_tiers (RoomsStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return (const char *const *)store->tiers;
}

int
rooms_store_tier_depth (RoomsStore *store, const char *tier)
{
  g_return_val_if_fail (store != NULL, -1);
  if (tier == NULL)
    return -1;
  for (guint i = 0; i < store->n_tiers; i++)
    if (strcmp (store->tiers[i], tier) == 0)
      return (int)i;
  return -1;
}

void
rooms_store_set_lobby_window (RoomsStore *store, gint64 seconds)
{
  g_return_if_fail (store != NULL && seconds >= 0);
  store->lobby_window = seconds;
}

gint64
rooms_store_get_lobby_window (RoomsStore *store)
{
  g_return_val_if_fail (store != NULL, 0);
  return store->lobby_window;
}

void
rooms_store_set_now (RoomsStore *store, gint64 now)
{
  g_return_if_fail (store != NULL);
  store->now = now;
}

gint64
rooms_store_now (RoomsStore *store)
{
  g_return_val_if_fail (store != NULL, 0);
  return store->now >= 0 ? store->now : g_get_real_time () / G_USEC_PER_SEC;
}

/* Why a checkpoint of our own besides SQLite's automatic one: the automatic one only
 * copies the log into the database; the log file is reused from its start, and so stays
 * small, only when no statement of this connection still holds an old snapshot at the
 * next write. Called when nothing else runs (signald's idle timer), PASSIVE copies
 * without waiting for anyone, and TRUNCATE also empties the file. */
gboolean
rooms_store_checkpoint (RoomsStore *store, gboolean truncate, int *wal_frames,
                        GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  int log = 0, done = 0;
  /* TRUNCATE would wait (busy handler) for readers elsewhere; on signald's only
   * thread it must not, so it gives up at once and tries again another time */
  if (truncate)
    sqlite3_busy_timeout (store->db, 0);
  int rc = sqlite3_wal_checkpoint_v2 (
      store->db, NULL, truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE,
      &log, &done);
  if (truncate)
    sqlite3_busy_timeout (store->db, 5000);
  if (wal_frames)
    *wal_frames = log;
  if (rc != SQLITE_OK && rc != SQLITE_BUSY)
    {
      rooms_store_set_sqlite_error (store, error, "checkpoint");
      return FALSE;
    }
  return TRUE;
}
