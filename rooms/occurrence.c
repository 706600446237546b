/* occurrence.c: occurrences of meetings, their lifecycle and the due-transition
 * query signald's timers use. */
#include "meeting-private.h"

struct _RoomsOccurrence
{
  gint64 id, meeting_id, original_start, start, end;
  RoomsOccurrenceState state;
};

static const char *const state_names[]
    = { "scheduled", "open", "live", "ended", "cancelled" };

const char *
rooms_occurrence_state_to_string (RoomsOccurrenceState state)
{
  return (guint)state < G_N_ELEMENTS (state_names) ? state_names[state] : "unknown";
}

gint64
rooms_occurrence_get_id (const RoomsOccurrence *o)
{
  return o->id;
}
gint64
rooms_occurrence_get_meeting_id (const RoomsOccurrence *o)
{
  return o->meeting_id;
}
gint64
rooms_occurrence_get_original_start (const RoomsOccurrence *o)
{
  return o->original_start;
}
gint64
rooms_occurrence_get_start (const RoomsOccurrence *o)
{
  return o->start;
}
gint64
rooms_occurrence_get_end (const RoomsOccurrence *o)
{
  return o->end;
}
RoomsOccurrenceState
rooms_occurrence_get_state (const RoomsOccurrence *o)
{
  return o->state;
}
void
rooms_occurrence_free (RoomsOccurrence *o)
{
  g_free (o);
}

#define OCC_COLUMNS "id, meeting_id, original_start, start, end, state"

static RoomsOccurrence *
occ_from_row (sqlite3_stmt *st)
{
  RoomsOccurrence *o = g_new0 (RoomsOccurrence, 1);
  o->id = sqlite3_column_int64 (st, 0);
  o->meeting_id = sqlite3_column_int64 (st, 1);
  o->original_start = sqlite3_column_int64 (st, 2);
  o->start = sqlite3_column_int64 (st, 3);
  o->end = sqlite3_column_int64 (st, 4);
  o->state = sqlite3_column_int (st, 5);
  return o;
}

RoomsOccurrence *
rooms_store_get_occurrence (RoomsStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store, "SELECT " OCC_COLUMNS " FROM occurrences WHERE id = ?", error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, id);
  if (sqlite3_step (st) != SQLITE_ROW)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                   "unknown occurrence %" G_GINT64_FORMAT, id);
      return NULL;
    }
  return occ_from_row (st);
}

GPtrArray *
rooms_store_list_occurrences (RoomsStore *store, gint64 meeting_id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (store, meeting_id, error);
  if (m == NULL)
    return NULL;
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT " OCC_COLUMNS " FROM occurrences WHERE meeting_id = ? ORDER BY start, id",
      error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, meeting_id);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_occurrence_free);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (out, occ_from_row (st));
  return out;
}

gboolean
rooms_store_move_occurrence (RoomsStore *store, gint64 id, gint64 start, gint64 end,
                             RoomsConflictList **conflicts, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (end <= start)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "an occurrence must end after it starts");
      return FALSE;
    }
  if (!rooms_store_begin (store, error))
    return FALSE;
  g_autoptr (RoomsOccurrence) o = rooms_store_get_occurrence (store, id, error);
  g_autoptr (RoomsMeeting) m = NULL;
  g_autoptr (GArray) spans = g_array_new (FALSE, FALSE, sizeof (RoomsSpan));
  g_autoptr (RoomsConflictList) list = rooms_conflict_list_new ();
  g_autoptr (RoomsStmt) up = NULL;
  RoomsSpan span = { start, end };
  if (o == NULL)
    goto fail;
  if (o->state != ROOMS_OCCURRENCE_SCHEDULED)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "occurrence %" G_GINT64_FORMAT " is %s; only a scheduled one can move",
                   id, rooms_occurrence_state_to_string (o->state));
      goto fail;
    }
  m = rooms_store_get_meeting (store, o->meeting_id, error);
  if (m == NULL)
    goto fail;
  g_array_append_val (spans, span);
  if (!rooms_meeting_find_conflicts (store, spans, m->site_ids, m->id, list, error))
    {
      if (conflicts && list->items->len > 0)
        *conflicts = g_steal_pointer (&list);
      goto fail;
    }
  up = rooms_store_prepare (
      store, "UPDATE occurrences SET start = ?, end = ? WHERE id = ?", error);
  if (!up)
    goto fail;
  sqlite3_bind_int64 (up, 1, start);
  sqlite3_bind_int64 (up, 2, end);
  sqlite3_bind_int64 (up, 3, id);
  if (sqlite3_step (up) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "move occurrence");
      goto fail;
    }
  return rooms_store_commit (store, error);
fail:
  rooms_store_rollback (store);
  return FALSE;
}

/* One compare-and-set UPDATE per move: the state read and the write cannot be split by
 * another writer, and a refused move writes nothing. */
static gboolean
transition (RoomsStore *store, gint64 id, guint from_mask, RoomsOccurrenceState to,
            GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_autoptr (RoomsOccurrence) o = rooms_store_get_occurrence (store, id, error);
  if (o == NULL)
    return FALSE;
  if (!(from_mask & (1u << o->state)))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "occurrence %" G_GINT64_FORMAT " cannot go from %s to %s", id,
                   rooms_occurrence_state_to_string (o->state),
                   rooms_occurrence_state_to_string (to));
      return FALSE;
    }
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store, "UPDATE occurrences SET state = ? WHERE id = ? AND state = ?", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int (st, 1, to);
  sqlite3_bind_int64 (st, 2, id);
  sqlite3_bind_int (st, 3, o->state);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "occurrence state");
      return FALSE;
    }
  if (sqlite3_changes (store->db) != 1)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "occurrence %" G_GINT64_FORMAT " changed state meanwhile", id);
      return FALSE;
    }
  char mid[24];
  g_snprintf (mid, sizeof mid, "%" G_GINT64_FORMAT, o->meeting_id);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "MEETING_ID", mid, "MESSAGE",
                    "occurrence %" G_GINT64_FORMAT ": %s -> %s", id,
                    rooms_occurrence_state_to_string (o->state),
                    rooms_occurrence_state_to_string (to));
  return TRUE;
}

#define BIT(s) (1u << (s))

gboolean
rooms_store_open_occurrence (RoomsStore *store, gint64 id, GError **error)
{
  return transition (store, id, BIT (ROOMS_OCCURRENCE_SCHEDULED), ROOMS_OCCURRENCE_OPEN,
                     error);
}

gboolean
rooms_store_start_occurrence (RoomsStore *store, gint64 id, GError **error)
{
  return transition (store, id, BIT (ROOMS_OCCURRENCE_OPEN), ROOMS_OCCURRENCE_LIVE,
                     error);
}

gboolean
rooms_store_end_occurrence (RoomsStore *store, gint64 id, GError **error)
{
  return transition (store, id, BIT (ROOMS_OCCURRENCE_LIVE), ROOMS_OCCURRENCE_ENDED,
                     error);
}

gboolean
rooms_store_cancel_occurrence (RoomsStore *store, gint64 id, GError **error)
{
  return transition (store, id,
                     BIT (ROOMS_OCCURRENCE_SCHEDULED) | BIT (ROOMS_OCCURRENCE_OPEN),
                     ROOMS_OCCURRENCE_CANCELLED, error);
}

/* The one rule of the lifecycle: a scheduled occurrence opens (its lobby) at its start
 * minus the lobby window, an open one goes live at its start, a live one ends at its
 * end; ended and cancelled ones never move again. signald's timers (through the two
 * queries below, which call it as the SQL function lt_occurrence_due) and the join
 * check (rooms_occurrence_state_at) both ask this function, so "open" cannot mean two
 * different things. Returns: when the step out of @state is due; G_MAXINT64 for none. */
static gint64
due_at (RoomsOccurrenceState state, gint64 start, gint64 end, gint64 lobby_window)
{
  switch (state)
    {
    case ROOMS_OCCURRENCE_SCHEDULED:
      return start - lobby_window;
    case ROOMS_OCCURRENCE_OPEN:
      return start;
    case ROOMS_OCCURRENCE_LIVE:
      return end;
    default:
      return G_MAXINT64;
    }
}

RoomsOccurrenceState
rooms_occurrence_state_at (const RoomsOccurrence *o, gint64 lobby_window, gint64 now)
{
  g_return_val_if_fail (o != NULL, ROOMS_OCCURRENCE_CANCELLED);
  RoomsOccurrenceState s = o->state;
  while (s < ROOMS_OCCURRENCE_ENDED && due_at (s, o->start, o->end, lobby_window) <= now)
    s++;
  return s;
}

/* lt_occurrence_due(state, start, end, lobby_window): due_at() for SQL; NULL when the
 * state never steps. */
static void
sql_occurrence_due (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  gint64 due = due_at ((RoomsOccurrenceState)sqlite3_value_int (argv[0]),
                       sqlite3_value_int64 (argv[1]), sqlite3_value_int64 (argv[2]),
                       sqlite3_value_int64 (argv[3]));
  if (due == G_MAXINT64)
    sqlite3_result_null (ctx);
  else
    sqlite3_result_int64 (ctx, due);
}

gboolean
rooms_occurrence_register_sql (sqlite3 *db)
{
  return sqlite3_create_function_v2 (db, "lt_occurrence_due", 4,
                                     SQLITE_UTF8 | SQLITE_DETERMINISTIC
                                         | SQLITE_INNOCUOUS,
                                     NULL, sql_occurrence_due, NULL, NULL, NULL)
         == SQLITE_OK;
}

#define DUE_SQL "lt_occurrence_due(state, start, end, ?1)"

GArray *
rooms_store_due_transitions (RoomsStore *store, gint64 now, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT id, meeting_id, state, " DUE_SQL " AS due FROM occurrences"
      " WHERE state IN (0, 1, 2) AND " DUE_SQL " <= ?2 ORDER BY due, id",
      error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, store->lobby_window);
  sqlite3_bind_int64 (st, 2, now);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (RoomsDueTransition));
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      RoomsDueTransition d = {
        .occurrence_id = sqlite3_column_int64 (st, 0),
        .meeting_id = sqlite3_column_int64 (st, 1),
        .to = sqlite3_column_int (st, 2) + 1,
        .due_at = sqlite3_column_int64 (st, 3),
      };
      g_array_append_val (out, d);
    }
  return out;
}

gint64
rooms_store_next_due_time (RoomsStore *store, gint64 now)
{
  g_return_val_if_fail (store != NULL, -1);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT min(due) FROM (SELECT " DUE_SQL " AS due FROM occurrences"
      " WHERE state IN (0, 1, 2)) WHERE due > ?2",
      NULL);
  if (!st)
    return -1;
  sqlite3_bind_int64 (st, 1, store->lobby_window);
  sqlite3_bind_int64 (st, 2, now);
  if (sqlite3_step (st) != SQLITE_ROW || sqlite3_column_type (st, 0) == SQLITE_NULL)
    return -1;
  return sqlite3_column_int64 (st, 0);
}
