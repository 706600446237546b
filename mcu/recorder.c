/* recorder.c: McuRecorder (recorder.h). One pipeline: per track an appsrc of RTP, a
 * jitter buffer (it turns RTP time into buffer time, so a paused gap stays a gap),
 * the depayloader, and two splitmuxsinks with webmmux: program + mix, and content.
 * splitmuxsink asks upstream for a keyframe every segment (force-key-unit); a probe
 * on the depayloaders turns that into the keyframe callback, which the leg turns
 * into a PLI to the stream's source. Finished segments are hashed on a thread of
 * their own, which also rewrites the manifest, so no caller's thread waits on disk.
 */
#include "recorder.h"
#include "mcu-error.h"
#include "pipeline-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mcu_recorder_debug);
#define GST_CAT_DEFAULT mcu_recorder_debug

#define DEFAULT_SEGMENT_S 60
#define DEFAULT_MIN_FREE (256 * 1024 * 1024)
#define STOP_WAIT_US (10 * G_USEC_PER_SEC)

typedef struct
{
  char *file;
  const char *track;
  guint64 bytes;
  char *sha256;
  char *closed_at;
} Segment;

/* What a keyframe ask is about: made with the recorder, before any thread runs,
 * so the threads that read it need no lock. */
typedef struct
{
  McuRecorder *rec;
  McuRecTrack track;
} Probe;

/* A segment hashed on the hasher thread, waiting for the segment callback. */
typedef struct
{
  char *file;
  guint64 bytes;
  char *sha256;
} Hashed;

struct _McuRecorder
{
  GMainContext *context;
  char *dir, *name, *manifest;
  guint segment_s;
  guint64 min_free;
  McuRecorderCallbacks callbacks;
  gpointer user_data;
  GstElement *pipeline;
  GstElement *src[MCU_REC_N_TRACKS];
  gint paused, stopped;         /* atomic */
  gint asked[MCU_REC_N_TRACKS]; /* atomic: a first keyframe was asked for */
  GMutex lock;                  /* guards the below */
  GCond eos_cond;
  gboolean eos;
  GPtrArray *segments; /* Segment*, in the order they were finished */
  char *stop_reason;   /* why it stopped by itself, or NULL */
  GThreadPool *hasher; /* one thread: hashes a segment, rewrites the manifest */
  GPtrArray *idles;    /* GSource*: segment callbacks and keyframe asks not run yet,
                        * destroyed at free */
  GQueue done;         /* Hashed*: segments hashed, their callbacks not made yet */
  Probe probes[2];     /* program, content */
  GSource *disk_timer;
};

static void
segment_free (gpointer p)
{
  Segment *s = p;
  g_free (s->file);
  g_free (s->sha256);
  g_free (s->closed_at);
  g_free (s);
}

/* A file name stem of letters, digits, '-' and '_' only: it goes into
 * splitmuxsink's printf-style location and into the manifest unescaped. */
static gboolean
name_ok (const char *name)
{
  if (name == NULL || *name == '\0' || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static guint64
free_bytes (const char *dir)
{
  g_autoptr (GFile) f = g_file_new_for_path (dir);
  g_autoptr (GFileInfo) info
      = g_file_query_filesystem_info (f, G_FILE_ATTRIBUTE_FILESYSTEM_FREE, NULL, NULL);
  return info ? g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE)
              : 0;
}

/* Writes the manifest whole to a new file and renames it over the old one: a
 * reader (or a crash) sees the last complete manifest, never half of one. Under
 * rec->lock. */
static void
write_manifest (McuRecorder *rec, gboolean complete)
{
  GString *j = g_string_new (NULL);
  g_string_append_printf (
      j,
      "{\n  \"version\": 1,\n  \"name\": \"%s\",\n  \"segment_s\": %u,\n"
      "  \"complete\": %s,\n  \"stopped\": ",
      rec->name, rec->segment_s, complete ? "true" : "false");
  if (rec->stop_reason)
    {
      g_autofree char *esc = g_strescape (rec->stop_reason, NULL);
      g_string_append_printf (j, "\"%s\"", esc);
    }
  else
    g_string_append (j, "null");
  g_string_append (j, ",\n  \"segments\": [");
  for (guint i = 0; i < rec->segments->len; i++)
    {
      Segment *s = g_ptr_array_index (rec->segments, i);
      g_string_append_printf (
          j,
          "%s\n    {\"file\": \"%s\", \"track\": \"%s\", \"bytes\": "
          "%" G_GUINT64_FORMAT ", \"sha256\": \"%s\", \"closed_at\": \"%s\"}",
          i ? "," : "", s->file, s->track, s->bytes, s->sha256, s->closed_at);
    }
  g_string_append (j, "\n  ]\n}\n");
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (rec->manifest, j->str, (gssize)j->len, &error))
    GST_WARNING ("recording %s: manifest not written: %s", rec->name, error->message);
  g_string_free (j, TRUE);
}

static void
hashed_free (gpointer data)
{
  Hashed *h = data;
  g_free (h->file);
  g_free (h->sha256);
  g_free (h);
}

/* On the recorder's context: the segment callbacks of what was hashed. */
static void
report_hashed (McuRecorder *rec)
{
  GQueue ready = G_QUEUE_INIT;
  g_mutex_lock (&rec->lock);
  while (!g_queue_is_empty (&rec->done))
    g_queue_push_tail (&ready, g_queue_pop_head (&rec->done));
  g_mutex_unlock (&rec->lock);
  for (Hashed *h; (h = g_queue_pop_head (&ready)) != NULL; hashed_free (h))
    if (rec->callbacks.segment)
      rec->callbacks.segment (h->file, h->bytes, h->sha256, rec->user_data);
}

static gboolean
on_hashed (gpointer data)
{
  McuRecorder *rec = data;
  g_mutex_lock (&rec->lock);
  g_ptr_array_remove (rec->idles, g_main_current_source ());
  g_mutex_unlock (&rec->lock);
  report_hashed (rec);
  return G_SOURCE_REMOVE;
}

/* On the hasher thread: the SHA-256 of a finished segment, read in chunks (a
 * segment of a minute is tens of MB), then the manifest lists it. */
static void
hash_segment (gpointer data, gpointer user_data)
{
  McuRecorder *rec = user_data;
  char *path = data;
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint64 bytes = 0;
  FILE *f = fopen (path, "rb");
  if (f)
    {
      guint8 buf[64 * 1024];
      size_t n;
      while ((n = fread (buf, 1, sizeof buf, f)) > 0)
        {
          g_checksum_update (sum, buf, (gssize)n);
          bytes += n;
        }
      fclose (f);
    }
  Segment *s = g_new0 (Segment, 1);
  s->file = g_path_get_basename (path);
  s->track = strstr (s->file, "-content-") ? "content" : "program";
  s->bytes = bytes;
  s->sha256 = g_strdup (g_checksum_get_string (sum));
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  s->closed_at = g_date_time_format_iso8601 (now);
  g_checksum_free (sum);
  Hashed *h = g_new0 (Hashed, 1);
  h->file = g_strdup (s->file);
  h->bytes = bytes;
  h->sha256 = g_strdup (s->sha256);
  GSource *idle = g_idle_source_new ();
  g_source_set_callback (idle, on_hashed, rec, NULL);
  g_mutex_lock (&rec->lock);
  g_ptr_array_add (rec->segments, s);
  write_manifest (rec, FALSE);
  g_queue_push_tail (&rec->done, h);
  g_ptr_array_add (rec->idles, idle); /* the array's reference */
  g_mutex_unlock (&rec->lock);
  g_source_attach (idle, rec->context);
  g_free (path);
}

static GstBusSyncReply
on_bus_sync (GstBus *bus, GstMessage *msg, gpointer data)
{
  McuRecorder *rec = data;
  const GstStructure *st = gst_message_get_structure (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && st
      && gst_structure_has_name (st, "splitmuxsink-fragment-closed"))
    {
      const char *loc = gst_structure_get_string (st, "location");
      if (loc)
        g_thread_pool_push (rec->hasher, g_strdup (loc), NULL);
    }
  else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
    {
      g_mutex_lock (&rec->lock);
      rec->eos = TRUE;
      g_cond_broadcast (&rec->eos_cond);
      g_mutex_unlock (&rec->lock);
    }
  return mcu_pipeline_drop_message (msg, GST_CAT_DEFAULT);
}

static gboolean
on_key_due (gpointer data)
{
  Probe *p = data;
  McuRecorder *rec = p->rec;
  g_mutex_lock (&rec->lock);
  g_ptr_array_remove (rec->idles, g_main_current_source ());
  g_mutex_unlock (&rec->lock);
  if (rec->callbacks.keyframe && !g_atomic_int_get (&rec->stopped))
    rec->callbacks.keyframe (p->track, rec->user_data);
  return G_SOURCE_REMOVE;
}

/* splitmuxsink's keyframe request for the next segment, on its way upstream to an
 * appsrc that cannot make one: the leg asks the stream's source instead. The
 * request names the running time the segment should start at and comes early; a
 * keyframe asked for at once would come before it and cut nothing, so the ask
 * waits until then (the packet's way and the jitter buffer put its keyframe
 * after the mark). */
static GstPadProbeReturn
on_upstream_event (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Probe *p = data;
  McuRecorder *rec = p->rec;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  GstClockTime at = GST_CLOCK_TIME_NONE;
  if (!gst_video_event_is_force_key_unit (ev)
      || !gst_video_event_parse_upstream_force_key_unit (ev, &at, NULL, NULL))
    return GST_PAD_PROBE_OK;
  GstClockTime now = mcu_pipeline_running_time (rec->pipeline);
  guint ms = GST_CLOCK_TIME_IS_VALID (at) && at > now
                 ? (guint)MIN ((at - now) / GST_MSECOND, 3600 * 1000)
                 : 0;
  GSource *t = g_timeout_source_new (ms);
  g_source_set_callback (t, on_key_due, p, NULL);
  g_mutex_lock (&rec->lock);
  g_ptr_array_add (rec->idles, t); /* the array's reference */
  g_mutex_unlock (&rec->lock);
  g_source_attach (t, rec->context);
  return GST_PAD_PROBE_OK;
}

static gboolean
build_pipeline (McuRecorder *rec, GError **error)
{
  g_autofree char *desc = g_strdup_printf (
      "appsrc name=src0 is-live=true format=time do-timestamp=true "
      "caps=application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96 "
      "! rtpjitterbuffer latency=200 ! rtpvp8depay name=dep0 wait-for-keyframe=true "
      "! queue ! smp.video "
      "appsrc name=src2 is-live=true format=time do-timestamp=true "
      "caps=application/"
      "x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111 "
      "! rtpjitterbuffer latency=200 ! rtpopusdepay ! opusparse ! queue ! smp.audio_0 "
      "splitmuxsink name=smp muxer=webmmux send-keyframe-requests=true "
      "max-size-time=%" G_GUINT64_FORMAT " "
      "appsrc name=src1 is-live=true format=time do-timestamp=true "
      "caps=application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96 "
      "! rtpjitterbuffer latency=200 ! rtpvp8depay name=dep1 wait-for-keyframe=true "
      "! queue ! smc.video "
      "splitmuxsink name=smc muxer=webmmux send-keyframe-requests=true "
      "max-size-time=%" G_GUINT64_FORMAT,
      (guint64)rec->segment_s * GST_SECOND, (guint64)rec->segment_s * GST_SECOND);
  g_autoptr (GError) perr = NULL;
  rec->pipeline = gst_parse_launch (desc, &perr);
  if (rec->pipeline == NULL || perr)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_UNSUPPORTED, "recording pipeline: %s",
                   perr ? perr->message : "?");
      return FALSE;
    }
  for (int t = 0; t < MCU_REC_N_TRACKS; t++)
    {
      g_autofree char *n = g_strdup_printf ("src%d", t);
      rec->src[t] = gst_bin_get_by_name (GST_BIN (rec->pipeline), n);
    }
  /* the location is set here, not parsed: the folder may hold spaces or quotes */
  static const char *const sinks[] = { "smp", "smc" };
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (GstElement) sm = gst_bin_get_by_name (GST_BIN (rec->pipeline), sinks[i]);
      g_autofree char *stem = g_strdup_printf ("%s-%s-%%05d.webm", rec->name,
                                               i == 0 ? "program" : "content");
      g_autofree char *loc = g_build_filename (rec->dir, stem, NULL);
      g_object_set (sm, "location", loc, NULL);
      g_autofree char *dn = g_strdup_printf ("dep%d", i);
      g_autoptr (GstElement) dep = gst_bin_get_by_name (GST_BIN (rec->pipeline), dn);
      g_autoptr (GstPad) pad = gst_element_get_static_pad (dep, "src");
      Probe *p = &rec->probes[i];
      p->rec = rec;
      p->track = i == 0 ? MCU_REC_PROGRAM : MCU_REC_CONTENT;
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream_event, p,
                         NULL);
    }
  g_autoptr (GstBus) bus = gst_element_get_bus (rec->pipeline);
  gst_bus_set_sync_handler (bus, on_bus_sync, rec, NULL);
  if (gst_element_set_state (rec->pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_UNSUPPORTED,
                   "the recording pipeline does not start");
      return FALSE;
    }
  return TRUE;
}

/* Ends the recording: EOS into every track, the open segments finished (waited
 * for), every hash taken, the final manifest written; with @report, the segment
 * callbacks of what is not reported yet (not from mcu_recorder_free(): its
 * caller may be tearing down what the callbacks use). */
static void
finish (McuRecorder *rec, gboolean report)
{
  if (!g_atomic_int_compare_and_exchange (&rec->stopped, 0, 1))
    return;
  g_clear_pointer (&rec->disk_timer, g_source_destroy);
  for (int t = 0; t < MCU_REC_N_TRACKS; t++)
    gst_app_src_end_of_stream (GST_APP_SRC (rec->src[t]));
  gint64 until = g_get_monotonic_time () + STOP_WAIT_US;
  g_mutex_lock (&rec->lock);
  while (!rec->eos)
    if (!g_cond_wait_until (&rec->eos_cond, &rec->lock, until))
      break;
  gboolean eos = rec->eos;
  g_mutex_unlock (&rec->lock);
  if (!eos)
    GST_WARNING ("recording %s: the segments did not finish within 10 s", rec->name);
  gst_element_set_state (rec->pipeline, GST_STATE_NULL);
  g_thread_pool_free (rec->hasher, FALSE, TRUE); /* every hash and manifest written */
  rec->hasher = NULL;
  g_mutex_lock (&rec->lock);
  write_manifest (rec, TRUE);
  g_mutex_unlock (&rec->lock);
  if (report)
    report_hashed (rec);
}

static gboolean
check_disk (gpointer data)
{
  McuRecorder *rec = data;
  guint64 left = free_bytes (rec->dir);
  if (left >= rec->min_free)
    return G_SOURCE_CONTINUE;
  rec->disk_timer = NULL; /* destroyed by returning REMOVE */
  g_mutex_lock (&rec->lock);
  rec->stop_reason = g_strdup_printf ("%" G_GUINT64_FORMAT " bytes free in %s, under the "
                                      "%" G_GUINT64_FORMAT " kept free",
                                      left, rec->dir, rec->min_free);
  g_mutex_unlock (&rec->lock);
  GST_WARNING ("recording %s: stopped: %s", rec->name, rec->stop_reason);
  finish (rec, TRUE);
  if (rec->callbacks.stopped)
    {
      g_autoptr (GError) e
          = g_error_new (MCU_ERROR, MCU_ERROR_NO_SPACE, "disk low: %s", rec->stop_reason);
      rec->callbacks.stopped (e, rec->user_data);
    }
  return G_SOURCE_REMOVE;
}

McuRecorder *
mcu_recorder_new (GMainContext *context, const McuRecorderConfig *config,
                  const McuRecorderCallbacks *callbacks, gpointer user_data,
                  GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  static gsize debug_once = 0;
  if (g_once_init_enter (&debug_once))
    {
      GST_DEBUG_CATEGORY_INIT (mcu_recorder_debug, "mcu-recorder", 0, "recording");
      g_once_init_leave (&debug_once, 1);
    }
  if (!name_ok (config->name))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "recording name: want 1 to 64 letters, digits, '-' or '_'");
      return NULL;
    }
  /* a folder that cannot be written is said now, not found out mid-meeting */
  g_autofree char *probe
      = config->dir ? g_build_filename (config->dir, ".lienthong-write-test", NULL)
                    : NULL;
  g_autoptr (GError) werr = NULL;
  if (probe == NULL || !g_file_test (config->dir, G_FILE_TEST_IS_DIR)
      || !g_file_set_contents (probe, "", 0, &werr))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "recording folder %s cannot be written: %s",
                   config->dir ? config->dir : "(none)",
                   werr ? werr->message : "not a folder");
      return NULL;
    }
  g_unlink (probe);
  guint64 min_free = config->min_free_bytes ? config->min_free_bytes : DEFAULT_MIN_FREE;
  guint64 left = free_bytes (config->dir);
  if (left < min_free)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_NO_SPACE,
                   "recording folder %s has %" G_GUINT64_FORMAT
                   " bytes free, under the %" G_GUINT64_FORMAT " kept free",
                   config->dir, left, min_free);
      return NULL;
    }
  McuRecorder *rec = g_new0 (McuRecorder, 1);
  rec->context
      = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  rec->dir = g_strdup (config->dir);
  rec->name = g_strdup (config->name);
  rec->segment_s = config->segment_s ? config->segment_s : DEFAULT_SEGMENT_S;
  rec->min_free = min_free;
  if (callbacks)
    rec->callbacks = *callbacks;
  rec->user_data = user_data;
  g_mutex_init (&rec->lock);
  g_cond_init (&rec->eos_cond);
  rec->segments = g_ptr_array_new_with_free_func (segment_free);
  rec->idles = g_ptr_array_new_with_free_func ((GDestroyNotify)g_source_unref);
  g_autofree char *mname = g_strdup_printf ("%s.manifest.json", rec->name);
  rec->manifest = g_build_filename (rec->dir, mname, NULL);
  rec->hasher = g_thread_pool_new (hash_segment, rec, 1, FALSE, NULL);
  g_mutex_lock (&rec->lock);
  write_manifest (rec, FALSE);
  g_mutex_unlock (&rec->lock);
  if (!build_pipeline (rec, error))
    {
      g_atomic_int_set (&rec->stopped, 1);
      mcu_recorder_free (rec);
      return NULL;
    }
  rec->disk_timer = g_timeout_source_new_seconds (1);
  g_source_set_callback (rec->disk_timer, check_disk, rec, NULL);
  g_source_attach (rec->disk_timer, rec->context);
  g_source_unref (rec->disk_timer);
  return rec;
}

void
mcu_recorder_push (McuRecorder *rec, McuRecTrack track, const guint8 *rtp, gsize len)
{
  g_return_if_fail (rec != NULL && track < MCU_REC_N_TRACKS);
  if (rtp == NULL || len < 12 || g_atomic_int_get (&rec->paused)
      || g_atomic_int_get (&rec->stopped))
    return;
  /* a file starts with a keyframe: ask for one with the first packet */
  if (track != MCU_REC_AUDIO
      && g_atomic_int_compare_and_exchange (&rec->asked[track], 0, 1)
      && rec->callbacks.keyframe)
    rec->callbacks.keyframe (track, rec->user_data);
  GstBuffer *buf = gst_buffer_new_memdup (rtp, len);
  /* the caps name one payload type per track, and a jitter buffer that sees
   * another one looks for a new clock rate and drops what it cannot map */
  guint8 pt = track == MCU_REC_AUDIO ? 111 : 96;
  GstMapInfo map;
  if ((rtp[1] & 0x7f) != pt && gst_buffer_map (buf, &map, GST_MAP_WRITE))
    {
      map.data[1] = (guint8)((map.data[1] & 0x80) | pt);
      gst_buffer_unmap (buf, &map);
    }
  gst_app_src_push_buffer (GST_APP_SRC (rec->src[track]), buf);
}

void
mcu_recorder_set_paused (McuRecorder *rec, gboolean paused)
{
  g_return_if_fail (rec != NULL);
  g_atomic_int_set (&rec->paused, paused ? 1 : 0);
  if (!paused) /* what comes after the gap starts on a keyframe */
    for (int t = 0; t < MCU_REC_AUDIO; t++)
      g_atomic_int_set (&rec->asked[t], 0);
}

gboolean
mcu_recorder_is_recording (McuRecorder *rec)
{
  g_return_val_if_fail (rec != NULL, FALSE);
  return !g_atomic_int_get (&rec->stopped) && !g_atomic_int_get (&rec->paused);
}

void
mcu_recorder_stop (McuRecorder *rec)
{
  g_return_if_fail (rec != NULL);
  finish (rec, TRUE);
}

const char *
mcu_recorder_manifest_path (McuRecorder *rec)
{
  g_return_val_if_fail (rec != NULL, NULL);
  return rec->manifest;
}

void
mcu_recorder_free (McuRecorder *rec)
{
  if (rec == NULL)
    return;
  if (rec->pipeline)
    {
      finish (rec, FALSE);
      g_autoptr (GstBus) bus = gst_element_get_bus (rec->pipeline);
      gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
      for (int t = 0; t < MCU_REC_N_TRACKS; t++)
        g_clear_object (&rec->src[t]);
      g_clear_object (&rec->pipeline);
    }
  if (rec->hasher)
    g_thread_pool_free (rec->hasher, FALSE, TRUE);
  g_clear_pointer (&rec->disk_timer, g_source_destroy);
  for (guint i = 0; i < rec->idles->len; i++)
    g_source_destroy (g_ptr_array_index (rec->idles, i));
  g_ptr_array_unref (rec->idles);
  g_queue_clear_full (&rec->done, hashed_free);
  g_ptr_array_unref (rec->segments);
  g_main_context_unref (rec->context);
  g_cond_clear (&rec->eos_cond);
  g_mutex_clear (&rec->lock);
  g_free (rec->stop_reason);
  g_free (rec->manifest);
  g_free (rec->dir);
  g_free (rec->name);
  g_free (rec);
}
