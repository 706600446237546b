/* Suite mcu-recorder: proves McuRecorder with real encoders and real files. A test
 * pattern (VP8), a tone (Opus) and a 1280x720 "screen" (VP8) are encoded and
 * packetised by GStreamer and pushed in as RTP, as the router would send them:
 *  - every segment (1 s each) is a WebM file GStreamer's discoverer reads, with VP8
 *    and Opus in the program's and VP8 alone in the content's, each starting on a
 *    keyframe (the recorder asks the source for them); their durations add up to
 *    the time recorded;
 *  - the manifest lists every segment with its size and the SHA-256 of its bytes,
 *    and every segment was reported by the time stop returns;
 *  - a pause leaves a gap of its length in the timeline;
 *  - a folder that cannot be written, or with too little room, is refused at once;
 *  - when free space falls under the threshold while recording, it stops by itself,
 *    says why, and what it wrote is finished and listed. */
#define _GNU_SOURCE /* unshare(2) */
#include "mcu-error.h"
#include "recorder.h"
#include "lt-test.h"
#include "webm-check.h"

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

typedef struct
{
  McuRecorder *rec;
  GstElement *pipe;
  GstElement *enc[MCU_REC_N_TRACKS];
  gint keyframes_asked;
  guint segments;
  gboolean stopped;
  char *stop_message;
} Feed;

static Feed feed;

static GstFlowReturn
on_rtp (GstAppSink *sink, gpointer data)
{
  McuRecTrack track = GPOINTER_TO_INT (data);
  g_autoptr (GstSample) s = gst_app_sink_pull_sample (sink);
  GstBuffer *b = s ? gst_sample_get_buffer (s) : NULL;
  GstMapInfo map;
  if (b && feed.rec && gst_buffer_map (b, &map, GST_MAP_READ))
    {
      mcu_recorder_push (feed.rec, track, map.data, map.size);
      gst_buffer_unmap (b, &map);
    }
  return GST_FLOW_OK;
}

/* The recorder wants a keyframe: the encoder is asked, as a PLI would ask a site. */
static void
on_keyframe (McuRecTrack track, gpointer data)
{
  g_atomic_int_inc (&feed.keyframes_asked);
  if (feed.enc[track])
    gst_element_send_event (feed.enc[track], gst_video_event_new_upstream_force_key_unit (
                                                 GST_CLOCK_TIME_NONE, TRUE, 0));
}

static void
on_segment (const char *file, guint64 bytes, const char *sha256, gpointer data)
{
  feed.segments++;
}

static void
on_stopped (const GError *error, gpointer data)
{
  feed.stopped = TRUE;
  feed.stop_message = g_strdup (error ? error->message : "");
}

static const McuRecorderCallbacks callbacks = { on_keyframe, on_segment, on_stopped };

static void
sources_start (void)
{
  g_autoptr (GError) error = NULL;
  feed.pipe = gst_parse_launch (
      "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1 ! "
      "vp8enc name=e0 deadline=1 keyframe-max-dist=3000 ! rtpvp8pay pt=96 ! "
      "appsink name=a0 emit-signals=true sync=false "
      "videotestsrc is-live=true pattern=ball ! "
      "video/x-raw,width=1280,height=720,framerate=5/1 ! "
      "vp8enc name=e1 deadline=1 keyframe-max-dist=3000 ! rtpvp8pay pt=96 ! "
      "appsink name=a1 emit-signals=true sync=false "
      "audiotestsrc is-live=true freq=700 ! opusenc ! rtpopuspay pt=111 ! "
      "appsink name=a2 emit-signals=true sync=false",
      &error);
  ck_assert_msg (feed.pipe != NULL, "%s", error ? error->message : "");
  for (int t = 0; t < MCU_REC_N_TRACKS; t++)
    {
      g_autofree char *an = g_strdup_printf ("a%d", t), *en = g_strdup_printf ("e%d", t);
      g_autoptr (GstElement) a = gst_bin_get_by_name (GST_BIN (feed.pipe), an);
      g_signal_connect (a, "new-sample", G_CALLBACK (on_rtp), GINT_TO_POINTER (t));
      feed.enc[t] = gst_bin_get_by_name (GST_BIN (feed.pipe), en);
    }
  gst_element_set_state (feed.pipe, GST_STATE_PLAYING);
}

static void
sources_stop (void)
{
  gst_element_set_state (feed.pipe, GST_STATE_NULL);
  for (int t = 0; t < MCU_REC_N_TRACKS; t++)
    g_clear_object (&feed.enc[t]);
  g_clear_object (&feed.pipe);
}

static void
run_ms (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
}

/* Whether the first video frame of the WebM file @path is a keyframe: a segment
 * that plays alone, from its first frame. */
static gboolean
starts_on_keyframe (const char *path)
{
  g_autofree char *desc = g_strdup_printf (
      "filesrc name=f ! matroskademux ! video/x-vp8 ! appsink name=s sync=false");
  g_autoptr (GstElement) p = gst_parse_launch (desc, NULL);
  g_autoptr (GstElement) f = gst_bin_get_by_name (GST_BIN (p), "f");
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (p), "s");
  g_object_set (f, "location", path, NULL);
  gst_element_set_state (p, GST_STATE_PLAYING);
  g_autoptr (GstSample) first
      = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 5 * GST_SECOND);
  gboolean key = first != NULL
                 && !GST_BUFFER_FLAG_IS_SET (gst_sample_get_buffer (first),
                                             GST_BUFFER_FLAG_DELTA_UNIT);
  gst_element_set_state (p, GST_STATE_NULL);
  return key;
}

static char *
sha256_of (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  ck_assert (g_file_get_contents (path, &data, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)data, len);
}

/* Checks the manifest against the folder; returns the seconds of program segments
 * and counts the files of each track. */
static double
check_manifest (const char *dir, const char *name, gboolean complete, guint *n_program,
                guint *n_content)
{
  g_autofree char *mname = g_strdup_printf ("%s.manifest.json", name);
  g_autofree char *mpath = g_build_filename (dir, mname, NULL);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;
  ck_assert_msg (json_parser_load_from_file (p, mpath, &error), "manifest: %s",
                 error ? error->message : "");
  JsonObject *m = json_node_get_object (json_parser_get_root (p));
  ck_assert_int_eq (json_object_get_boolean_member (m, "complete"), complete);
  JsonArray *segs = json_object_get_array_member (m, "segments");
  double program_s = 0;
  *n_program = *n_content = 0;
  for (guint i = 0; i < json_array_get_length (segs); i++)
    {
      JsonObject *s = json_array_get_object_element (segs, i);
      const char *file = json_object_get_string_member (s, "file");
      g_autofree char *path = g_build_filename (dir, file, NULL);
      g_autofree char *sum = sha256_of (path);
      ck_assert_str_eq (json_object_get_string_member (s, "sha256"), sum);
      GStatBuf st;
      ck_assert (g_stat (path, &st) == 0);
      ck_assert_int_eq (json_object_get_int_member (s, "bytes"), st.st_size);
      g_autoptr (GString) codecs = g_string_new (NULL);
      double dur = webm_discover (path, codecs);
      ck_assert_msg (starts_on_keyframe (path), "%s does not start on a keyframe", file);
      gboolean content
          = g_str_equal (json_object_get_string_member (s, "track"), "content");
      g_print ("%s: %.2f s, %s %" G_GINT64_FORMAT " bytes\n", file, dur, codecs->str,
               (gint64)st.st_size);
      if (content)
        {
          ck_assert_str_eq (codecs->str, "VP8,");
          (*n_content)++;
        }
      else
        {
          ck_assert_msg (strstr (codecs->str, "VP8") && strstr (codecs->str, "Opus"),
                         "%s holds %s", file, codecs->str);
          program_s += dur;
          (*n_program)++;
        }
    }
  return program_s;
}

START_TEST (test_segments_manifest_and_pause)
{
  g_autofree char *dir = g_dir_make_tmp ("lt-rec-XXXXXX", NULL);
  memset (&feed, 0, sizeof feed);
  g_autoptr (GError) error = NULL;
  McuRecorderConfig cfg
      = { .dir = dir, .name = "occ-7", .segment_s = 1, .min_free_bytes = 1 };
  feed.rec = mcu_recorder_new (NULL, &cfg, &callbacks, NULL, &error);
  ck_assert_msg (feed.rec != NULL, "%s", error ? error->message : "");
  gint64 t0 = g_get_monotonic_time ();
  sources_start ();
  run_ms (2500);
  /* paused for 1 s: nothing is written, the timeline keeps the gap */
  mcu_recorder_set_paused (feed.rec, TRUE);
  ck_assert (!mcu_recorder_is_recording (feed.rec));
  run_ms (1000);
  mcu_recorder_set_paused (feed.rec, FALSE);
  run_ms (2500);
  double wall = (double)(g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  mcu_recorder_stop (feed.rec);
  /* every segment is reported by the time stop returns (a caller frees next) */
  guint reported = feed.segments;
  sources_stop ();
  run_ms (100);
  guint np = 0, nc = 0;
  double program_s = check_manifest (dir, "occ-7", TRUE, &np, &nc);
  g_print ("recorded %.1f s of wall time (1 s paused): %u program segments, %.2f s; "
           "%u content segments; %d keyframes asked; %u segment callbacks\n",
           wall, np, program_s, nc, g_atomic_int_get (&feed.keyframes_asked),
           feed.segments);
  ck_assert_uint_ge (np, 4);
  ck_assert_uint_ge (nc, 2);
  ck_assert_uint_eq (reported, np + nc);
  ck_assert_uint_eq (feed.segments, np + nc);
  ck_assert_int_ge (g_atomic_int_get (&feed.keyframes_asked), 2); /* a start each */
  /* the timeline spans what was recorded and the pause's gap: within 10% of the
   * wall time (the first packets wait for a keyframe and the jitter buffer) */
  ck_assert_msg (program_s >= 0.9 * wall - 0.5 && program_s <= 1.05 * wall,
                 "%.2f s recorded over %.2f s", program_s, wall);
  mcu_recorder_free (feed.rec);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *f;
  while ((f = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, f, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}
END_TEST

START_TEST (test_refused_at_start)
{
  g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL;
  McuRecorderConfig missing = { .dir = "/nonexistent/lienthong", .name = "x" };
  ck_assert_ptr_null (mcu_recorder_new (NULL, &missing, &callbacks, NULL, &e1));
  ck_assert (g_error_matches (e1, MCU_ERROR, MCU_ERROR_INVALID));
  g_autofree char *dir = g_dir_make_tmp ("lt-rec-XXXXXX", NULL);
  McuRecorderConfig badname = { .dir = dir, .name = "../../etc/x" };
  ck_assert_ptr_null (mcu_recorder_new (NULL, &badname, &callbacks, NULL, &e2));
  ck_assert (g_error_matches (e2, MCU_ERROR, MCU_ERROR_INVALID));
  McuRecorderConfig full = { .dir = dir, .name = "x", .min_free_bytes = G_MAXUINT64 };
  ck_assert_ptr_null (mcu_recorder_new (NULL, &full, &callbacks, NULL, &e3));
  ck_assert (g_error_matches (e3, MCU_ERROR, MCU_ERROR_NO_SPACE));
  g_print ("refused: %s; %s; %s\n", e1->message, e2->message, e3->message);
  /* nothing was left behind */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  ck_assert_ptr_null (g_dir_read_name (d));
  g_rmdir (dir);
}
END_TEST

/* A 1 MiB file system (tmpfs, in a mount namespace of the test's own, which Check's
 * fork confines to this test) fills up while it records: under the 768 KiB that
 * must stay free, it stops. Needs root (CI runs as root); skipped otherwise. */
START_TEST (test_disk_low_stops_cleanly)
{
  g_autofree char *dir = g_dir_make_tmp ("lt-rec-XXXXXX", NULL);
  memset (&feed, 0, sizeof feed);
  if (geteuid () != 0 || unshare (CLONE_NEWNS) != 0
      || mount ("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0
      || mount ("lt-rec", dir, "tmpfs", 0, "size=1m") != 0)
    {
      g_print ("SKIP %s: cannot mount a small file system (needs root)\n", __func__);
      g_rmdir (dir);
      return;
    }
  g_autoptr (GError) error = NULL;
  McuRecorderConfig cfg
      = { .dir = dir, .name = "low", .segment_s = 1, .min_free_bytes = 768 * 1024 };
  feed.rec = mcu_recorder_new (NULL, &cfg, &callbacks, NULL, &error);
  ck_assert_msg (feed.rec != NULL, "%s", error ? error->message : "");
  sources_start ();
  for (int i = 0; i < 300 && !feed.stopped; i++)
    run_ms (100);
  sources_stop ();
  run_ms (100);
  g_print ("stopped: %s\n", feed.stop_message ? feed.stop_message : "(not)");
  ck_assert_msg (feed.stopped, "the recording went on under the free-space threshold");
  ck_assert (strstr (feed.stop_message, "disk low") != NULL);
  ck_assert (!mcu_recorder_is_recording (feed.rec));
  guint np = 0, nc = 0;
  check_manifest (dir, "low", TRUE, &np, &nc);
  ck_assert_uint_ge (np, 1);
  mcu_recorder_free (feed.rec);
  g_free (feed.stop_message);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *n;
  while ((n = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, n, NULL);
      g_unlink (path);
    }
  umount (dir);
  g_rmdir (dir);
}
END_TEST

int
main (void)
{
  gst_init (NULL, NULL);
  Suite *s = suite_create ("mcu-recorder");
  TCase *tc = tcase_create ("recorder");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_refused_at_start);
  tcase_add_test (tc, test_segments_manifest_and_pause);
  tcase_add_test (tc, test_disk_low_stops_cleanly);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
