/* video-mixer.c: compose participants into layouts, encode each layout once.
 *
 *   participant: appsrc ! rtpjitterbuffer ! depay ! dec ! videoconvert ! textoverlay
 *                ! tee  --(per output) queue ! ghost pad
 *   output:      live black base + tiles ! compositor (pads scale, keep aspect)
 *                ! I420 WxH@fps
 *                ! vp8enc(realtime) ! rtpvp8pay ! appsink --> output callback
 *
 * Each participant and each output is its own bin, so the pipeline's graph of
 * elements stays acyclic and a participant or output is added or torn down whole.
 * Each participant is decoded once whatever the number of outputs; the compositor's
 * pads do the scaling, so no videoscale per tile.
 */
#include "video-mixer.h"
#include "mcu-error.h"
#include "pipeline-util.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <math.h>

GST_DEBUG_CATEGORY_STATIC (mcu_video_mixer_debug);
#define GST_CAT_DEFAULT mcu_video_mixer_debug

typedef struct
{
  guint id;
  McuLayout layout;
  guint width, height;
  guint refs;
  GstElement *bin, *comp, *enc; /* bin owned by the pipeline; comp/enc by bin */
  McuVideoMixer *mixer;
} Output;

typedef struct
{
  McuVideoMixer *mixer;
  guint id;
  GstElement *bin;    /* owned by the pipeline */
  GstElement *appsrc; /* (owned) ref */
  GstElement *tee;    /* (owned) ref */
  GHashTable *links;  /* output id -> Link* */
} Participant;

typedef struct
{
  GstPad *tee_pad;    /* (owned) request pad of the participant's tee */
  GstElement *queue;  /* in the participant's bin */
  GstPad *ghost_src;  /* on the participant's bin */
  GstPad *comp_pad;   /* (owned) request pad of the output's compositor */
  GstPad *ghost_sink; /* on the output's bin */
} Link;

struct _McuVideoMixer
{
  GstElement *pipeline;
  McuVideoMixerConfig config;
  McuVideoMixerOutputFunc output;
  gpointer user_data;
  GMutex lock;      /* guards `participants` against push_rtp from other threads */
  GPtrArray *order; /* Participant*, in the order they joined (owned) */
  GHashTable *participants; /* id -> Participant* (unowned, see order) */
  GPtrArray *outputs;       /* Output* (owned) */
  guint next_output, chair, speaker;
};

const char *
mcu_layout_name (McuLayout layout)
{
  switch (layout)
    {
    case MCU_LAYOUT_GRID:
      return "grid";
    case MCU_LAYOUT_CHAIR_LARGE:
      return "chair-large";
    case MCU_LAYOUT_SPEAKER:
      return "speaker";
    default:
      return "unknown";
    }
}

gboolean
mcu_layout_from_name (const char *name, McuLayout *layout)
{
  for (McuLayout l = MCU_LAYOUT_GRID; l <= MCU_LAYOUT_SPEAKER; l++)
    if (g_strcmp0 (name, mcu_layout_name (l)) == 0)
      {
        *layout = l;
        return TRUE;
      }
  return FALSE;
}

typedef struct
{
  int x, y, w, h;
} Rect;

/* Places n tiles for a layout. `big` is the index shown large (chair-large,
 * speaker), -1 for none; then the others keep their join order. */
static void
layout_rects (McuLayout layout, guint n, int big, guint W, guint H, Rect *out)
{
  if (n == 0)
    return;
  if (layout == MCU_LAYOUT_GRID || n == 1 || big < 0)
    {
      guint cols = (guint)ceil (sqrt ((double)n)), rows = (n + cols - 1) / cols;
      for (guint i = 0; i < n; i++)
        out[i] = (Rect){ (int)((i % cols) * (W / cols)), (int)((i / cols) * (H / rows)),
                         (int)(W / cols), (int)(H / rows) };
      return;
    }
  guint others = n - 1, k = 0;
  if (layout == MCU_LAYOUT_CHAIR_LARGE)
    {
      /* chair on the left three quarters, the others in a column on the right */
      guint side = W / 4, th = H / MAX (others, 4);
      out[big] = (Rect){ 0, 0, (int)(W - side), (int)H };
      for (guint i = 0; i < n; i++)
        if ((int)i != big)
          out[i] = (Rect){ (int)(W - side), (int)(k++ * th), (int)side, (int)th };
      return;
    }
  /* speaker: big on the top three quarters, the others in a strip below */
  guint strip = H / 4, tw = W / MAX (others, 4);
  out[big] = (Rect){ 0, 0, (int)W, (int)(H - strip) };
  for (guint i = 0; i < n; i++)
    if ((int)i != big)
      out[i] = (Rect){ (int)(k++ * tw), (int)(H - strip), (int)tw, (int)strip };
}

/* Recomputes every tile of one output after a join, a leave or a floor change. */
static void
relayout (McuVideoMixer *m, Output *o)
{
  guint n = m->order->len;
  g_autofree Rect *rects = g_new0 (Rect, MAX (n, 1));
  guint want
      = o->layout == MCU_LAYOUT_SPEAKER ? (m->speaker ? m->speaker : m->chair) : m->chair;
  int big = -1;
  for (guint i = 0; i < n; i++)
    if (((Participant *)g_ptr_array_index (m->order, i))->id == want)
      big = (int)i;
  if (big < 0 && o->layout != MCU_LAYOUT_GRID && n > 1)
    big = 0; /* nobody chairs or speaks yet: the first to join */
  layout_rects (o->layout, n, big, o->width, o->height, rects);
  for (guint i = 0; i < n; i++)
    {
      Participant *p = g_ptr_array_index (m->order, i);
      Link *l = g_hash_table_lookup (p->links, GUINT_TO_POINTER (o->id));
      if (l)
        g_object_set (l->comp_pad, "xpos", rects[i].x, "ypos", rects[i].y, "width",
                      rects[i].w, "height", rects[i].h, NULL);
    }
}

static void
relayout_all (McuVideoMixer *m)
{
  for (guint i = 0; i < m->outputs->len; i++)
    relayout (m, g_ptr_array_index (m->outputs, i));
}

static GstBusSyncReply
on_bus_sync (GstBus *bus, GstMessage *msg, gpointer data)
{
  return mcu_pipeline_drop_message (msg, GST_CAT_DEFAULT);
}

McuVideoMixer *
mcu_video_mixer_new (const McuVideoMixerConfig *config, McuVideoMixerOutputFunc output,
                     gpointer user_data, GError **error)
{
  g_return_val_if_fail (output != NULL, NULL);
  if (!gst_is_initialized ())
    gst_init (NULL, NULL);
  GST_DEBUG_CATEGORY_INIT (mcu_video_mixer_debug, "mcu-video-mixer", 0, "composites");

  static const char *const needed[]
      = { "compositor",  "vp8enc",          "vp8dec",     "rtpvp8pay",
          "rtpvp8depay", "rtpjitterbuffer", "textoverlay" };
  for (gsize i = 0; i < G_N_ELEMENTS (needed); i++)
    {
      g_autoptr (GstElementFactory) f = gst_element_factory_find (needed[i]);
      if (f == NULL)
        {
          g_set_error (error, MCU_ERROR, MCU_ERROR_PIPELINE,
                       "video mixer: GStreamer element %s is not installed", needed[i]);
          return NULL;
        }
    }
  McuVideoMixer *m = g_new0 (McuVideoMixer, 1);
  m->pipeline = gst_pipeline_new ("video-mixer");
  m->output = output;
  m->user_data = user_data;
  if (config)
    m->config = *config;
  if (m->config.framerate == 0)
    m->config.framerate = 15;
  if (m->config.jitter_latency_ms == 0)
    m->config.jitter_latency_ms = 100;
  g_mutex_init (&m->lock);
  m->order = g_ptr_array_new ();
  m->participants = g_hash_table_new (NULL, NULL);
  m->outputs = g_ptr_array_new ();
  g_autoptr (GstBus) bus = gst_pipeline_get_bus (GST_PIPELINE (m->pipeline));
  gst_bus_set_sync_handler (bus, on_bus_sync, m, NULL);
  gst_element_set_state (m->pipeline, GST_STATE_PLAYING);
  return m;
}

static GstPadProbeReturn
on_upstream_event (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Participant *p = data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  if (gst_video_event_is_force_key_unit (ev) && p->mixer->config.keyframe_needed)
    p->mixer->config.keyframe_needed (p->id, p->mixer->user_data);
  return GST_PAD_PROBE_OK;
}

static char *
escape_label (const char *label)
{
  return label ? g_markup_escape_text (label, -1) : g_strdup ("");
}

gboolean
mcu_video_mixer_add (McuVideoMixer *m, guint id, const char *label, guint8 pt,
                     McuVideoCodec codec, GError **error)
{
  g_return_val_if_fail (m != NULL && id != 0, FALSE);
  if (g_hash_table_contains (m->participants, GUINT_TO_POINTER (id)))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "participant %u already added",
                   id);
      return FALSE;
    }
  const char *depay = codec == MCU_VIDEO_CODEC_H264 ? "rtph264depay" : "rtpvp8depay";
  const char *dec = codec == MCU_VIDEO_CODEC_H264 ? "avdec_h264" : "vp8dec";
  const char *name = codec == MCU_VIDEO_CODEC_H264 ? "H264" : "VP8";
  g_autoptr (GstElementFactory) f = gst_element_factory_find (dec);
  if (f == NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_UNSUPPORTED,
                   "no %s decoder (%s) installed for a composite", name, dec);
      return FALSE;
    }
  g_autofree char *text = escape_label (label);
  g_autofree char *desc = g_strdup_printf (
      "appsrc name=src is-live=true format=time do-timestamp=true max-bytes=2000000 "
      "caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=%s,"
      "payload=%u\" ! rtpjitterbuffer latency=%u do-lost=true ! %s request-keyframe=true"
      " ! %s ! videoconvert ! textoverlay name=label font-desc=\"Sans 20\" "
      "valignment=bottom halignment=left shaded-background=true ! tee name=t "
      "allow-not-linked=true",
      name, pt, m->config.jitter_latency_ms, depay, dec);
  g_autoptr (GError) local = NULL;
  GstElement *bin = gst_parse_bin_from_description (desc, FALSE, &local);
  if (bin == NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_PIPELINE, "video participant: %s",
                   local->message);
      return FALSE;
    }
  Participant *p = g_new0 (Participant, 1);
  p->mixer = m;
  p->id = id;
  p->bin = bin;
  p->appsrc = gst_bin_get_by_name (GST_BIN (bin), "src");
  p->tee = gst_bin_get_by_name (GST_BIN (bin), "t");
  p->links = g_hash_table_new (NULL, NULL);
  g_autoptr (GstElement) overlay = gst_bin_get_by_name (GST_BIN (bin), "label");
  g_object_set (overlay, "text", text, NULL);
  g_autoptr (GstPad) srcpad = gst_element_get_static_pad (p->appsrc, "src");
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream_event, p,
                     NULL);

  gst_bin_add (GST_BIN (m->pipeline), bin);
  g_mutex_lock (&m->lock);
  g_ptr_array_add (m->order, p);
  g_hash_table_insert (m->participants, GUINT_TO_POINTER (id), p);
  g_mutex_unlock (&m->lock);
  gst_element_sync_state_with_parent (bin);
  return TRUE;
}

/* Links a participant to an output through a new queue: tee ! queue ! ghost ->
 * ghost -> compositor pad. The queue is leaky: one slow output never stalls the
 * participant's other outputs. */
static void
link_participant_output (Participant *p, Output *o)
{
  Link *l = g_new0 (Link, 1);
  l->queue = gst_element_factory_make ("queue", NULL);
  g_object_set (l->queue, "max-size-buffers", 3, "max-size-time", (guint64)0,
                "max-size-bytes", 0, "leaky", 2, NULL);
  gst_bin_add (GST_BIN (p->bin), l->queue);
  l->tee_pad = gst_element_request_pad_simple (p->tee, "src_%u");
  g_autoptr (GstPad) qsink = gst_element_get_static_pad (l->queue, "sink");
  g_autoptr (GstPad) qsrc = gst_element_get_static_pad (l->queue, "src");
  gst_pad_link (l->tee_pad, qsink);
  l->ghost_src = gst_ghost_pad_new (NULL, qsrc);
  gst_pad_set_active (l->ghost_src, TRUE);
  gst_element_add_pad (p->bin, l->ghost_src);

  l->comp_pad = gst_element_request_pad_simple (o->comp, "sink_%u");
  /* tiles never overlap: copy them over the base instead of blending */
  g_object_set (l->comp_pad, "sizing-policy", 1 /* keep-aspect-ratio */, "operator",
                0 /* source */, "zorder", 1, NULL);
  l->ghost_sink = gst_ghost_pad_new (NULL, l->comp_pad);
  gst_pad_set_active (l->ghost_sink, TRUE);
  gst_element_add_pad (o->bin, l->ghost_sink);
  gst_pad_link (l->ghost_src, l->ghost_sink);
  gst_element_sync_state_with_parent (l->queue);
  g_hash_table_insert (p->links, GUINT_TO_POINTER (o->id), l);
}

/* The flag is shared with a probe that may fire on a streaming thread after
 * unlink_participant_output() stopped waiting: reference-counted, one reference
 * each, the probe's dropped by GStreamer once the probe is gone. */
static GstPadProbeReturn
drop_when_idle (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  gint *done = data;
  g_atomic_int_set (done, TRUE);
  return GST_PAD_PROBE_REMOVE;
}

static void
done_release (gpointer data)
{
  g_atomic_rc_box_release (data);
}

/* Undoes link_participant_output: waits until no buffer is in flight on the tee
 * pad (the queue after it is leaky, so never long), then takes everything apart. */
static void
unlink_participant_output (Participant *p, Output *o, Link *l)
{
  gint *done = g_atomic_rc_box_new0 (gint);
  gulong probe = gst_pad_add_probe (l->tee_pad, GST_PAD_PROBE_TYPE_IDLE, drop_when_idle,
                                    g_atomic_rc_box_acquire (done), done_release);
  for (guint i = 0; i < 200 && !g_atomic_int_get (done); i++)
    g_usleep (1000);
  if (!g_atomic_int_get (done) && probe != 0)
    gst_pad_remove_probe (l->tee_pad, probe);
  g_atomic_rc_box_release (done);
  g_autoptr (GstPad) qsink = gst_element_get_static_pad (l->queue, "sink");
  gst_pad_unlink (l->tee_pad, qsink);
  gst_element_release_request_pad (p->tee, l->tee_pad);
  gst_pad_unlink (l->ghost_src, l->ghost_sink);
  gst_element_set_state (l->queue, GST_STATE_NULL);
  gst_element_remove_pad (p->bin, l->ghost_src);
  gst_bin_remove (GST_BIN (p->bin), l->queue);
  gst_element_remove_pad (o->bin, l->ghost_sink);
  gst_element_release_request_pad (o->comp, l->comp_pad);
  gst_object_unref (l->tee_pad);
  gst_object_unref (l->comp_pad);
  g_free (l);
}

static Output *
find_output (McuVideoMixer *m, guint id)
{
  for (guint i = 0; i < m->outputs->len; i++)
    {
      Output *o = g_ptr_array_index (m->outputs, i);
      if (o->id == id)
        return o;
    }
  return NULL;
}

void
mcu_video_mixer_remove (McuVideoMixer *m, guint id)
{
  g_return_if_fail (m != NULL);
  g_mutex_lock (&m->lock);
  Participant *p = g_hash_table_lookup (m->participants, GUINT_TO_POINTER (id));
  if (p)
    {
      g_hash_table_remove (m->participants, GUINT_TO_POINTER (id));
      g_ptr_array_remove (m->order, p);
    }
  g_mutex_unlock (&m->lock);
  if (p == NULL)
    return;
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, p->links);
  while (g_hash_table_iter_next (&it, &key, &value))
    unlink_participant_output (p, find_output (m, GPOINTER_TO_UINT (key)), value);
  g_hash_table_destroy (p->links);
  gst_element_set_state (p->bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (m->pipeline), p->bin);
  gst_object_unref (p->appsrc);
  gst_object_unref (p->tee);
  g_free (p);
  if (m->chair == id)
    m->chair = 0;
  if (m->speaker == id)
    m->speaker = 0;
  relayout_all (m);
}

void
mcu_video_mixer_push_rtp (McuVideoMixer *m, guint id, const guint8 *rtp, gsize len)
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
  gst_app_src_push_buffer (GST_APP_SRC (src), gst_buffer_new_memdup (rtp, len));
  gst_object_unref (src);
}

static GstFlowReturn
on_encoded (GstAppSink *sink, gpointer data)
{
  Output *o = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstMapInfo map;
  if (buf && gst_buffer_map (buf, &map, GST_MAP_READ))
    {
      o->mixer->output (o->id, map.data, map.size, o->mixer->user_data);
      gst_buffer_unmap (buf, &map);
    }
  return GST_FLOW_OK;
}

guint
mcu_video_mixer_add_output (McuVideoMixer *m, McuLayout layout, guint width, guint height,
                            guint8 pt, GError **error)
{
  g_return_val_if_fail (m != NULL, 0);
  if (width < 64 || height < 64 || width > 1920 || height > 1080 || (width | height) & 1)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "composite size %ux%u: want even sizes from 64x64 to 1920x1080", width,
                   height);
      return 0;
    }
  for (guint i = 0; i < m->outputs->len; i++)
    {
      Output *o = g_ptr_array_index (m->outputs, i);
      if (o->layout == layout && o->width == width && o->height == height)
        {
          o->refs++;
          return o->id;
        }
    }
  /* about 0.1 bit per pixel per frame: 1.4 Mbit/s at 720p15 */
  guint bitrate = MAX (width * height * m->config.framerate / 10, 100000);
  /* A live black source under the tiles clocks the composite: frames go out at the
   * output's rate whether or not anyone sends, stamped with real running time. */
  g_autofree char *desc = g_strdup_printf (
      "videotestsrc is-live=true pattern=black ! "
      "video/x-raw,format=I420,width=%u,height=%u,framerate=%u/1 ! comp.sink_0 "
      "compositor name=comp background=black start-time-selection=first ! "
      "video/x-raw,format=I420,width=%u,height=%u,framerate=%u/1 ! "
      "vp8enc name=enc deadline=1 cpu-used=8 threads=1 lag-in-frames=0 end-usage=cbr "
      "target-bitrate=%u keyframe-max-dist=3000 error-resilient=partitions ! "
      "rtpvp8pay pt=%u picture-id-mode=15-bit ! "
      "appsink name=out emit-signals=true sync=false async=false max-buffers=100 "
      "drop=true",
      width, height, m->config.framerate, width, height, m->config.framerate, bitrate,
      pt);
  g_autoptr (GError) local = NULL;
  GstElement *bin = gst_parse_bin_from_description (desc, FALSE, &local);
  if (bin == NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_PIPELINE, "composite: %s", local->message);
      return 0;
    }
  Output *o = g_new0 (Output, 1);
  o->id = ++m->next_output;
  o->layout = layout;
  o->width = width;
  o->height = height;
  o->refs = 1;
  o->bin = bin;
  o->mixer = m;
  o->comp = gst_bin_get_by_name (GST_BIN (bin), "comp");
  o->enc = gst_bin_get_by_name (GST_BIN (bin), "enc");
  g_autoptr (GstPad) base = gst_element_get_static_pad (o->comp, "sink_0");
  g_object_set (base, "operator", 0 /* source: no blending of the base layer */, NULL);
  g_autoptr (GstElement) out = gst_bin_get_by_name (GST_BIN (bin), "out");
  g_signal_connect (out, "new-sample", G_CALLBACK (on_encoded), o);
  gst_bin_add (GST_BIN (m->pipeline), bin);
  g_ptr_array_add (m->outputs, o);
  for (guint i = 0; i < m->order->len; i++)
    link_participant_output (g_ptr_array_index (m->order, i), o);
  relayout (m, o);
  gst_element_sync_state_with_parent (bin);
  return o->id;
}

static void
output_destroy (McuVideoMixer *m, Output *o)
{
  for (guint i = 0; i < m->order->len; i++)
    {
      Participant *p = g_ptr_array_index (m->order, i);
      Link *l = g_hash_table_lookup (p->links, GUINT_TO_POINTER (o->id));
      if (l)
        {
          g_hash_table_remove (p->links, GUINT_TO_POINTER (o->id));
          unlink_participant_output (p, o, l);
        }
    }
  gst_element_set_state (o->bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (m->pipeline), o->bin);
  gst_object_unref (o->comp);
  gst_object_unref (o->enc);
  g_free (o);
}

void
mcu_video_mixer_release_output (McuVideoMixer *m, guint id)
{
  g_return_if_fail (m != NULL);
  Output *o = find_output (m, id);
  if (o == NULL || --o->refs > 0)
    return;
  g_ptr_array_remove (m->outputs, o);
  output_destroy (m, o);
}

guint
mcu_video_mixer_n_outputs (McuVideoMixer *m)
{
  g_return_val_if_fail (m != NULL, 0);
  return m->outputs->len;
}

void
mcu_video_mixer_set_chair (McuVideoMixer *m, guint id)
{
  g_return_if_fail (m != NULL);
  m->chair = id;
  relayout_all (m);
}

void
mcu_video_mixer_set_speaker (McuVideoMixer *m, guint id)
{
  g_return_if_fail (m != NULL);
  if (m->speaker == id)
    return;
  m->speaker = id;
  relayout_all (m);
}

void
mcu_video_mixer_request_keyframe (McuVideoMixer *m, guint id)
{
  g_return_if_fail (m != NULL);
  Output *o = find_output (m, id);
  if (o == NULL)
    return;
  g_autoptr (GstPad) src = gst_element_get_static_pad (o->enc, "src");
  gst_pad_send_event (
      src, gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE, 0));
}

void
mcu_video_mixer_free (McuVideoMixer *m)
{
  if (m == NULL)
    return;
  while (m->order->len)
    mcu_video_mixer_remove (m, ((Participant *)g_ptr_array_index (m->order, 0))->id);
  while (m->outputs->len)
    {
      Output *o = g_ptr_array_steal_index (m->outputs, 0);
      output_destroy (m, o);
    }
  gst_element_set_state (m->pipeline, GST_STATE_NULL);
  g_autoptr (GstBus) bus = gst_pipeline_get_bus (GST_PIPELINE (m->pipeline));
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (m->pipeline);
  g_ptr_array_unref (m->order);
  g_hash_table_destroy (m->participants);
  g_ptr_array_unref (m->outputs);
  g_mutex_clear (&m->lock);
  g_free (m);
}
