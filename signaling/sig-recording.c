/* sig-recording.c: which node records a running meeting, and what it reported
 * (see sig-recording.h). */
#include "sig-recording.h"

#include "sig-alarms.h"
#include "sig-error.h"
#include "sig-runtime-private.h"
#include "sig-validate.h"

#include <glib/gstdio.h>
#include <string.h>

/* A node's files of a part still arrive after it ended: the open segments are
 * finished and hashed after the stop (at most 10 s of muxing, then the digest). */
#define LATE_FILES_S 120

typedef struct
{
  gint64 occurrence_id, meeting_id, recording_id;
  guint part; /* the part being written; the last one when none is */
  char *node; /* the node writing it, NULL while none can */
  gboolean paused;
} Rec;

static void
rec_free (gpointer data)
{
  Rec *r = data;
  g_free (r->node);
  g_free (r);
}

void
sig_recording_init (SigRuntime *rt)
{
  rt->recordings = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, rec_free);
}

void
sig_recording_clear (SigRuntime *rt)
{
  g_clear_pointer (&rt->recordings, g_hash_table_unref);
}

static Rec *
rec_lookup (SigRuntime *rt, gint64 occurrence_id)
{
  return rt->recordings ? g_hash_table_lookup (rt->recordings, &occurrence_id) : NULL;
}

static void log_rec (const Rec *r, GLogLevelFlags level, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);

static void
log_rec (const Rec *r, GLogLevelFlags level, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_autofree char *mid = g_strdup_printf ("%" G_GINT64_FORMAT, r->meeting_id);
  g_log_structured (G_LOG_DOMAIN, level, "LT_MEETING_ID", mid, "MESSAGE",
                    "occurrence %" G_GINT64_FORMAT ": recording %" G_GINT64_FORMAT ": %s",
                    r->occurrence_id, r->recording_id, text);
}

/* The `recording` event, to the meeting's subscribers and every hall of it. */
static void
rec_event (SigRuntime *rt, const Rec *r, const char *state)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "recording");
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, r->occurrence_id);
  json_builder_set_member_name (b, "recording_id");
  json_builder_add_int_value (b, r->recording_id);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, state);
  sig_cascade_publish_all (rt, r->occurrence_id, b);
}

static JsonBuilder *
cmd_begin (const char *type, const Rec *r)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, r->occurrence_id);
  json_builder_set_member_name (b, "recording_id");
  json_builder_add_int_value (b, r->recording_id);
  return b;
}

static void
cmd_send (SigRuntime *rt, const char *node, JsonBuilder *b)
{
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  if (sig_runtime_node_up (rt, node))
    rt->sink.to_node (rt->sink_data, node, root);
}

static void
send_start (SigRuntime *rt, const Rec *r)
{
  g_autoptr (JsonBuilder) b = cmd_begin ("record.start", r);
  json_builder_set_member_name (b, "part");
  json_builder_add_int_value (b, r->part);
  json_builder_set_member_name (b, "segment_s");
  json_builder_add_int_value (b, rt->config->recording_segment_s);
  cmd_send (rt, r->node, b);
  if (r->paused)
    {
      g_autoptr (JsonBuilder) p = cmd_begin ("record.pause", r);
      json_builder_set_member_name (p, "paused");
      json_builder_add_boolean_value (p, TRUE);
      cmd_send (rt, r->node, p);
    }
}

static void
send_stop (SigRuntime *rt, const Rec *r)
{
  g_autoptr (JsonBuilder) b = cmd_begin ("record.stop", r);
  cmd_send (rt, r->node, b);
}

/* The node that should record: the one carrying the chair's hall now. */
static const char *
wanted_node (SigRuntime *rt, gint64 occurrence_id)
{
  gint64 chair = sig_cascade_chair_site (rt, occurrence_id);
  return chair > 0 ? sig_cascade_site_node (rt, occurrence_id, chair) : NULL;
}

/* Ends the part being written (the node is gone, or another takes over). */
static void
end_part (SigRuntime *rt, Rec *r, const char *reason)
{
  if (r->node == NULL)
    return;
  g_autoptr (GError) error = NULL;
  if (!rooms_store_recording_end_part (rt->store, r->recording_id, r->part, reason,
                                       sig_runtime_now (rt), &error))
    log_rec (r, G_LOG_LEVEL_WARNING, "ending part %u: %s", r->part, error->message);
  g_clear_pointer (&r->node, g_free);
}

/* Moves @r to the node hosting the chair, in a new part; @force even when that is
 * the node writing it now (a node that registered again may be a new process). */
static void
follow (SigRuntime *rt, Rec *r, gboolean force)
{
  const char *want = wanted_node (rt, r->occurrence_id);
  if (!force && r->node != NULL && g_strcmp0 (want, r->node) == 0
      && sig_runtime_node_up (rt, r->node))
    return;
  if (r->node != NULL)
    {
      send_stop (rt, r); /* a node that is down hears nothing; its files stay */
      end_part (rt, r, "node");
    }
  if (want == NULL)
    return; /* no node carries the chair: the next registration brings one */
  g_autoptr (GError) error = NULL;
  guint part = r->part + 1;
  if (!rooms_store_recording_add_part (rt->store, r->recording_id, part, want,
                                       sig_runtime_now (rt), &error))
    {
      log_rec (r, G_LOG_LEVEL_WARNING, "part %u on %s: %s", part, want, error->message);
      return;
    }
  r->part = part;
  r->node = g_strdup (want);
  log_rec (r, G_LOG_LEVEL_MESSAGE, "part %u recorded by %s", part, want);
  send_start (rt, r);
}

void
sig_recording_follow (SigRuntime *rt)
{
  if (rt->recordings == NULL)
    return;
  g_autoptr (GList) recs = g_hash_table_get_values (rt->recordings);
  for (GList *l = recs; l; l = l->next)
    follow (rt, l->data, FALSE);
}

void
sig_recording_node_gone (SigRuntime *rt, const char *node_id)
{
  if (rt->recordings == NULL)
    return;
  g_autoptr (GList) recs = g_hash_table_get_values (rt->recordings);
  for (GList *l = recs; l; l = l->next)
    if (g_strcmp0 (((Rec *)l->data)->node, node_id) == 0)
      end_part (rt, l->data, "node");
}

static Rec *
rec_add (SigRuntime *rt, gint64 meeting_id, const RoomsRecording *rec)
{
  Rec *r = g_new0 (Rec, 1);
  r->occurrence_id = rec->occurrence_id;
  r->meeting_id = meeting_id;
  r->recording_id = rec->id;
  r->paused = g_strcmp0 (rec->state, "paused") == 0;
  for (guint i = 0; i < rec->parts->len; i++)
    r->part = MAX (r->part, ((RoomsRecordingPart *)rec->parts->pdata[i])->part);
  g_hash_table_insert (rt->recordings, &r->occurrence_id, r);
  return r;
}

/* Reloads what the store holds now, for the caller's answer. */
static RoomsRecording *
reload (SigRuntime *rt, gint64 id, GError **error)
{
  return rooms_store_get_recording (rt->store, id, error);
}

RoomsRecording *
sig_recording_start (SigRuntime *rt, gint64 occurrence_id, const char *by, GError **error)
{
  if (!sig_cascade_is_open (rt, occurrence_id))
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "occurrence %" G_GINT64_FORMAT " is not open: nothing to record",
                   occurrence_id);
      return NULL;
    }
  g_autoptr (RoomsRecording) rec = rooms_store_start_recording (
      rt->store, occurrence_id, by, sig_runtime_now (rt), error);
  if (rec == NULL)
    return NULL;
  Rec *r = rec_add (rt, rec->meeting_id, rec);
  log_rec (r, G_LOG_LEVEL_MESSAGE, "started by %s", by);
  follow (rt, r, FALSE);
  rec_event (rt, r, "recording");
  return reload (rt, r->recording_id, error);
}

RoomsRecording *
sig_recording_set_paused (SigRuntime *rt, gint64 occurrence_id, gboolean paused,
                          const char *by, GError **error)
{
  Rec *r = rec_lookup (rt, occurrence_id);
  if (r == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "occurrence %" G_GINT64_FORMAT " is not being recorded",
                   occurrence_id);
      return NULL;
    }
  if (!rooms_store_recording_set_paused (rt->store, r->recording_id, paused, by,
                                         sig_runtime_now (rt), error))
    return NULL;
  r->paused = paused;
  if (r->node)
    {
      g_autoptr (JsonBuilder) b = cmd_begin ("record.pause", r);
      json_builder_set_member_name (b, "paused");
      json_builder_add_boolean_value (b, paused);
      cmd_send (rt, r->node, b);
    }
  log_rec (r, G_LOG_LEVEL_MESSAGE, "%s by %s", paused ? "paused" : "resumed", by);
  rec_event (rt, r, paused ? "paused" : "recording");
  return reload (rt, r->recording_id, error);
}

/* Ends @r in the store and forgets it: "stopped" with @reason, told to the node
 * (unless it told us) and to the meeting. */
static gboolean
finish (SigRuntime *rt, Rec *r, const char *reason, gboolean tell_node, GError **error)
{
  if (tell_node && r->node)
    send_stop (rt, r);
  if (!rooms_store_finish_recording (rt->store, r->recording_id, "stopped", reason,
                                     sig_runtime_now (rt), error))
    return FALSE;
  log_rec (r, G_LOG_LEVEL_MESSAGE, "stopped (%s)", reason);
  rec_event (rt, r, "stopped");
  gint64 occ = r->occurrence_id;
  g_hash_table_remove (rt->recordings, &occ);
  return TRUE;
}

RoomsRecording *
sig_recording_stop (SigRuntime *rt, gint64 occurrence_id, GError **error)
{
  Rec *r = rec_lookup (rt, occurrence_id);
  if (r == NULL)
    {
      g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_ILLEGAL_STATE,
                   "occurrence %" G_GINT64_FORMAT " is not being recorded",
                   occurrence_id);
      return NULL;
    }
  gint64 id = r->recording_id;
  if (!finish (rt, r, "stopped", TRUE, error))
    return NULL;
  return reload (rt, id, error);
}

gint64
sig_recording_current (SigRuntime *rt, gint64 occurrence_id, gboolean *paused)
{
  Rec *r = rec_lookup (rt, occurrence_id);
  if (paused)
    *paused = r && r->paused;
  return r ? r->recording_id : 0;
}

void
sig_recording_leg_opened (SigRuntime *rt, gint64 meeting_id, gint64 occurrence_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RoomsRecording) running
      = rooms_store_active_recording (rt->store, occurrence_id, &error);
  if (running != NULL)
    {
      /* signald restarted while it ran: whoever wrote the last part is asked again,
       * in a new part (its process may be new too) */
      Rec *r = rec_add (rt, meeting_id, running);
      if (r->part > 0)
        rooms_store_recording_end_part (rt->store, r->recording_id, r->part, "node",
                                        sig_runtime_now (rt), NULL);
      follow (rt, r, TRUE);
      rec_event (rt, r, r->paused ? "paused" : "recording");
      return;
    }
  g_autoptr (RoomsMeeting) m = rooms_store_get_meeting (rt->store, meeting_id, NULL);
  if (m == NULL || !rooms_meeting_get_record (m))
    return;
  /* a secretary who stopped it meant it: a restart of signald does not start again */
  g_autoptr (GPtrArray) earlier
      = rooms_store_list_recordings (rt->store, meeting_id, 0, 0, NULL);
  for (guint i = 0; earlier && i < earlier->len; i++)
    if (((RoomsRecording *)earlier->pdata[i])->occurrence_id == occurrence_id)
      return;
  g_autoptr (RoomsRecording) rec
      = sig_recording_start (rt, occurrence_id, "schedule", &error);
  if (rec == NULL)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "occurrence %" G_GINT64_FORMAT ": the booked recording did not "
                      "start: %s",
                      occurrence_id, error->message);
}

void
sig_recording_leg_closing (SigRuntime *rt, gint64 occurrence_id)
{
  Rec *r = rec_lookup (rt, occurrence_id);
  g_autoptr (GError) error = NULL;
  if (r != NULL && !finish (rt, r, "closed", TRUE, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                      "occurrence %" G_GINT64_FORMAT ": stopping its recording: %s",
                      occurrence_id, error->message);
}

/* ---- what nodes report ---- */

static const SigParam params_started[] = {
  { "v", SIG_PARAM_INT, FALSE, 1, 1, FALSE, NULL },
  { "type", SIG_PARAM_STRING, TRUE, 1, 32, FALSE, NULL },
  { "occurrence_id", SIG_PARAM_INT, TRUE, 1, G_MAXINT64, FALSE, NULL },
  { "recording_id", SIG_PARAM_INT, TRUE, 1, G_MAXINT64, FALSE, NULL },
  { "part", SIG_PARAM_INT, TRUE, 1, G_MAXINT32, FALSE, NULL },
  { NULL },
};

static const SigParam params_segment[] = {
  { "v", SIG_PARAM_INT, FALSE, 1, 1, FALSE, NULL },
  { "type", SIG_PARAM_STRING, TRUE, 1, 32, FALSE, NULL },
  { "occurrence_id", SIG_PARAM_INT, TRUE, 1, G_MAXINT64, FALSE, NULL },
  { "recording_id", SIG_PARAM_INT, TRUE, 1, G_MAXINT64, FALSE, NULL },
  { "part", SIG_PARAM_INT, TRUE, 1, G_MAXINT32, FALSE, NULL },
  { "file", SIG_PARAM_STRING, TRUE, 1, 64, FALSE, NULL },
  { "bytes", SIG_PARAM_INT, TRUE, 0, G_MAXINT64, FALSE, NULL },
  { "sha256", SIG_PARAM_STRING, TRUE, 64, 64, FALSE, NULL },
  { NULL },
};

static const SigParam params_stopped[] = {
  { "v", SIG_PARAM_INT, FALSE, 1, 1, FALSE, NULL },
  { "type", SIG_PARAM_STRING, TRUE, 1, 32, FALSE, NULL },
  { "occurrence_id", SIG_PARAM_INT, TRUE, 1, G_MAXINT64, FALSE, NULL },
  { "recording_id", SIG_PARAM_INT, TRUE, 1, G_MAXINT64, FALSE, NULL },
  { "part", SIG_PARAM_INT, TRUE, 1, G_MAXINT32, FALSE, NULL },
  { "reason", SIG_PARAM_STRING, TRUE, 1, 16, FALSE, NULL },
  { "message", SIG_PARAM_STRING, FALSE, 0, 1000, TRUE, NULL },
  { NULL },
};

/* "p<part>-program-00001.webm" or "p<part>-content-00001.webm": the names a node
 * makes, and nothing that could leave the recording's folder. Returns: the track. */
static const char *
segment_track (const char *file, guint part)
{
  g_autofree char *prefix = g_strdup_printf ("p%u-", part);
  if (!g_str_has_prefix (file, prefix))
    return NULL;
  const char *rest = file + strlen (prefix);
  const char *track = g_str_has_prefix (rest, "program-")   ? "program"
                      : g_str_has_prefix (rest, "content-") ? "content"
                                                            : NULL;
  if (track == NULL)
    return NULL;
  const char *num = rest + strlen (track) + 1;
  gsize digits = strspn (num, "0123456789");
  return digits >= 5 && digits <= 9 && strcmp (num + digits, ".webm") == 0 ? track : NULL;
}

/* The part @part of recording @id as the store has it, when @node wrote it. */
static const RoomsRecordingPart *
part_of (const RoomsRecording *rec, guint part, const char *node)
{
  for (guint i = 0; rec && i < rec->parts->len; i++)
    {
      const RoomsRecordingPart *p = rec->parts->pdata[i];
      if (p->part == part && g_strcmp0 (p->node_id, node) == 0)
        return p;
    }
  return NULL;
}

static gboolean
forbidden (GError **error, const char *node, gint64 id, gint64 part)
{
  g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
               "%s does not write part %" G_GINT64_FORMAT
               " of recording %" G_GINT64_FORMAT,
               node, part, id);
  return FALSE;
}

static gboolean
node_segment (SigRuntime *rt, const char *node, JsonObject *o, GError **error)
{
  gint64 id = sig_json_int (o, "recording_id"), part = sig_json_int (o, "part");
  gint64 occ = sig_json_int (o, "occurrence_id");
  g_autoptr (RoomsRecording) rec = rooms_store_get_recording (rt->store, id, NULL);
  const RoomsRecordingPart *p
      = rec && rec->occurrence_id == occ ? part_of (rec, (guint)part, node) : NULL;
  /* a part's files may come a little after it ended, never long after */
  if (p == NULL || (p->ended_at && sig_runtime_now (rt) - p->ended_at > LATE_FILES_S)
      || g_strcmp0 (rec->state, "expired") == 0)
    return forbidden (error, node, id, part);
  const char *file = sig_json_string (o, "file");
  const char *sha = sig_json_string (o, "sha256");
  const char *track = segment_track (file, (guint)part);
  if (track == NULL || strspn (sha, "0123456789abcdef") != 64)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "record.segment: want file p<part>-program|content-NNNNN.webm and a "
                   "lower-case hex sha256");
      return FALSE;
    }
  return rooms_store_recording_add_file (rt->store, id, (guint)part, file, track,
                                         (guint64)sig_json_int (o, "bytes"), sha,
                                         sig_runtime_now (rt), error);
}

static gboolean
node_stopped (SigRuntime *rt, const char *node, JsonObject *o, GError **error)
{
  gint64 occ = sig_json_int (o, "occurrence_id"), id = sig_json_int (o, "recording_id");
  gint64 part = sig_json_int (o, "part");
  const char *reason = sig_json_string (o, "reason");
  const char *message = sig_json_string (o, "message");
  Rec *r = rec_lookup (rt, occ);
  if (r == NULL || r->recording_id != id || g_strcmp0 (r->node, node) != 0
      || r->part != part)
    {
      /* an earlier part of this node, ending as we asked: already ended here */
      g_autoptr (RoomsRecording) rec = rooms_store_get_recording (rt->store, id, NULL);
      if (rec && rec->occurrence_id == occ && part_of (rec, (guint)part, node))
        return TRUE;
      return forbidden (error, node, id, part);
    }
  if (g_strcmp0 (reason, "disk") != 0 && g_strcmp0 (reason, "error") != 0)
    {
      /* the node stopped without being asked (its leg closed under it): the next
       * registration or routing change starts a new part */
      end_part (rt, r, reason);
      return TRUE;
    }
  /* the node could not go on writing: the meeting goes on, the recording ends, and
   * the staff are told why */
  g_autofree char *subject
      = g_strdup_printf ("%" G_GINT64_FORMAT ":recording:%" G_GINT64_FORMAT, occ, id);
  g_autofree char *detail = g_strdup_printf ("the recording stopped on %s: %s", node,
                                             message && *message ? message : reason);
  sig_alarm_raise (rt,
                   strcmp (reason, "disk") == 0 ? "recording.disk" : "recording.error",
                   subject, r->meeting_id, occ, detail, sig_runtime_now (rt));
  end_part (rt, r, reason);
  return finish (rt, r, reason, FALSE, error);
}

gboolean
sig_recording_node_message (SigRuntime *rt, const char *node_id, const char *type,
                            JsonObject *o, GError **error)
{
  const SigParam *params = strcmp (type, "record.segment") == 0   ? params_segment
                           : strcmp (type, "record.stopped") == 0 ? params_stopped
                                                                  : params_started;
  g_autofree char *field = NULL;
  if (!sig_validate_object (o, params, &field, error))
    return FALSE;
  if (strcmp (type, "record.segment") == 0)
    return node_segment (rt, node_id, o, error);
  if (strcmp (type, "record.stopped") == 0)
    return node_stopped (rt, node_id, o, error);
  /* record.started: only an acknowledgement, but only of what it was told */
  Rec *r = rec_lookup (rt, sig_json_int (o, "occurrence_id"));
  if (r == NULL || r->recording_id != sig_json_int (o, "recording_id")
      || g_strcmp0 (r->node, node_id) != 0 || r->part != sig_json_int (o, "part"))
    return forbidden (error, node_id, sig_json_int (o, "recording_id"),
                      sig_json_int (o, "part"));
  return TRUE;
}

/* ---- expiry ---- */

/* Deletes the folder of recording @id: its files, the manifests, the folder. */
static void
delete_folder (SigRuntime *rt, gint64 id)
{
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  g_autofree char *dir = g_build_filename (rt->config->recordings_dir, name, NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *f;
  while (d && (f = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, f, NULL);
      if (g_unlink (path) != 0)
        g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE",
                          "expiring recording %" G_GINT64_FORMAT ": %s: %s", id, path,
                          g_strerror (errno));
    }
  g_rmdir (dir);
}

GArray *
sig_recording_expire (SigRuntime *rt)
{
  GArray *done = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (rt->config->recording_keep_days <= 0)
    return done;
  gint64 now = sig_runtime_now (rt);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) old = rooms_store_list_recordings (
      rt->store, 0, now - rt->config->recording_keep_days * 86400, 0, &error);
  for (guint i = 0; old && i < old->len; i++)
    {
      const RoomsRecording *rec = old->pdata[i];
      delete_folder (rt, rec->id);
      if (rooms_store_expire_recording (rt->store, rec->id, now, &error))
        g_array_append_val (done, rec->id);
      else
        g_clear_error (&error);
    }
  return done;
}
