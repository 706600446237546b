/* sig-attendance.h: the roll call's writes in signald. Joins and leaves are checked
 * at once (a refused join gets its error and writes nothing) and queued; the queue is
 * written in one transaction every `[store] attendance-batch-ms` or once it holds
 * `[store] attendance-batch-max` updates, and at shutdown. After a burst of writes the
 * store's write-ahead log is checkpointed when signald is idle. */
#pragma once

#include <glib.h>

#include "rooms.h"

G_BEGIN_DECLS

typedef struct _SigAttendance SigAttendance;

/**
 * sig_attendance_new:
 * @store: (transfer none): outlives the writer
 * @kf: (nullable): the configuration; reads [store] attendance-batch-ms (0 to 10000,
 *   default 200; 0 writes each update at once) and attendance-batch-max (1 to 100000,
 *   default 500). G_KEY_FILE_ERROR on a bad value.
 *
 * Returns: (transfer full) (nullable)
 */
SigAttendance *sig_attendance_new (RoomsStore *store, GKeyFile *kf, GError **error);

/* Checks and queues a join (rooms_store_record_join()'s errors: refused joins change
 * nothing) or a leave. */
gboolean sig_attendance_join (SigAttendance *att, gint64 occurrence_id, gint64 site_id,
                              gint64 now, GError **error);
gboolean sig_attendance_leave (SigAttendance *att, gint64 occurrence_id, gint64 site_id,
                               gint64 now, GError **error);

/* Writes what is queued now (logs a failure; the queue is then kept for the next try). */
void sig_attendance_flush (SigAttendance *att);

/* Writes what is queued and frees the writer. */
void sig_attendance_free (SigAttendance *att);

G_END_DECLS
