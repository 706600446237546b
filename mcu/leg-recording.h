/* leg-recording.h: McuLegRecording, McuLeg's helper that wires an McuRecorder into
 * a leg (leg.h has the public API: mcu_leg_start_recording() and friends).
 *
 * The recorder is one more peer of the leg's router, which sends nothing on the
 * network: it takes the program and the content as every site at full level gets
 * them (VP8, on payload types of its own so its send function tells them apart),
 * and as a participant of the audio mixer that never speaks it hears the shared
 * encode of the whole mix. Its keyframe asks become PLIs from that peer, which the
 * router forwards to the stream's source (through cascade links too), rate-limited
 * like any receiver's. */
#pragma once

#include "audio-mixer.h"
#include "leg.h"
#include "recorder.h"
#include "router.h"

G_BEGIN_DECLS

typedef struct _McuLegRecording McuLegRecording;

/* Where a recording is wired: the leg's parts, all (transfer none). */
typedef struct
{
  GMainContext *context;
  McuRouter *router;
  McuAudioMixer *mixer;
  const char *leg_id; /* for logs */
  guint id;           /* its peer and participant id: one no member uses */
  guint32 program_ssrc, content_ssrc; /* the router's output SSRCs (PLIs name them) */
  /* the recording stopped by itself: called from an idle on @context; the leg hands
   * the recording back to mcu_leg_recording_free_stopped() */
  GSourceFunc over;
  gpointer over_data;
} McuLegRecordingSetup;

McuLegRecording *mcu_leg_recording_new (const McuLegRecordingSetup *setup,
                                        const McuRecorderConfig *config,
                                        const McuLegRecordingCallbacks *callbacks,
                                        gpointer user_data, GError **error);

/* Every leg tick: the keyframes the recorder asked for, as PLIs to the router. */
void mcu_leg_recording_tick (McuLegRecording *r, gint64 now_us);

void mcu_leg_recording_set_paused (McuLegRecording *r, gboolean paused);
gboolean mcu_leg_recording_is_paused (McuLegRecording *r);

/* Takes it out of the router and the mixer, then stops the recorder (its last
 * segment callbacks are made before this returns) and frees it. NULL is fine. */
void mcu_leg_recording_free (McuLegRecording *r);

/* For the leg's @over: frees a recording that stopped by itself, then makes its
 * stopped callback with the recorder's error, so the callback finds the leg
 * without a recording (it may start another). */
void mcu_leg_recording_free_stopped (McuLegRecording *r);

G_END_DECLS
