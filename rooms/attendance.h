/* attendance.h: roll call. One record per site per occurrence (first join, last
 * leave, seconds present, how many joins), updated by its joins and leaves, and a
 * report that classes every invited site present, late or absent. */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* Records that @site_id joined (or left) occurrence @occurrence_id at @at. The site
 * must be invited; a join also needs the occurrence open at @at by the lifecycle's
 * rule (rooms_occurrence_state_at(): open or live, not cancelled). A refused call
 * writes and queues nothing. With batching on, the update is checked now and queued
 * for rooms_store_flush_attendance(); otherwise it is written at once (one commit).
 * ROOMS_ERROR_NOT_FOUND, ROOMS_ERROR_INVALID (site not invited),
 * ROOMS_ERROR_ILLEGAL_STATE (join: cancelled, not open yet, or ended; the message
 * says which and when), ROOMS_ERROR_STORE. */
gboolean rooms_store_record_join (RoomsStore *store, gint64 occurrence_id, gint64 site_id,
                                  gint64 at, GError **error);
gboolean rooms_store_record_leave (RoomsStore *store, gint64 occurrence_id,
                                   gint64 site_id, gint64 at, GError **error);

/* Batching (off by default): queued updates are lost if the process dies before
 * rooms_store_flush_attendance() commits them; rooms_store_free() and the report
 * write them first. */
void rooms_store_set_attendance_batching (RoomsStore *store, gboolean batching);
/* Returns: how many updates are queued. */
guint rooms_store_attendance_pending (RoomsStore *store);
/* Writes every queued update in one transaction; on failure the queue is kept.
 * ROOMS_ERROR_STORE. */
gboolean rooms_store_flush_attendance (RoomsStore *store, GError **error);

typedef enum
{
  ROOMS_ATTENDANCE_PRESENT, /* first joined at or before start + grace */
  ROOMS_ATTENDANCE_LATE,    /* first joined after start + grace */
  ROOMS_ATTENDANCE_ABSENT,  /* never joined */
} RoomsAttendanceClass;

/* Returns: (transfer none): "present", "late", "absent". */
const char *rooms_attendance_class_to_string (RoomsAttendanceClass cls);

typedef struct
{
  gint64 site_id;
  const char *site_name;
  const char *unit_code;
  const char *unit_name;
  RoomsAttendanceClass cls;
  gint64 first_join;      /* -1 when absent */
  gint64 last_leave;      /* -1 when never left */
  gint64 seconds_present; /* summed join..leave spans, open spans closed at the end */
  guint joins;            /* how many joins were recorded */
} RoomsAttendanceEntry;

typedef struct _RoomsAttendanceReport RoomsAttendanceReport;

/**
 * rooms_store_attendance_report:
 * @grace: seconds after the start during which a join still counts as present
 *
 * Writes queued attendance updates first.
 *
 * Returns: (transfer full) (nullable): the report (entries by site id);
 *   ROOMS_ERROR_NOT_FOUND, ROOMS_ERROR_STORE
 */
RoomsAttendanceReport *rooms_store_attendance_report (RoomsStore *store,
                                                      gint64 occurrence_id, gint64 grace,
                                                      GError **error);
guint rooms_attendance_report_get_length (const RoomsAttendanceReport *report);
const RoomsAttendanceEntry *
rooms_attendance_report_get (const RoomsAttendanceReport *report, guint i);
guint rooms_attendance_report_count (const RoomsAttendanceReport *report,
                                     RoomsAttendanceClass cls);
/**
 * rooms_attendance_report_to_csv:
 *
 * Header `site_id,site_name,unit_code,unit_name,status,first_join,last_leave,
 * seconds_present`; times as ISO 8601 in Asia/Ho_Chi_Minh (+07:00), empty when
 * unknown; fields quoted per RFC 4180 when needed.
 *
 * Returns: (transfer full): the CSV text
 */
char *rooms_attendance_report_to_csv (const RoomsAttendanceReport *report);
void rooms_attendance_report_free (RoomsAttendanceReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsAttendanceReport, rooms_attendance_report_free)

G_END_DECLS
