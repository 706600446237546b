/* recording.h: the recordings of meetings (issue 17), as kept in the store.
 *
 * The media node that hosts the chair writes the files; the store keeps what an
 * archivist and a secretary need to find and trust them: which occurrence, who
 * started and paused it and when, which node wrote which part (a recording that
 * moves to another node after a failure continues in a new part), and every
 * finished file with its size and SHA-256 as the node reported it. One recording of
 * an occurrence runs at a time. States: recording <-> paused -> stopped | failed;
 * stopped|failed -> expired (its files deleted after the keeping time). */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* Value records (the fields are the API). Times are UTC unix seconds, 0 = not yet. */
typedef struct
{
  guint part;
  char *node_id;
  gint64 started_at, ended_at;
  char
      *reason; /* (nullable) why it ended: "stopped", "closed", "disk", "error", "node" */
} RoomsRecordingPart;

typedef struct
{
  char *name; /* the file's name in the recording's folder */
  guint part;
  char *track; /* "program", "content" */
  guint64 bytes;
  char *sha256; /* lower-case hex */
  gint64 at;    /* when the node reported it finished */
} RoomsRecordingFile;

typedef struct
{
  gint64 at;
  char *by;
  gint64 resumed_at;
  char *resumed_by; /* (nullable) */
} RoomsRecordingPause;

typedef struct
{
  gint64 id, occurrence_id, meeting_id;
  char *title;       /* the meeting's */
  char *state;       /* "recording", "paused", "stopped", "failed", "expired" */
  char *started_by;  /* an account name, or "schedule" */
  char *stop_reason; /* (nullable) */
  gint64 started_at, ended_at;
  GPtrArray *parts;  /* RoomsRecordingPart*, by part */
  GPtrArray *files;  /* RoomsRecordingFile*, by part, track, name */
  GPtrArray *pauses; /* RoomsRecordingPause*, by time */
} RoomsRecording;

void rooms_recording_free (RoomsRecording *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsRecording, rooms_recording_free)

/* Whether the recording is running (recording or paused). */
gboolean rooms_recording_is_active (const RoomsRecording *rec);
/* Bytes of all its files. */
guint64 rooms_recording_bytes (const RoomsRecording *rec);
/* Seconds recorded by @now: the parts' spans less the pauses. */
gint64 rooms_recording_duration (const RoomsRecording *rec, gint64 now);

/**
 * rooms_store_start_recording:
 * @by: who started it (an account name, or "schedule")
 *
 * Returns: (transfer full) (nullable): the new recording, state "recording", with no
 *   part yet; ROOMS_ERROR_NOT_FOUND for an unknown occurrence, ROOMS_ERROR_CONFLICT
 *   when the occurrence already has a running recording
 */
RoomsRecording *rooms_store_start_recording (RoomsStore *store, gint64 occurrence_id,
                                             const char *by, gint64 at, GError **error);

/* A new part written by @node_id (the first, or the next after a node failed). The
 * previous part, if still open, ends with reason "node". */
gboolean rooms_store_recording_add_part (RoomsStore *store, gint64 id, guint part,
                                         const char *node_id, gint64 at, GError **error);
/* Ends @part (no-op when it ended already). */
gboolean rooms_store_recording_end_part (RoomsStore *store, gint64 id, guint part,
                                         const char *reason, gint64 at, GError **error);

/**
 * rooms_store_recording_add_file:
 * Records a finished file. ROOMS_ERROR_CONFLICT when @name is already listed (a file
 * is reported once; its digest is not replaced), ROOMS_ERROR_NOT_FOUND for an
 * unknown recording or part.
 */
gboolean rooms_store_recording_add_file (RoomsStore *store, gint64 id, guint part,
                                         const char *name, const char *track,
                                         guint64 bytes, const char *sha256, gint64 at,
                                         GError **error);

/* Pauses (a pause row by @by) or resumes (the open pause ends). ROOMS_ERROR_ILLEGAL_STATE
 * when it is not recording (to pause) or not paused (to resume). */
gboolean rooms_store_recording_set_paused (RoomsStore *store, gint64 id, gboolean paused,
                                           const char *by, gint64 at, GError **error);

/* Ends a running recording: @state "stopped" or "failed", open parts and pause end
 * at @at. ROOMS_ERROR_ILLEGAL_STATE when it does not run. */
gboolean rooms_store_finish_recording (RoomsStore *store, gint64 id, const char *state,
                                       const char *reason, gint64 at, GError **error);

/* Marks an ended recording expired and forgets its files' rows (their bytes are gone). */
gboolean rooms_store_expire_recording (RoomsStore *store, gint64 id, gint64 at,
                                       GError **error);

/* (transfer full) (nullable): ROOMS_ERROR_NOT_FOUND */
RoomsRecording *rooms_store_get_recording (RoomsStore *store, gint64 id, GError **error);

/* (transfer full) (nullable): the occurrence's running recording, %NULL when none
 * (@error unset) or on a failure (@error set). */
RoomsRecording *rooms_store_active_recording (RoomsStore *store, gint64 occurrence_id,
                                              GError **error);

/**
 * rooms_store_list_recordings:
 * @meeting_id: only this meeting's (0: all)
 * @ended_before: only recordings that ended (stopped or failed, not expired) before
 *   this time (0: any state)
 * @limit: at most this many, newest first
 *
 * Returns: (transfer full) (element-type RoomsRecording): ROOMS_ERROR_STORE
 */
GPtrArray *rooms_store_list_recordings (RoomsStore *store, gint64 meeting_id,
                                        gint64 ended_before, guint limit, GError **error);

G_END_DECLS
