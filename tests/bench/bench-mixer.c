/* bench-mixer: CPU of the node's mixers, against bare GStreamer in the same run.
 *
 * Audio: a province node of 100 communes (and a district of 25), 3 of them speaking
 * (pink noise at speech level), the others sending a hall's quiet room noise, each a
 * 20 ms Opus stream in real time whose packets carry the RFC 6464 audio level as a
 * browser sends it (speakers about -26 dBov with the voice flag, the halls -77).
 * Ours reads the levels, decodes only the inputs that can be among the loudest,
 * mixes the 3 loudest, gives each speaker mix-minus from its own encoder and
 * everyone else one shared encode, FEC on. Row "ours_no_level" is the same mixer
 * told of no level extension, so it decodes every input (as it did before it read
 * levels). The baseline does what a node without that choice must at least do:
 * every input decoded into one audiomixer and one Opus encoder per participant, FEC
 * on too, every output payloaded and counted (its depayloader ignores the level).
 * All print process CPU time over wall time in % of one core, min/median/max over 5
 * windows after a warm-up, and the outputs per second they made (100 participants:
 * 5000/s); ours also how many frames its decoders made per second.
 *
 * Video: one 1280x720 composite of 4 VP8 participants per layout (grid, chair-large,
 * speaker), against a bare appsrc ! depay ! dec -> compositor ! vp8enc pipeline.
 *
 * Set-up (pipelines built, participants added) and tear-down are outside the timed
 * windows on both sides. Real time: on a shared machine the figures move with the
 * load; compare the two sides of one run.
 *
 * Usage: bench-mixer [SECONDS [audio|video|all]]   (default 3 s per window, all)
 */
#include "audio-mixer.h"
#include "video-mixer.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* @pkts with a one-byte RFC 8285 extension block holding the RFC 6464 audio level
 * under ID 1 (byte @v: the voice flag and the level in -dBov), as a browser sends. */
static GPtrArray *
with_level (GPtrArray *pkts, guint8 v)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  for (guint k = 0; k < pkts->len; k++)
    {
      gsize len;
      const guint8 *d = g_bytes_get_data (g_ptr_array_index (pkts, k), &len);
      guint8 *b = g_malloc0 (len + 8);
      memcpy (b, d, 12);
      b[0] |= 0x10;
      const guint8 ext[8] = { 0xbe, 0xde, 0, 1, 0x10, v, 0, 0 };
      memcpy (b + 12, ext, sizeof ext);
      memcpy (b + 20, d + 12, len - 12);
      g_ptr_array_add (out, g_bytes_new_take (b, len + 8));
    }
  return out;
}

static void
drop_output (guint id, const guint8 *rtp, gsize len, gpointer data)
{
}

typedef void (*PushFunc) (gpointer target, guint participant, GBytes *pkt);

/* Pushes packet k of every participant at 20 ms * k (video: @interval_ms) after
 * the start, on an absolute schedule: a late tick catches up, never drifts. */
typedef struct
{
  GPtrArray **pkts; /* by participant index 0..n-1, (unowned) */
  guint n, next, per_tick, interval_ms;
  gint64 t0;
  gpointer target;
  PushFunc push;
} Feeder;

static gboolean
feed_tick (gpointer data)
{
  Feeder *f = data;
  guint due = (guint)((g_get_monotonic_time () - f->t0) / (f->interval_ms * 1000));
  for (; f->next <= due; f->next++)
    for (guint k = 0; k < f->per_tick; k++)
      for (guint i = 0; i < f->n; i++)
        {
          GPtrArray *a = f->pkts[i];
          f->push (f->target, i + 1,
                   g_ptr_array_index (a, (f->next * f->per_tick + k) % a->len));
        }
  return G_SOURCE_CONTINUE;
}

static gboolean
quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
run_for (guint ms)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_timeout_add (ms, quit, loop);
  g_main_loop_run (loop);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

#define REPS 5

typedef struct
{
  double min, median, max;
} Figures;

/* Feeds in real time: a warm-up of @warm_ms, then REPS windows of @seconds, each
 * giving process CPU time over wall time, in % of one core. @counted (nullable) is
 * a packet counter read per window, for outputs per second. Set-up is done by the
 * caller before, tear-down after: neither is timed. */
static Figures
measure (Feeder *f, guint warm_ms, guint seconds, gint *counted, double *out_per_s)
{
  double pct[REPS];
  f->t0 = g_get_monotonic_time ();
  f->next = 0;
  guint id = g_timeout_add (2, feed_tick, f);
  run_for (warm_ms);
  double outs = 0;
  for (guint r = 0; r < REPS; r++)
    {
      gint c0 = counted ? g_atomic_int_get (counted) : 0;
      double t0 = cpu_seconds ();
      gint64 w0 = g_get_monotonic_time ();
      run_for (seconds * 1000);
      double cpu = cpu_seconds () - t0;
      double wall = (double)(g_get_monotonic_time () - w0) / 1e6;
      pct[r] = 100.0 * cpu / wall;
      if (counted)
        outs += (double)(g_atomic_int_get (counted) - c0) / wall;
    }
  g_source_remove (id);
  if (out_per_s)
    *out_per_s = outs / REPS;
  qsort (pct, REPS, sizeof pct[0], cmp_double);
  return (Figures){ pct[0], pct[REPS / 2], pct[REPS - 1] };
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

static gint ours_out;
static guint ours_served[256];

static void
count_output (guint id, const guint8 *rtp, gsize len, gpointer data)
{
  g_atomic_int_inc (&ours_out);
  if (id < G_N_ELEMENTS (ours_served))
    ours_served[id] = 1;
}

static gint base_out;

static void
count_handoff (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  g_atomic_int_inc (&base_out);
}

/* What a node must do without choosing the loudest: every input decoded into one
 * audiomixer, and one Opus encoder per participant (with FEC, as ours), each
 * output payloaded and counted. Not even mix-minus: the least such a node does.
 * Exits when it cannot be built, rather than print a figure for nothing. */
static GstElement *
audio_baseline (guint n, guint complexity, GPtrArray *srcs)
{
  g_autoptr (GString) d = g_string_new (
      "audiotestsrc is-live=true wave=silence samplesperbuffer=960 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=1 ! "
      "audiomixer name=mix latency=20000000 output-buffer-duration=20000000 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=1 ! tee name=t ");
  for (guint i = 0; i < n; i++)
    g_string_append_printf (
        d,
        "appsrc name=s%u is-live=true format=time do-timestamp=true "
        "caps=\"application/x-rtp,"
        "media=audio,clock-rate=48000,encoding-name=OPUS,payload=111\" ! rtpjitterbuffer "
        "latency=60 ! rtpopusdepay ! opusdec plc=true use-inband-fec=true ! "
        "audioconvert ! audioresample ! mix. "
        "t. ! queue ! audioconvert ! opusenc audio-type=voice bitrate=32000 "
        "complexity=%u frame-size=20 inband-fec=true packet-loss-percentage=5 ! "
        "rtpopuspay ! fakesink name=k%u sync=false async=false signal-handoffs=true ",
        i, complexity, i);
  g_autoptr (GError) error = NULL;
  GstElement *pipe = gst_parse_launch (d->str, &error);
  if (pipe == NULL || error != NULL)
    {
      fprintf (stderr, "bench-mixer: the baseline pipeline cannot be built: %s\n",
               error ? error->message : "?");
      exit (1);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("s%u", i);
      g_autofree char *kname = g_strdup_printf ("k%u", i);
      g_ptr_array_add (srcs, gst_bin_get_by_name (GST_BIN (pipe), name));
      g_autoptr (GstElement) k = gst_bin_get_by_name (GST_BIN (pipe), kname);
      g_signal_connect (k, "handoff", G_CALLBACK (count_handoff), NULL);
    }
  if (gst_element_set_state (pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      fprintf (stderr, "bench-mixer: the baseline pipeline will not play\n");
      exit (1);
    }
  return pipe;
}

/* @outs < 0: outputs not counted (video) */
static void
print_row (const char *name, Figures f, double outs)
{
  printf ("%s: min %.1f median %.1f max %.1f %% of one core", name, f.min, f.median,
          f.max);
  if (outs >= 0)
    printf (", %.0f outputs/s", outs);
  printf ("\n");
}

/* Decoded frames of all @n inputs of @m so far. */
static guint64
decoded_frames (McuAudioMixer *m, guint n)
{
  guint64 sum = 0;
  McuAudioMixerInputStats st;
  for (guint i = 1; i <= n; i++)
    if (mcu_audio_mixer_get_input_stats (m, i, &st))
      sum += st.decoded_frames;
  return sum;
}

typedef struct
{
  Figures cpu;
  double outs, decoded_per_s;
  guint encoders, served;
} OursRow;

/* Our mixer on @pkts; @level_ext: the ID it is told the levels come under, 0 for
 * none (then it decodes every input). */
static OursRow
bench_ours (GPtrArray **pkts, guint n, guint complexity, guint seconds, guint8 level_ext)
{
  OursRow row = { 0 };
  McuAudioMixerConfig cfg = { .complexity = complexity };
  McuAudioMixer *m = mcu_audio_mixer_new (&cfg, count_output, NULL, NULL);
  if (m == NULL)
    {
      fprintf (stderr, "bench-mixer: our mixer cannot be built\n");
      exit (1);
    }
  memset (ours_served, 0, sizeof ours_served);
  for (guint i = 1; i <= n; i++)
    {
      mcu_audio_mixer_add (m, i, 111, TRUE, NULL);
      mcu_audio_mixer_set_level_ext (m, i, level_ext);
      mcu_audio_mixer_set_loss (m, i, 5); /* FEC on, as in the baseline */
    }
  Feeder f = { pkts, n, 0, 1, 20, 0, m, push_ours_audio };
  /* 3 s of warm-up: the speakers are chosen and their encoders started */
  guint64 d0 = decoded_frames (m, n);
  gint64 t0 = g_get_monotonic_time ();
  row.cpu = measure (&f, 3000, seconds, &ours_out, &row.outs);
  row.decoded_per_s = (double)(decoded_frames (m, n) - d0) * 1e6
                      / (double)(g_get_monotonic_time () - t0);
  row.encoders = mcu_audio_mixer_n_encoders (m);
  for (guint i = 1; i <= n && i < G_N_ELEMENTS (ours_served); i++)
    row.served += ours_served[i];
  mcu_audio_mixer_free (m);
  return row;
}

static void
print_ours (const char *name, const OursRow *r, guint n)
{
  print_row (name, r->cpu, r->outs);
  printf ("%s_encoders: %u (participants served: %u of %u), decoded %.0f frames/s "
          "(every input decoded: %u/s)\n",
          name, r->encoders, r->served, n, r->decoded_per_s, 50 * n);
}

/* One row: @n participants of which @speaking speak (pink noise, as loud as speech),
 * the others send a hall's quiet room noise (-77 dBFS, under the speech threshold),
 * every packet with its audio level, at Opus complexity @complexity: ours, ours
 * without reading the levels, and the baseline. */
static void
bench_audio_one (GPtrArray *voice, GPtrArray *room, guint n, guint speaking,
                 guint complexity, guint seconds)
{
  g_autofree GPtrArray **pkts = g_new0 (GPtrArray *, n);
  for (guint i = 0; i < n; i++)
    pkts[i] = i < speaking ? voice : room;

  OursRow ours = bench_ours (pkts, n, complexity, seconds, 1);
  if (g_getenv ("BENCH_MIXER_OURS_ONLY")) /* for profiling ours alone */
    {
      printf ("ours %u: median %.1f %%, %.0f outputs/s, %u encoders\n", n,
              ours.cpu.median, ours.outs, ours.encoders);
      return;
    }
  OursRow all = bench_ours (pkts, n, complexity, seconds, 0);

  g_autoptr (GPtrArray) srcs = g_ptr_array_new_with_free_func (gst_object_unref);
  GstElement *pipe = audio_baseline (n, complexity, srcs);
  Feeder g = { pkts, n, 0, 1, 20, 0, srcs, push_appsrc };
  double base_outs = 0;
  Figures base = measure (&g, 3000, seconds, &base_out, &base_outs);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);

  g_autofree char *a
      = g_strdup_printf ("audio_c%u_%u_%uspeaking_ours", complexity, n, speaking);
  g_autofree char *a2 = g_strdup_printf ("audio_c%u_%u_%uspeaking_ours_no_level",
                                         complexity, n, speaking);
  g_autofree char *b
      = g_strdup_printf ("audio_c%u_%u_%uspeaking_gstreamer", complexity, n, speaking);
  print_ours (a, &ours, n);
  print_ours (a2, &all, n);
  print_row (b, base, base_outs);
  printf ("audio_c%u_%u_ratio_median: %.2f x (no level: %.2f x)\n", complexity, n,
          base.median > 0 ? ours.cpu.median / base.median : 0,
          base.median > 0 ? all.cpu.median / base.median : 0);
}

static void
bench_audio (guint seconds)
{
  /* pink noise, not a sine: Opus spends on a pure tone a fraction of what speech
   * costs it */
  g_autoptr (GPtrArray) voice = encode (
      "audiotestsrc wave=pink-noise volume=0.3 num-buffers=250 samplesperbuffer=960 ! "
      "audio/x-raw,rate=48000,channels=1 ! opusenc frame-size=20 ! rtpopuspay pt=111 ! "
      "appsink name=out sync=false");
  g_autoptr (GPtrArray) room = encode (
      "audiotestsrc wave=pink-noise volume=0.001 num-buffers=250 samplesperbuffer=960 ! "
      "audio/x-raw,rate=48000,channels=1 ! opusenc frame-size=20 ! rtpopuspay pt=111 ! "
      "appsink name=out sync=false");
  if (voice->len == 0 || room->len == 0)
    {
      fprintf (stderr, "bench-mixer: cannot encode the inputs\n");
      exit (1);
    }
  /* the levels the level element measures on these sources (RMS, dBFS): pink noise
   * at 0.3 about -26, at 0.001 about -77; V set where it is speech */
  g_autoptr (GPtrArray) voice_lv = with_level (voice, 0x80 | 26);
  g_autoptr (GPtrArray) room_lv = with_level (room, 77);
  printf ("audio: ours reads each packet's RFC 6464 level and decodes only the inputs "
          "that can be among the loudest; ours_no_level decodes every input; gstreamer "
          "decodes every input and encodes once per participant; all with FEC, every "
          "output counted\n");
  bench_audio_one (voice_lv, room_lv, 100, 3, MCU_AUDIO_MIXER_COMPLEXITY, seconds);
  bench_audio_one (voice_lv, room_lv, 25, 3, MCU_AUDIO_MIXER_COMPLEXITY, seconds);
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
  g_autoptr (GError) error = NULL;
  GstElement *pipe = gst_parse_launch (d->str, &error);
  if (pipe == NULL || error != NULL)
    {
      fprintf (stderr, "bench-mixer: the video baseline cannot be built: %s\n",
               error ? error->message : "?");
      exit (1);
    }
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
      GPtrArray *all[4] = { pkts, pkts, pkts, pkts };
      Feeder f = { all, n, 0, per_frame, 66, 0, m, push_ours_video };
      Figures ours = measure (&f, 1000, seconds, NULL, NULL);
      mcu_video_mixer_free (m);

      g_autoptr (GPtrArray) srcs = g_ptr_array_new_with_free_func (gst_object_unref);
      GstElement *pipe = video_baseline (n, srcs);
      Feeder g = { all, n, 0, per_frame, 66, 0, srcs, push_appsrc };
      Figures base = measure (&g, 1000, seconds, NULL, NULL);
      gst_element_set_state (pipe, GST_STATE_NULL);
      gst_object_unref (pipe);

      g_autofree char *a
          = g_strdup_printf ("composite_720p_%s_ours", mcu_layout_name (l));
      g_autofree char *b
          = g_strdup_printf ("composite_720p_%s_gstreamer", mcu_layout_name (l));
      print_row (a, ours, -1);
      print_row (b, base, -1);
      printf ("composite_720p_%s_ratio_median: %.2f x\n", mcu_layout_name (l),
              base.median > 0 ? ours.median / base.median : 0);
    }
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  guint seconds = argc > 1 ? (guint)atoi (argv[1]) : 3;
  if (seconds < 1)
    seconds = 1;
  const char *what = argc > 2 ? argv[2] : "all";
  printf ("seconds_per_window: %u, windows: %u\n", seconds, REPS);
  if (strcmp (what, "video") != 0)
    bench_audio (seconds);
  if (strcmp (what, "audio") != 0)
    bench_video (seconds);
  return 0;
}
