/* video-mixer.h: continuous-presence composites of one meeting leg.
 *
 * For sites that can decode only one stream, the node decodes every participant
 * once and composes them into layouts, each encoded once per layout and size and
 * shared by every site that asked for it.
 */
#pragma once

#include "keyframe.h"

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MCU_LAYOUT_GRID,        /* equal tiles, ceil(sqrt(n)) columns */
  MCU_LAYOUT_CHAIR_LARGE, /* the chair big on the left, the others in a column */
  MCU_LAYOUT_SPEAKER,     /* the active speaker big, the others in a strip below */
} McuLayout;

const char *mcu_layout_name (McuLayout layout);
/* Returns FALSE for an unknown name ("grid", "chair-large", "speaker"). */
gboolean mcu_layout_from_name (const char *name, McuLayout *layout);

typedef struct _McuVideoMixer McuVideoMixer;

/* Called on a streaming thread with each encoded VP8 RTP packet of an output. */
typedef void (*McuVideoMixerOutputFunc) (guint output, const guint8 *rtp, gsize len,
                                         gpointer user_data);
/* Called on a streaming thread when a participant's decoder needs a keyframe
 * (after loss): the router sends that source a PLI. */
typedef void (*McuVideoMixerKeyframeFunc) (guint participant, gpointer user_data);

typedef struct
{
  guint framerate;                           /* composite frames per second; 0 = 15 */
  guint jitter_latency_ms;                   /* 0 = 100 */
  McuVideoMixerKeyframeFunc keyframe_needed; /* nullable */
} McuVideoMixerConfig;

/**
 * mcu_video_mixer_new:
 * @config: (nullable): settings
 * @output: receives every encoded packet of every output
 *
 * Returns: (transfer full) (nullable): a running mixer with no participants, or
 * %NULL with @error set (MCU_ERROR_PIPELINE) when elements are missing.
 */
McuVideoMixer *mcu_video_mixer_new (const McuVideoMixerConfig *config,
                                    McuVideoMixerOutputFunc output, gpointer user_data,
                                    GError **error);
void mcu_video_mixer_free (McuVideoMixer *mixer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuVideoMixer, mcu_video_mixer_free)

/**
 * mcu_video_mixer_add:
 * @id: non-zero, unique
 * @label: (nullable): the site name drawn on its tile (UTF-8)
 * @codec: what it sends (VP8; H.264 where a decoder is installed)
 */
gboolean mcu_video_mixer_add (McuVideoMixer *mixer, guint id, const char *label,
                              guint8 payload_type, McuVideoCodec codec, GError **error);
void mcu_video_mixer_remove (McuVideoMixer *mixer, guint id);
/* Any thread. Packets for unknown ids are dropped. */
void mcu_video_mixer_push_rtp (McuVideoMixer *mixer, guint id, const guint8 *rtp,
                               gsize len);

/**
 * mcu_video_mixer_add_output:
 * @payload_type: the VP8 payload type the receivers negotiated
 *
 * Returns an output of @layout at @width x @height, creating it on first use; the
 * same layout and size asked twice give the same output (counted: release it as
 * often as it was added).
 *
 * Returns: the output id (non-zero), or 0 with @error set.
 */
guint mcu_video_mixer_add_output (McuVideoMixer *mixer, McuLayout layout, guint width,
                                  guint height, guint8 payload_type, GError **error);
void mcu_video_mixer_release_output (McuVideoMixer *mixer, guint output);
guint mcu_video_mixer_n_outputs (McuVideoMixer *mixer);

/* The chair (for chair-large) and the active speaker (for speaker); 0 = none. */
void mcu_video_mixer_set_chair (McuVideoMixer *mixer, guint id);
void mcu_video_mixer_set_speaker (McuVideoMixer *mixer, guint id);
/* Asks an output's encoder for a keyframe (a receiver sent PLI or joined). */
void mcu_video_mixer_request_keyframe (McuVideoMixer *mixer, guint output);

G_END_DECLS
