/* Suite mcu-video-mixer: proves the composites on real VP8. Three participants send
 * solid red, green and blue; three outputs (grid, chair-large with green chairing,
 * speaker with blue speaking) are decoded and each tile's centre has the colour of
 * the participant the layout puts there. The same layout and size asked twice is
 * one output; a participant that leaves frees its tile; a participant whose packets
 * are lost gets a keyframe request; bad sizes are refused. */
#include "video-mixer.h"
#include "mcu-error.h"
#include "lt-test.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#define W 320
#define H 180

typedef struct
{
  GMutex lock;
  GHashTable *packets; /* output id -> GPtrArray of GBytes */
  guint keyframe_requests[4];
} Sink;

static Sink sink;

static void
on_output (guint output, const guint8 *rtp, gsize len, gpointer data)
{
  g_mutex_lock (&sink.lock);
  GPtrArray *a = g_hash_table_lookup (sink.packets, GUINT_TO_POINTER (output));
  if (a == NULL)
    {
      a = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
      g_hash_table_insert (sink.packets, GUINT_TO_POINTER (output), a);
    }
  g_ptr_array_add (a, g_bytes_new (rtp, len));
  g_mutex_unlock (&sink.lock);
}

static void
on_keyframe_needed (guint participant, gpointer data)
{
  g_mutex_lock (&sink.lock);
  if (participant < 4)
    sink.keyframe_requests[participant]++;
  g_mutex_unlock (&sink.lock);
}

typedef struct
{
  McuVideoMixer *mixer;
  guint id;
  guint count;
  gboolean lossy;
  GstElement *pipe;
} Sender;

static GstFlowReturn
on_sent (GstAppSink *appsink, gpointer data)
{
  Sender *s = data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (appsink);
  GstMapInfo map;
  GstBuffer *buf = gst_sample_get_buffer (sample);
  s->count++;
  /* a lossy sender loses a run of packets mid-stream, as a weak link would */
  if (s->lossy && s->count >= 20 && s->count < 26)
    return GST_FLOW_OK;
  gst_buffer_map (buf, &map, GST_MAP_READ);
  mcu_video_mixer_push_rtp (s->mixer, s->id, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  return GST_FLOW_OK;
}

/* A live sender of one solid colour (videotestsrc pattern 4 red, 5 green, 6 blue). */
static void
sender_start (Sender *s, McuVideoMixer *m, guint id, int pattern, gboolean lossy)
{
  g_autofree char *desc = g_strdup_printf (
      "videotestsrc is-live=true pattern=%d ! video/x-raw,width=160,height=120,"
      "framerate=15/1 ! vp8enc deadline=1 keyframe-max-dist=15 ! rtpvp8pay pt=96 "
      "mtu=1200 ! "
      "appsink name=out emit-signals=true sync=false",
      pattern);
  *s = (Sender){ .mixer = m, .id = id, .lossy = lossy };
  s->pipe = gst_parse_launch (desc, NULL);
  ck_assert_ptr_nonnull (s->pipe);
  g_autoptr (GstElement) out = gst_bin_get_by_name (GST_BIN (s->pipe), "out");
  g_signal_connect (out, "new-sample", G_CALLBACK (on_sent), s);
  gst_element_set_state (s->pipe, GST_STATE_PLAYING);
}

static void
sender_stop (Sender *s)
{
  gst_element_set_state (s->pipe, GST_STATE_NULL);
  gst_object_unref (s->pipe);
}

/* Decodes an output's packets and returns its last frame as RGB (transfer full), or
 * %NULL when it sent too little yet to judge. */
static GstSample *
try_last_frame (guint output)
{
  g_autoptr (GstElement) pipe = gst_parse_launch (
      "appsrc name=src format=time caps=\"application/x-rtp,media=video,clock-rate=90000,"
      "encoding-name=VP8,payload=97\" ! rtpvp8depay ! vp8dec ! videoconvert ! "
      "video/x-raw,format=RGB ! appsink name=out sync=false",
      NULL);
  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_autoptr (GstElement) out = gst_bin_get_by_name (GST_BIN (pipe), "out");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  g_mutex_lock (&sink.lock);
  GPtrArray *a = g_hash_table_lookup (sink.packets, GUINT_TO_POINTER (output));
  if (a == NULL || a->len <= 10)
    {
      g_mutex_unlock (&sink.lock);
      gst_element_set_state (pipe, GST_STATE_NULL);
      return NULL;
    }
  for (guint i = 0; i < a->len; i++)
    {
      GBytes *b = g_ptr_array_index (a, i);
      gst_app_src_push_buffer (
          GST_APP_SRC (src),
          gst_buffer_new_memdup (g_bytes_get_data (b, NULL), g_bytes_get_size (b)));
    }
  g_mutex_unlock (&sink.lock);
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  GstSample *last = NULL;
  for (GstSample *s; (s = gst_app_sink_pull_sample (GST_APP_SINK (out))) != NULL;)
    {
      if (last)
        gst_sample_unref (last);
      last = s;
    }
  gst_element_set_state (pipe, GST_STATE_NULL);
  return last;
}

static GstSample *
last_frame (guint output)
{
  GstSample *last = try_last_frame (output);
  ck_assert_msg (last != NULL, "output %u sent almost nothing, or nothing decodable",
                 output);
  return last;
}

typedef enum
{
  RED,
  GREEN,
  BLUE,
  BLACK
} Colour;

static const char *const colour_names[] = { "red", "green", "blue", "black" };

static Colour
colour_at (GstSample *frame, int x, int y)
{
  GstMapInfo map;
  GstBuffer *buf = gst_sample_get_buffer (frame);
  GstVideoInfo info;
  gst_video_info_from_caps (&info, gst_sample_get_caps (frame));
  gst_buffer_map (buf, &map, GST_MAP_READ);
  const guint8 *px = map.data + y * GST_VIDEO_INFO_PLANE_STRIDE (&info, 0) + x * 3;
  guint r = px[0], g = px[1], b = px[2];
  gst_buffer_unmap (buf, &map);
  if (r > 150 && g < 90 && b < 90)
    return RED;
  if (g > 150 && r < 90 && b < 90)
    return GREEN;
  if (b > 150 && r < 90 && g < 90)
    return BLUE;
  if (r < 40 && g < 40 && b < 40)
    return BLACK;
  return (Colour)-1;
}

#define ASSERT_COLOUR(frame, x, y, want)                                                 \
  do                                                                                     \
    {                                                                                    \
      Colour got_ = colour_at (frame, x, y);                                             \
      ck_assert_msg (got_ == want, "at %d,%d want %s, got %s", x, y, colour_names[want], \
                     (int)got_ >= 0 && got_ <= BLACK ? colour_names[got_] : "other");    \
    }                                                                                    \
  while (0)

typedef struct
{
  int x, y;
  Colour want;
} Spot;

/* The tiles each layout must show (see test_layouts), by output. */
static const Spot grid_spots[]
    = { { 80, 45, RED }, { 240, 45, GREEN }, { 80, 135, BLUE }, { 240, 135, BLACK } };
static const Spot chair_spots[]
    = { { 120, 90, GREEN }, { 280, 22, RED }, { 280, 67, BLUE } };
static const Spot speaker_spots[]
    = { { 160, 67, BLUE }, { 40, 157, RED }, { 120, 157, GREEN } };
static const Spot grid2_spots[] = { { 80, 90, RED }, { 240, 90, GREEN } };

static guint grid_out, chair_out, speaker_out;

static gboolean
frame_shows (guint output, const Spot *spots, gsize n)
{
  g_autoptr (GstSample) frame = try_last_frame (output);
  if (frame == NULL)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (colour_at (frame, spots[i].x, spots[i].y) != spots[i].want)
      return FALSE;
  return TRUE;
}

static void
assert_frame_shows (guint output, const Spot *spots, gsize n)
{
  g_autoptr (GstSample) frame = last_frame (output);
  for (gsize i = 0; i < n; i++)
    ASSERT_COLOUR (frame, spots[i].x, spots[i].y, spots[i].want);
}

/* Every layout shows its tiles and the lossy sender was asked for a keyframe. */
static gboolean
layouts_ready (void)
{
  g_mutex_lock (&sink.lock);
  gboolean asked = sink.keyframe_requests[1] > 0;
  g_mutex_unlock (&sink.lock);
  return asked && frame_shows (grid_out, grid_spots, G_N_ELEMENTS (grid_spots))
         && frame_shows (chair_out, chair_spots, G_N_ELEMENTS (chair_spots))
         && frame_shows (speaker_out, speaker_spots, G_N_ELEMENTS (speaker_spots));
}

static gboolean
grid2_ready (void)
{
  return frame_shows (grid_out, grid2_spots, G_N_ELEMENTS (grid2_spots));
}

/* Runs the main loop until @ready says what the test waits for has been observed in
 * the decoded output, or @timeout_ms passed: media takes real time, and how much
 * depends on the machine's load, so the test waits for the frames, not for a fixed
 * time. The caller asserts afterwards, so a condition never met still fails. */
static void
wait_for (gboolean (*ready) (void), guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  while (g_get_monotonic_time () < end)
    {
      gint64 step = g_get_monotonic_time () + 200 * 1000;
      while (g_get_monotonic_time () < step)
        if (!g_main_context_iteration (NULL, FALSE))
          g_usleep (10 * 1000);
      if (ready ())
        return;
    }
}

static void
sink_clear (void)
{
  g_mutex_lock (&sink.lock);
  g_hash_table_remove_all (sink.packets);
  g_mutex_unlock (&sink.lock);
}

START_TEST (test_layouts)
{
  g_autoptr (GError) error = NULL;
  McuVideoMixerConfig cfg = { .keyframe_needed = on_keyframe_needed };
  McuVideoMixer *m = mcu_video_mixer_new (&cfg, on_output, NULL, &error);
  ck_assert_msg (m != NULL, "%s", error ? error->message : "");

  const char *labels[] = { NULL, "Xã Tân Trào", "Huyện Sơn Dương", "Tỉnh <Tuyên> Quang" };
  for (guint id = 1; id <= 3; id++)
    ck_assert (mcu_video_mixer_add (m, id, labels[id], 96, MCU_VIDEO_CODEC_VP8, &error));
  guint grid = mcu_video_mixer_add_output (m, MCU_LAYOUT_GRID, W, H, 97, &error);
  guint chair = mcu_video_mixer_add_output (m, MCU_LAYOUT_CHAIR_LARGE, W, H, 97, &error);
  guint speaker = mcu_video_mixer_add_output (m, MCU_LAYOUT_SPEAKER, W, H, 97, &error);
  ck_assert (grid && chair && speaker && grid != chair && chair != speaker);
  ck_assert_uint_eq (mcu_video_mixer_add_output (m, MCU_LAYOUT_GRID, W, H, 97, &error),
                     grid);
  ck_assert_uint_eq (mcu_video_mixer_n_outputs (m), 3);
  mcu_video_mixer_set_chair (m, 2);
  mcu_video_mixer_set_speaker (m, 3);

  Sender s[3];
  sender_start (&s[0], m, 1, 4, TRUE);
  sender_start (&s[1], m, 2, 5, FALSE);
  sender_start (&s[2], m, 3, 6, FALSE);
  /* 20 s is far more than a loaded machine needs (about 1 s idle); the frames
   * are asserted after the wait, met or not */
  grid_out = grid;
  chair_out = chair;
  speaker_out = speaker;
  wait_for (layouts_ready, 20000);
  assert_frame_shows (grid, grid_spots, G_N_ELEMENTS (grid_spots));
  assert_frame_shows (chair, chair_spots, G_N_ELEMENTS (chair_spots));
  assert_frame_shows (speaker, speaker_spots, G_N_ELEMENTS (speaker_spots));
  g_mutex_lock (&sink.lock);
  ck_assert_msg (sink.keyframe_requests[1] > 0, "no keyframe asked of the lossy sender");
  g_mutex_unlock (&sink.lock);

  /* blue leaves: the grid becomes two tiles side by side */
  sender_stop (&s[2]);
  mcu_video_mixer_remove (m, 3);
  mcu_video_mixer_request_keyframe (m, grid);
  sink_clear ();
  /* only packets sent after the removal are decoded: the old 2x2 grid has blue's
   * tile at (80,90), so this waits for the new layout itself */
  wait_for (grid2_ready, 20000);
  assert_frame_shows (grid, grid2_spots, G_N_ELEMENTS (grid2_spots));

  mcu_video_mixer_release_output (m, grid); /* still held by the second add */
  ck_assert_uint_eq (mcu_video_mixer_n_outputs (m), 3);
  mcu_video_mixer_release_output (m, grid);
  ck_assert_uint_eq (mcu_video_mixer_n_outputs (m), 2);
  ck_assert_uint_eq (
      mcu_video_mixer_add_output (m, MCU_LAYOUT_GRID, 641, 360, 97, &error), 0);
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  sender_stop (&s[0]);
  sender_stop (&s[1]);
  mcu_video_mixer_free (m);
}
END_TEST

START_TEST (test_layout_names)
{
  McuLayout l;
  ck_assert (mcu_layout_from_name ("chair-large", &l) && l == MCU_LAYOUT_CHAIR_LARGE);
  ck_assert (mcu_layout_from_name ("speaker", &l) && l == MCU_LAYOUT_SPEAKER);
  ck_assert (!mcu_layout_from_name ("mosaic", &l));
  ck_assert_str_eq (mcu_layout_name (MCU_LAYOUT_GRID), "grid");
}
END_TEST

int
main (void)
{
  gst_init (NULL, NULL);
  g_mutex_init (&sink.lock);
  sink.packets
      = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify)g_ptr_array_unref);
  Suite *s = suite_create ("mcu-video-mixer");
  TCase *tc = tcase_create ("composite");
  tcase_set_timeout (tc, 90);
  tcase_add_test (tc, test_layouts);
  tcase_add_test (tc, test_layout_names);
  suite_add_tcase (s, tc);
  int rc = lt_test_run (s);
  g_hash_table_destroy (sink.packets);
  return rc;
}
