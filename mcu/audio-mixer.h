/* audio-mixer.h: the audio mix of one meeting leg on a node, with mix-minus.
 *
 * Every participant (a local site, or a cascade link to the parent or a child node)
 * sends Opus RTP in. Only the few loudest (max_speakers) are mixed; each of them gets
 * the mix of the others from an encoder of its own (mix-minus), and everyone else,
 * most of a province's hundred communes at any moment, gets one shared encode of the
 * whole mix. Each participant receives one continuous RTP stream (its own sequence
 * numbers and timestamps) whichever encoder serves it. Muted participants are not
 * mixed. The mixer also tells which participant speaks loudest.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _McuAudioMixer McuAudioMixer;

/**
 * McuAudioMixerOutputFunc:
 * @participant: the id the packet is for
 * @rtp: (transfer none): one plaintext Opus RTP packet
 * @len: its length
 * @user_data: as given to mcu_audio_mixer_new()
 *
 * Called on a GStreamer streaming thread, once per encoded 20 ms frame per
 * participant. It must not block and must not call back into the mixer.
 */
typedef void (*McuAudioMixerOutputFunc) (guint participant, const guint8 *rtp, gsize len,
                                         gpointer user_data);

typedef struct
{
  guint jitter_latency_ms; /* rtpjitterbuffer latency of each input; 0 = 60 ms */
  guint bitrate;           /* Opus bitrate of each output in bit/s; 0 = 32000 */
  /* Opus encoder complexity of each output, 1-10; 0 = MCU_AUDIO_MIXER_COMPLEXITY.
   * Every participant has an encoder of its own (mix-minus), so this sets most of
   * the mixer's CPU: on this project's machines one 32 kbit/s output costs about
   * 14 CPU ms per second at 10 and 4 at 5 (bench-mixer prints both). */
  guint complexity;
  /* How many of the loudest participants are mixed; 0 = MCU_AUDIO_MIXER_SPEAKERS. */
  guint max_speakers;
} McuAudioMixerConfig;

#define MCU_AUDIO_MIXER_COMPLEXITY 5
/* Three: a meeting takes turns, so one voice plus two for the overlaps (a reply, an
 * interruption, the chair cutting in). A fourth slot mostly adds an open hall's room
 * noise to everyone's mix and costs one more encoder. */
#define MCU_AUDIO_MIXER_SPEAKERS 3

/**
 * mcu_audio_mixer_new:
 * @config: (nullable): settings, %NULL for the defaults
 * @output: called with every encoded packet for every participant
 * @user_data: passed to @output
 * @error: set when the GStreamer elements needed are missing
 *
 * Builds and starts the pipeline of one leg. The pipeline runs on GStreamer's own
 * threads; the object itself belongs to the thread that created it, whose
 * thread-default main context must run: speakers are switched from there.
 *
 * Returns: (transfer full) (nullable): the mixer, or %NULL with @error set.
 */
McuAudioMixer *mcu_audio_mixer_new (const McuAudioMixerConfig *config,
                                    McuAudioMixerOutputFunc output, gpointer user_data,
                                    GError **error);

/**
 * mcu_audio_mixer_add:
 * @id: the participant's id, non-zero and unique in this mixer
 * @payload_type: the Opus payload type of what it sends and of what it receives
 * @fec: whether it offered Opus in-band FEC (a=fmtp useinbandfec=1)
 *
 * Returns: %TRUE, or %FALSE with @error set (duplicate id, elements failed).
 */
gboolean mcu_audio_mixer_add (McuAudioMixer *mixer, guint id, guint8 payload_type,
                              gboolean fec, GError **error);

/* Removes a participant; unknown ids are ignored. */
void mcu_audio_mixer_remove (McuAudioMixer *mixer, guint id);

/**
 * mcu_audio_mixer_push_rtp:
 * @rtp: (transfer none): one plaintext Opus RTP packet from participant @id
 *
 * Safe to call from any thread. Packets for unknown ids are dropped.
 */
void mcu_audio_mixer_push_rtp (McuAudioMixer *mixer, guint id, const guint8 *rtp,
                               gsize len);

/**
 * mcu_audio_mixer_set_level_ext:
 * @ext_id: the RTP header extension ID negotiated for the RFC 6464 audio level
 *   (MCU_AUDIO_LEVEL_EXT_URI) of what @id sends, 0 for none
 *
 * With it, an input whose packets say it is silent (or that sends Opus DTX, which
 * needs no extension) is not decoded: its packets are only kept, the last
 * MCU_AUDIO_MIXER_PARKED_MS of them, and when it gets loud enough to be among the
 * loudest few its decoder starts from those. Speakers are then chosen from the
 * levels the packets declare. Packets without a usable level are decoded as
 * before. Unknown ids are ignored.
 */
void mcu_audio_mixer_set_level_ext (McuAudioMixer *mixer, guint id, guint8 ext_id);

/* How much undecoded audio a silent input keeps for its decoder to start from. */
#define MCU_AUDIO_MIXER_PARKED_MS 160

/* What became of the packets one participant sent, cumulative since it was added. */
typedef struct
{
  guint64 packets;        /* pushed to the mixer */
  guint64 parked;         /* kept undecoded: silent, or not among the loudest */
  guint64 decoded_frames; /* frames its decoder output, concealment included */
  gboolean decoding;      /* its decoder is fed now */
} McuAudioMixerInputStats;

/**
 * mcu_audio_mixer_get_input_stats:
 * @out: (out caller-allocates): zeroed for an unknown id
 *
 * Safe to call from any thread. Returns: TRUE when @id is in the mix.
 */
gboolean mcu_audio_mixer_get_input_stats (McuAudioMixer *mixer, guint id,
                                          McuAudioMixerInputStats *out);

/* A muted participant's voice is left out of every mix; it still hears the others. */
void mcu_audio_mixer_set_muted (McuAudioMixer *mixer, guint id, gboolean muted);

/**
 * mcu_audio_mixer_set_loss:
 * @percent: the loss participant @id reports on what we send it (RTCP receiver
 *   reports), 0-100
 *
 * Sets the Opus in-band FEC of what @id receives: its own encoder's expected packet
 * loss, or, while it hears the shared encode, that encoder's (which follows the
 * lossiest of its listeners). 0 turns FEC off. Unknown ids are ignored. Safe to call
 * from any thread; the encoders follow on the mixer's main context.
 */
void mcu_audio_mixer_set_loss (McuAudioMixer *mixer, guint id, guint percent);

/**
 * mcu_audio_mixer_is_speaker:
 *
 * Returns: %TRUE while @id is among the loudest mixed and served by its own encoder.
 */
gboolean mcu_audio_mixer_is_speaker (McuAudioMixer *mixer, guint id);

/* How many Opus encoders run: one per speaker served alone, plus the shared one. */
guint mcu_audio_mixer_n_encoders (McuAudioMixer *mixer);

/**
 * mcu_audio_mixer_active_speaker:
 *
 * Returns: the id of the participant whose recent audio level is highest and above
 * the speech threshold (-50 dBFS), or 0 when nobody speaks.
 */
guint mcu_audio_mixer_active_speaker (McuAudioMixer *mixer);

guint mcu_audio_mixer_n_participants (McuAudioMixer *mixer);

/**
 * mcu_audio_mixer_get_playout:
 * @id: a participant
 * @played_ms: (out) (optional): how much of its audio was rendered for the mix since
 *   it was added: decoded (concealment included), or known silent and not decoded
 *   (mcu_audio_mixer_set_level_ext()), which conceals nothing
 * @concealed_ms: (out) (optional): how much of that was concealed (packets lost, or
 *   too late for the jitter buffer), filled by the decoder
 *
 * Cumulative; safe to call from any thread. Both are 0 for an unknown id.
 * Returns: TRUE when @id is in the mix.
 */
gboolean mcu_audio_mixer_get_playout (McuAudioMixer *mixer, guint id, guint64 *played_ms,
                                      guint64 *concealed_ms);

void mcu_audio_mixer_free (McuAudioMixer *mixer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuAudioMixer, mcu_audio_mixer_free)

G_END_DECLS
