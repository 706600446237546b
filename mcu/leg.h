/* leg.h: McuLeg, one node's part of one meeting occurrence.
 *
 * A leg's members are the sites the node hosts ("site:<id>") and its cascade links
 * ("node:<id>": the uplink to the parent node, which this node dials, and the links
 * its child nodes dial). Each member is one McuEndpoint; the leg wires them to one
 * McuRouter (program video, NACK, PLI) and one McuAudioMixer (everyone hears everyone
 * but themselves: a link's mix-minus carries a whole subtree up or down).
 */
#pragma once

#include "audio-mixer.h"
#include "cert.h"
#include "endpoint.h"
#include "recorder.h"
#include "router.h"

G_BEGIN_DECLS

typedef struct _McuLeg McuLeg;

typedef struct
{
  /* a member's transport changed state; @endpoint is "site:<id>" or "node:<id>" */
  void (*endpoint_state) (const char *endpoint, McuEndpointState state,
                          gpointer user_data);
  /* the loudest unmuted member changed (NULL: nobody speaks) */
  void (*speaker) (const char *endpoint, gpointer user_data);
  /* every 2 s: a JSON array, one object per member: {"endpoint":..,"srtp":..,
   * "pair":{"local":..,"remote":..},"quality":{"leg":..,"up":{..},"down":{..}},
   * "retransmission":{..},"cc":{..}} (the selected ICE pair's candidate types;
   * mcu/quality.h's measures; NACK and RTX counts both ways, see leg.c; the level it
   * gets and its downlink estimate, mcu/bwe.h) */
  void (*stats) (const char *json, gpointer user_data);
} McuLegCallbacks;

/* Called once with an SDP (answer or offer) or an error, on the leg's context. */
typedef void (*McuLegSdpFunc) (const char *sdp, const GError *error, gpointer user_data);

/**
 * mcu_leg_new:
 * @id: the occurrence this leg serves, for logs
 * @config: endpoint settings for every member (ICE addresses, STUN/TURN, consent)
 * @audio: (nullable): the audio mixer's settings, %NULL for its defaults
 *
 * Returns: (transfer full) (nullable): a running leg with no members.
 */
McuLeg *mcu_leg_new (GMainContext *context, McuCert *cert, const char *id,
                     const McuEndpointConfig *config, const McuAudioMixerConfig *audio,
                     const McuLegCallbacks *callbacks, gpointer user_data,
                     GError **error);
void mcu_leg_free (McuLeg *leg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuLeg, mcu_leg_free)

const char *mcu_leg_get_id (McuLeg *leg);

/* Retransmission (on by default): RFC 4588 rtx and generic NACKs negotiated with
 * every member, their NACKs answered, the program source's losses NACKed. Off, for
 * comparisons: none of it, loss is left to keyframes. Set before any member joins. */
void mcu_leg_set_retransmission (McuLeg *leg, gboolean on);

/* A site joins with its offer; @callback gets our answer. A site that joins again
 * replaces its old endpoint. */
void mcu_leg_add_site_async (McuLeg *leg, const char *endpoint, const char *offer,
                             McuMediaLevel level, McuLegSdpFunc callback,
                             gpointer user_data);

/* Parent side: a child node's uplink offer; its fingerprint must be
 * @peer_fingerprint, the one signald vouches for. */
void mcu_leg_accept_link_async (McuLeg *leg, const char *endpoint, const char *offer,
                                const char *peer_fingerprint, McuLegSdpFunc callback,
                                gpointer user_data);

/* Child side: dial the parent; @callback gets our offer for signald to relay. */
void mcu_leg_open_uplink_async (McuLeg *leg, const char *endpoint,
                                const char *peer_fingerprint, McuLegSdpFunc callback,
                                gpointer user_data);
/* Child side: the parent's answer to our uplink offer. */
gboolean mcu_leg_set_uplink_answer (McuLeg *leg, const char *endpoint, const char *answer,
                                    GError **error);

gboolean mcu_leg_add_candidate (McuLeg *leg, const char *endpoint, const char *candidate,
                                GError **error);
void mcu_leg_remove (McuLeg *leg, const char *endpoint);
gboolean mcu_leg_has (McuLeg *leg, const char *endpoint);
guint mcu_leg_n_members (McuLeg *leg);

/* @via: where the floor holder's video enters this node ("site:<id>" or
 * "node:<id>"), NULL for no program. */
void mcu_leg_set_floor (McuLeg *leg, const char *via);
/* @via: where the presenter's content enters this node, as for the floor; NULL
 * for no content. Content from any other member is dropped (and counted). */
void mcu_leg_set_content (McuLeg *leg, const char *via);
void mcu_leg_set_muted (McuLeg *leg, const char *endpoint, gboolean muted);
void mcu_leg_set_level (McuLeg *leg, const char *endpoint, McuMediaLevel level);

/* Counters of a member's router side, for statistics. */
gboolean mcu_leg_get_counters (McuLeg *leg, const char *endpoint, McuPeerCounters *out);

/* --- recording (issue 17) ------------------------------------------------------
 * The leg records what it relays, without transcoding (mcu/recorder.h): the
 * program and the whole mix into one file per segment, the content into its own.
 * The recorder is wired like a site at full level that sends nothing (no member:
 * it appears in no statistics or endpoint states); each segment starts on a
 * keyframe asked of the stream's source. VP8 only: an H.264 program is not
 * recorded. */

typedef struct
{
  /* a segment was finished and hashed (recorder.h); on the leg's context, and
   * from inside mcu_leg_stop_recording() for the last ones */
  void (*segment) (const char *file, guint64 bytes, const char *sha256,
                   gpointer user_data);
  /* the recording stopped by itself (MCU_ERROR_NO_SPACE: disk low; else a write
   * error); the leg no longer records when this is called */
  void (*stopped) (const GError *error, gpointer user_data);
} McuLegRecordingCallbacks;

/**
 * mcu_leg_start_recording:
 * @config: (transfer none): the folder (it must exist), the file name stem, the
 *   segment length
 * @error: MCU_ERROR_INVALID when the leg records already or the folder cannot be
 *   written, MCU_ERROR_NO_SPACE when it has too little free, MCU_ERROR_UNSUPPORTED
 *   or MCU_ERROR_PIPELINE when GStreamer lacks a part
 *
 * One recording per leg at a time. Returns: %TRUE when it records.
 */
gboolean mcu_leg_start_recording (McuLeg *leg, const McuRecorderConfig *config,
                                  const McuLegRecordingCallbacks *callbacks,
                                  gpointer user_data, GError **error);
/* Paused, media is dropped (the files' timelines keep the gap). */
void mcu_leg_pause_recording (McuLeg *leg, gboolean paused);
/* Finishes the open segments (waits up to 10 s), reports them, and ends the
 * recording; no stopped callback. Nothing when it does not record. */
void mcu_leg_stop_recording (McuLeg *leg);
/* TRUE while a recording runs (paused or not). */
gboolean mcu_leg_is_recording (McuLeg *leg);
gboolean mcu_leg_recording_paused (McuLeg *leg);

G_END_DECLS
