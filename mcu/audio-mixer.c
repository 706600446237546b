/* audio-mixer.c: mix-minus for N participants with O(N) GStreamer elements.
 *
 * The obvious mix-minus, one audiomixer per participant fed by everyone else, costs
 * N*(N-1) mixer inputs. Instead every decoded input goes into one main audiomixer
 * that makes the full mix M, and each participant i gets a two-input audiomixer
 * that adds M and its own signal multiplied by -1 (audioamplify). Aggregators align
 * their inputs by running time, so the cancellation is sample-exact, and in F32 it
 * cannot clip. Muting i mutes its pad in the main mixer and its negated pad, so it
 * hears M, which no longer holds its voice.
 *
 *   appsrc ! rtpjitterbuffer ! rtpopusdepay ! opusdec ! convert ! F32 ! level ! tee_i
 *   tee_i ! queue ! main audiomixer ! tee_M
 *   tee_M ! queue ! mixer_i.sink_0 ; tee_i ! queue ! audioamplify(-1) ! mixer_i.sink_1
 *   mixer_i ! opusenc ! rtpopuspay ! appsink --> output callback
 *
 * A silent live source keeps the main mixer producing while nobody sends.
 */
#include "audio-mixer.h"
#include "mcu-error.h"
#include "pipeline-util.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <math.h>

GST_DEBUG_CATEGORY_STATIC (mcu_audio_mixer_debug);
#define GST_CAT_DEFAULT mcu_audio_mixer_debug

#define MIX_CAPS "audio/x-raw,format=F32LE,rate=48000,channels=1,layout=interleaved"
#define SPEECH_THRESHOLD_DB (-50.0)

typedef struct
{
  McuAudioMixer *mixer; /* (unowned) */
  guint id;
  GstElement *in_bin, *out_bin; /* (owned by the pipeline once added) */
  GstElement *appsrc;           /* (owned by bin) */
  GstPad *main_pad;             /* the main mixer's request pad fed by this input */
  GstPad *neg_pad;              /* mixer_i's pad carrying -x_i */
  GstPad *tee_m_pad;            /* tee_M's request pad feeding this participant */
  double level_db;              /* under mixer->lock */
  gint64 level_time;            /* under mixer->lock */
  guint64 played_ns;            /* decoded output, PLC included; under mixer->lock */
  guint64 concealed_ns;         /* covered by the jitter buffer's lost events; ditto */
} Participant;

struct _McuAudioMixer
{
  GstElement *pipeline;
  GstElement *main_mix, *tee_m;
  McuAudioMixerConfig config;
  McuAudioMixerOutputFunc output;
  gpointer user_data;
  GMutex lock;              /* guards participants' levels and the id map for pushes */
  GHashTable *participants; /* id -> Participant*, owned */
};

static void
participant_free (gpointer data)
{
  Participant *p = data;
  g_clear_object (&p->appsrc);
  g_clear_object (&p->main_pad);
  g_clear_object (&p->neg_pad);
  g_clear_object (&p->tee_m_pad);
  g_free (p);
}

static void
note_level (McuAudioMixer *m, GstMessage *msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  const GValue *rms = gst_structure_get_value (s, "rms");
  /* the level element is named "level-<id>" */
  const char *name = GST_OBJECT_NAME (GST_MESSAGE_SRC (msg));
  if (rms == NULL || !g_str_has_prefix (name, "level-"))
    return;
  guint id = (guint)g_ascii_strtoull (name + 6, NULL, 10);
  GValueArray *arr = g_value_get_boxed (rms);
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  double db = arr && arr->n_values ? g_value_get_double (&arr->values[0]) : -200;
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_mutex_lock (&m->lock);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  if (p)
    {
      p->level_db = db;
      p->level_time = g_get_monotonic_time ();
    }
  g_mutex_unlock (&m->lock);
}

/* Every message is handled here, on the thread that posts it, and dropped: nobody
 * polls this bus. A sync handler that answers GST_BUS_DROP owns the message. */
static GstBusSyncReply
on_bus_sync (GstBus *bus, GstMessage *msg, gpointer data)
{
  McuAudioMixer *m = data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
      && gst_structure_has_name (gst_message_get_structure (msg), "level"))
    note_level (m, msg);
  return mcu_pipeline_drop_message (msg, GST_CAT_DEFAULT);
}

McuAudioMixer *
mcu_audio_mixer_new (const McuAudioMixerConfig *config, McuAudioMixerOutputFunc output,
                     gpointer user_data, GError **error)
{
  g_return_val_if_fail (output != NULL, NULL);

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  GST_DEBUG_CATEGORY_INIT (mcu_audio_mixer_debug, "mcu-audio-mixer", 0,
                           "audio mix-minus");

  g_autoptr (GError) local = NULL;
  GstElement *pipeline = gst_parse_launch (
      "audiotestsrc is-live=true wave=silence samplesperbuffer=480 ! " MIX_CAPS " ! "
      "audiomixer name=main_mix latency=20000000 ! " MIX_CAPS
      " ! tee name=tee_m allow-not-linked=true",
      &local);
  if (pipeline == NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_PIPELINE, "audio mixer: %s",
                   local->message);
      return NULL;
    }

  McuAudioMixer *m = g_new0 (McuAudioMixer, 1);
  m->pipeline = pipeline;
  m->output = output;
  m->user_data = user_data;
  if (config)
    m->config = *config;
  if (m->config.jitter_latency_ms == 0)
    m->config.jitter_latency_ms = 60;
  if (m->config.bitrate == 0)
    m->config.bitrate = 32000;
  if (m->config.complexity == 0 || m->config.complexity > 10)
    m->config.complexity = MCU_AUDIO_MIXER_COMPLEXITY;
  g_mutex_init (&m->lock);
  m->participants = g_hash_table_new_full (NULL, NULL, NULL, participant_free);
  m->main_mix = gst_bin_get_by_name (GST_BIN (pipeline), "main_mix");
  m->tee_m = gst_bin_get_by_name (GST_BIN (pipeline), "tee_m");

  g_autoptr (GstBus) bus = gst_pipeline_get_bus (GST_PIPELINE (pipeline));
  gst_bus_set_sync_handler (bus, on_bus_sync, m, NULL);

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error_literal (error, MCU_ERROR, MCU_ERROR_PIPELINE,
                           "audio mixer: the pipeline would not start");
      mcu_audio_mixer_free (m);
      return NULL;
    }
  return m;
}

static GstFlowReturn
on_encoded (GstAppSink *sink, gpointer data)
{
  Participant *p = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstMapInfo map;

  if (buf && gst_buffer_map (buf, &map, GST_MAP_READ))
    {
      p->mixer->output (p->id, map.data, map.size, p->mixer->user_data);
      gst_buffer_unmap (buf, &map);
    }
  return GST_FLOW_OK;
}

/* Streaming thread: the jitter buffer declared packets lost (missing, or too late
 * for its deadline: a late packet is dropped after its lost event went out). The
 * event says how long a stretch is missing; the decoder conceals exactly that
 * stretch (PLC, or in-band FEC from the next packet, counted as concealed too:
 * the pessimistic side). */
static GstPadProbeReturn
on_lost_event (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Participant *p = data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  const GstStructure *st = ev ? gst_event_get_structure (ev) : NULL;
  if (ev == NULL || GST_EVENT_TYPE (ev) != GST_EVENT_CUSTOM_DOWNSTREAM || st == NULL
      || !gst_structure_has_name (st, "GstRTPPacketLost"))
    return GST_PAD_PROBE_OK;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  if (!gst_structure_get_clock_time (st, "duration", &duration)
      || !GST_CLOCK_TIME_IS_VALID (duration) || duration == 0)
    duration = 20 * GST_MSECOND; /* spacing not known yet: one Opus frame */
  g_mutex_lock (&p->mixer->lock);
  p->concealed_ns += duration;
  g_mutex_unlock (&p->mixer->lock);
  return GST_PAD_PROBE_OK;
}

/* Streaming thread: everything the decoder outputs is what is played for this
 * participant, concealment included. */
static GstPadProbeReturn
on_decoded (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Participant *p = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (buf == NULL || !GST_BUFFER_DURATION_IS_VALID (buf))
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&p->mixer->lock);
  p->played_ns += GST_BUFFER_DURATION (buf);
  g_mutex_unlock (&p->mixer->lock);
  return GST_PAD_PROBE_OK;
}

/* How much of a participant's audio was concealed. Counted from the jitter
 * buffer's GstRTPPacketLost events (on the depayloader's input) against the
 * decoder's output, rather than from rtpjitterbuffer's "stats" (num-lost,
 * num-late): those count packets, not time, so they would need an assumed packet
 * duration, and num-late counts packets whose stretch was already counted lost.
 * Nor from GST_BUFFER_FLAG_GAP: opusdec's concealment output does not carry it. */
static void
watch_playout (Participant *p)
{
  g_autoptr (GstElement) depay = gst_bin_get_by_name (GST_BIN (p->in_bin), "depay");
  g_autoptr (GstElement) dec = gst_bin_get_by_name (GST_BIN (p->in_bin), "dec");
  g_autoptr (GstPad) depay_sink = gst_element_get_static_pad (depay, "sink");
  g_autoptr (GstPad) dec_src = gst_element_get_static_pad (dec, "src");
  gst_pad_add_probe (depay_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_lost_event, p,
                     NULL);
  gst_pad_add_probe (dec_src, GST_PAD_PROBE_TYPE_BUFFER, on_decoded, p, NULL);
}

/* Builds one participant's two bins. Two, not one: a single bin would sit both
 * before and after the main mixer, a loop in the pipeline's graph of elements.
 * in:  appsrc ! jitterbuffer ! depay ! opusdec ! F32 ! level ! tee, with ghost src
 *      pads "mix" (its voice, to the main mixer) and "neg" (its voice times -1);
 * out: ghost sink pads "full" (the full mix) and "neg", mixed, encoded, to appsink.
 * No queue between the tee and the two mixers is leaky: a buffer dropped on one
 * path and not the other leaves the participant's own voice in its mix. Overload is
 * shed once, at the appsrc, before the tee. */
static gboolean
participant_bins (McuAudioMixer *m, Participant *p, guint8 pt, gboolean fec,
                  GError **error)
{
  g_autofree char *in_desc = g_strdup_printf (
      "appsrc name=src is-live=true format=time do-timestamp=true max-bytes=65536 "
      "leaky-type=downstream "
      "  caps=\"application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,"
      "payload=%u\" ! "
      "rtpjitterbuffer latency=%u do-lost=true drop-on-latency=true ! "
      "rtpopusdepay name=depay ! "
      "opusdec name=dec plc=true use-inband-fec=%s ! audioconvert ! audioresample "
      "! " MIX_CAPS " ! "
      "level name=level-%u interval=200000000 post-messages=true ! tee name=t "
      "t. ! queue name=to_main max-size-time=1000000000 "
      "t. ! queue max-size-time=1000000000 ! audioamplify name=negate "
      "amplification=-1 clipping-method=none",
      pt, m->config.jitter_latency_ms, fec ? "true" : "false", p->id);
  g_autofree char *out_desc = g_strdup_printf (
      "queue name=from_main max-size-time=1000000000 ! mix.sink_0 "
      "queue name=from_neg max-size-time=1000000000 ! mix.sink_1 "
      /* no latency of its own: its deadline must be the main mixer's, so that a
       * voice too late for the full mix is too late for its negated copy too */
      "audiomixer name=mix ! " MIX_CAPS " ! audioconvert ! "
      "opusenc bitrate=%u complexity=%u frame-size=20 inband-fec=true "
      "packet-loss-percentage=5 ! "
      "rtpopuspay pt=%u ! appsink name=out emit-signals=true sync=false async=false "
      "max-buffers=50 drop=true",
      m->config.bitrate, m->config.complexity, pt);
  g_autoptr (GError) local = NULL;
  p->in_bin = gst_parse_bin_from_description (in_desc, FALSE, &local);
  if (p->in_bin)
    p->out_bin = gst_parse_bin_from_description (out_desc, FALSE, &local);
  if (p->out_bin == NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_PIPELINE, "audio mixer participant: %s",
                   local->message);
      g_clear_pointer (&p->in_bin, gst_object_unref);
      return FALSE;
    }
  static const struct
  {
    gboolean in;
    const char *element, *pad, *ghost;
  } ghosts[] = {
    { TRUE, "to_main", "src", "mix" },
    { TRUE, "negate", "src", "neg" },
    { FALSE, "from_main", "sink", "full" },
    { FALSE, "from_neg", "sink", "neg" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (ghosts); i++)
    {
      GstElement *bin = ghosts[i].in ? p->in_bin : p->out_bin;
      g_autoptr (GstElement) e = gst_bin_get_by_name (GST_BIN (bin), ghosts[i].element);
      g_autoptr (GstPad) pad = gst_element_get_static_pad (e, ghosts[i].pad);
      gst_element_add_pad (bin, gst_ghost_pad_new (ghosts[i].ghost, pad));
    }
  p->appsrc = gst_bin_get_by_name (GST_BIN (p->in_bin), "src");
  g_autoptr (GstElement) out = gst_bin_get_by_name (GST_BIN (p->out_bin), "out");
  g_autoptr (GstElement) mix = gst_bin_get_by_name (GST_BIN (p->out_bin), "mix");
  /* Started at running time 0, a mixer joining an hour-long leg would first encode
   * an hour of catch-up silence in one burst: start it at "now". */
  g_object_set (mix, "start-time-selection", 2 /* set */, "start-time",
                mcu_pipeline_running_time (m->pipeline), NULL);
  g_signal_connect (out, "new-sample", G_CALLBACK (on_encoded), p);
  p->neg_pad = gst_element_get_static_pad (mix, "sink_1");
  watch_playout (p);
  return TRUE;
}

gboolean
mcu_audio_mixer_add (McuAudioMixer *m, guint id, guint8 pt, gboolean fec, GError **error)
{
  g_return_val_if_fail (m != NULL && id != 0, FALSE);

  if (g_hash_table_contains (m->participants, GUINT_TO_POINTER (id)))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "participant %u is already in the mix", id);
      return FALSE;
    }
  Participant *p = g_new0 (Participant, 1);
  p->mixer = m;
  p->id = id;
  p->level_db = -200;
  if (!participant_bins (m, p, pt, fec, error))
    {
      participant_free (p);
      return FALSE;
    }

  gst_bin_add_many (GST_BIN (m->pipeline), p->in_bin, p->out_bin, NULL);
  p->main_pad = gst_element_request_pad_simple (m->main_mix, "sink_%u");
  p->tee_m_pad = gst_element_request_pad_simple (m->tee_m, "src_%u");
  g_autoptr (GstPad) mix_ghost = gst_element_get_static_pad (p->in_bin, "mix");
  g_autoptr (GstPad) neg_src = gst_element_get_static_pad (p->in_bin, "neg");
  g_autoptr (GstPad) neg_sink = gst_element_get_static_pad (p->out_bin, "neg");
  g_autoptr (GstPad) full_ghost = gst_element_get_static_pad (p->out_bin, "full");
  gboolean linked = gst_pad_link (mix_ghost, p->main_pad) == GST_PAD_LINK_OK
                    && gst_pad_link (neg_src, neg_sink) == GST_PAD_LINK_OK
                    && gst_pad_link (p->tee_m_pad, full_ghost) == GST_PAD_LINK_OK;

  g_mutex_lock (&m->lock);
  g_hash_table_insert (m->participants, GUINT_TO_POINTER (id), p);
  g_mutex_unlock (&m->lock);
  if (!linked)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_PIPELINE,
                   "participant %u: could not link into the mix", id);
      mcu_audio_mixer_remove (m, id); /* tears the half-linked bins down */
      return FALSE;
    }
  /* downstream first, so nothing is pushed into an element not yet running */
  gst_element_sync_state_with_parent (p->out_bin);
  gst_element_sync_state_with_parent (p->in_bin);
  /* the new input's jitter buffer adds latency: every mixer must wait for it the
   * same way, or its voice lands at different times in the full mix and in its own
   * negated copy, and the mix-minus no longer cancels it */
  gst_bin_recalculate_latency (GST_BIN (m->pipeline));
  GST_INFO ("participant %u added (pt %u, fec %d)", id, pt, fec);
  return TRUE;
}

/* Shared by unlink_idle() and its probe, which may fire on a streaming thread after
 * unlink_idle() gave up waiting: reference-counted (g_atomic_rc_box), one reference
 * each, the probe's dropped by GStreamer once the probe is gone. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
} Unlink;

static void
unlink_clear (gpointer data)
{
  Unlink *u = data;
  g_mutex_clear (&u->lock);
  g_cond_clear (&u->cond);
}

static void
unlink_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, unlink_clear);
}

static GstPadProbeReturn
unlink_when_idle (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Unlink *u = data;
  GstPad *peer = gst_pad_get_peer (pad);
  if (peer)
    {
      gst_pad_unlink (pad, peer);
      gst_object_unref (peer);
    }
  g_mutex_lock (&u->lock);
  u->done = TRUE;
  g_cond_signal (&u->cond);
  g_mutex_unlock (&u->lock);
  return GST_PAD_PROBE_REMOVE;
}

/* Unlinks @pad from its peer between two buffers, waiting (briefly: the queues
 * downstream keep flowing in real time, so a push never blocks long) for the probe
 * to fire. A stream stuck past the wait is unlinked here; the probe, removed, may
 * still be running on its thread, which is why it holds its own reference. */
static void
unlink_idle (GstPad *pad)
{
  Unlink *u = g_atomic_rc_box_new0 (Unlink);
  g_mutex_init (&u->lock);
  g_cond_init (&u->cond);
  gulong probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_IDLE, unlink_when_idle,
                                    g_atomic_rc_box_acquire (u), unlink_release);
  g_mutex_lock (&u->lock);
  gint64 deadline = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (!u->done)
    if (!g_cond_wait_until (&u->cond, &u->lock, deadline))
      break;
  gboolean done = u->done;
  g_mutex_unlock (&u->lock);
  if (!done)
    {
      /* the stream is stuck; unlink anyway, the pad's owner goes away next */
      if (probe != 0)
        gst_pad_remove_probe (pad, probe);
      GstPad *peer = gst_pad_get_peer (pad);
      if (peer)
        {
          gst_pad_unlink (pad, peer);
          gst_object_unref (peer);
        }
    }
  unlink_release (u);
}

void
mcu_audio_mixer_remove (McuAudioMixer *m, guint id)
{
  g_return_if_fail (m != NULL);

  g_mutex_lock (&m->lock);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  if (p)
    g_hash_table_steal (m->participants, GUINT_TO_POINTER (id));
  g_mutex_unlock (&m->lock);
  if (p == NULL)
    return;

  unlink_idle (p->tee_m_pad);
  gst_element_release_request_pad (m->tee_m, p->tee_m_pad);
  g_autoptr (GstPad) mix_ghost = gst_element_get_static_pad (p->in_bin, "mix");
  unlink_idle (mix_ghost);
  gst_element_release_request_pad (m->main_mix, p->main_pad);

  /* upstream first, so nothing is pushed into an element already stopped */
  gst_element_set_state (p->in_bin, GST_STATE_NULL);
  gst_element_set_state (p->out_bin, GST_STATE_NULL);
  gst_bin_remove_many (GST_BIN (m->pipeline), p->in_bin, p->out_bin, NULL);
  GST_INFO ("participant %u removed", id);
  participant_free (p);
}

void
mcu_audio_mixer_push_rtp (McuAudioMixer *m, guint id, const guint8 *rtp, gsize len)
{
  g_return_if_fail (m != NULL);

  if (rtp == NULL || len < 12)
    return;
  g_mutex_lock (&m->lock);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  GstElement *src = p ? gst_object_ref (p->appsrc) : NULL;
  g_mutex_unlock (&m->lock);
  if (src == NULL)
    return;
  GstBuffer *buf = gst_buffer_new_memdup (rtp, len);
  gst_app_src_push_buffer (GST_APP_SRC (src), buf);
  gst_object_unref (src);
}

void
mcu_audio_mixer_set_muted (McuAudioMixer *m, guint id, gboolean muted)
{
  g_return_if_fail (m != NULL);

  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  if (p == NULL)
    return;
  g_object_set (p->main_pad, "mute", muted, NULL);
  g_object_set (p->neg_pad, "mute", muted, NULL);
}

guint
mcu_audio_mixer_active_speaker (McuAudioMixer *m)
{
  g_return_val_if_fail (m != NULL, 0);

  GHashTableIter it;
  gpointer key, value;
  guint best = 0;
  double best_db = SPEECH_THRESHOLD_DB;
  /* levels come every 200 ms; under load they lag, so a speaker is current for 2.5 s */
  gint64 stale = g_get_monotonic_time () - 5 * G_USEC_PER_SEC / 2;

  g_mutex_lock (&m->lock);
  g_hash_table_iter_init (&it, m->participants);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      Participant *p = value;
      gboolean muted = FALSE;
      g_object_get (p->main_pad, "mute", &muted, NULL);
      if (!muted && p->level_time > stale && p->level_db > best_db)
        {
          best_db = p->level_db;
          best = p->id;
        }
    }
  g_mutex_unlock (&m->lock);
  return best;
}

guint
mcu_audio_mixer_n_participants (McuAudioMixer *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return g_hash_table_size (m->participants);
}

void
mcu_audio_mixer_free (McuAudioMixer *m)
{
  if (m == NULL)
    return;
  gst_element_set_state (m->pipeline, GST_STATE_NULL);
  g_autoptr (GstBus) bus = gst_pipeline_get_bus (GST_PIPELINE (m->pipeline));
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  g_hash_table_destroy (m->participants);
  gst_object_unref (m->main_mix);
  gst_object_unref (m->tee_m);
  gst_object_unref (m->pipeline);
  g_mutex_clear (&m->lock);
  g_free (m);
}

gboolean
mcu_audio_mixer_get_playout (McuAudioMixer *m, guint id, guint64 *played_ms,
                             guint64 *concealed_ms)
{
  g_return_val_if_fail (m != NULL, FALSE);
  g_mutex_lock (&m->lock);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  if (played_ms)
    *played_ms = p ? p->played_ns / GST_MSECOND : 0;
  if (concealed_ms)
    *concealed_ms = p ? p->concealed_ns / GST_MSECOND : 0;
  g_mutex_unlock (&m->lock);
  return p != NULL;
}
