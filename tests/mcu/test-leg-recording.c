/* Suite mcu-leg-recording: proves a meeting leg records what it relays (issue 17)
 * with real parts. A webrtcbin site sends VP8 (an encoder that makes keyframes only
 * when asked: keyframe-max-dist is 3000 frames) and Opus to a leg (real ICE,
 * DTLS-SRTP, router, audio mixer) and holds the floor; the leg records into a
 * temporary folder in 2 s segments:
 *  - every program segment is a WebM file GStreamer's discoverer reads with VP8 and
 *    Opus (the mix reaches the recorder through the mixer), starting on a keyframe:
 *    the recorder's asks became PLIs to the site (counted at its router side);
 *  - the manifest lists every segment with its size and SHA-256, and each segment
 *    was reported to the leg's caller by the time the recording stopped;
 *  - a pause drops media: the frames in the files cover the time recorded less
 *    the pause, while their timeline spans it;
 *  - the recorder is no member: the statistics report names the site alone;
 *  - one recording at a time, and a leg freed while it records stops it cleanly. */
#define GST_USE_UNSTABLE_API
#include "leg.h"
#include "mcu-error.h"
#include "lt-test.h"
#include "webm-check.h"

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define FPS 15

static const char *const lo[] = { "127.0.0.1", NULL };

typedef struct
{
  GstElement *pipe, *webrtc;
  GAsyncQueue *q; /* char*: "offer:<sdp>", "cand:<line>", "error:..." */
  char *offer, *answer;
  GPtrArray *cands;
  gboolean answered;
} Site;

static void
site_post (Site *s, char *msg)
{
  g_async_queue_push (s->q, msg);
  g_main_context_wakeup (NULL);
}

static void
on_offer_created (GstPromise *promise, gpointer data)
{
  Site *s = data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *offer = NULL;
  gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  gst_promise_unref (promise);
  if (offer == NULL)
    {
      site_post (s, g_strdup ("error:no offer"));
      return;
    }
  g_signal_emit_by_name (s->webrtc, "set-local-description", offer, NULL);
  char *text = gst_sdp_message_as_text (offer->sdp);
  site_post (s, g_strconcat ("offer:", text, NULL));
  g_free (text);
  gst_webrtc_session_description_free (offer);
}

static void
on_negotiation_needed (GstElement *w, gpointer data)
{
  GstPromise *p = gst_promise_new_with_change_func (on_offer_created, data, NULL);
  g_signal_emit_by_name (w, "create-offer", NULL, p);
}

static void
on_ice_candidate (GstElement *w, guint mline, const char *cand, gpointer data)
{
  site_post (data, g_strconcat ("cand:", cand, NULL));
}

static void
on_pad_added (GstElement *w, GstPad *pad, gpointer data)
{
  Site *s = data;
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (s->pipe), sink);
  gst_element_sync_state_with_parent (sink);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
}

/* A site that sends a camera (VP8, keyframes only when asked) and a microphone. */
static void
site_start (Site *s)
{
  memset (s, 0, sizeof *s);
  s->q = g_async_queue_new_full (g_free);
  s->cands = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) err = NULL;
  g_autofree char *desc = g_strdup_printf (
      "webrtcbin name=w bundle-policy=max-bundle "
      "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=%d/1 ! "
      "vp8enc deadline=1 keyframe-max-dist=3000 ! rtpvp8pay pt=96 ! "
      "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 ! w. "
      "audiotestsrc is-live=true freq=700 ! opusenc ! rtpopuspay pt=111 ! "
      "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 "
      "! w.",
      FPS);
  s->pipe = gst_parse_launch (desc, &err);
  ck_assert_msg (s->pipe != NULL, "%s", err ? err->message : "");
  s->webrtc = gst_bin_get_by_name (GST_BIN (s->pipe), "w");
  GObject *ice = NULL;
  g_object_get (s->webrtc, "ice-agent", &ice, NULL);
  gboolean added = FALSE;
  g_signal_emit_by_name (ice, "add-local-ip-address", "127.0.0.1", &added);
  ck_assert (added);
  g_object_unref (ice);
  g_signal_connect (s->webrtc, "on-negotiation-needed",
                    G_CALLBACK (on_negotiation_needed), s);
  g_signal_connect (s->webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), s);
  g_signal_connect (s->webrtc, "pad-added", G_CALLBACK (on_pad_added), s);
  ck_assert_int_ne (gst_element_set_state (s->pipe, GST_STATE_PLAYING),
                    GST_STATE_CHANGE_FAILURE);
}

static void
site_drain (Site *s)
{
  char *msg;
  while ((msg = g_async_queue_try_pop (s->q)) != NULL)
    {
      if (g_str_has_prefix (msg, "offer:"))
        s->offer = g_strdup (msg + 6);
      else if (g_str_has_prefix (msg, "cand:"))
        g_ptr_array_add (s->cands, g_strdup (msg + 5));
      else
        ck_abort_msg ("site: %s", msg);
      g_free (msg);
    }
}

static void
wait_ms (guint ms, Site *s)
{
  gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      site_drain (s);
      g_usleep (1000);
    }
}

static void
on_answer (const char *sdp, const GError *error, gpointer data)
{
  Site *s = data;
  ck_assert_msg (sdp != NULL, "site: %s", error ? error->message : "");
  s->answer = g_strdup (sdp);
  s->answered = TRUE;
}

static void
site_join (McuLeg *leg, Site *s, const char *name)
{
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (s->offer == NULL && g_get_monotonic_time () < end)
    wait_ms (10, s);
  ck_assert_msg (s->offer != NULL, "the site made no offer");
  mcu_leg_add_site_async (leg, name, s->offer, MCU_LEVEL_FULL, on_answer, s);
  while (!s->answered && g_get_monotonic_time () < end)
    wait_ms (10, s);
  ck_assert (s->answered);
  GstSDPMessage *sdp = NULL;
  ck_assert_int_eq (gst_sdp_message_new_from_text (s->answer, &sdp), GST_SDP_OK);
  GstWebRTCSessionDescription *desc
      = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  g_signal_emit_by_name (s->webrtc, "set-remote-description", desc, NULL);
  gst_webrtc_session_description_free (desc);
  wait_ms (200, s);
  for (guint i = 0; i < s->cands->len; i++)
    mcu_leg_add_candidate (leg, name, g_ptr_array_index (s->cands, i), NULL);
}

static void
site_stop (Site *s)
{
  gst_element_set_state (s->pipe, GST_STATE_NULL);
  g_clear_object (&s->webrtc);
  g_clear_object (&s->pipe);
  g_async_queue_unref (s->q);
  g_ptr_array_unref (s->cands);
  g_free (s->offer);
  g_free (s->answer);
}

static McuPeerCounters
counters (McuLeg *leg, const char *name)
{
  McuPeerCounters c = { 0 };
  mcu_leg_get_counters (leg, name, &c);
  return c;
}

/* --- what the leg's callers see ------------------------------------------------ */

static GPtrArray *reported;   /* char*: segment files reported */
static char *last_stats;      /* the leg's last statistics report */
static GPtrArray *ep_states;  /* char*: endpoints named in state callbacks */
static gboolean stopped_self; /* the stopped callback came */

static void
on_segment (const char *file, guint64 bytes, const char *sha256, gpointer data)
{
  g_ptr_array_add (reported, g_strdup (file));
}

static void
on_rec_stopped (const GError *error, gpointer data)
{
  stopped_self = TRUE;
}

static void
on_stats (const char *json, gpointer data)
{
  g_free (last_stats);
  last_stats = g_strdup (json);
}

static void
on_state (const char *endpoint, McuEndpointState state, gpointer data)
{
  g_ptr_array_add (ep_states, g_strdup (endpoint));
}

/* --- reading the files ----------------------------------------------------------- */

/* The video frames of the WebM file @path; *@key: whether the first is a keyframe. */
static guint
count_frames (const char *path, gboolean *key)
{
  g_autoptr (GstElement) p = gst_parse_launch (
      "filesrc name=f ! matroskademux ! video/x-vp8 ! appsink name=s sync=false", NULL);
  g_autoptr (GstElement) f = gst_bin_get_by_name (GST_BIN (p), "f");
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (p), "s");
  g_object_set (f, "location", path, NULL);
  gst_element_set_state (p, GST_STATE_PLAYING);
  guint n = 0;
  GstSample *s;
  *key = FALSE;
  while ((s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 5 * GST_SECOND)))
    {
      if (n++ == 0)
        *key = !GST_BUFFER_FLAG_IS_SET (gst_sample_get_buffer (s),
                                        GST_BUFFER_FLAG_DELTA_UNIT);
      gst_sample_unref (s);
    }
  gst_element_set_state (p, GST_STATE_NULL);
  return n;
}

static void
remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *f;
  while (d && (f = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, f, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

START_TEST (test_leg_records_program_and_mix)
{
  gst_init (NULL, NULL);
  reported = g_ptr_array_new_with_free_func (g_free);
  ep_states = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (McuCert) cert = mcu_cert_generate ("node-rec", &error);
  McuEndpointConfig cfg = { 0 };
  cfg.ice.local_addresses = lo;
  McuLegCallbacks cb = { .endpoint_state = on_state, .stats = on_stats };
  McuLeg *leg = mcu_leg_new (NULL, cert, "17/rec", &cfg, NULL, &cb, NULL, &error);
  ck_assert_msg (leg != NULL, "%s", error ? error->message : "");
  Site a;
  site_start (&a);
  site_join (leg, &a, "site:a");
  mcu_leg_set_floor (leg, "site:a");
  /* the program flows: the site's video reaches the leg and the switch is made */
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (counters (leg, "site:a").rtp_in < 100 && g_get_monotonic_time () < end)
    wait_ms (20, &a);
  ck_assert_uint_ge (counters (leg, "site:a").rtp_in, 100);

  g_autofree char *dir = g_dir_make_tmp ("lt-legrec-XXXXXX", NULL);
  McuRecorderConfig rc
      = { .dir = dir, .name = "p1", .segment_s = 2, .min_free_bytes = 1 };
  McuLegRecordingCallbacks rcb = { on_segment, on_rec_stopped };
  guint64 plis0 = counters (leg, "site:a").plis_out;
  gint64 t0 = g_get_monotonic_time ();
  ck_assert_msg (mcu_leg_start_recording (leg, &rc, &rcb, NULL, &error), "%s",
                 error ? error->message : "");
  ck_assert (mcu_leg_is_recording (leg));
  /* one recording at a time */
  ck_assert (!mcu_leg_start_recording (leg, &rc, &rcb, NULL, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);
  wait_ms (3000, &a);
  mcu_leg_pause_recording (leg, TRUE);
  ck_assert (mcu_leg_recording_paused (leg));
  wait_ms (3000, &a);
  mcu_leg_pause_recording (leg, FALSE);
  wait_ms (3000, &a);
  double wall = (double)(g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  /* the recorder is no member: the report (every 2 s) names the site alone */
  ck_assert_ptr_nonnull (last_stats);
  g_autoptr (JsonParser) jp = json_parser_new ();
  ck_assert (json_parser_load_from_data (jp, last_stats, -1, NULL));
  JsonArray *eps = json_node_get_array (json_parser_get_root (jp));
  ck_assert_uint_eq (json_array_get_length (eps), 1);
  ck_assert_str_eq (
      json_object_get_string_member (json_array_get_object_element (eps, 0), "endpoint"),
      "site:a");
  for (guint i = 0; i < ep_states->len; i++)
    ck_assert_str_eq (g_ptr_array_index (ep_states, i), "site:a");
  gint64 s0 = g_get_monotonic_time ();
  mcu_leg_stop_recording (leg);
  double stop_s = (double)(g_get_monotonic_time () - s0) / G_USEC_PER_SEC;
  ck_assert (!mcu_leg_is_recording (leg));
  guint64 plis = counters (leg, "site:a").plis_out - plis0;
  guint n_reported = reported->len;

  /* the manifest against the folder and the files */
  g_autofree char *mpath = g_build_filename (dir, "p1.manifest.json", NULL);
  g_autoptr (JsonParser) mp = json_parser_new ();
  ck_assert_msg (json_parser_load_from_file (mp, mpath, &error), "manifest: %s",
                 error ? error->message : "");
  JsonObject *m = json_node_get_object (json_parser_get_root (mp));
  ck_assert (json_object_get_boolean_member (m, "complete"));
  JsonArray *segs = json_object_get_array_member (m, "segments");
  guint np = 0, frames = 0;
  double program_s = 0;
  for (guint i = 0; i < json_array_get_length (segs); i++)
    {
      JsonObject *s = json_array_get_object_element (segs, i);
      const char *file = json_object_get_string_member (s, "file");
      g_autofree char *path = g_build_filename (dir, file, NULL);
      g_autofree char *data = NULL;
      gsize len = 0;
      ck_assert (g_file_get_contents (path, &data, &len, NULL));
      g_autofree char *sum
          = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)data, len);
      ck_assert_str_eq (json_object_get_string_member (s, "sha256"), sum);
      ck_assert_int_eq (json_object_get_int_member (s, "bytes"), (gint64)len);
      gboolean listed = FALSE;
      for (guint j = 0; j < reported->len; j++)
        listed |= g_str_equal (g_ptr_array_index (reported, j), file);
      ck_assert_msg (listed, "%s was not reported", file);
      if (!g_str_equal (json_object_get_string_member (s, "track"), "program"))
        continue;
      ck_assert (g_str_has_prefix (file, "p1-program-"));
      g_autoptr (GString) codecs = g_string_new (NULL);
      double dur = webm_discover (path, codecs);
      gboolean key = FALSE;
      guint n = count_frames (path, &key);
      g_print ("%s: %.2f s, %s %u frames, %" G_GSIZE_FORMAT " bytes\n", file, dur,
               codecs->str, n, len);
      ck_assert_msg (strstr (codecs->str, "VP8") && strstr (codecs->str, "Opus"),
                     "%s holds %s", file, codecs->str);
      /* the encoder makes keyframes only when asked: the ask reached it */
      ck_assert_msg (key, "%s does not start on a keyframe", file);
      program_s += dur;
      frames += n;
      np++;
    }
  g_print ("recorded %.1f s (3 s paused): %u program segments, %.2f s, %u frames "
           "(%.2f s of video); %" G_GUINT64_FORMAT " PLIs to the site; %u reported; "
           "stop took %.2f s\n",
           wall, np, program_s, frames, (double)frames / FPS, plis, n_reported, stop_s);
  ck_assert_uint_ge (np, 3);
  ck_assert_uint_eq (n_reported, json_array_get_length (segs));
  /* a segment start asks the source: the first, and one per cut (the router may
   * fold two asks within 300 ms into one) */
  ck_assert_uint_ge (plis, np - 1);
  /* the pause dropped media: the timeline spans it, the frames do not fill it */
  ck_assert_msg (program_s - (double)frames / FPS >= 1.5,
                 "%.2f s of timeline, %u frames at %d/s", program_s, frames, FPS);
  ck_assert (!stopped_self);

  /* a leg freed while it records stops the recording, and finishes its files */
  g_autofree char *dir2 = g_dir_make_tmp ("lt-legrec-XXXXXX", NULL);
  rc.dir = dir2;
  rc.name = "p2";
  ck_assert_msg (mcu_leg_start_recording (leg, &rc, &rcb, NULL, &error), "%s",
                 error ? error->message : "");
  wait_ms (1500, &a);
  mcu_leg_free (leg);
  g_autofree char *m2 = g_build_filename (dir2, "p2.manifest.json", NULL);
  g_autofree char *m2text = NULL;
  ck_assert (g_file_get_contents (m2, &m2text, NULL, NULL));
  ck_assert_msg (strstr (m2text, "\"complete\": true") != NULL, "%s", m2text);
  wait_ms (100, &a);
  site_stop (&a);
  remove_tree (dir);
  remove_tree (dir2);
  g_clear_pointer (&last_stats, g_free);
  g_ptr_array_unref (reported);
  g_ptr_array_unref (ep_states);
}
END_TEST

/* A folder that cannot be written is refused at once, and the leg does not record. */
START_TEST (test_refused_folder)
{
  gst_init (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (McuCert) cert = mcu_cert_generate ("node-rec", &error);
  McuEndpointConfig cfg = { 0 };
  cfg.ice.local_addresses = lo;
  McuLeg *leg = mcu_leg_new (NULL, cert, "17/rec", &cfg, NULL, NULL, NULL, &error);
  ck_assert_msg (leg != NULL, "%s", error ? error->message : "");
  McuRecorderConfig rc = { .dir = "/nonexistent/lienthong", .name = "p1" };
  ck_assert (!mcu_leg_start_recording (leg, &rc, NULL, NULL, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  ck_assert (!mcu_leg_is_recording (leg));
  mcu_leg_stop_recording (leg); /* nothing to stop */
  mcu_leg_free (leg);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-leg-recording");
  TCase *tc = tcase_create ("recording");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_refused_folder);
  tcase_add_test (tc, test_leg_records_program_and_mix);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
