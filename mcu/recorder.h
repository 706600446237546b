/* recorder.h: McuRecorder, a meeting kept on disk without transcoding.
 *
 * The node that hosts the chair records what it already relays (issue 17): the
 * program video and the full audio mix into one WebM file per segment, the content
 * (a presenter's screen) into a WebM file of its own per segment, each segment
 * starting on a keyframe (asked for through the keyframe callback) so it plays
 * alone. Segments are cut every segment_s seconds by GStreamer's splitmuxsink; a
 * crash loses at most the open one. After each segment closes its SHA-256 is taken
 * (off the caller's thread) and the manifest, <name>.manifest.json in the folder,
 * is rewritten whole (a new file renamed over the old), so it always lists every
 * finished segment with its size and digest: an archivist verifies a recording
 * against it years later.
 *
 * The recorder takes RTP as the router sends it to a peer: one continuous stream per
 * track (the router's rewriting spans source switches), VP8 for the videos, Opus
 * for the mix. Paused, it drops what comes: the files' timelines keep the gap.
 *
 * Disk: the folder must be writable at creation (a clear error, not a crash later)
 * and have min_free_bytes free; while it records, free space is checked every
 * second, and below the threshold the recording stops cleanly (the open segments
 * are finished and listed) and the stopped callback says why. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MCU_REC_PROGRAM, /* VP8, with the audio in one file */
  MCU_REC_CONTENT, /* VP8, a file of its own */
  MCU_REC_AUDIO,   /* Opus: the full mix */
  MCU_REC_N_TRACKS,
} McuRecTrack;

typedef struct
{
  const char *dir;        /* an existing folder */
  const char *name;       /* file name stem: "<name>-program-00001.webm" */
  guint segment_s;        /* 0: 60 */
  guint64 min_free_bytes; /* 0: 256 MiB */
} McuRecorderConfig;

typedef struct
{
  /* A keyframe of @track is wanted (a segment starts). Any thread. */
  void (*keyframe) (McuRecTrack track, gpointer user_data);
  /* A segment was finished and hashed: @file (its name in the folder), its size
   * and its SHA-256 (hex). On the recorder's context. */
  void (*segment) (const char *file, guint64 bytes, const char *sha256,
                   gpointer user_data);
  /* The recording stopped by itself (low disk: MCU_ERROR_NO_SPACE; a write
   * error), after its open segments were finished and their segment callbacks
   * made. On the recorder's context. */
  void (*stopped) (const GError *error, gpointer user_data);
} McuRecorderCallbacks;

typedef struct _McuRecorder McuRecorder;

/**
 * mcu_recorder_new:
 * @context: (nullable): where the callbacks run and the disk is watched
 * @error: MCU_ERROR_INVALID for a folder that does not exist or cannot be
 *   written, MCU_ERROR_NO_SPACE when it has less than min_free_bytes free,
 *   MCU_ERROR_UNSUPPORTED when a GStreamer element is missing
 *
 * Returns: (transfer full) (nullable): a recorder, already recording
 */
McuRecorder *mcu_recorder_new (GMainContext *context, const McuRecorderConfig *config,
                               const McuRecorderCallbacks *callbacks, gpointer user_data,
                               GError **error);

/* An RTP packet of @track (plaintext), with any payload type (each peer of a
 * router has its own). Any thread; dropped while paused or stopped. */
void mcu_recorder_push (McuRecorder *rec, McuRecTrack track, const guint8 *rtp,
                        gsize len);

void mcu_recorder_set_paused (McuRecorder *rec, gboolean paused);
gboolean mcu_recorder_is_recording (McuRecorder *rec);

/**
 * mcu_recorder_stop:
 * Finishes the open segments (waits for them, at most 10 s: the wait needs no
 * main loop), hashes them and writes the final manifest; the segment callbacks
 * of every segment not yet reported are made before it returns, so a caller
 * that frees the recorder next loses none. Idempotent. Call on the recorder's
 * context.
 */
void mcu_recorder_stop (McuRecorder *rec);

/* The manifest's path, (transfer none). */
const char *mcu_recorder_manifest_path (McuRecorder *rec);

/* Stops (if it still records) and frees. NULL is accepted. */
void mcu_recorder_free (McuRecorder *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuRecorder, mcu_recorder_free)

G_END_DECLS
