/* sig-recording.h: recordings while meetings run (issue 17; PROTOCOL.md, "Recording").
 * Part of the runtime: the store keeps what was recorded, this part decides which
 * node records and tells it.
 *
 * The node hosting the chair's hall records: it relays the program and the content
 * and mixes the whole meeting's sound already. When that changes (the node dies and
 * the chair re-homes above it, or a node registers again) the recording moves: the
 * old part ends, and the node hosting the chair now writes a new part in the same
 * folder. Pauses, stops and the files each node reports are kept in the store, and
 * every change is told to the meeting's subscribers and halls as a `recording`
 * event. */
#pragma once

#include "rooms.h"
#include "sig-runtime.h"

G_BEGIN_DECLS

/**
 * sig_recording_start:
 * @by: who starts it (an account name, "schedule")
 *
 * Returns: (transfer full) (nullable): the recording; ROOMS_ERROR_ILLEGAL_STATE when
 *   the occurrence has no open leg, ROOMS_ERROR_CONFLICT when it records already
 */
RoomsRecording *sig_recording_start (SigRuntime *rt, gint64 occurrence_id, const char *by,
                                     GError **error);
/* Pauses or resumes; ROOMS_ERROR_ILLEGAL_STATE when nothing runs or it is so already. */
RoomsRecording *sig_recording_set_paused (SigRuntime *rt, gint64 occurrence_id,
                                          gboolean paused, const char *by,
                                          GError **error);
/* Stops; ROOMS_ERROR_ILLEGAL_STATE when nothing runs. */
RoomsRecording *sig_recording_stop (SigRuntime *rt, gint64 occurrence_id, GError **error);

/* The running recording of @occurrence_id: its id (0: none) and @paused (optional). */
gint64 sig_recording_current (SigRuntime *rt, gint64 occurrence_id, gboolean *paused);

/* A node's record.started, record.segment or record.stopped, checked against what
 * that node was told to record. SIG_ERROR_FORBIDDEN for a recording or part it does
 * not write; SIG_ERROR_INVALID for a malformed one. */
gboolean sig_recording_node_message (SigRuntime *rt, const char *node_id,
                                     const char *type, JsonObject *o, GError **error);

/* Deletes the files of recordings that ended over [recordings] keep-days ago and
 * marks them expired (audited by the caller from the returned ids, (element-type
 * gint64)). */
GArray *sig_recording_expire (SigRuntime *rt);

/* ---- hooks of the runtime (sig-cascade.c) ---- */
void sig_recording_init (SigRuntime *rt);
void sig_recording_clear (SigRuntime *rt);
/* A leg opened: a meeting booked to record starts (unless this occurrence was
 * recorded already), one that was recording before signald restarted continues. */
void sig_recording_leg_opened (SigRuntime *rt, gint64 meeting_id, gint64 occurrence_id);
/* A leg closes: its recording stops (reason "closed"). */
void sig_recording_leg_closing (SigRuntime *rt, gint64 occurrence_id);
/* Node @node_id went down, or registers again (its process may be new): what it
 * was writing is a finished part. Call sig_recording_follow() after. */
void sig_recording_node_gone (SigRuntime *rt, const char *node_id);
/* Nodes came or went, or the chair's hall was routed: each recording follows the
 * node hosting the chair, in a new part when that node changed. */
void sig_recording_follow (SigRuntime *rt);

G_END_DECLS
