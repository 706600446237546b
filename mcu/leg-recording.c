/* leg-recording.c: McuLegRecording (leg-recording.h). */
#include "leg-recording.h"
#include "keyframe.h"
#include "mcu-error.h"
#include "rtcp.h"
#include "rtp.h"

/* The payload types the router gives the recorder's three tracks: all different,
 * so its send function sorts the packets by type alone. */
#define REC_AUDIO_PT 111
#define REC_PROGRAM_PT 96
#define REC_CONTENT_PT 97
/* A keyframe asked for and not seen yet is asked again this often, and given up
 * after a while (no source, or one that ignores PLI: the segment then starts late,
 * on the next keyframe). The router holds any source to one PLI per 300 ms. */
#define KEY_AGAIN_US (500 * 1000)
#define KEY_GIVE_UP_US (3 * G_USEC_PER_SEC)

struct _McuLegRecording
{
  McuLegRecordingSetup setup;
  McuRecorder *rec;
  McuLegRecordingCallbacks callbacks;
  gpointer user_data;
  gboolean routed, mixed, paused;
  /* per video track: a keyframe is wanted (set by the recorder on any thread,
   * cleared by the send function when one passes); atomic */
  gint want[2];
  gint64 wanted_since[2], asked_us[2]; /* the leg's context only */
  GError *stop_error;                  /* why the recorder stopped by itself */
  GSource *over;                       /* the idle that tells the leg so */
};

/* Any thread (the recorder's first packet, its segment timer on the context). */
static void
on_keyframe (McuRecTrack track, gpointer data)
{
  McuLegRecording *r = data;
  if (track == MCU_REC_PROGRAM || track == MCU_REC_CONTENT)
    g_atomic_int_set (&r->want[track], 1);
}

static void
on_segment (const char *file, guint64 bytes, const char *sha256, gpointer data)
{
  McuLegRecording *r = data;
  if (r->callbacks.segment)
    r->callbacks.segment (file, bytes, sha256, r->user_data);
}

/* On the context, from inside the recorder: the leg frees it from an idle of its
 * own, never from within the recorder's callback. */
static void
on_stopped (const GError *error, gpointer data)
{
  McuLegRecording *r = data;
  if (r->over)
    return;
  r->stop_error = error ? g_error_copy (error)
                        : g_error_new_literal (MCU_ERROR, MCU_ERROR_PIPELINE,
                                               "the recording stopped");
  r->over = g_idle_source_new ();
  g_source_set_callback (r->over, r->setup.over, r->setup.over_data, NULL);
  g_source_attach (r->over, r->setup.context);
}

/* The router's send function for the recorder (any thread, several at once): each
 * packet to its track; nothing reaches the network. A keyframe passing satisfies
 * the ask for its track. */
static gboolean
rec_send_rtp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  McuLegRecording *r = peer;
  McuRtpHeader h;
  if (mcu_rtp_parse (pkt, len, &h) != MCU_RTP_OK)
    return FALSE;
  McuRecTrack track;
  if (h.pt == REC_AUDIO_PT)
    track = MCU_REC_AUDIO;
  else if (h.pt == REC_PROGRAM_PT)
    track = MCU_REC_PROGRAM;
  else if (h.pt == REC_CONTENT_PT)
    track = MCU_REC_CONTENT;
  else
    return TRUE; /* nothing else is negotiated: not ours to keep */
  if (track != MCU_REC_AUDIO && g_atomic_int_get (&r->want[track])
      && mcu_payload_is_keyframe (MCU_VIDEO_CODEC_VP8, h.payload, h.payload_len))
    g_atomic_int_set (&r->want[track], 0);
  mcu_recorder_push (r->rec, track, pkt, len);
  return TRUE;
}

/* RTCP for the recorder (the router's NACKs and PLIs go to sources only, but a
 * peer must have the function): it has no transport, so nothing is sent. */
static gboolean
rec_send_rtcp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  return TRUE;
}

static const McuPeerOps rec_ops = { rec_send_rtp, rec_send_rtcp };

McuLegRecording *
mcu_leg_recording_new (const McuLegRecordingSetup *setup, const McuRecorderConfig *config,
                       const McuLegRecordingCallbacks *callbacks, gpointer user_data,
                       GError **error)
{
  g_return_val_if_fail (setup != NULL && setup->id != 0 && config != NULL, NULL);
  McuLegRecording *r = g_new0 (McuLegRecording, 1);
  r->setup = *setup;
  if (callbacks)
    r->callbacks = *callbacks;
  r->user_data = user_data;
  static const McuRecorderCallbacks rec_cb = { on_keyframe, on_segment, on_stopped };
  r->rec = mcu_recorder_new (setup->context, config, &rec_cb, r, error);
  if (r->rec == NULL)
    {
      g_free (r);
      return NULL;
    }
  /* no NACK, no rtx: what the recorder missed stays missed (it is behind no
   * network); level full: the program and the content whole */
  McuPeerInfo info = {
    .kind = MCU_PEER_SITE,
    .audio_pt = REC_AUDIO_PT,
    .video_pt = REC_PROGRAM_PT,
    .video_codec = MCU_VIDEO_CODEC_VP8,
    .content_pt = REC_CONTENT_PT,
    .content_codec = MCU_VIDEO_CODEC_VP8,
  };
  if (!mcu_router_add_peer (setup->router, setup->id, &info, &rec_ops, r))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "leg %s: peer %u is taken",
                   setup->leg_id, setup->id);
      mcu_leg_recording_free (r);
      return NULL;
    }
  r->routed = TRUE;
  if (!mcu_audio_mixer_add (setup->mixer, setup->id, REC_AUDIO_PT, FALSE, error))
    {
      mcu_leg_recording_free (r);
      return NULL;
    }
  r->mixed = TRUE;
  g_log_structured ("lienthong-mcu", G_LOG_LEVEL_INFO, "LT_LEG", setup->leg_id, "MESSAGE",
                    "leg %s: recording %s into %s", setup->leg_id, config->name,
                    config->dir);
  return r;
}

/* A PLI from the recorder's peer naming the stream's output SSRC: the router treats
 * it as any receiver's (forward_keyframe_request), so the ask reaches the source
 * wherever it is, through the links, and counts there. */
void
mcu_leg_recording_tick (McuLegRecording *r, gint64 now_us)
{
  for (int k = 0; k < 2; k++)
    {
      if (!g_atomic_int_get (&r->want[k]))
        {
          r->wanted_since[k] = 0;
          continue;
        }
      if (r->wanted_since[k] == 0)
        r->wanted_since[k] = now_us;
      if (now_us - r->wanted_since[k] > KEY_GIVE_UP_US)
        {
          g_atomic_int_set (&r->want[k], 0);
          continue;
        }
      if (r->asked_us[k] != 0 && now_us - r->asked_us[k] < KEY_AGAIN_US)
        continue;
      guint8 buf[64];
      guint32 media
          = k == MCU_REC_PROGRAM ? r->setup.program_ssrc : r->setup.content_ssrc;
      gsize n = mcu_rtcp_write_pli (buf, sizeof buf, r->setup.program_ssrc ^ 0x52454300u,
                                    media);
      if (n > 0)
        mcu_router_receive_rtcp (r->setup.router, r->setup.id, buf, n, now_us);
      r->asked_us[k] = now_us;
    }
}

void
mcu_leg_recording_set_paused (McuLegRecording *r, gboolean paused)
{
  g_return_if_fail (r != NULL);
  r->paused = paused;
  mcu_recorder_set_paused (r->rec, paused);
}

gboolean
mcu_leg_recording_is_paused (McuLegRecording *r)
{
  g_return_val_if_fail (r != NULL, FALSE);
  return r->paused;
}

void
mcu_leg_recording_free (McuLegRecording *r)
{
  if (r == NULL)
    return;
  /* after these, no thread pushes into the recorder: the router waited for the
   * sends under way, and the mixer's output for this id finds no peer */
  if (r->routed)
    mcu_router_remove_peer (r->setup.router, r->setup.id);
  if (r->mixed)
    mcu_audio_mixer_remove (r->setup.mixer, r->setup.id);
  if (r->over)
    {
      g_source_destroy (r->over);
      g_source_unref (r->over);
    }
  /* the wait for the open segments needs no main loop (recorder.c): it cannot
   * deadlock with the leg's context, which is the caller's */
  mcu_recorder_stop (r->rec);
  mcu_recorder_free (r->rec);
  g_clear_error (&r->stop_error);
  g_free (r);
}

void
mcu_leg_recording_free_stopped (McuLegRecording *r)
{
  g_return_if_fail (r != NULL);
  McuLegRecordingCallbacks cb = r->callbacks;
  gpointer user_data = r->user_data;
  g_autoptr (GError) error = g_steal_pointer (&r->stop_error);
  mcu_leg_recording_free (r);
  if (cb.stopped)
    cb.stopped (error, user_data);
}
