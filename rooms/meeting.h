/* meeting.h: meetings, their occurrences and lifecycle, conflicts, saved groups.
 *
 * A meeting is booked once from a RoomsMeetingSpec: chair unit, participant selections
 * ("08 down to commune"), a start and end (UTC unix seconds; shown in
 * Asia/Ho_Chi_Minh by callers) and optionally an RFC 5545 RRULE with EXDATEs (expanded
 * with libical). The selections resolve to the enabled sites of the selected units
 * (the chair's unit included); the booking stores one row per occurrence, each with
 * its own lifecycle:
 *
 *   scheduled -> open (lobby) -> live -> ended;  scheduled|open -> cancelled
 *
 * A site cannot be in two overlapping occurrences of meetings that are not cancelled.
 */
#pragma once

#include <glib.h>

#include "cascade.h"
#include "store.h"

G_BEGIN_DECLS

/* A participant selection: @unit_code alone (@down_to %NULL) or its subtree down to
 * the tier @down_to. */
typedef struct
{
  char *unit_code;
  char *down_to;
} RoomsSelection;

RoomsSelection *rooms_selection_new (const char *unit_code, const char *down_to);
void rooms_selection_free (RoomsSelection *selection);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsSelection, rooms_selection_free)

/* The longest expansion of a recurring meeting, so an open-ended RRULE is bounded. */
#define ROOMS_MAX_OCCURRENCES 500

typedef struct _RoomsMeetingSpec RoomsMeetingSpec;

/**
 * rooms_meeting_spec_new:
 * @title: (transfer none): non-empty
 * @chair_code: (transfer none): the chairing unit
 * @start: first occurrence's start, UTC unix seconds
 * @end: its end, > @start
 *
 * Returns: (transfer full): a spec; free with rooms_meeting_spec_free()
 */
RoomsMeetingSpec *rooms_meeting_spec_new (const char *title, const char *chair_code,
                                          gint64 start, gint64 end);
void rooms_meeting_spec_free (RoomsMeetingSpec *spec);
void rooms_meeting_spec_set_agenda (RoomsMeetingSpec *spec, const char *agenda);
/* Adds "unit_code down to down_to" (down_to %NULL: the unit only). */
void rooms_meeting_spec_add_selection (RoomsMeetingSpec *spec, const char *unit_code,
                                       const char *down_to);
/* Whether its occurrences are recorded; unset, the chair unit's default decides. */
void rooms_meeting_spec_set_record (RoomsMeetingSpec *spec, gboolean record);
/* Adds the selections of a saved group (resolved when booking). */
void rooms_meeting_spec_add_group (RoomsMeetingSpec *spec, const char *group_name);
/* An RFC 5545 RRULE value without the "RRULE:" prefix, e.g. "FREQ=WEEKLY;COUNT=4". */
void rooms_meeting_spec_set_rrule (RoomsMeetingSpec *spec, const char *rrule);
/* An occurrence start (UTC unix seconds) the RRULE must skip. */
void rooms_meeting_spec_add_exdate (RoomsMeetingSpec *spec, gint64 start);
/* The same key on a second booking returns the first booking instead of a new one. */
void rooms_meeting_spec_set_idempotency_key (RoomsMeetingSpec *spec, const char *key);
const char *rooms_meeting_spec_get_chair_code (const RoomsMeetingSpec *spec);
guint rooms_meeting_spec_get_n_selections (const RoomsMeetingSpec *spec);
/* (transfer none) */
const RoomsSelection *rooms_meeting_spec_get_selection (const RoomsMeetingSpec *spec,
                                                        guint i);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsMeetingSpec, rooms_meeting_spec_free)

/* One clash: @site_id of unit @unit_code would be in the new occurrence starting
 * @new_start and in occurrence @occurrence_id (@occurrence_start..@occurrence_end) of
 * existing meeting @meeting_id titled @meeting_title. */
typedef struct
{
  gint64 site_id;
  const char *unit_code;
  gint64 meeting_id;
  const char *meeting_title;
  gint64 occurrence_id;
  gint64 occurrence_start;
  gint64 occurrence_end;
  gint64 new_start;
} RoomsConflict;

typedef struct _RoomsConflictList RoomsConflictList;
guint rooms_conflict_list_get_length (const RoomsConflictList *list);
/* (transfer none): entries ordered by site id, then existing occurrence start. */
const RoomsConflict *rooms_conflict_list_get (const RoomsConflictList *list, guint i);
void rooms_conflict_list_free (RoomsConflictList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsConflictList, rooms_conflict_list_free)

typedef struct _RoomsBooking RoomsBooking;
gint64 rooms_booking_get_meeting_id (const RoomsBooking *booking);
/* (transfer none) (element-type gint64): the resolved site ids, ascending. */
GArray *rooms_booking_get_site_ids (const RoomsBooking *booking);
/* (transfer none) (element-type gint64): the occurrence ids, by start. */
GArray *rooms_booking_get_occurrence_ids (const RoomsBooking *booking);
/* (transfer none) (nullable): the cascade plan; %NULL when no node is registered. */
RoomsCascadePlan *rooms_booking_get_plan (const RoomsBooking *booking);
/* %TRUE when this booking is the earlier one returned for a repeated idempotency key. */
gboolean rooms_booking_get_replayed (const RoomsBooking *booking);
void rooms_booking_free (RoomsBooking *booking);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsBooking, rooms_booking_free)

/**
 * rooms_store_book:
 * @spec: (transfer none): what to book
 * @out: (out) (optional) (transfer full): the booking
 * @conflicts: (out) (optional) (transfer full): on ROOMS_ERROR_CONFLICT, every clash
 * @error: ROOMS_ERROR_INVALID (empty title, end <= start, bad RRULE, unknown tier),
 *   ROOMS_ERROR_NOT_FOUND (unknown unit or group), ROOMS_ERROR_CONFLICT,
 *   ROOMS_ERROR_CAPACITY (the cascade plan does not fit the nodes), ROOMS_ERROR_STORE
 *
 * Validates, resolves, expands the recurrence, checks every occurrence for conflicts
 * and the cascade plan for capacity, then stores the meeting in one transaction. With
 * an idempotency key already used, returns the stored booking (replayed = %TRUE)
 * without checking again.
 *
 * Returns: %TRUE when booked (or replayed)
 */
gboolean rooms_store_book (RoomsStore *store, const RoomsMeetingSpec *spec,
                           RoomsBooking **out, RoomsConflictList **conflicts,
                           GError **error);

/**
 * rooms_store_check_booking:
 * @spec: (transfer none): what would be booked
 * @n_sites: (out) (optional): how many sites it resolves to
 * @n_occurrences: (out) (optional): how many occurrences its recurrence gives
 * @conflicts: (out) (optional) (transfer full): on ROOMS_ERROR_CONFLICT, every clash
 * @error: as rooms_store_book()
 *
 * Runs every check rooms_store_book() runs, in the same order and with the same
 * errors, and stores nothing: what a booking form shows before the secretary saves.
 * The idempotency key is not looked at.
 *
 * Returns: %TRUE when rooms_store_book() would book it now
 */
gboolean rooms_store_check_booking (RoomsStore *store, const RoomsMeetingSpec *spec,
                                    guint *n_sites, guint *n_occurrences,
                                    RoomsConflictList **conflicts, GError **error);

typedef struct _RoomsMeeting RoomsMeeting;
gint64 rooms_meeting_get_id (const RoomsMeeting *meeting);
const char *rooms_meeting_get_title (const RoomsMeeting *meeting);
const char *rooms_meeting_get_agenda (const RoomsMeeting *meeting);
/* Whether its occurrences are recorded from the start (issue 17). */
gboolean rooms_meeting_get_record (const RoomsMeeting *meeting);
const char *rooms_meeting_get_chair_code (const RoomsMeeting *meeting);
/* The series' first start and end as booked (occurrences may have moved). */
gint64 rooms_meeting_get_start (const RoomsMeeting *meeting);
gint64 rooms_meeting_get_end (const RoomsMeeting *meeting);
/* (nullable) */
const char *rooms_meeting_get_rrule (const RoomsMeeting *meeting);
/* (nullable) */
const char *rooms_meeting_get_idempotency_key (const RoomsMeeting *meeting);
gboolean rooms_meeting_get_cancelled (const RoomsMeeting *meeting);
/* The iCalendar SEQUENCE (RFC 5546): 0 when booked, one more with each change
 * (rooms_store_update_meeting()) and with the cancellation, in the same transaction. */
gint64 rooms_meeting_get_sequence (const RoomsMeeting *meeting);
guint rooms_meeting_get_n_selections (const RoomsMeeting *meeting);
const RoomsSelection *rooms_meeting_get_selection (const RoomsMeeting *meeting, guint i);
/* (transfer none) (element-type gint64) ascending */
GArray *rooms_meeting_get_site_ids (const RoomsMeeting *meeting);
void rooms_meeting_free (RoomsMeeting *meeting);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsMeeting, rooms_meeting_free)

/* Returns: (transfer full) (nullable): the meeting; %NULL with ROOMS_ERROR_NOT_FOUND */
RoomsMeeting *rooms_store_get_meeting (RoomsStore *store, gint64 meeting_id,
                                       GError **error);

/**
 * rooms_store_list_meetings:
 * @from: window start (inclusive), UTC unix seconds
 * @to: window end (exclusive)
 * @scope_code: (nullable): only meetings whose chair or a participant site's unit lies
 *   in this subtree; %NULL for all
 *
 * Returns: (transfer full) (element-type RoomsMeeting) (nullable): meetings with an
 *   occurrence overlapping [@from, @to), cancelled ones included, by first start
 */
GPtrArray *rooms_store_list_meetings (RoomsStore *store, gint64 from, gint64 to,
                                      const char *scope_code, GError **error);

/* What rooms_store_update_meeting() changes; unset fields keep their value. */
typedef struct _RoomsMeetingPatch RoomsMeetingPatch;
RoomsMeetingPatch *rooms_meeting_patch_new (void);
void rooms_meeting_patch_free (RoomsMeetingPatch *patch);
void rooms_meeting_patch_set_title (RoomsMeetingPatch *patch, const char *title);
void rooms_meeting_patch_set_agenda (RoomsMeetingPatch *patch, const char *agenda);
void rooms_meeting_patch_set_record (RoomsMeetingPatch *patch, gboolean record);
void rooms_meeting_patch_set_chair (RoomsMeetingPatch *patch, const char *chair_code);
/* New series start/end; occurrences are re-expanded from it. */
void rooms_meeting_patch_set_times (RoomsMeetingPatch *patch, gint64 start, gint64 end);
/* Replaces all selections with these (call once per selection). */
void rooms_meeting_patch_add_selection (RoomsMeetingPatch *patch, const char *unit_code,
                                        const char *down_to);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsMeetingPatch, rooms_meeting_patch_free)

/**
 * rooms_store_update_meeting:
 * @conflicts: (out) (optional) (transfer full): on ROOMS_ERROR_CONFLICT, every clash
 *
 * Applies @patch. Changing times, chair or selections re-resolves the sites,
 * re-expands the occurrences (only when every occurrence is still scheduled; otherwise
 * ROOMS_ERROR_ILLEGAL_STATE) and checks conflicts against other meetings.
 *
 * Returns: (transfer full) (nullable): the updated booking
 */
RoomsBooking *rooms_store_update_meeting (RoomsStore *store, gint64 meeting_id,
                                          const RoomsMeetingPatch *patch,
                                          RoomsConflictList **conflicts, GError **error);

/* Cancels every scheduled or open occurrence and marks the meeting cancelled.
 * ROOMS_ERROR_NOT_FOUND; ROOMS_ERROR_ILLEGAL_STATE when it is already cancelled. */
gboolean rooms_store_cancel_meeting (RoomsStore *store, gint64 meeting_id,
                                     GError **error);

/* Raises the SEQUENCE of a meeting to at least @sequence (never lowers it), for
 * importing counters kept elsewhere before. ROOMS_ERROR_NOT_FOUND; ROOMS_ERROR_INVALID
 * for a negative @sequence. */
gboolean rooms_store_raise_meeting_sequence (RoomsStore *store, gint64 meeting_id,
                                             gint64 sequence, GError **error);

typedef enum
{
  ROOMS_OCCURRENCE_SCHEDULED,
  ROOMS_OCCURRENCE_OPEN,
  ROOMS_OCCURRENCE_LIVE,
  ROOMS_OCCURRENCE_ENDED,
  ROOMS_OCCURRENCE_CANCELLED,
} RoomsOccurrenceState;

/* Returns: (transfer none): "scheduled", "open", "live", "ended", "cancelled". */
const char *rooms_occurrence_state_to_string (RoomsOccurrenceState state);

typedef struct _RoomsOccurrence RoomsOccurrence;
gint64 rooms_occurrence_get_id (const RoomsOccurrence *occ);
gint64 rooms_occurrence_get_meeting_id (const RoomsOccurrence *occ);
/* The start the recurrence rule gave it (its identity within the series). */
gint64 rooms_occurrence_get_original_start (const RoomsOccurrence *occ);
gint64 rooms_occurrence_get_start (const RoomsOccurrence *occ);
gint64 rooms_occurrence_get_end (const RoomsOccurrence *occ);
RoomsOccurrenceState rooms_occurrence_get_state (const RoomsOccurrence *occ);
void rooms_occurrence_free (RoomsOccurrence *occ);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsOccurrence, rooms_occurrence_free)

/* Returns: (transfer full) (nullable): ROOMS_ERROR_NOT_FOUND */
RoomsOccurrence *rooms_store_get_occurrence (RoomsStore *store, gint64 occurrence_id,
                                             GError **error);

/* Returns: (transfer full) (element-type RoomsOccurrence) (nullable): all occurrences
 * of a meeting by start, cancelled ones included; ROOMS_ERROR_NOT_FOUND */
GPtrArray *rooms_store_list_occurrences (RoomsStore *store, gint64 meeting_id,
                                         GError **error);

/**
 * rooms_store_move_occurrence:
 * @conflicts: (out) (optional) (transfer full): on ROOMS_ERROR_CONFLICT, every clash
 *
 * Moves one scheduled occurrence to [@start, @end), checking conflicts.
 * ROOMS_ERROR_NOT_FOUND, ROOMS_ERROR_INVALID, ROOMS_ERROR_ILLEGAL_STATE (not
 * scheduled), ROOMS_ERROR_CONFLICT.
 */
gboolean rooms_store_move_occurrence (RoomsStore *store, gint64 occurrence_id,
                                      gint64 start, gint64 end,
                                      RoomsConflictList **conflicts, GError **error);

/* Lifecycle moves; each refuses any other source state with ROOMS_ERROR_ILLEGAL_STATE
 * (naming both states) and an unknown id with ROOMS_ERROR_NOT_FOUND. */
/* scheduled -> open */
gboolean rooms_store_open_occurrence (RoomsStore *store, gint64 occurrence_id,
                                      GError **error);
/* open -> live */
gboolean rooms_store_start_occurrence (RoomsStore *store, gint64 occurrence_id,
                                       GError **error);
/* live -> ended */
gboolean rooms_store_end_occurrence (RoomsStore *store, gint64 occurrence_id,
                                     GError **error);
/* scheduled|open -> cancelled */
gboolean rooms_store_cancel_occurrence (RoomsStore *store, gint64 occurrence_id,
                                        GError **error);

/**
 * rooms_occurrence_state_at:
 * @lobby_window: seconds before the start when the occurrence opens
 *
 * The state @occ is in at @now by the lifecycle's rule (the one
 * rooms_store_due_transitions() applies), even when signald's timer has not yet
 * applied the last steps: scheduled, then open from start - @lobby_window, live from
 * the start, ended from the end; cancelled stays cancelled.
 */
RoomsOccurrenceState rooms_occurrence_state_at (const RoomsOccurrence *occ,
                                                gint64 lobby_window, gint64 now);

/* One transition that is due: occurrence @occurrence_id should move to @to, which
 * became due at @due_at. */
typedef struct
{
  gint64 occurrence_id;
  gint64 meeting_id;
  RoomsOccurrenceState to;
  gint64 due_at;
} RoomsDueTransition;

/**
 * rooms_store_due_transitions:
 * @now: UTC unix seconds
 *
 * What should happen at @now: scheduled occurrences whose start minus the lobby window
 * has passed -> open; open ones whose start has passed -> live; live ones whose end has
 * passed -> ended. One step per occurrence (apply it, then ask again: after a restart
 * a scheduled occurrence that is already over takes three calls). Ordered by due time.
 *
 * Returns: (transfer full) (element-type RoomsDueTransition) (nullable)
 */
GArray *rooms_store_due_transitions (RoomsStore *store, gint64 now, GError **error);

/**
 * rooms_store_next_due_time:
 *
 * Returns: the earliest time after @now at which a transition becomes due, or -1 when
 *   none is pending (for signald's timer)
 */
gint64 rooms_store_next_due_time (RoomsStore *store, gint64 now);

/* Saves (or replaces) a named group of selections. ROOMS_ERROR_INVALID,
 * ROOMS_ERROR_NOT_FOUND (unknown unit). */
gboolean rooms_store_save_group (RoomsStore *store, const char *name,
                                 const RoomsSelection *const *selections, guint n,
                                 GError **error);
/* Returns: (transfer full) (element-type RoomsSelection) (nullable):
 * ROOMS_ERROR_NOT_FOUND */
GPtrArray *rooms_store_get_group (RoomsStore *store, const char *name, GError **error);
/* Returns: (transfer full): group names, sorted */
GStrv rooms_store_list_groups (RoomsStore *store);
gboolean rooms_store_delete_group (RoomsStore *store, const char *name, GError **error);

G_END_DECLS
