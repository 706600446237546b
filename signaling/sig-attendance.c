/* sig-attendance.c: batched attendance writes and idle checkpoints for signald.
 *
 * Why batch: signald has one thread, and every join used to commit on its own with
 * synchronous=FULL, one fsync each; in a join storm of a national meeting (11,000
 * sites within a minute) every other request waited behind those fsyncs. Now a join
 * is checked at once (reads only) and queued, and the queue is committed in one
 * transaction, one fsync, per batch.
 *
 * What a crash may lose: the updates queued since the last commit, that is at most
 * the last `attendance-batch-ms` (200 ms by default) of joins and leaves, never more
 * than `attendance-batch-max` of them, though each was already answered "joined". A
 * clean stop (SIGINT, or SIGTERM after its drain) writes the queue first. Everything
 * else signald stores (bookings, tokens, ...) is still committed before it answers.
 * Attendance is a record of presence whose last fraction of a second may be
 * recovered from the sites rejoining; a booking is not. */
#include "sig-attendance.h"

/* How long the store must be free of attendance writes before its log is emptied. */
#define SIG_ATTENDANCE_IDLE_MS 1000

struct _SigAttendance
{
  RoomsStore *store;
  guint batch_ms;
  guint batch_max;
  guint flush_source;
  guint idle_source;
  guint writes; /* updates written since the idle timer last looked */
  guint burst;  /* updates written since the last idle checkpoint */
};

static gboolean
read_uint (GKeyFile *kf, const char *key, gint64 v, gboolean present, GError *local,
           gint64 lo, gint64 hi, guint *out, GError **error)
{
  if (!present)
    return TRUE;
  if (local != NULL || v < lo || v > hi)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[store] %s must be a whole number from %" G_GINT64_FORMAT
                   " to %" G_GINT64_FORMAT,
                   key, lo, hi);
      return FALSE;
    }
  *out = (guint)v;
  return TRUE;
}

SigAttendance *
sig_attendance_new (RoomsStore *store, GKeyFile *kf, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  guint batch_ms = 200, batch_max = 500;
  GError *e1 = NULL, *e2 = NULL;
  gboolean p1 = kf && g_key_file_has_key (kf, "store", "attendance-batch-ms", NULL);
  gboolean p2 = kf && g_key_file_has_key (kf, "store", "attendance-batch-max", NULL);
  gint64 v1 = p1 ? g_key_file_get_int64 (kf, "store", "attendance-batch-ms", &e1) : 0;
  gint64 v2 = p2 ? g_key_file_get_int64 (kf, "store", "attendance-batch-max", &e2) : 0;
  gboolean ok
      = read_uint (kf, "attendance-batch-ms", v1, p1, e1, 0, 10000, &batch_ms, error)
        && read_uint (kf, "attendance-batch-max", v2, p2, e2, 1, 100000, &batch_max,
                      error);
  g_clear_error (&e1);
  g_clear_error (&e2);
  if (!ok)
    return NULL;
  SigAttendance *a = g_new0 (SigAttendance, 1);
  a->store = store;
  a->batch_ms = batch_ms;
  a->batch_max = batch_max;
  rooms_store_set_attendance_batching (store, batch_ms > 0);
  return a;
}

/* Why PASSIVE while busy and TRUNCATE when idle: a passive checkpoint never waits
 * and lets the next commit reuse the log from its start, so the file stays near the
 * automatic checkpoint's size during a storm; once the storm is over the file is
 * emptied, so a quiet daemon leaves no large log behind. */
static gboolean
idle_cb (gpointer user_data)
{
  SigAttendance *a = user_data;
  g_autoptr (GError) error = NULL;
  int frames = 0;
  if (a->writes > 0)
    {
      a->writes = 0;
      if (!rooms_store_checkpoint (a->store, FALSE, &frames, &error))
        g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
                          "store checkpoint failed: %s", error->message);
      return G_SOURCE_CONTINUE;
    }
  a->idle_source = 0;
  if (!rooms_store_checkpoint (a->store, TRUE, &frames, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
                      "store checkpoint failed: %s", error->message);
  else
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE",
                      "attendance: %u updates written; store log checkpointed "
                      "(%d frames)",
                      a->burst, frames);
  a->burst = 0;
  return G_SOURCE_REMOVE;
}

static void
wrote (SigAttendance *a, guint n)
{
  a->writes += n;
  a->burst += n;
  if (a->idle_source == 0)
    a->idle_source = g_timeout_add (SIG_ATTENDANCE_IDLE_MS, idle_cb, a);
}

static gboolean flush_cb (gpointer user_data);

void
sig_attendance_flush (SigAttendance *a)
{
  g_clear_handle_id (&a->flush_source, g_source_remove);
  guint n = rooms_store_attendance_pending (a->store);
  if (n == 0)
    return;
  g_autoptr (GError) error = NULL;
  if (!rooms_store_flush_attendance (a->store, &error))
    {
      /* kept for the next try; a failing disk is also every booking's problem */
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                        "attendance: %u updates not written yet: %s", n, error->message);
      a->flush_source = g_timeout_add (MAX (a->batch_ms, 1000), flush_cb, a);
      return;
    }
  wrote (a, n);
}

static gboolean
flush_cb (gpointer user_data)
{
  SigAttendance *a = user_data;
  a->flush_source = 0;
  sig_attendance_flush (a);
  return G_SOURCE_REMOVE;
}

static void
queued (SigAttendance *a)
{
  if (a->batch_ms == 0)
    {
      wrote (a, 1); /* written at once by librooms */
      return;
    }
  guint n = rooms_store_attendance_pending (a->store);
  if (n >= a->batch_max)
    sig_attendance_flush (a);
  else if (a->flush_source == 0)
    a->flush_source = g_timeout_add (a->batch_ms, flush_cb, a);
}

gboolean
sig_attendance_join (SigAttendance *a, gint64 occurrence_id, gint64 site_id, gint64 now,
                     GError **error)
{
  if (!rooms_store_record_join (a->store, occurrence_id, site_id, now, error))
    return FALSE;
  queued (a);
  return TRUE;
}

gboolean
sig_attendance_leave (SigAttendance *a, gint64 occurrence_id, gint64 site_id, gint64 now,
                      GError **error)
{
  if (!rooms_store_record_leave (a->store, occurrence_id, site_id, now, error))
    return FALSE;
  queued (a);
  return TRUE;
}

void
sig_attendance_free (SigAttendance *a)
{
  if (a == NULL)
    return;
  sig_attendance_flush (a);
  g_clear_handle_id (&a->flush_source, g_source_remove);
  g_clear_handle_id (&a->idle_source, g_source_remove);
  g_free (a);
}
