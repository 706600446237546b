/* meeting.c: booking (validation, resolution, recurrence, conflicts), meetings and
 * their updates, saved groups. Occurrence lifecycle lives in occurrence.c. */
#include "meeting-private.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>

RoomsSelection *
rooms_selection_new (const char *unit_code, const char *down_to)
{
  g_return_val_if_fail (unit_code != NULL, NULL);
  RoomsSelection *s = g_new0 (RoomsSelection, 1);
  s->unit_code = g_strdup (unit_code);
  s->down_to = g_strdup (down_to);
  return s;
}

void
rooms_selection_free (RoomsSelection *s)
{
  if (s == NULL)
    return;
  g_free (s->unit_code);
  g_free (s->down_to);
  g_free (s);
}

RoomsMeetingSpec *
rooms_meeting_spec_new (const char *title, const char *chair_code, gint64 start,
                        gint64 end)
{
  RoomsMeetingSpec *s = g_new0 (RoomsMeetingSpec, 1);
  s->title = g_strdup (title);
  s->chair = g_strdup (chair_code);
  s->start = start;
  s->end = end;
  s->selections = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_selection_free);
  s->groups = g_ptr_array_new_with_free_func (g_free);
  s->exdates = g_array_new (FALSE, FALSE, sizeof (gint64));
  s->record = -1;
  return s;
}

void
rooms_meeting_spec_set_record (RoomsMeetingSpec *s, gboolean record)
{
  s->record = record ? 1 : 0;
}

void
rooms_meeting_spec_free (RoomsMeetingSpec *s)
{
  if (s == NULL)
    return;
  g_free (s->title);
  g_free (s->agenda);
  g_free (s->chair);
  g_free (s->rrule);
  g_free (s->idem_key);
  g_ptr_array_unref (s->selections);
  g_ptr_array_unref (s->groups);
  g_array_unref (s->exdates);
  g_free (s);
}

void
rooms_meeting_spec_set_agenda (RoomsMeetingSpec *s, const char *agenda)
{
  g_return_if_fail (s != NULL);
  g_free (s->agenda);
  s->agenda = g_strdup (agenda);
}

void
rooms_meeting_spec_add_selection (RoomsMeetingSpec *s, const char *unit_code,
                                  const char *down_to)
{
  g_return_if_fail (s != NULL && unit_code != NULL);
  g_ptr_array_add (s->selections, rooms_selection_new (unit_code, down_to));
}

void
rooms_meeting_spec_add_group (RoomsMeetingSpec *s, const char *group_name)
{
  g_return_if_fail (s != NULL && group_name != NULL);
  g_ptr_array_add (s->groups, g_strdup (group_name));
}

void
rooms_meeting_spec_set_rrule (RoomsMeetingSpec *s, const char *rrule)
{
  g_return_if_fail (s != NULL);
  g_free (s->rrule);
  s->rrule = rrule && *rrule ? g_strdup (rrule) : NULL;
}

void
rooms_meeting_spec_add_exdate (RoomsMeetingSpec *s, gint64 start)
{
  g_return_if_fail (s != NULL);
  g_array_append_val (s->exdates, start);
}

void
rooms_meeting_spec_set_idempotency_key (RoomsMeetingSpec *s, const char *key)
{
  g_return_if_fail (s != NULL);
  g_free (s->idem_key);
  s->idem_key = key && *key ? g_strdup (key) : NULL;
}

const char *
rooms_meeting_spec_get_chair_code (const RoomsMeetingSpec *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->chair;
}

guint
rooms_meeting_spec_get_n_selections (const RoomsMeetingSpec *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->selections->len;
}

const RoomsSelection *
rooms_meeting_spec_get_selection (const RoomsMeetingSpec *s, guint i)
{
  g_return_val_if_fail (s != NULL && i < s->selections->len, NULL);
  return s->selections->pdata[i];
}

/* ---- conflict lists ---- */

RoomsConflictList *
rooms_conflict_list_new (void)
{
  RoomsConflictList *l = g_new0 (RoomsConflictList, 1);
  l->items = g_array_new (FALSE, FALSE, sizeof (RoomsConflict));
  l->strings = g_string_chunk_new (256);
  return l;
}

guint
rooms_conflict_list_get_length (const RoomsConflictList *l)
{
  g_return_val_if_fail (l != NULL, 0);
  return l->items->len;
}

const RoomsConflict *
rooms_conflict_list_get (const RoomsConflictList *l, guint i)
{
  g_return_val_if_fail (l != NULL && i < l->items->len, NULL);
  return &g_array_index (l->items, RoomsConflict, i);
}

void
rooms_conflict_list_free (RoomsConflictList *l)
{
  if (l == NULL)
    return;
  g_array_unref (l->items);
  g_string_chunk_free (l->strings);
  g_free (l);
}

/* ---- bookings ---- */

gint64
rooms_booking_get_meeting_id (const RoomsBooking *b)
{
  return b->meeting_id;
}
GArray *
rooms_booking_get_site_ids (const RoomsBooking *b)
{
  return b->site_ids;
}
GArray *
rooms_booking_get_occurrence_ids (const RoomsBooking *b)
{
  return b->occurrence_ids;
}
RoomsCascadePlan *
rooms_booking_get_plan (const RoomsBooking *b)
{
  return b->plan;
}
gboolean
rooms_booking_get_replayed (const RoomsBooking *b)
{
  return b->replayed;
}

void
rooms_booking_free (RoomsBooking *b)
{
  if (b == NULL)
    return;
  g_array_unref (b->site_ids);
  g_array_unref (b->occurrence_ids);
  rooms_cascade_plan_free (b->plan);
  g_free (b);
}

static RoomsBooking *
booking_new (void)
{
  RoomsBooking *b = g_new0 (RoomsBooking, 1);
  b->site_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  b->occurrence_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  return b;
}

/* ---- resolution ---- */

static gboolean
load_group (RoomsStore *store, const char *name, GPtrArray *out, GError **error)
{
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT g.name, s.unit_code, s.down_to FROM groups g LEFT JOIN group_selections s"
      " ON s.group_name = g.name WHERE g.name = ? ORDER BY s.pos",
      error);
  if (!st)
    return FALSE;
  sqlite3_bind_text (st, 1, name, -1, SQLITE_STATIC);
  gboolean found = FALSE;
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      found = TRUE;
      if (sqlite3_column_type (st, 1) != SQLITE_NULL)
        g_ptr_array_add (out,
                         rooms_selection_new ((const char *)sqlite3_column_text (st, 1),
                                              (const char *)sqlite3_column_text (st, 2)));
    }
  if (!found)
    g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "unknown group '%s'", name);
  return found;
}

gboolean
rooms_meeting_spec_collect_selections (RoomsStore *store, const RoomsMeetingSpec *spec,
                                       GPtrArray *out, GError **error)
{
  for (guint i = 0; i < spec->selections->len; i++)
    {
      const RoomsSelection *s = spec->selections->pdata[i];
      g_ptr_array_add (out, rooms_selection_new (s->unit_code, s->down_to));
    }
  for (guint i = 0; i < spec->groups->len; i++)
    if (!load_group (store, spec->groups->pdata[i], out, error))
      return FALSE;
  return TRUE;
}

static void
mark_subtree (RoomsUnit *u, int max_depth, guint8 *marks)
{
  marks[u->index] = 1;
  if (u->depth >= max_depth)
    return;
  for (guint i = 0; i < u->children->len; i++)
    mark_subtree (u->children->pdata[i], max_depth, marks);
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
  return x < y ? -1 : x > y;
}

/* Why a mark per unit rather than a hash set: overlapping selections ("VN down to
 * province" plus "08 down to commune") dedupe for free, and a national meeting marks
 * 11,364 bytes instead of hashing 11,364 keys. */
GArray *
rooms_meeting_resolve_sites (RoomsStore *store, const char *chair, GPtrArray *selections,
                             GError **error)
{
  RoomsUnit *cu = rooms_store_get_unit (store, chair);
  if (cu == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "unknown chair unit '%s'",
                   chair ? chair : "(null)");
      return NULL;
    }
  g_autofree guint8 *marks = g_new0 (guint8, store->units->len + 1);
  marks[cu->index] = 1;
  for (guint i = 0; i < selections->len; i++)
    {
      const RoomsSelection *s = selections->pdata[i];
      RoomsUnit *u = rooms_store_get_unit (store, s->unit_code);
      if (u == NULL)
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                       "unknown participant unit '%s'", s->unit_code);
          return NULL;
        }
      int depth = u->depth;
      if (s->down_to)
        {
          depth = rooms_store_tier_depth (store, s->down_to);
          if (depth < 0)
            {
              g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID, "unknown tier '%s'",
                           s->down_to);
              return NULL;
            }
        }
      mark_subtree (u, depth, marks);
    }
  GArray *sites = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < store->units->len; i++)
    {
      if (!marks[i])
        continue;
      RoomsUnit *u = store->units->pdata[i];
      for (guint j = 0; j < u->sites->len; j++)
        {
          RoomsSite *site = u->sites->pdata[j];
          if (site->enabled)
            g_array_append_val (sites, site->id);
        }
    }
  g_array_sort (sites, compare_gint64);
  return sites;
}

/* Why libical: RRULE has BYSETPOS, BYDAY with ordinals, UNTIL vs COUNT and more; the
 * reference implementation gets them right. The rule is expanded in UTC, which equals
 * expanding in Asia/Ho_Chi_Minh because that zone has no daylight saving time. */
GArray *
rooms_meeting_expand (const RoomsMeetingSpec *spec, GError **error)
{
  GArray *occ = g_array_new (FALSE, FALSE, sizeof (RoomsSpan));
  gint64 dur = spec->end - spec->start;
  if (spec->rrule == NULL)
    {
      RoomsSpan s = { spec->start, spec->end };
      g_array_append_val (occ, s);
      return occ;
    }
  if (strchr (spec->rrule, '\n') || strchr (spec->rrule, '\r'))
    goto bad;
  icalerror_clear_errno ();
  struct icalrecurrencetype rec = icalrecurrencetype_from_string (spec->rrule);
  if (rec.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR)
    goto bad;
  icaltimezone *utc = icaltimezone_get_utc_timezone ();
  struct icaltimetype dt = icaltime_from_timet_with_zone ((time_t)spec->start, 0, utc);
  icalrecur_iterator *it = icalrecur_iterator_new (rec, dt);
  if (it == NULL)
    goto bad;
  for (struct icaltimetype t = icalrecur_iterator_next (it);
       !icaltime_is_null_time (t) && occ->len < ROOMS_MAX_OCCURRENCES;
       t = icalrecur_iterator_next (it))
    {
      gint64 st = (gint64)icaltime_as_timet_with_zone (t, utc);
      gboolean skip = FALSE;
      for (guint i = 0; i < spec->exdates->len; i++)
        skip |= g_array_index (spec->exdates, gint64, i) == st;
      if (skip)
        continue;
      RoomsSpan s = { st, st + dur };
      g_array_append_val (occ, s);
    }
  icalrecur_iterator_free (it);
  if (occ->len == 0)
    {
      g_array_unref (occ);
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "the recurrence leaves no occurrence");
      return NULL;
    }
  return occ;
bad:
  g_array_unref (occ);
  g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID, "invalid RRULE '%s'",
               spec->rrule);
  return NULL;
}

static int
compare_conflicts (gconstpointer a, gconstpointer b)
{
  const RoomsConflict *x = a, *y = b;
  if (x->site_id != y->site_id)
    return x->site_id < y->site_id ? -1 : 1;
  if (x->occurrence_start != y->occurrence_start)
    return x->occurrence_start < y->occurrence_start ? -1 : 1;
  if (x->new_start != y->new_start)
    return x->new_start < y->new_start ? -1 : 1;
  return 0;
}

/* Finds every (site, existing occurrence) clash for the spans of a new or changed
 * meeting. Pulls the sites of overlapping occurrences from the index and tests them
 * against the sorted @sites, so the cost follows the overlapping meetings, not the
 * whole schedule. */
gboolean
rooms_meeting_find_conflicts (RoomsStore *store, GArray *spans, GArray *sites,
                              gint64 exclude_meeting, RoomsConflictList *list,
                              GError **error)
{
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT o.id, o.meeting_id, o.start, o.end, m.title, ms.site_id FROM occurrences o"
      " JOIN meetings m ON m.id = o.meeting_id JOIN meeting_sites ms"
      " ON ms.meeting_id = o.meeting_id WHERE o.state IN (0, 1, 2) AND o.end > ?1"
      " AND o.start < ?2 AND o.meeting_id != ?3",
      error);
  if (!st)
    return FALSE;
  for (guint i = 0; i < spans->len; i++)
    {
      RoomsSpan *sp = &g_array_index (spans, RoomsSpan, i);
      sqlite3_reset (st);
      sqlite3_bind_int64 (st, 1, sp->start);
      sqlite3_bind_int64 (st, 2, sp->end);
      sqlite3_bind_int64 (st, 3, exclude_meeting);
      int rc;
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          gint64 site = sqlite3_column_int64 (st, 5);
          if (!bsearch (&site, sites->data, sites->len, sizeof (gint64), compare_gint64))
            continue;
          RoomsSite *s = rooms_site_lookup (store, site);
          RoomsConflict c = {
            .site_id = site,
            .unit_code
            = g_string_chunk_insert_const (list->strings, s ? s->unit_code : ""),
            .meeting_id = sqlite3_column_int64 (st, 1),
            .meeting_title = g_string_chunk_insert_const (
                list->strings, (const char *)sqlite3_column_text (st, 4)),
            .occurrence_id = sqlite3_column_int64 (st, 0),
            .occurrence_start = sqlite3_column_int64 (st, 2),
            .occurrence_end = sqlite3_column_int64 (st, 3),
            .new_start = sp->start,
          };
          g_array_append_val (list->items, c);
        }
      if (rc != SQLITE_DONE)
        {
          rooms_store_set_sqlite_error (store, error, "conflict check");
          return FALSE;
        }
    }
  g_array_sort (list->items, compare_conflicts);
  if (list->items->len > 0)
    {
      const RoomsConflict *c = &g_array_index (list->items, RoomsConflict, 0);
      g_set_error (
          error, ROOMS_ERROR, ROOMS_ERROR_CONFLICT,
          "%u site bookings clash with other meetings (first: site %" G_GINT64_FORMAT
          " of unit %s in meeting %" G_GINT64_FORMAT " \"%s\")",
          list->items->len, c->site_id, c->unit_code, c->meeting_id, c->meeting_title);
      return FALSE;
    }
  return TRUE;
}

static gboolean
validate_spec (const RoomsMeetingSpec *spec, GError **error)
{
  if (spec->title == NULL || *spec->title == '\0'
      || !g_utf8_validate (spec->title, -1, NULL)
      || (spec->agenda && !g_utf8_validate (spec->agenda, -1, NULL)))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "a meeting needs a non-empty UTF-8 title");
      return FALSE;
    }
  if (spec->end <= spec->start)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "a meeting must end after it starts");
      return FALSE;
    }
  return TRUE;
}

/* Everything a booking or an update decides before writing. */
typedef struct
{
  GPtrArray *selections;
  GArray *sites;
  GArray *spans;
  RoomsCascadePlan *plan;
} Prepared;

static void
prepared_clear (Prepared *p)
{
  g_clear_pointer (&p->selections, g_ptr_array_unref);
  g_clear_pointer (&p->sites, g_array_unref);
  g_clear_pointer (&p->spans, g_array_unref);
  g_clear_pointer (&p->plan, rooms_cascade_plan_free);
}

static gboolean
prepare (RoomsStore *store, const RoomsMeetingSpec *spec, gint64 exclude_meeting,
         Prepared *p, RoomsConflictList **conflicts, GError **error)
{
  if (!validate_spec (spec, error))
    return FALSE;
  p->selections = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_selection_free);
  if (!rooms_meeting_spec_collect_selections (store, spec, p->selections, error))
    return FALSE;
  p->sites = rooms_meeting_resolve_sites (store, spec->chair, p->selections, error);
  if (p->sites == NULL)
    return FALSE;
  p->spans = rooms_meeting_expand (spec, error);
  if (p->spans == NULL)
    return FALSE;
  g_autoptr (RoomsConflictList) list = rooms_conflict_list_new ();
  if (!rooms_meeting_find_conflicts (store, p->spans, p->sites, exclude_meeting, list,
                                     error))
    {
      if (conflicts && list->items->len > 0)
        *conflicts = g_steal_pointer (&list);
      return FALSE;
    }
  if (store->nodes->len > 0)
    {
      p->plan = rooms_store_compute_plan (store, (const gint64 *)p->sites->data,
                                          p->sites->len, error);
      if (p->plan == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
step_done (RoomsStore *store, sqlite3_stmt *st, GError **error)
{
  int rc = sqlite3_step (st);
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "write meeting");
      return FALSE;
    }
  return TRUE;
}

/* Writes the selections, exdates, sites and occurrences of meeting @id (the rows of
 * the meeting itself exist already). */
static gboolean
write_parts (RoomsStore *store, gint64 id, const RoomsMeetingSpec *spec, Prepared *p,
             RoomsBooking *b, GError **error)
{
  g_autoptr (RoomsStmt) sel = rooms_store_prepare (
      store,
      "INSERT INTO meeting_selections (meeting_id, pos, unit_code, down_to)"
      " VALUES (?, ?, ?, ?)",
      error);
  g_autoptr (RoomsStmt) ex = rooms_store_prepare (
      store, "INSERT OR IGNORE INTO meeting_exdates (meeting_id, at) VALUES (?, ?)",
      error);
  g_autoptr (RoomsStmt) site = rooms_store_prepare (
      store, "INSERT INTO meeting_sites (meeting_id, site_id) VALUES (?, ?)", error);
  g_autoptr (RoomsStmt) occ = rooms_store_prepare (
      store,
      "INSERT INTO occurrences (meeting_id, original_start, start, end, state)"
      " VALUES (?, ?, ?, ?, 0)",
      error);
  if (!sel || !ex || !site || !occ)
    return FALSE;
  for (guint i = 0; i < p->selections->len; i++)
    {
      const RoomsSelection *s = p->selections->pdata[i];
      sqlite3_bind_int64 (sel, 1, id);
      sqlite3_bind_int (sel, 2, (int)i);
      sqlite3_bind_text (sel, 3, s->unit_code, -1, SQLITE_STATIC);
      rooms_bind_text (sel, 4, s->down_to);
      if (!step_done (store, sel, error))
        return FALSE;
    }
  for (guint i = 0; i < spec->exdates->len; i++)
    {
      sqlite3_bind_int64 (ex, 1, id);
      sqlite3_bind_int64 (ex, 2, g_array_index (spec->exdates, gint64, i));
      if (!step_done (store, ex, error))
        return FALSE;
    }
  for (guint i = 0; i < p->sites->len; i++)
    {
      sqlite3_bind_int64 (site, 1, id);
      sqlite3_bind_int64 (site, 2, g_array_index (p->sites, gint64, i));
      if (!step_done (store, site, error))
        return FALSE;
    }
  for (guint i = 0; i < p->spans->len; i++)
    {
      RoomsSpan *sp = &g_array_index (p->spans, RoomsSpan, i);
      sqlite3_bind_int64 (occ, 1, id);
      sqlite3_bind_int64 (occ, 2, sp->start);
      sqlite3_bind_int64 (occ, 3, sp->start);
      sqlite3_bind_int64 (occ, 4, sp->end);
      if (!step_done (store, occ, error))
        return FALSE;
      gint64 oid = sqlite3_last_insert_rowid (store->db);
      g_array_append_val (b->occurrence_ids, oid);
    }
  b->meeting_id = id;
  g_array_append_vals (b->site_ids, p->sites->data, p->sites->len);
  b->plan = g_steal_pointer (&p->plan);
  return TRUE;
}

static gint64
find_idempotent (RoomsStore *store, const char *key)
{
  g_autoptr (RoomsStmt) st
      = rooms_store_prepare (store, "SELECT id FROM meetings WHERE idem_key = ?", NULL);
  if (st == NULL)
    return 0;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  return sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
}

/* Rebuilds the booking of a stored meeting (for a replayed idempotency key and for
 * updates). The plan is recomputed from today's nodes; it is left out (NULL) when
 * the nodes no longer fit it. */
static RoomsBooking *
load_booking (RoomsStore *store, gint64 id, GError **error)
{
  RoomsBooking *b = booking_new ();
  b->meeting_id = id;
  g_autoptr (RoomsStmt) s = rooms_store_prepare (
      store, "SELECT site_id FROM meeting_sites WHERE meeting_id = ? ORDER BY site_id",
      error);
  g_autoptr (RoomsStmt) o = rooms_store_prepare (
      store, "SELECT id FROM occurrences WHERE meeting_id = ? ORDER BY start, id", error);
  if (!s || !o)
    {
      rooms_booking_free (b);
      return NULL;
    }
  sqlite3_bind_int64 (s, 1, id);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      gint64 v = sqlite3_column_int64 (s, 0);
      g_array_append_val (b->site_ids, v);
    }
  sqlite3_bind_int64 (o, 1, id);
  while (sqlite3_step (o) == SQLITE_ROW)
    {
      gint64 v = sqlite3_column_int64 (o, 0);
      g_array_append_val (b->occurrence_ids, v);
    }
  if (store->nodes->len > 0)
    b->plan = rooms_store_compute_plan (store, (const gint64 *)b->site_ids->data,
                                        b->site_ids->len, NULL);
  return b;
}

gboolean
rooms_store_book (RoomsStore *store, const RoomsMeetingSpec *spec, RoomsBooking **out,
                  RoomsConflictList **conflicts, GError **error)
{
  g_return_val_if_fail (store != NULL && spec != NULL, FALSE);
  if (!rooms_store_begin (store, error))
    return FALSE;
  if (spec->idem_key)
    {
      gint64 prev = find_idempotent (store, spec->idem_key);
      if (prev > 0)
        {
          rooms_store_rollback (store);
          RoomsBooking *b = load_booking (store, prev, error);
          if (b == NULL)
            return FALSE;
          b->replayed = TRUE;
          if (out)
            *out = b;
          else
            rooms_booking_free (b);
          return TRUE;
        }
    }
  Prepared p = { 0 };
  g_autoptr (RoomsBooking) b = booking_new ();
  g_autoptr (RoomsStmt) m = NULL;
  if (!prepare (store, spec, 0, &p, conflicts, error))
    goto fail;
  m = rooms_store_prepare (
      store,
      "INSERT INTO meetings (title, agenda, chair_code, start, end,"
      " rrule, idem_key, created_at, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
      " CASE WHEN ?9 >= 0 THEN ?9 ELSE (SELECT record_default FROM units WHERE code ="
      " ?3) END)",
      error);
  if (!m)
    goto fail;
  sqlite3_bind_text (m, 1, spec->title, -1, SQLITE_STATIC);
  rooms_bind_text (m, 2, spec->agenda);
  sqlite3_bind_text (m, 3, spec->chair, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (m, 4, spec->start);
  sqlite3_bind_int64 (m, 5, spec->end);
  rooms_bind_text (m, 6, spec->rrule);
  rooms_bind_text (m, 7, spec->idem_key);
  sqlite3_bind_int64 (m, 8, rooms_store_now (store));
  sqlite3_bind_int (m, 9, spec->record);
  if (!step_done (store, m, error))
    goto fail;
  if (!write_parts (store, sqlite3_last_insert_rowid (store->db), spec, &p, b, error)
      || !rooms_store_commit (store, error))
    goto fail;
  prepared_clear (&p);
  char mid[24];
  g_snprintf (mid, sizeof mid, "%" G_GINT64_FORMAT, b->meeting_id);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "MEETING_ID", mid, "MESSAGE",
                    "booked meeting %" G_GINT64_FORMAT ": %u sites, %u occurrences",
                    b->meeting_id, b->site_ids->len, b->occurrence_ids->len);
  if (out)
    *out = g_steal_pointer (&b);
  return TRUE;
fail:
  prepared_clear (&p);
  rooms_store_rollback (store);
  return FALSE;
}

gboolean
rooms_store_check_booking (RoomsStore *store, const RoomsMeetingSpec *spec,
                           guint *n_sites, guint *n_occurrences,
                           RoomsConflictList **conflicts, GError **error)
{
  g_return_val_if_fail (store != NULL && spec != NULL, FALSE);
  /* a read transaction: the units, sites and meetings checked are one snapshot */
  if (!rooms_store_begin (store, error))
    return FALSE;
  Prepared p = { 0 };
  gboolean ok = prepare (store, spec, 0, &p, conflicts, error);
  if (ok && n_sites)
    *n_sites = p.sites->len;
  if (ok && n_occurrences)
    *n_occurrences = p.spans->len;
  prepared_clear (&p);
  rooms_store_rollback (store);
  return ok;
}

/* ---- stored meetings ---- */

gint64
rooms_meeting_get_id (const RoomsMeeting *m)
{
  return m->id;
}
const char *
rooms_meeting_get_title (const RoomsMeeting *m)
{
  return m->spec->title;
}
gboolean
rooms_meeting_get_record (const RoomsMeeting *m)
{
  return m->spec->record > 0;
}

const char *
rooms_meeting_get_agenda (const RoomsMeeting *m)
{
  return m->spec->agenda;
}
const char *
rooms_meeting_get_chair_code (const RoomsMeeting *m)
{
  return m->spec->chair;
}
gint64
rooms_meeting_get_start (const RoomsMeeting *m)
{
  return m->spec->start;
}
gint64
rooms_meeting_get_end (const RoomsMeeting *m)
{
  return m->spec->end;
}
const char *
rooms_meeting_get_rrule (const RoomsMeeting *m)
{
  return m->spec->rrule;
}
const char *
rooms_meeting_get_idempotency_key (const RoomsMeeting *m)
{
  return m->spec->idem_key;
}
gboolean
rooms_meeting_get_cancelled (const RoomsMeeting *m)
{
  return m->cancelled;
}
gint64
rooms_meeting_get_sequence (const RoomsMeeting *m)
{
  return m->sequence;
}
guint
rooms_meeting_get_n_selections (const RoomsMeeting *m)
{
  return m->spec->selections->len;
}
const RoomsSelection *
rooms_meeting_get_selection (const RoomsMeeting *m, guint i)
{
  return rooms_meeting_spec_get_selection (m->spec, i);
}
GArray *
rooms_meeting_get_site_ids (const RoomsMeeting *m)
{
  return m->site_ids;
}

void
rooms_meeting_free (RoomsMeeting *m)
{
  if (m == NULL)
    return;
  rooms_meeting_spec_free (m->spec);
  g_array_unref (m->site_ids);
  g_free (m);
}

RoomsMeeting *
rooms_store_get_meeting (RoomsStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT title, agenda, chair_code, start, end, rrule, idem_key, cancelled,"
      " sequence, record FROM meetings WHERE id = ?",
      error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, id);
  if (sqlite3_step (st) != SQLITE_ROW)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                   "unknown meeting %" G_GINT64_FORMAT, id);
      return NULL;
    }
  RoomsMeeting *m = g_new0 (RoomsMeeting, 1);
  m->id = id;
  m->spec = rooms_meeting_spec_new ((const char *)sqlite3_column_text (st, 0),
                                    (const char *)sqlite3_column_text (st, 2),
                                    sqlite3_column_int64 (st, 3),
                                    sqlite3_column_int64 (st, 4));
  m->spec->agenda = rooms_column_dup (st, 1);
  m->spec->rrule = rooms_column_dup (st, 5);
  m->spec->idem_key = rooms_column_dup (st, 6);
  m->cancelled = sqlite3_column_int (st, 7) != 0;
  m->sequence = sqlite3_column_int64 (st, 8);
  m->spec->record = sqlite3_column_int (st, 9) != 0;
  m->site_ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_autoptr (RoomsStmt) sel
      = rooms_store_prepare (store,
                             "SELECT unit_code, down_to FROM meeting_selections WHERE "
                             "meeting_id = ? ORDER BY pos",
                             NULL);
  g_autoptr (RoomsStmt) ex = rooms_store_prepare (
      store, "SELECT at FROM meeting_exdates WHERE meeting_id = ? ORDER BY at", NULL);
  g_autoptr (RoomsStmt) sites = rooms_store_prepare (
      store, "SELECT site_id FROM meeting_sites WHERE meeting_id = ? ORDER BY site_id",
      NULL);
  sqlite3_bind_int64 (sel, 1, id);
  while (sqlite3_step (sel) == SQLITE_ROW)
    rooms_meeting_spec_add_selection (m->spec, (const char *)sqlite3_column_text (sel, 0),
                                      (const char *)sqlite3_column_text (sel, 1));
  sqlite3_bind_int64 (ex, 1, id);
  while (sqlite3_step (ex) == SQLITE_ROW)
    rooms_meeting_spec_add_exdate (m->spec, sqlite3_column_int64 (ex, 0));
  sqlite3_bind_int64 (sites, 1, id);
  while (sqlite3_step (sites) == SQLITE_ROW)
    {
      gint64 v = sqlite3_column_int64 (sites, 0);
      g_array_append_val (m->site_ids, v);
    }
  return m;
}

static gboolean
meeting_in_scope (RoomsStore *store, RoomsMeeting *m, RoomsUnit *scope)
{
  RoomsUnit *chair = rooms_store_get_unit (store, m->spec->chair);
  if (chair && rooms_unit_is_within (chair, scope))
    return TRUE;
  for (guint i = 0; i < m->site_ids->len; i++)
    {
      RoomsSite *s = rooms_site_lookup (store, g_array_index (m->site_ids, gint64, i));
      RoomsUnit *u = s ? rooms_store_get_unit (store, s->unit_code) : NULL;
      if (u && rooms_unit_is_within (u, scope))
        return TRUE;
    }
  return FALSE;
}

GPtrArray *
rooms_store_list_meetings (RoomsStore *store, gint64 from, gint64 to,
                           const char *scope_code, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  RoomsUnit *scope = NULL;
  if (scope_code && (scope = rooms_store_get_unit (store, scope_code)) == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "unknown unit '%s'",
                   scope_code);
      return NULL;
    }
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT DISTINCT m.id, m.start FROM meetings m JOIN occurrences o"
      " ON o.meeting_id = m.id WHERE o.end > ? AND o.start < ? ORDER BY m.start, m.id",
      error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, from);
  sqlite3_bind_int64 (st, 2, to);
  g_autoptr (GPtrArray) out
      = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_meeting_free);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      RoomsMeeting *m
          = rooms_store_get_meeting (store, sqlite3_column_int64 (st, 0), error);
      if (m == NULL)
        return NULL;
      if (scope && !meeting_in_scope (store, m, scope))
        rooms_meeting_free (m);
      else
        g_ptr_array_add (out, m);
    }
  return g_steal_pointer (&out);
}

/* ---- updates ---- */

RoomsMeetingPatch *
rooms_meeting_patch_new (void)
{
  RoomsMeetingPatch *p = g_new0 (RoomsMeetingPatch, 1);
  p->record = -1;
  return p;
}

void
rooms_meeting_patch_free (RoomsMeetingPatch *p)
{
  if (p == NULL)
    return;
  g_free (p->title);
  g_free (p->agenda);
  g_free (p->chair);
  g_clear_pointer (&p->selections, g_ptr_array_unref);
  g_free (p);
}

void
rooms_meeting_patch_set_title (RoomsMeetingPatch *p, const char *title)
{
  g_free (p->title);
  p->title = g_strdup (title);
}

void
rooms_meeting_patch_set_record (RoomsMeetingPatch *p, gboolean record)
{
  p->record = record ? 1 : 0;
}

void
rooms_meeting_patch_set_agenda (RoomsMeetingPatch *p, const char *agenda)
{
  g_free (p->agenda);
  p->agenda = g_strdup (agenda ? agenda : "");
}

void
rooms_meeting_patch_set_chair (RoomsMeetingPatch *p, const char *chair_code)
{
  g_free (p->chair);
  p->chair = g_strdup (chair_code);
}

void
rooms_meeting_patch_set_times (RoomsMeetingPatch *p, gint64 start, gint64 end)
{
  p->has_times = TRUE;
  p->start = start;
  p->end = end;
}

void
rooms_meeting_patch_add_selection (RoomsMeetingPatch *p, const char *unit_code,
                                   const char *down_to)
{
  if (p->selections == NULL)
    p->selections = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_selection_free);
  g_ptr_array_add (p->selections, rooms_selection_new (unit_code, down_to));
}

static gboolean
all_scheduled (RoomsStore *store, gint64 id, GError **error)
{
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store, "SELECT count(*) FROM occurrences WHERE meeting_id = ? AND state != 0",
      error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  if (sqlite3_step (st) == SQLITE_ROW && sqlite3_column_int (st, 0) > 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "meeting %" G_GINT64_FORMAT
                   " has occurrences that are no longer scheduled; its times, chair and"
                   " participants are fixed",
                   id);
      return FALSE;
    }
  return TRUE;
}

static gboolean
rewrite_meeting (RoomsStore *store, gint64 id, RoomsMeetingSpec *spec,
                 RoomsConflictList **conflicts, RoomsBooking *b, GError **error)
{
  Prepared p = { 0 };
  gboolean ok = FALSE;
  g_autoptr (RoomsStmt) up = NULL;
  if (!all_scheduled (store, id, error)
      || !prepare (store, spec, id, &p, conflicts, error))
    goto out;
  for (guint i = 0; i < 3; i++)
    {
      static const char *const del[]
          = { "DELETE FROM meeting_selections WHERE meeting_id = ?",
              "DELETE FROM meeting_sites WHERE meeting_id = ?",
              "DELETE FROM occurrences WHERE meeting_id = ?" };
      g_autoptr (RoomsStmt) d = rooms_store_prepare (store, del[i], error);
      if (!d)
        goto out;
      sqlite3_bind_int64 (d, 1, id);
      if (!step_done (store, d, error))
        goto out;
    }
  /* exdates are kept: they are written again from spec below (INSERT OR IGNORE) */
  up = rooms_store_prepare (
      store, "UPDATE meetings SET chair_code = ?, start = ?, end = ? WHERE id = ?",
      error);
  if (!up)
    goto out;
  sqlite3_bind_text (up, 1, spec->chair, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (up, 2, spec->start);
  sqlite3_bind_int64 (up, 3, spec->end);
  sqlite3_bind_int64 (up, 4, id);
  ok = step_done (store, up, error) && write_parts (store, id, spec, &p, b, error);
out:
  prepared_clear (&p);
  return ok;
}

RoomsBooking *
rooms_store_update_meeting (RoomsStore *store, gint64 meeting_id,
                            const RoomsMeetingPatch *patch, RoomsConflictList **conflicts,
                            GError **error)
{
  g_return_val_if_fail (store != NULL && patch != NULL, NULL);
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (store, meeting_id, error);
  if (m == NULL)
    return NULL;
  if (m->cancelled)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "meeting %" G_GINT64_FORMAT " is cancelled", meeting_id);
      return NULL;
    }
  RoomsMeetingSpec *spec = m->spec;
  if (patch->title)
    {
      g_free (spec->title);
      spec->title = g_strdup (patch->title);
    }
  if (patch->agenda)
    rooms_meeting_spec_set_agenda (spec, patch->agenda);
  if (patch->record >= 0)
    spec->record = patch->record;
  gboolean structural = patch->chair || patch->has_times || patch->selections;
  if (patch->chair)
    {
      g_free (spec->chair);
      spec->chair = g_strdup (patch->chair);
    }
  if (patch->has_times)
    {
      spec->start = patch->start;
      spec->end = patch->end;
    }
  if (patch->selections)
    {
      g_ptr_array_set_size (spec->selections, 0);
      for (guint i = 0; i < patch->selections->len; i++)
        {
          const RoomsSelection *s = patch->selections->pdata[i];
          rooms_meeting_spec_add_selection (spec, s->unit_code, s->down_to);
        }
    }
  g_autoptr (RoomsBooking) b = booking_new ();
  g_autoptr (RoomsStmt) t = NULL;
  if (!validate_spec (spec, error) || !rooms_store_begin (store, error))
    return NULL;
  /* every accepted change is one an attendee must see: its SEQUENCE grows with it,
   * and a refused one (rolled back below) leaves both as they were */
  t = rooms_store_prepare (
      store,
      "UPDATE meetings SET title = ?, agenda = ?, record = ?, sequence = sequence + 1"
      " WHERE id = ?",
      error);
  if (!t)
    goto fail;
  sqlite3_bind_text (t, 1, spec->title, -1, SQLITE_STATIC);
  rooms_bind_text (t, 2, spec->agenda);
  sqlite3_bind_int (t, 3, spec->record > 0);
  sqlite3_bind_int64 (t, 4, meeting_id);
  if (!step_done (store, t, error))
    goto fail;
  if (structural && !rewrite_meeting (store, meeting_id, spec, conflicts, b, error))
    goto fail;
  if (!rooms_store_commit (store, error))
    goto fail;
  if (!structural)
    return load_booking (store, meeting_id, error);
  return g_steal_pointer (&b);
fail:
  rooms_store_rollback (store);
  return NULL;
}

gboolean
rooms_store_cancel_meeting (RoomsStore *store, gint64 meeting_id, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (store, meeting_id, error);
  if (m == NULL)
    return FALSE;
  if (m->cancelled)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "meeting %" G_GINT64_FORMAT " is already cancelled", meeting_id);
      return FALSE;
    }
  g_autofree char *sql = g_strdup_printf (
      "UPDATE occurrences SET state = 4 WHERE meeting_id = %" G_GINT64_FORMAT
      " AND state IN (0, 1);"
      "UPDATE meetings SET cancelled = 1, sequence = sequence + 1 WHERE id = "
      "%" G_GINT64_FORMAT ";",
      meeting_id, meeting_id);
  if (!rooms_store_begin (store, error))
    return FALSE;
  if (!rooms_store_exec (store, sql, error) || !rooms_store_commit (store, error))
    {
      rooms_store_rollback (store);
      return FALSE;
    }
  return TRUE;
}

gboolean
rooms_store_raise_meeting_sequence (RoomsStore *store, gint64 meeting_id, gint64 sequence,
                                    GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (sequence < 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "a SEQUENCE cannot be negative (%" G_GINT64_FORMAT ")", sequence);
      return FALSE;
    }
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store, "UPDATE meetings SET sequence = max(sequence, ?) WHERE id = ?", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, sequence);
  sqlite3_bind_int64 (st, 2, meeting_id);
  if (sqlite3_step (st) != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "raise sequence");
      return FALSE;
    }
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND,
                   "unknown meeting %" G_GINT64_FORMAT, meeting_id);
      return FALSE;
    }
  return TRUE;
}

/* ---- saved groups ---- */

gboolean
rooms_store_save_group (RoomsStore *store, const char *name,
                        const RoomsSelection *const *selections, guint n, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  if (name == NULL || *name == '\0' || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID,
                   "a group needs a non-empty UTF-8 name");
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      if (rooms_store_get_unit (store, selections[i]->unit_code) == NULL)
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "unknown unit '%s'",
                       selections[i]->unit_code);
          return FALSE;
        }
      if (selections[i]->down_to
          && rooms_store_tier_depth (store, selections[i]->down_to) < 0)
        {
          g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID, "unknown tier '%s'",
                       selections[i]->down_to);
          return FALSE;
        }
    }
  if (!rooms_store_begin (store, error))
    return FALSE;
  g_autoptr (RoomsStmt) d
      = rooms_store_prepare (store, "DELETE FROM groups WHERE name = ?", error);
  g_autoptr (RoomsStmt) g
      = rooms_store_prepare (store, "INSERT INTO groups (name) VALUES (?)", error);
  g_autoptr (RoomsStmt) s = rooms_store_prepare (
      store,
      "INSERT INTO group_selections (group_name, pos, unit_code, down_to)"
      " VALUES (?, ?, ?, ?)",
      error);
  if (!d || !g || !s)
    goto fail;
  sqlite3_bind_text (d, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text (g, 1, name, -1, SQLITE_STATIC);
  if (!step_done (store, d, error) || !step_done (store, g, error))
    goto fail;
  for (guint i = 0; i < n; i++)
    {
      sqlite3_bind_text (s, 1, name, -1, SQLITE_STATIC);
      sqlite3_bind_int (s, 2, (int)i);
      sqlite3_bind_text (s, 3, selections[i]->unit_code, -1, SQLITE_STATIC);
      rooms_bind_text (s, 4, selections[i]->down_to);
      if (!step_done (store, s, error))
        goto fail;
    }
  return rooms_store_commit (store, error);
fail:
  rooms_store_rollback (store);
  return FALSE;
}

GPtrArray *
rooms_store_get_group (RoomsStore *store, const char *name, GError **error)
{
  g_return_val_if_fail (store != NULL && name != NULL, NULL);
  g_autoptr (GPtrArray) out
      = g_ptr_array_new_with_free_func ((GDestroyNotify)rooms_selection_free);
  if (!load_group (store, name, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

GStrv
rooms_store_list_groups (RoomsStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_autoptr (RoomsStmt) st
      = rooms_store_prepare (store, "SELECT name FROM groups ORDER BY name", NULL);
  while (st && sqlite3_step (st) == SQLITE_ROW)
    g_strv_builder_add (b, (const char *)sqlite3_column_text (st, 0));
  return g_strv_builder_end (b);
}

gboolean
rooms_store_delete_group (RoomsStore *store, const char *name, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_autoptr (RoomsStmt) st
      = rooms_store_prepare (store, "DELETE FROM groups WHERE name = ?", error);
  if (!st)
    return FALSE;
  rooms_bind_text (st, 1, name);
  if (!step_done (store, st, error))
    return FALSE;
  if (sqlite3_changes (store->db) == 0)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_NOT_FOUND, "unknown group '%s'",
                   name ? name : "(null)");
      return FALSE;
    }
  return TRUE;
}
