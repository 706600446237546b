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
/* audio-mixer.c: mix-minus of the loudest few, one shared encode for everyone else.
 *
 * A province node mixes about a hundred communes, nearly all silent at any moment.
 * Only the max_speakers loudest are unmuted in the main audiomixer, whose output M
 * is the mix. M is encoded once by a shared encoder whose packets go to every
 * participant not speaking. A speaker i gets mix-minus from an encoder of its own:
 * a two-input audiomixer that adds M and its own signal times -1 (audioamplify);
 * aggregators align their inputs by running time, so the cancellation is
 * sample-exact, and in F32 it cannot clip. That way the cost is max_speakers + 1
 * encoders, not N.
 *
 * Nor N decoders, where the packets say how loud they are (the RFC 6464 audio level
 * a browser sends, or Opus DTX): an input that says it is silent, or too quiet to
 * be among the loudest, is parked, its packets kept undecoded (see park()), and
 * levels and speakers come from the packets. Inputs that say nothing are decoded
 * and measured by their level element, as they always were.
 *
 *   appsrc ! rtpjitterbuffer ! rtpopusdepay ! opusdec ! F32 ! level ! tee_i
 *   tee_i ! queue ! main audiomixer (pad muted unless i speaks) ! tee_M
 *   tee_M ! queue ! opusenc ! rtpopuspay ! appsink      (shared, always running)
 *   speaker i only: tee_M ! queue ! mixer_i.sink_0 ;
 *                   tee_i ! queue ! audioamplify(-1) ! mixer_i.sink_1 ;
 *                   mixer_i ! opusenc ! rtpopuspay ! appsink
 *
 * Every mixer makes 20 ms buffers on one grid of running time, so packet k of any
 * encoder holds the same 20 ms. Each participant's RTP sequence number and
 * timestamp are computed from that frame index, not taken from the encoder, so a
 * participant moved between its own encoder and the shared one sees one stream
 * without a jump; the switch happens at the first frame the new encoder has (see
 * deliver()). Speakers are chosen on the streaming threads as levels come in and
 * their encoders built and torn down on the mixer's own main context.
 *
 * A silent live source keeps the main mixer producing while nobody sends.
 */
#include "audio-mixer.h"
#include "audio-level.h"
#include "mcu-error.h"
#include "pipeline-util.h"
#include "rtp.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mcu_audio_mixer_debug);
#define GST_CAT_DEFAULT mcu_audio_mixer_debug

#define MIX_CAPS "audio/x-raw,format=F32LE,rate=48000,channels=1,layout=interleaved"
#define SPEECH_THRESHOLD_DB (-50.0)
#define FRAME_NS (20 * GST_MSECOND)
#define FRAME_SAMPLES 960
/* Every mixer places each input buffer exactly at its timestamp. By default an
 * audiomixer keeps counting samples from an input's first buffer and ignores
 * timestamps within 40 ms of that count for up to a second; a speaker's own mixer,
 * which joins the stream later than the main one, would then place its negated
 * voice elsewhere than the main mixer placed the voice, by whatever the stream's
 * early timestamps were off, and the two would not cancel. */
#define ALIGN "alignment-threshold=0 discont-wait=0"
/* A speaker quiet for this long gives its place up: short pauses between words and
 * sentences must not move it back and forth. */
#define HANGOVER_US (1500 * G_TIME_SPAN_MILLISECOND)
/* A newcomer takes the place of the quietest speaker only when this much louder. */
#define TAKEOVER_DB 6.0
#define LOSS_MAX 50
/* Parked inputs (see park()): the undecoded packets kept per input, room for
 * MCU_AUDIO_MIXER_PARKED_MS of 20 ms packets, each up to one datagram. */
#define RING_PACKETS (MCU_AUDIO_MIXER_PARKED_MS / 20)
#define RING_MTU 1500
/* An input decoded because it was loud (or its level unknown) stays decoded this
 * long after it was last either, so that a pause between words does not restart
 * its decoder. */
#define DECODE_HOLD_US (500 * G_TIME_SPAN_MILLISECOND)
/* Inputs decoded beyond max_speakers because they are loud: the next ones in line,
 * whose decoders then run when they take a place. */
#define DECODE_MARGIN 2
/* Levels from the packets are averaged over this many (100 ms of 20 ms packets), as
 * the level element averages decoded audio over 100 ms. */
#define LEVEL_WINDOW 5

typedef enum
{
  SRC_NONE,
  SRC_SHARED,
  SRC_OWN,
} Source;

typedef enum
{
  OWN_NONE,     /* on the shared encode, no encoder of its own */
  OWN_STARTING, /* its encoder runs, not heard yet; the switch to it is pending */
  OWN_ACTIVE,   /* mixed, and served by its encoder */
  OWN_STOPPING, /* out of the mix; the switch back to the shared encode is pending */
} OwnState;

typedef struct
{
  McuAudioMixer *mixer; /* (unowned) */
  guint id;
  gboolean fec;
  GstElement *in_bin, *out_bin; /* (owned by the pipeline once added) */
  GstElement *appsrc;           /* (owned by bin) */
  GstElement *encoder;          /* own opusenc, while out_bin exists */
  GstPad *main_pad;             /* the main mixer's request pad fed by this input */
  GstPad *neg_pad;              /* mixer_i's pad carrying -x_i, while out_bin exists */
  GstPad *tee_m_pad;            /* tee_M's request pad feeding out_bin */
  GstPad *tee_i_pad;            /* tee_i's request pad feeding out_bin's negation */
  GstPad *neg_ghost;            /* in_bin's ghost of tee_i_pad */

  /* owner thread only */
  OwnState own;
  gboolean in_mix;    /* unmuted in the main mix */
  guint loss_applied; /* to its own encoder */

  /* under mixer->lock: the input side, see park() */
  guint8 level_ext;            /* RFC 6464 extension ID, 0 = none */
  gboolean busy;               /* own != OWN_NONE, for the packet path */
  gboolean decoding;           /* packets go to its decoder, else to the ring */
  gboolean ext_levels;         /* its levels come from its packets, not from decoding */
  gint64 heard_time;           /* last packet that was loud or of unknown level */
  double window[LEVEL_WINDOW]; /* energy of its last packets' levels */
  guint window_pos, since_choice;
  guint16 seq_off;      /* added to the sequence numbers its decoder sees */
  guint16 last_out_seq; /* the highest its decoder saw */
  gboolean have_out;
  guint ring_len, ring_head;
  struct
  {
    GstClockTime arrival; /* running time it came at */
    guint16 len;
    guint8 data[RING_MTU];
  } ring[RING_PACKETS];
  McuAudioMixerInputStats stats;

  /* under mixer->lock */
  guint loss; /* percent, as reported */
  gboolean muted;
  gboolean want; /* chosen among the loudest */
  double level_db;
  gint64 level_time;    /* of the last level */
  gint64 loud_time;     /* of the last level above the speech threshold */
  guint64 played_ns;    /* decoded output, PLC included, and parked silence */
  guint64 concealed_ns; /* covered by the jitter buffer's lost events */

  /* under mixer->out_lock: the stream this participant receives */
  Source source, pending, prev;
  /* in the main mix before (and while leaving) its own encoder serves it: what the
   * shared encode sends it is replaced by silence, as it holds its own voice */
  gboolean hold;
  gint64 switch_at;  /* first frame @pending serves, -1 until its first packet */
  gint64 prev_until; /* @prev still serves frames before this one (late packets) */
  gint64 last_sent;  /* highest frame sent, -1 before the first */
  guint64 sent_mask; /* bit d: frame last_sent - d was sent */
  guint16 seq_base;
  guint32 ts_base, ssrc;
} Participant;

struct _McuAudioMixer
{
  GstElement *pipeline;
  GstElement *main_mix, *tee_m;
  GstElement *shared_enc; /* (nullable) owner thread: made with the first participant */
  McuAudioMixerConfig config;
  McuAudioMixerOutputFunc output;
  gpointer user_data;
  GMutex lock;              /* guards the id map and the fields marked so */
  GMutex out_lock;          /* guards what is sent; taken after @lock, never before */
  GHashTable *participants; /* id -> Participant*, owned; changed under both locks */
  GMainContext *context;    /* (owned) the owner's, where speakers are switched */
  GSource *wake;            /* (owned) dispatched there to apply the choice */
  guint shared_loss;        /* owner thread: what the shared encoder was told */
  /* What one shared packet goes out as, per listener: filled under out_lock and
   * sent after it, all under batch_lock, which mcu_audio_mixer_add() takes to grow
   * it (so nothing is allocated per packet). Taken before out_lock. */
  GMutex batch_lock;
  struct Send *batch;
  guint batch_cap;
};

/* One packet to send: to whom, with which header. */
typedef struct Send
{
  guint id;
  gboolean silent; /* send a silent Opus frame instead of the payload */
  guint16 seq;
  guint32 ts, ssrc;
} Send;

static void
participant_free (gpointer data)
{
  Participant *p = data;
  g_clear_object (&p->appsrc);
  g_clear_object (&p->encoder);
  g_clear_object (&p->main_pad);
  g_clear_object (&p->neg_pad);
  g_clear_object (&p->tee_m_pad);
  g_clear_object (&p->tee_i_pad);
  g_clear_object (&p->neg_ghost);
  g_free (p);
}

static void
wake (McuAudioMixer *m)
{
  g_source_set_ready_time (m->wake, 0);
}

/* Under m->lock, on the level's streaming thread: who is among the loudest. A
 * speaker keeps its place through pauses (HANGOVER_US); a newcomer takes a free
 * place, or the quietest speaker's when TAKEOVER_DB louder, so two voices of about
 * one level do not swap places on every level message. */
static gboolean
choose_speakers (McuAudioMixer *m, Participant *loud, gint64 now)
{
  GHashTableIter it;
  gpointer value;
  gboolean changed = FALSE;
  guint n = 0;
  Participant *quietest = NULL;

  g_hash_table_iter_init (&it, m->participants);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Participant *p = value;
      if (p->want && (p->muted || now - p->loud_time > HANGOVER_US))
        {
          p->want = FALSE;
          changed = TRUE;
        }
      if (p->want)
        {
          n++;
          if (p != loud && (quietest == NULL || p->level_db < quietest->level_db))
            quietest = p;
        }
    }
  if (loud == NULL || loud->want)
    return changed;
  if (n < m->config.max_speakers)
    loud->want = TRUE;
  else if (quietest && loud->level_db > quietest->level_db + TAKEOVER_DB)
    {
      quietest->want = FALSE;
      loud->want = TRUE;
    }
  return changed || loud->want;
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
  gint64 now = g_get_monotonic_time ();
  gboolean changed = FALSE;
  g_mutex_lock (&m->lock);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  /* where its packets declare their level, that is the level: it comes first, and
   * does not stop while the input is parked */
  if (p && !p->ext_levels)
    {
      p->level_db = db;
      p->level_time = now;
      gboolean loud = !p->muted && db > SPEECH_THRESHOLD_DB;
      if (loud)
        p->loud_time = now;
      changed = choose_speakers (m, loud ? p : NULL, now);
    }
  g_mutex_unlock (&m->lock);
  if (changed)
    wake (m);
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

/* The 20 ms frame a sample holds, counted in running time from the pipeline's
 * start: the same number for the same 20 ms whichever encoder made it. */
static gint64
sample_frame (GstSample *sample, GstBuffer *buf)
{
  const GstSegment *seg = gst_sample_get_segment (sample);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  if (seg == NULL || !GST_CLOCK_TIME_IS_VALID (pts))
    return -1;
  GstClockTime rt = gst_segment_to_running_time (seg, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return -1;
  return (gint64)((rt + FRAME_NS / 2) / FRAME_NS);
}

/* Under m->out_lock: whether frame @frame can still go to @p, and notes it sent.
 * A frame goes out once: two encoders' packets of one frame are different bytes,
 * and one sequence number with two payloads would also reuse an SRTP index. */
static gboolean
mark_sent (Participant *p, gint64 frame)
{
  if (p->last_sent < 0 || frame > p->last_sent)
    {
      gint64 d = p->last_sent < 0 ? 64 : frame - p->last_sent;
      p->sent_mask = d >= 64 ? 1 : (p->sent_mask << d) | 1;
      p->last_sent = frame;
      return TRUE;
    }
  gint64 d = p->last_sent - frame;
  if (d >= 64 || (p->sent_mask & (G_GUINT64_CONSTANT (1) << d)))
    return FALSE;
  p->sent_mask |= G_GUINT64_CONSTANT (1) << d;
  return TRUE;
}

/* Under m->out_lock, on an encoder's streaming thread: whether frame @frame made
 * by encoder @src goes to @p, and with which header (@out). A pending switch takes
 * effect at the first frame the new encoder has that was not sent yet (switch_at);
 * the old one keeps the frames before it, even when they come late, and no frame is
 * sent twice. The header comes from the frame index, so the sequence and the
 * timestamp run on across switches. Sets *@switched when a switch completed. */
static gboolean
deliver (Participant *p, Source src, gint64 frame, Send *out, gboolean *switched)
{
  gboolean send = FALSE;
  if (src == p->pending)
    {
      if (p->switch_at < 0)
        p->switch_at = MAX (frame, p->last_sent + 1);
      if (frame >= p->switch_at)
        {
          p->prev = p->source;
          p->prev_until = p->switch_at;
          p->source = src;
          p->pending = SRC_NONE;
          p->switch_at = -1;
          send = *switched = TRUE;
          GST_DEBUG ("participant %u: frame %" G_GINT64_FORMAT " on, from encoder %d",
                     p->id, frame, src);
        }
    }
  else if (src == p->source)
    send = p->pending == SRC_NONE || p->switch_at < 0 || frame < p->switch_at;
  else if (src == p->prev)
    {
      send = frame < p->prev_until;
      if (!send)
        {
          p->prev = SRC_NONE; /* it has passed the switch: nothing late is left */
          *switched = TRUE;   /* and may now be stopped */
        }
    }
  if (!send)
    return FALSE;
  if (!mark_sent (p, frame))
    {
      GST_DEBUG ("participant %u: frame %" G_GINT64_FORMAT " from encoder %d again",
                 p->id, frame, src);
      return FALSE;
    }
  out->id = p->id;
  out->silent = src == SRC_SHARED && p->hold;
  out->seq = (guint16)(p->seq_base + (guint64)frame);
  out->ts = p->ts_base + (guint32)((guint64)frame * FRAME_SAMPLES);
  out->ssrc = p->ssrc;
  return TRUE;
}

/* Outside out_lock (the output takes the router's lock, which is taken before
 * ours when packets come in): sends @rtp with the header of @s. */
static void
send_one (McuAudioMixer *m, const Send *s, const guint8 *rtp, gsize len)
{
  guint8 buf[1500];
  if (len < 12 || len > sizeof buf)
    return;
  memcpy (buf, rtp, len);
  if (s->silent)
    {
      /* RFC 6716: TOC of one 20 ms CELT frame, then a frame that decodes to
       * silence; the header as the payloader wrote it, without CSRC or extension */
      static const guint8 silence[] = { 0xf8, 0xff, 0xfe };
      buf[0] = 0x80;
      memcpy (buf + 12, silence, sizeof silence);
      len = 12 + sizeof silence;
    }
  buf[2] = s->seq >> 8;
  buf[3] = s->seq & 0xff;
  for (int i = 0; i < 4; i++)
    {
      buf[4 + i] = (guint8)(s->ts >> (24 - 8 * i));
      buf[8 + i] = (guint8)(s->ssrc >> (24 - 8 * i));
    }
  m->output (s->id, buf, len, m->user_data);
}

/* Streaming thread of a speaker's own encoder. */
static GstFlowReturn
on_encoded (GstAppSink *sink, gpointer data)
{
  Participant *p = data;
  McuAudioMixer *m = p->mixer;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstMapInfo map;
  gint64 frame = buf ? sample_frame (sample, buf) : -1;
  gboolean switched = FALSE;

  if (frame >= 0 && gst_buffer_map (buf, &map, GST_MAP_READ))
    {
      Send one;
      g_mutex_lock (&m->out_lock);
      gboolean send = deliver (p, SRC_OWN, frame, &one, &switched);
      g_mutex_unlock (&m->out_lock);
      if (send)
        send_one (m, &one, map.data, map.size);
      gst_buffer_unmap (buf, &map);
    }
  if (switched)
    wake (m);
  return GST_FLOW_OK;
}

/* Streaming thread of the shared encoder: one encode, copied to every listener it
 * serves, each with its own header. */
static GstFlowReturn
on_shared_encoded (GstAppSink *sink, gpointer data)
{
  McuAudioMixer *m = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstMapInfo map;
  gint64 frame = buf ? sample_frame (sample, buf) : -1;
  gboolean switched = FALSE;

  if (frame >= 0 && gst_buffer_map (buf, &map, GST_MAP_READ))
    {
      GHashTableIter it;
      gpointer value;
      guint n = 0;
      g_mutex_lock (&m->batch_lock);
      g_mutex_lock (&m->out_lock);
      g_hash_table_iter_init (&it, m->participants);
      while (g_hash_table_iter_next (&it, NULL, &value) && n < m->batch_cap)
        {
          Participant *p = value;
          if ((p->source == SRC_SHARED || p->pending == SRC_SHARED
               || p->prev == SRC_SHARED)
              && deliver (p, SRC_SHARED, frame, &m->batch[n], &switched))
            n++;
        }
      g_mutex_unlock (&m->out_lock);
      for (guint i = 0; i < n; i++)
        send_one (m, &m->batch[i], map.data, map.size);
      g_mutex_unlock (&m->batch_lock);
      gst_buffer_unmap (buf, &map);
    }
  if (switched)
    wake (m);
  return GST_FLOW_OK;
}

static void apply_speakers (McuAudioMixer *m);

static gboolean
on_wake (GSource *source, GSourceFunc callback, gpointer data)
{
  g_source_set_ready_time (source, -1);
  apply_speakers (data);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs wake_funcs = { .dispatch = on_wake };

McuAudioMixer *
mcu_audio_mixer_new (const McuAudioMixerConfig *config, McuAudioMixerOutputFunc output,
                     gpointer user_data, GError **error)
{
  g_return_val_if_fail (output != NULL, NULL);

  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  GST_DEBUG_CATEGORY_INIT (mcu_audio_mixer_debug, "mcu-audio-mixer", 0,
                           "audio mix-minus");

  McuAudioMixerConfig cfg = { 0 };
  if (config)
    cfg = *config;
  if (cfg.jitter_latency_ms == 0)
    cfg.jitter_latency_ms = 60;
  if (cfg.bitrate == 0)
    cfg.bitrate = 32000;
  if (cfg.complexity == 0 || cfg.complexity > 10)
    cfg.complexity = MCU_AUDIO_MIXER_COMPLEXITY;
  if (cfg.max_speakers == 0)
    cfg.max_speakers = MCU_AUDIO_MIXER_SPEAKERS;

  /* 20 ms buffers everywhere: one Opus frame, on one grid of running time */
  g_autofree char *desc = g_strdup_printf (
      "audiotestsrc is-live=true wave=silence samplesperbuffer=%u ! " MIX_CAPS " ! "
      "audiomixer name=main_mix latency=20000000 output-buffer-duration=20000000 " ALIGN
      " ! " MIX_CAPS " ! tee name=tee_m allow-not-linked=true",
      FRAME_SAMPLES);
  g_autoptr (GError) local = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &local);
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
  m->config = cfg;
  g_mutex_init (&m->lock);
  g_mutex_init (&m->out_lock);
  g_mutex_init (&m->batch_lock);
  m->participants = g_hash_table_new_full (NULL, NULL, NULL, participant_free);
  m->main_mix = gst_bin_get_by_name (GST_BIN (pipeline), "main_mix");
  m->tee_m = gst_bin_get_by_name (GST_BIN (pipeline), "tee_m");
  m->context = g_main_context_ref_thread_default ();
  m->wake = g_source_new (&wake_funcs, sizeof (GSource));
  g_source_set_callback (m->wake, NULL, m, NULL);
  g_source_set_name (m->wake, "mcu audio mixer speakers");
  g_source_attach (m->wake, m->context);

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
  GST_LOG ("participant %u: %" GST_TIME_FORMAT " lost", p->id, GST_TIME_ARGS (duration));
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
  p->stats.decoded_frames++;
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

/* Builds one participant's input: appsrc ! jitterbuffer ! depay ! opusdec ! F32 !
 * level ! tee, with a ghost src pad "mix" (its voice, to the main mixer). Its tee
 * gets a second branch, to its own encoder's negation, while it speaks. Overload is
 * shed once, at the appsrc, before the tee: no queue after it is leaky, as a buffer
 * dropped on one path and not the other would leave its voice in its own mix. */
static gboolean
participant_in_bin (McuAudioMixer *m, Participant *p, guint8 pt, GError **error)
{
  g_autofree char *desc = g_strdup_printf (
      /* stamped by mcu_audio_mixer_push_rtp() with their arrival: the packets a
       * parked input kept reach the decoder later than they came */
      "appsrc name=src is-live=true format=time do-timestamp=false max-bytes=65536 "
      "leaky-type=downstream "
      "  caps=\"application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,"
      "payload=%u\" ! "
      "rtpjitterbuffer latency=%u do-lost=true drop-on-latency=true ! "
      "rtpopusdepay name=depay ! "
      /* opusdec decodes at 48 kHz itself: no resampler */
      "opusdec name=dec plc=true use-inband-fec=%s ! audioconvert ! " MIX_CAPS " ! "
      "level name=level-%u interval=100000000 post-messages=true ! "
      "tee name=t allow-not-linked=true "
      "t. ! queue name=to_main max-size-time=1000000000",
      pt, m->config.jitter_latency_ms, p->fec ? "true" : "false", p->id);
  g_autoptr (GError) local = NULL;
  p->in_bin = gst_parse_bin_from_description (desc, FALSE, &local);
  if (p->in_bin == NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_PIPELINE, "audio mixer participant: %s",
                   local->message);
      return FALSE;
    }
  g_autoptr (GstElement) q = gst_bin_get_by_name (GST_BIN (p->in_bin), "to_main");
  g_autoptr (GstPad) qsrc = gst_element_get_static_pad (q, "src");
  gst_element_add_pad (p->in_bin, gst_ghost_pad_new ("mix", qsrc));
  p->appsrc = gst_bin_get_by_name (GST_BIN (p->in_bin), "src");
  watch_playout (p);
  return TRUE;
}

static void unlink_idle (GstPad *pad);

/* Requests a source pad of tee_M and links it to @sink, holding tee_M's stream lock
 * so that no buffer or event of the running mix crosses the tee meanwhile: a pad
 * made while the mix streams could otherwise see a buffer before the sticky
 * segment reaches it ("data flow before segment event", seen under TSan).
 * Returns: (transfer full) (nullable): the pad, or %NULL when it would not link. */
static GstPad *
tee_m_link (McuAudioMixer *m, GstPad *sink)
{
  g_autoptr (GstPad) tee_sink = gst_element_get_static_pad (m->tee_m, "sink");
  GST_PAD_STREAM_LOCK (tee_sink);
  GstPad *pad = gst_element_request_pad_simple (m->tee_m, "src_%u");
  gboolean ok = pad && gst_pad_link (pad, sink) == GST_PAD_LINK_OK;
  GST_PAD_STREAM_UNLOCK (tee_sink);
  if (!ok && pad)
    {
      gst_element_release_request_pad (m->tee_m, pad);
      g_clear_object (&pad);
    }
  return pad;
}

/* Owner thread: builds and links speaker @p's own mix-minus encoder, its negated
 * voice muted exactly when its voice is out of the main mix. */
static gboolean
own_start (McuAudioMixer *m, Participant *p)
{
  g_mutex_lock (&m->lock);
  p->loss_applied = p->loss;
  gboolean muted = p->muted;
  g_mutex_unlock (&m->lock);
  g_autofree char *desc = g_strdup_printf (
      "queue name=from_main max-size-time=1000000000 ! mix.sink_0 "
      "queue name=from_neg max-size-time=1000000000 ! audioamplify "
      "amplification=-1 clipping-method=none ! mix.sink_1 "
      /* Latency of its own, 60 ms. The full mix of a 20 ms frame leaves the main
       * mixer at that mixer's deadline when an input is late, which without it
       * would be this mixer's deadline too: a race, lost often enough on a busy
       * machine that the speaker hears its own negated voice alone. It costs no
       * delay while both inputs flow (an aggregator mixes as soon as every pad has
       * data; the deadline only bounds the wait for a missing one). The price: a
       * voice more than a frame too late for the full mix (a stalled thread) can
       * still make it into its negated copy, for that frame. */
      "audiomixer name=mix latency=60000000 output-buffer-duration=20000000 " ALIGN
      " ! " MIX_CAPS " ! audioconvert ! "
      "opusenc name=enc audio-type=voice bitrate=%u complexity=%u frame-size=20 "
      "inband-fec=%s packet-loss-percentage=%u ! "
      "rtpopuspay pt=111 ! appsink name=out emit-signals=true sync=false async=false "
      "max-buffers=50 drop=true",
      m->config.bitrate, m->config.complexity, p->loss_applied ? "true" : "false",
      p->loss_applied);
  g_autoptr (GError) local = NULL;
  p->out_bin = gst_parse_bin_from_description (desc, FALSE, &local);
  if (p->out_bin == NULL)
    {
      GST_WARNING ("participant %u: no encoder of its own: %s", p->id, local->message);
      return FALSE;
    }
  static const struct
  {
    const char *element, *ghost;
  } ghosts[] = { { "from_main", "full" }, { "from_neg", "neg" } };
  for (gsize i = 0; i < G_N_ELEMENTS (ghosts); i++)
    {
      g_autoptr (GstElement) e
          = gst_bin_get_by_name (GST_BIN (p->out_bin), ghosts[i].element);
      g_autoptr (GstPad) pad = gst_element_get_static_pad (e, "sink");
      gst_element_add_pad (p->out_bin, gst_ghost_pad_new (ghosts[i].ghost, pad));
    }
  g_autoptr (GstElement) out = gst_bin_get_by_name (GST_BIN (p->out_bin), "out");
  g_autoptr (GstElement) mix = gst_bin_get_by_name (GST_BIN (p->out_bin), "mix");
  p->encoder = gst_bin_get_by_name (GST_BIN (p->out_bin), "enc");
  /* Started at running time 0, a mixer joining an hour-long leg would first encode
   * an hour of catch-up silence in one burst: start it at "now", rounded up to the
   * 20 ms grid every other mixer's buffers are on. */
  GstClockTime now = mcu_pipeline_running_time (m->pipeline);
  GstClockTime start
      = GST_CLOCK_TIME_IS_VALID (now) ? (now / FRAME_NS + 1) * FRAME_NS : 0;
  g_object_set (mix, "start-time-selection", 2 /* set */, "start-time", start, NULL);
  g_signal_connect (out, "new-sample", G_CALLBACK (on_encoded), p);
  p->neg_pad = gst_element_get_static_pad (mix, "sink_1");
  g_object_set (p->neg_pad, "mute", muted || !p->in_mix, NULL);

  gst_bin_add (GST_BIN (m->pipeline), p->out_bin);
  g_autoptr (GstElement) tee = gst_bin_get_by_name (GST_BIN (p->in_bin), "t");
  p->tee_i_pad = gst_element_request_pad_simple (tee, "src_%u");
  p->neg_ghost = gst_object_ref (gst_ghost_pad_new ("neg", p->tee_i_pad));
  gst_pad_set_active (p->neg_ghost, TRUE);
  gst_element_add_pad (p->in_bin, p->neg_ghost);
  g_autoptr (GstPad) full = gst_element_get_static_pad (p->out_bin, "full");
  g_autoptr (GstPad) neg = gst_element_get_static_pad (p->out_bin, "neg");
  gst_element_sync_state_with_parent (p->out_bin);
  gboolean linked = gst_pad_link (p->neg_ghost, neg) == GST_PAD_LINK_OK;
  p->tee_m_pad = linked ? tee_m_link (m, full) : NULL;
  linked = linked && p->tee_m_pad != NULL;
  if (!linked)
    GST_WARNING ("participant %u: its encoder would not link", p->id);
  /* its negated voice adds a path through the jitter buffer: every mixer must wait
   * for it the same way, or the mix-minus no longer cancels it */
  gst_bin_recalculate_latency (GST_BIN (m->pipeline));
  return linked;
}

/* Owner thread: unlinks and drops speaker @p's own encoder. */
static void
own_stop (McuAudioMixer *m, Participant *p)
{
  if (p->out_bin == NULL)
    return;
  if (p->tee_m_pad)
    {
      unlink_idle (p->tee_m_pad);
      gst_element_release_request_pad (m->tee_m, p->tee_m_pad);
    }
  if (p->neg_ghost)
    {
      unlink_idle (p->neg_ghost);
      gst_element_remove_pad (p->in_bin, p->neg_ghost);
      g_autoptr (GstElement) tee = gst_bin_get_by_name (GST_BIN (p->in_bin), "t");
      gst_element_release_request_pad (tee, p->tee_i_pad);
    }
  gst_element_set_state (p->out_bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (m->pipeline), p->out_bin);
  p->out_bin = NULL;
  g_clear_object (&p->encoder);
  g_clear_object (&p->neg_pad);
  g_clear_object (&p->tee_m_pad);
  g_clear_object (&p->tee_i_pad);
  g_clear_object (&p->neg_ghost);
}

static void
apply_mute (Participant *p, gboolean muted)
{
  gboolean out = muted || !p->in_mix;
  g_object_set (p->main_pad, "mute", out, NULL);
  if (p->neg_pad)
    g_object_set (p->neg_pad, "mute", out, NULL);
}

/* Owner thread: each encoder's in-band FEC follows the loss its listeners report;
 * the shared encoder's the lossiest of those it serves that decode FEC. One lossy
 * commune thus makes every silent listener's packets carry FEC too, a few kbit/s
 * of the same bitrate: cheaper than a second shared encoder. */
static void
apply_loss (McuAudioMixer *m)
{
  GHashTableIter it;
  gpointer value;
  guint shared = 0;
  g_mutex_lock (&m->lock);
  g_hash_table_iter_init (&it, m->participants);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Participant *p = value;
      if (p->own != OWN_ACTIVE && p->fec && p->loss > shared)
        shared = p->loss;
      if (p->encoder && p->loss != p->loss_applied)
        {
          p->loss_applied = p->loss;
          g_object_set (p->encoder, "inband-fec", p->loss > 0, "packet-loss-percentage",
                        p->loss, NULL);
        }
    }
  g_mutex_unlock (&m->lock);
  if (shared != m->shared_loss)
    {
      m->shared_loss = shared;
      if (m->shared_enc)
        g_object_set (m->shared_enc, "packet-loss-percentage", shared, NULL);
    }
}

/* Owner thread: moves each participant one step towards what choose_speakers()
 * wants. Promotion: put its voice in the main mix while it hears silence, start its
 * encoder (its negation in its own mix), switch its stream to it. Demotion: take its
 * voice out of both, switch its stream to the shared encode, then stop its encoder
 * once it has delivered every frame before the switch, and end its silence. A
 * stream switch completes on the encoders' threads, which wake this again. */
static void
apply_speakers (McuAudioMixer *m)
{
  GHashTableIter it;
  gpointer value;

  g_mutex_lock (&m->lock);
  choose_speakers (m, NULL, g_get_monotonic_time ()); /* let quiet ones go */
  g_mutex_unlock (&m->lock);
  g_hash_table_iter_init (&it, m->participants);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Participant *p = value;
      g_mutex_lock (&m->lock);
      gboolean want = p->want, muted = p->muted;
      g_mutex_unlock (&m->lock);
      g_mutex_lock (&m->out_lock);
      Source source = p->source, pending = p->pending, prev = p->prev;
      g_mutex_unlock (&m->out_lock);
      OwnState was = p->own;

      if (p->own == OWN_NONE && want)
        {
          /* Heard by everyone at once, not once its encoder runs (tens of ms on,
           * more on a loaded node): the main mix is made a jitter buffer's latency
           * behind its inputs, so its first words are still to be mixed. Until its
           * own encoder serves it, the shared encode holds its own voice: it is
           * sent silence instead (hold). Its own mix-minus cancels its voice from
           * that mixer's first frame. */
          g_mutex_lock (&m->out_lock);
          p->hold = TRUE;
          g_mutex_unlock (&m->out_lock);
          p->in_mix = TRUE;
          apply_mute (p, muted);
          if (own_start (m, p))
            {
              p->own = OWN_STARTING;
              g_mutex_lock (&m->out_lock);
              p->pending = SRC_OWN;
              p->switch_at = -1;
              g_mutex_unlock (&m->out_lock);
            }
          else
            {
              own_stop (m, p);
              p->in_mix = FALSE;
              apply_mute (p, muted);
              g_mutex_lock (&m->out_lock);
              p->hold = FALSE;
              g_mutex_unlock (&m->out_lock);
            }
        }
      else if (p->own == OWN_STARTING && source == SRC_OWN)
        p->own = OWN_ACTIVE;
      else if ((p->own == OWN_ACTIVE && !want)
               || (p->own == OWN_STARTING && !want && pending == SRC_OWN))
        {
          p->in_mix = FALSE;
          apply_mute (p, muted);
          g_mutex_lock (&m->out_lock);
          if (p->source == SRC_OWN)
            {
              p->pending = SRC_SHARED;
              p->switch_at = -1;
            }
          else
            p->pending = SRC_NONE; /* never switched to it */
          g_mutex_unlock (&m->out_lock);
          p->own = OWN_STOPPING;
        }
      else if (p->own == OWN_STOPPING && source != SRC_OWN && pending != SRC_OWN
               && prev != SRC_OWN)
        {
          own_stop (m, p);
          p->own = OWN_NONE;
          /* the shared frames mixed before its voice left are sent by now */
          g_mutex_lock (&m->out_lock);
          p->hold = FALSE;
          g_mutex_unlock (&m->out_lock);
          if (want)
            wake (m); /* came back while leaving: start over */
        }
      if (p->own != was)
        {
          GST_DEBUG ("participant %u: %d -> %d", p->id, was, p->own);
          g_mutex_lock (&m->lock);
          p->busy = p->own != OWN_NONE;
          g_mutex_unlock (&m->lock);
        }
    }
  apply_loss (m);
}

/* Owner thread: starts the shared encoder of the full mix, with the first
 * participant: a leg nobody has joined yet (a node opens one per scheduled meeting)
 * encodes nothing. */
static gboolean
shared_start (McuAudioMixer *m, GError **error)
{
  g_autofree char *desc = g_strdup_printf (
      "queue max-size-time=1000000000 ! audioconvert ! "
      "opusenc name=shared_enc audio-type=voice bitrate=%u complexity=%u frame-size=20 "
      "inband-fec=true packet-loss-percentage=%u ! rtpopuspay pt=111 ! "
      "appsink name=shared emit-signals=true sync=false async=false max-buffers=50 "
      "drop=true",
      m->config.bitrate, m->config.complexity, m->shared_loss);
  g_autoptr (GError) local = NULL;
  GstElement *bin = gst_parse_bin_from_description (desc, TRUE, &local);
  if (bin == NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_PIPELINE, "audio mixer: %s",
                   local->message);
      return FALSE;
    }
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (bin), "shared");
  g_signal_connect (sink, "new-sample", G_CALLBACK (on_shared_encoded), m);
  gst_bin_add (GST_BIN (m->pipeline), bin);
  /* playing before it is linked: a buffer the running mix pushes into a pad not
   * yet active comes back "flushing", which would stop the main mixer for good */
  gst_element_sync_state_with_parent (bin);
  g_autoptr (GstPad) bin_sink = gst_element_get_static_pad (bin, "sink");
  GstPad *tee_pad = tee_m_link (m, bin_sink);
  gboolean linked = tee_pad != NULL;
  g_clear_object (&tee_pad);
  if (!linked)
    {
      g_set_error_literal (error, MCU_ERROR, MCU_ERROR_PIPELINE,
                           "audio mixer: the shared encoder would not link");
      return FALSE; /* stays in the pipeline, unlinked, until it is freed */
    }
  m->shared_enc = gst_bin_get_by_name (GST_BIN (bin), "shared_enc");
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
  if (m->shared_enc == NULL && !shared_start (m, error))
    return FALSE;
  Participant *p = g_new0 (Participant, 1);
  p->mixer = m;
  p->id = id;
  p->fec = fec;
  p->level_db = -200;
  p->source = SRC_SHARED;
  p->switch_at = -1;
  p->last_sent = -1;
  p->seq_base = (guint16)g_random_int ();
  p->ts_base = g_random_int ();
  p->ssrc = g_random_int ();
  if (!participant_in_bin (m, p, pt, error))
    {
      participant_free (p);
      return FALSE;
    }

  g_mutex_lock (&m->batch_lock);
  if (g_hash_table_size (m->participants) + 1 > m->batch_cap)
    {
      m->batch_cap = MAX (16, 2 * m->batch_cap);
      m->batch = g_renew (Send, m->batch, m->batch_cap);
    }
  g_mutex_unlock (&m->batch_lock);
  gst_bin_add (GST_BIN (m->pipeline), p->in_bin);
  p->main_pad = gst_element_request_pad_simple (m->main_mix, "sink_%u");
  g_object_set (p->main_pad, "mute", TRUE, NULL); /* until it is among the loudest */
  g_autoptr (GstPad) mix_ghost = gst_element_get_static_pad (p->in_bin, "mix");
  gboolean linked = gst_pad_link (mix_ghost, p->main_pad) == GST_PAD_LINK_OK;

  g_mutex_lock (&m->lock);
  g_mutex_lock (&m->out_lock);
  g_hash_table_insert (m->participants, GUINT_TO_POINTER (id), p);
  g_mutex_unlock (&m->out_lock);
  g_mutex_unlock (&m->lock);
  if (!linked)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_PIPELINE,
                   "participant %u: could not link into the mix", id);
      mcu_audio_mixer_remove (m, id); /* tears the half-linked bin down */
      return FALSE;
    }
  gst_element_sync_state_with_parent (p->in_bin);
  /* the new input's jitter buffer adds latency: every mixer must wait for it */
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
  g_mutex_lock (&m->out_lock);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  if (p)
    g_hash_table_steal (m->participants, GUINT_TO_POINTER (id));
  g_mutex_unlock (&m->out_lock);
  gboolean was_speaker = p && p->want;
  g_mutex_unlock (&m->lock);
  if (p == NULL)
    return;

  own_stop (m, p);
  g_autoptr (GstPad) mix_ghost = gst_element_get_static_pad (p->in_bin, "mix");
  unlink_idle (mix_ghost);
  gst_element_release_request_pad (m->main_mix, p->main_pad);
  gst_element_set_state (p->in_bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (m->pipeline), p->in_bin);
  GST_INFO ("participant %u removed", id);
  participant_free (p);
  if (was_speaker)
    wake (m); /* its place is free */
}

/* Under m->lock, on the packet path: the level @p's packet declared (extension or
 * DTX) becomes its level, averaged over LEVEL_WINDOW packets as the level element
 * averages 100 ms, and speakers are chosen from it: at once when it is loud (so a
 * new voice is chosen on its first loud packet), else every LEVEL_WINDOW packets
 * (so quiet speakers leave after their hangover). Returns: whether the choice
 * changed. */
static gboolean
note_packet_level (McuAudioMixer *m, Participant *p, const McuAudioLevel *lv, gint64 now)
{
  if (lv->source == MCU_AUDIO_LEVEL_EXT)
    p->ext_levels = TRUE;
  else if (lv->source == MCU_AUDIO_LEVEL_UNKNOWN)
    {
      p->ext_levels = FALSE; /* decoded, measured by its level element again */
      return FALSE;
    }
  else if (!p->ext_levels && p->decoding)
    return FALSE; /* DTX between decoded packets: the level element measures it */
  p->window[p->window_pos] = pow (10.0, lv->db / 10.0);
  p->window_pos = (p->window_pos + 1) % LEVEL_WINDOW;
  double sum = 0;
  for (guint i = 0; i < LEVEL_WINDOW; i++)
    sum += p->window[i];
  p->level_db = sum > 0 ? 10.0 * log10 (sum / LEVEL_WINDOW) : -200;
  p->level_time = now;
  gboolean loud = !p->muted && p->level_db > SPEECH_THRESHOLD_DB;
  if (loud)
    p->loud_time = now;
  if (!loud && ++p->since_choice < LEVEL_WINDOW)
    return FALSE;
  p->since_choice = 0;
  return choose_speakers (m, loud ? p : NULL, now);
}

/* Under m->lock: whether loud @p is among the max_speakers + DECODE_MARGIN loudest
 * of those loud lately, by the levels their packets declared. */
static gboolean
among_loudest (McuAudioMixer *m, Participant *p, gint64 now)
{
  GHashTableIter it;
  gpointer value;
  guint louder = 0;
  g_hash_table_iter_init (&it, m->participants);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Participant *q = value;
      if (q != p && !q->muted && now - q->loud_time < DECODE_HOLD_US
          && q->level_db > p->level_db)
        louder++;
    }
  return louder < m->config.max_speakers + DECODE_MARGIN;
}

/* Under m->lock: a GstBuffer of @data for @p's decoder, its sequence number moved
 * by seq_off, stamped with its arrival. */
static GstBuffer *
decoder_buffer (Participant *p, const guint8 *data, gsize len, GstClockTime arrival)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, len, NULL);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  memcpy (map.data, data, len);
  guint16 seq = (guint16)((map.data[2] << 8 | map.data[3]) + p->seq_off);
  mcu_rtp_set_seq (map.data, len, seq);
  gst_buffer_unmap (buf, &map);
  if (!p->have_out || mcu_rtp_seq_newer (seq, p->last_out_seq))
    p->last_out_seq = seq;
  p->have_out = TRUE;
  GST_BUFFER_PTS (buf) = GST_BUFFER_DTS (buf) = arrival;
  return buf;
}

/* Under m->lock: @p's decoder starts again, from the packets it kept. Their
 * sequence numbers are moved to follow the last its decoder saw, so its jitter
 * buffer sees a stream that paused (as in DTX), not packets lost: nothing is
 * concealed for the time it was silent. Their timestamps run on as sent, and their
 * arrival times are the real ones: what is too old for the mix only primes the
 * decoder, the rest is mixed on time. Returns: the buffers, oldest first, in
 * @out (at most RING_PACKETS). */
static guint
unpark (Participant *p, GstBuffer **out)
{
  p->decoding = TRUE;
  guint n = 0;
  for (guint k = 0; k < p->ring_len; k++)
    {
      guint i = (p->ring_head + k) % RING_PACKETS;
      if (k == 0)
        {
          guint16 first = (guint16)(p->ring[i].data[2] << 8 | p->ring[i].data[3]);
          p->seq_off = p->have_out ? (guint16)(p->last_out_seq + 1 - first) : 0;
        }
      out[n++] = decoder_buffer (p, p->ring[i].data, p->ring[i].len, p->ring[i].arrival);
    }
  p->ring_len = 0;
  return n;
}

/* Under m->lock: keeps a packet of a parked input, the oldest making room. */
static void
park (Participant *p, const guint8 *rtp, gsize len, GstClockTime arrival)
{
  guint i;
  if (p->ring_len < RING_PACKETS)
    i = (p->ring_head + p->ring_len++) % RING_PACKETS;
  else
    {
      i = p->ring_head;
      p->ring_head = (p->ring_head + 1) % RING_PACKETS;
    }
  memcpy (p->ring[i].data, rtp, len);
  p->ring[i].len = (guint16)len;
  p->ring[i].arrival = arrival;
}

/* Why an input is not decoded while silent: decoding is most of a province
 * node's mixing (a hundred inputs, three heard). An input is decoded while its
 * packets' level is unknown (no extension, or a malformed one: as before), while it
 * is a speaker or changing to or from one, and from its first loud packet when that
 * makes it one of the few loudest, until it has been quiet for DECODE_HOLD_US.
 * Otherwise its packets are parked: the last RING_PACKETS are kept undecoded, its
 * silence counted as played, and it adds nothing to any mix, being silent. */
void
mcu_audio_mixer_push_rtp (McuAudioMixer *m, guint id, const guint8 *rtp, gsize len)
{
  g_return_if_fail (m != NULL);

  if (rtp == NULL || len < 12)
    return;
  GstClockTime arrival = mcu_pipeline_running_time (m->pipeline);
  gint64 now = g_get_monotonic_time ();
  GstBuffer *bufs[RING_PACKETS + 1];
  guint n = 0;
  gboolean changed = FALSE;
  g_mutex_lock (&m->lock);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  GstElement *src = p ? gst_object_ref (p->appsrc) : NULL;
  if (p)
    {
      McuAudioLevel lv;
      mcu_audio_level_read (rtp, len, p->level_ext, &lv);
      p->stats.packets++;
      changed = note_packet_level (m, p, &lv, now);
      gboolean known = lv.source != MCU_AUDIO_LEVEL_UNKNOWN && len <= RING_MTU;
      gboolean loud = !p->muted && lv.db > SPEECH_THRESHOLD_DB;
      if (!known || loud)
        p->heard_time = now;
      gboolean keep = p->want || p->busy || now - p->heard_time < DECODE_HOLD_US;
      if (p->decoding && known && !keep)
        p->decoding = FALSE; /* parked from this packet on */
      else if (!p->decoding
               && (!known || p->want || p->busy || (loud && among_loudest (m, p, now))))
        n = unpark (p, bufs);
      if (p->decoding)
        bufs[n++] = decoder_buffer (p, rtp, len, arrival);
      else
        {
          park (p, rtp, len, arrival);
          p->stats.parked++;
          p->played_ns += gst_util_uint64_scale_int (lv.samples, GST_SECOND, 48000);
        }
    }
  g_mutex_unlock (&m->lock);
  if (changed)
    wake (m);
  for (guint i = 0; i < n; i++)
    gst_app_src_push_buffer (GST_APP_SRC (src), bufs[i]);
  g_clear_object (&src);
}

void
mcu_audio_mixer_set_level_ext (McuAudioMixer *m, guint id, guint8 ext_id)
{
  g_return_if_fail (m != NULL);
  g_mutex_lock (&m->lock);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  if (p)
    p->level_ext = ext_id;
  g_mutex_unlock (&m->lock);
}

gboolean
mcu_audio_mixer_get_input_stats (McuAudioMixer *m, guint id, McuAudioMixerInputStats *out)
{
  g_return_val_if_fail (m != NULL && out != NULL, FALSE);
  g_mutex_lock (&m->lock);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  memset (out, 0, sizeof *out);
  if (p)
    {
      *out = p->stats;
      out->decoding = p->decoding;
    }
  g_mutex_unlock (&m->lock);
  return p != NULL;
}

void
mcu_audio_mixer_set_muted (McuAudioMixer *m, guint id, gboolean muted)
{
  g_return_if_fail (m != NULL);

  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  if (p == NULL)
    return;
  g_mutex_lock (&m->lock);
  p->muted = muted;
  g_mutex_unlock (&m->lock);
  apply_mute (p, muted);
  wake (m); /* a muted speaker gives its place up */
}

void
mcu_audio_mixer_set_loss (McuAudioMixer *m, guint id, guint percent)
{
  g_return_if_fail (m != NULL);

  percent = MIN (percent, LOSS_MAX);
  g_mutex_lock (&m->lock);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  gboolean changed = p && p->loss != percent;
  if (changed)
    p->loss = percent;
  g_mutex_unlock (&m->lock);
  if (changed)
    wake (m); /* the encoders are told on the owner's thread */
}

gboolean
mcu_audio_mixer_is_speaker (McuAudioMixer *m, guint id)
{
  g_return_val_if_fail (m != NULL, FALSE);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  return p && p->own == OWN_ACTIVE;
}

guint
mcu_audio_mixer_n_encoders (McuAudioMixer *m)
{
  g_return_val_if_fail (m != NULL, 0);
  GHashTableIter it;
  gpointer value;
  guint n = 1;
  g_hash_table_iter_init (&it, m->participants);
  while (g_hash_table_iter_next (&it, NULL, &value))
    n += ((Participant *)value)->encoder != NULL;
  return n;
}

guint
mcu_audio_mixer_active_speaker (McuAudioMixer *m)
{
  g_return_val_if_fail (m != NULL, 0);

  GHashTableIter it;
  gpointer key, value;
  guint best = 0;
  double best_db = SPEECH_THRESHOLD_DB;
  /* levels come every 100 ms; under load they lag, so a speaker is current for 2.5 s */
  gint64 stale = g_get_monotonic_time () - 5 * G_USEC_PER_SEC / 2;

  g_mutex_lock (&m->lock);
  g_hash_table_iter_init (&it, m->participants);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      Participant *p = value;
      if (!p->muted && p->level_time > stale && p->level_db > best_db)
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
  /* streaming threads wake the source: stop them first */
  gst_element_set_state (m->pipeline, GST_STATE_NULL);
  g_source_destroy (m->wake);
  g_source_unref (m->wake);
  g_main_context_unref (m->context);
  g_autoptr (GstBus) bus = gst_pipeline_get_bus (GST_PIPELINE (m->pipeline));
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  g_hash_table_destroy (m->participants);
  gst_object_unref (m->main_mix);
  gst_object_unref (m->tee_m);
  g_clear_object (&m->shared_enc);
  gst_object_unref (m->pipeline);
  g_mutex_clear (&m->lock);
  g_mutex_clear (&m->out_lock);
  g_mutex_clear (&m->batch_lock);
  g_free (m->batch);
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
