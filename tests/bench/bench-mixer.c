/* bench-mixer: CPU of the node's mixers, against bare GStreamer in the same run.
 *
 * Audio: N participants (5 to 100) each send a 20 ms Opus stream in real time; our
 * McuAudioMixer decodes them, mixes everyone-but-self for each and encodes N outputs.
 * The baseline does the least a pipeline doing the same job must do: N decoders into
 * one audiomixer and N Opus encoders of that one mix. The figure is CPU ms per
 * second per participant, and the ratio ours/baseline, at the node's default Opus
 * complexity (5) and at libopus's default (10), the baseline's encoders set alike.
 *
 * Video: one 1280x720 composite of 4 VP8 participants per layout (grid, chair-large,
 * speaker), against a bare appsrc ! depay ! dec -> compositor ! vp8enc pipeline.
 *
 * Usage: bench-mixer [SECONDS]   (default 3 of real time per measurement)
 */
#include "audio-mixer.h"
#include "video-mixer.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Encodes @seconds of a source into RTP packets (GBytes), as a site would send. */
static GPtrArray *
encode (const char *desc)
{
  g_autoptr (GstElement) pipe = gst_parse_launch (desc, NULL);
  g_autoptr (GstElement) out = gst_bin_get_by_name (GST_BIN (pipe), "out");
  GPtrArray *pkts = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (GstSample *s; (s = gst_app_sink_pull_sample (GST_APP_SINK (out))) != NULL;)
    {
      GstMapInfo map;
      GstBuffer *b = gst_sample_get_buffer (s);
      gst_buffer_map (b, &map, GST_MAP_READ);
      g_ptr_array_add (pkts, g_bytes_new (map.data, map.size));
      gst_buffer_unmap (b, &map);
      gst_sample_unref (s);
    }
  gst_element_set_state (pipe, GST_STATE_NULL);
  return pkts;
}

static void
drop_output (guint id, const guint8 *rtp, gsize len, gpointer data)
{
}

typedef void (*PushFunc) (gpointer target, guint participant, GBytes *pkt);

typedef struct
{
  GPtrArray *pkts;
  guint n, next, per_tick;
  gpointer target;
  PushFunc push;
} Feeder;

static gboolean
feed_tick (gpointer data)
{
  Feeder *f = data;
  for (guint k = 0; k < f->per_tick; k++, f->next++)
    for (guint i = 0; i < f->n; i++)
      f->push (f->target, i + 1, g_ptr_array_index (f->pkts, f->next % f->pkts->len));
  return G_SOURCE_CONTINUE;
}

static gboolean
quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

/* Runs the feeder in real time for a warm-up second, then measures @seconds. */
static double
measure (Feeder *f, guint interval_ms, guint seconds)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint id = g_timeout_add (interval_ms, feed_tick, f);
  g_timeout_add (1000, quit, loop);
  g_main_loop_run (loop);
  double t0 = cpu_seconds ();
  g_timeout_add (seconds * 1000, quit, loop);
  g_main_loop_run (loop);
  double cpu = cpu_seconds () - t0;
  g_source_remove (id);
  return cpu / seconds;
}

static void
push_ours_audio (gpointer target, guint p, GBytes *b)
{
  mcu_audio_mixer_push_rtp (target, p, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
}

static void
push_appsrc (gpointer target, guint p, GBytes *b)
{
  GPtrArray *srcs = target;
  gst_app_src_push_buffer (
      GST_APP_SRC (g_ptr_array_index (srcs, p - 1)),
      gst_buffer_new_memdup (g_bytes_get_data (b, NULL), g_bytes_get_size (b)));
}

/* N decoders into one audiomixer, the mix encoded N times. */
static GstElement *
audio_baseline (guint n, guint complexity, GPtrArray *srcs)
{
  g_autoptr (GString) d = g_string_new ("audiomixer name=mix latency=20000000 ! "
                                        "audio/x-raw,format=F32LE,rate=48000,channels=1 "
                                        "! tee name=t ");
  for (guint i = 0; i < n; i++)
    g_string_append_printf (
        d,
        "appsrc name=s%u is-live=true format=time do-timestamp=true "
        "caps=\"application/x-rtp,"
        "media=audio,clock-rate=48000,encoding-name=OPUS,payload=111\" ! rtpjitterbuffer "
        "latency=60 ! rtpopusdepay ! opusdec plc=true ! audioconvert ! audioresample ! "
        "mix. "
        "t. ! queue ! audioconvert ! opusenc bitrate=32000 complexity=%u ! rtpopuspay ! "
        "fakesink sync=false ",
        i, complexity);
  GstElement *pipe = gst_parse_launch (d->str, NULL);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("s%u", i);
      g_ptr_array_add (srcs, gst_bin_get_by_name (GST_BIN (pipe), name));
    }
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  return pipe;
}

/* One row: @n participants at Opus complexity @complexity, ours and the baseline. */
static void
bench_audio_one (GPtrArray *pkts, guint n, guint complexity, guint seconds)
{
  McuAudioMixerConfig cfg = { .complexity = complexity };
  McuAudioMixer *m = mcu_audio_mixer_new (&cfg, drop_output, NULL, NULL);
  for (guint i = 1; i <= n; i++)
    mcu_audio_mixer_add (m, i, 111, TRUE, NULL);
  Feeder f = { pkts, n, 0, 1, m, push_ours_audio };
  double ours = measure (&f, 20, seconds);
  mcu_audio_mixer_free (m);

  g_autoptr (GPtrArray) srcs = g_ptr_array_new_with_free_func (gst_object_unref);
  GstElement *pipe = audio_baseline (n, complexity, srcs);
  Feeder g = { pkts, n, 0, 1, srcs, push_appsrc };
  double base = measure (&g, 20, seconds);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);

  printf ("audio_c%u_%u_ours: %.2f cpu-ms/s per participant\n", complexity, n,
          ours * 1000 / n);
  printf ("audio_c%u_%u_gstreamer: %.2f cpu-ms/s per participant\n", complexity, n,
          base * 1000 / n);
  printf ("audio_c%u_%u_ratio: %.2f x\n", complexity, n, base > 0 ? ours / base : 0);
}

static void
bench_audio (guint seconds)
{
  g_autoptr (GPtrArray) pkts = encode (
      /* pink noise, not a sine: Opus spends on a pure tone a fraction of what
       * speech costs it, and the encoders' cost is what differs between setups */
      "audiotestsrc wave=pink-noise volume=0.3 num-buffers=250 samplesperbuffer=960 ! "
      "audio/x-raw,rate=48000,channels=1 ! opusenc frame-size=20 ! rtpopuspay pt=111 ! "
      "appsink name=out sync=false");
  static const guint counts[] = { 5, 10, 25, 50, 100 };
  static const guint complexities[] = { MCU_AUDIO_MIXER_COMPLEXITY, 10 };
  for (gsize k = 0; k < G_N_ELEMENTS (complexities); k++)
    for (gsize c = 0; c < G_N_ELEMENTS (counts); c++)
      bench_audio_one (pkts, counts[c], complexities[k], seconds);
}

static void
push_ours_video (gpointer target, guint p, GBytes *b)
{
  mcu_video_mixer_push_rtp (target, p, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
}

static GstElement *
video_baseline (guint n, GPtrArray *srcs)
{
  g_autoptr (GString) d = g_string_new (
      "videotestsrc is-live=true pattern=black ! "
      "video/x-raw,format=I420,width=1280,height=720,framerate=15/1 ! comp. "
      "compositor name=comp background=black ! "
      "video/x-raw,format=I420,width=1280,height=720,framerate=15/1 ! "
      "vp8enc deadline=1 cpu-used=8 threads=1 lag-in-frames=0 end-usage=cbr "
      "target-bitrate=1400000 ! rtpvp8pay ! fakesink sync=false ");
  for (guint i = 0; i < n; i++)
    g_string_append_printf (
        d,
        "appsrc name=s%u is-live=true format=time do-timestamp=true "
        "caps=\"application/x-rtp,"
        "media=video,clock-rate=90000,encoding-name=VP8,payload=96\" ! rtpjitterbuffer "
        "latency=100 ! rtpvp8depay ! vp8dec ! videoconvert ! comp. ",
        i);
  GstElement *pipe = gst_parse_launch (d->str, NULL);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("s%u", i);
      g_ptr_array_add (srcs, gst_bin_get_by_name (GST_BIN (pipe), name));
    }
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  return pipe;
}

static void
bench_video (guint seconds)
{
  /* 640x360 VP8 at 15 frames/s, about 1 packet a frame */
  g_autoptr (GPtrArray) pkts = encode (
      "videotestsrc pattern=ball num-buffers=150 ! video/x-raw,width=640,height=360,"
      "framerate=15/1 ! vp8enc deadline=1 keyframe-max-dist=30 target-bitrate=600000 ! "
      "rtpvp8pay pt=96 ! appsink name=out sync=false");
  const guint n = 4;
  for (McuLayout l = MCU_LAYOUT_GRID; l <= MCU_LAYOUT_SPEAKER; l++)
    {
      McuVideoMixer *m = mcu_video_mixer_new (NULL, drop_output, NULL, NULL);
      for (guint i = 1; i <= n; i++)
        mcu_video_mixer_add (m, i, "Xã Tân Trào", 96, MCU_VIDEO_CODEC_VP8, NULL);
      mcu_video_mixer_set_chair (m, 1);
      mcu_video_mixer_add_output (m, l, 1280, 720, 97, NULL);
      /* the packets of one frame go together, 15 frames a second */
      guint per_frame = MAX (1, pkts->len / 150);
      Feeder f = { pkts, n, 0, per_frame, m, push_ours_video };
      double ours = measure (&f, 66, seconds);
      mcu_video_mixer_free (m);

      g_autoptr (GPtrArray) srcs = g_ptr_array_new_with_free_func (gst_object_unref);
      GstElement *pipe = video_baseline (n, srcs);
      Feeder g = { pkts, n, 0, per_frame, srcs, push_appsrc };
      double base = measure (&g, 66, seconds);
      gst_element_set_state (pipe, GST_STATE_NULL);
      gst_object_unref (pipe);

      printf ("composite_720p_%s_ours: %.0f cpu-ms/s\n", mcu_layout_name (l),
              ours * 1000);
      printf ("composite_720p_%s_gstreamer: %.0f cpu-ms/s\n", mcu_layout_name (l),
              base * 1000);
      printf ("composite_720p_%s_ratio: %.2f x\n", mcu_layout_name (l),
              base > 0 ? ours / base : 0);
    }
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  guint seconds = argc > 1 ? (guint)atoi (argv[1]) : 3;
  if (seconds < 1)
    seconds = 1;
  printf ("seconds_per_measurement: %u\n", seconds);
  bench_audio (seconds);
  bench_video (seconds);
  return 0;
}
