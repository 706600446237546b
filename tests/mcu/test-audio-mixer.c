/* Suite mcu-audio-mixer: proves mix-minus of the loudest on real Opus. Participants
 * send sines of their own frequencies; what each receives is decoded and measured
 * with a Goertzel filter per frequency. Three speakers: each hears the two others and
 * not itself; a muted participant is heard by nobody yet still hears the rest; a
 * removed one stops getting packets; the loudest unmuted participant is the active
 * speaker. Six participants, three mixed: only the three loudest are heard, each of
 * them not by itself, and the others get one shared encode (four encoders, not six).
 * A participant that starts and stops speaking moves between its own encoder and
 * the shared one and still receives one stream, without a gap or a jump in its
 * sequence numbers and timestamps. The loss a receiver reports turns Opus in-band
 * FEC on in what it gets. Adding and removing participants repeatedly leaves no
 * threads behind; the playout it reports counts every 20 ms played, none concealed
 * for a clean input and 10% for an input that lost every tenth packet.
 * Inputs whose packets carry the RFC 6464 audio level are not decoded while they
 * say they are silent, yet their listeners hear the speakers, their silence is not
 * counted as concealed, a word said after silence is heard from its start, and a
 * peer whose level is absent or malformed is decoded and mixed as before.
 *
 * Real time: inputs are pushed on an absolute 20 ms schedule (a late tick catches
 * up, never drifts), as a site sends them. */
#include "audio-mixer.h"
#include "mcu-error.h"
#include "lt-test.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <math.h>
#include <string.h>

#define N_PARTS 3
#define MAX_IDS 8
static const double tone_hz[N_PARTS] = { 500, 900, 1500 };
static const double tone_vol[N_PARTS] = { 0.2, 0.5, 0.2 };

typedef struct
{
  GMutex lock;
  GPtrArray *received[MAX_IDS + 1]; /* GBytes of RTP, by participant id 1..8 */
} Sink;

static void
on_output (guint id, const guint8 *rtp, gsize len, gpointer data)
{
  Sink *s = data;
  g_mutex_lock (&s->lock);
  if (id >= 1 && id <= MAX_IDS && s->received[id])
    g_ptr_array_add (s->received[id], g_bytes_new (rtp, len));
  g_mutex_unlock (&s->lock);
}

/* Encodes @seconds of a sine into Opus RTP packets, as a site would send them. */
static GPtrArray *
encode_tone (double hz, double volume, guint seconds)
{
  g_autofree char *desc = g_strdup_printf (
      "audiotestsrc wave=sine freq=%f volume=%f samplesperbuffer=960 num-buffers=%u ! "
      "audio/x-raw,rate=48000,channels=1 ! opusenc frame-size=20 ! rtpopuspay pt=111 ! "
      "appsink name=out sync=false",
      hz, volume, seconds * 50);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipe = gst_parse_launch (desc, &error);
  ck_assert_msg (pipe != NULL, "%s", error ? error->message : "");
  g_autoptr (GstElement) out = gst_bin_get_by_name (GST_BIN (pipe), "out");
  GPtrArray *packets = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (;;)
    {
      g_autoptr (GstSample) sample = gst_app_sink_pull_sample (GST_APP_SINK (out));
      if (sample == NULL)
        break;
      GstMapInfo map;
      GstBuffer *buf = gst_sample_get_buffer (sample);
      gst_buffer_map (buf, &map, GST_MAP_READ);
      g_ptr_array_add (packets, g_bytes_new (map.data, map.size));
      gst_buffer_unmap (buf, &map);
    }
  gst_element_set_state (pipe, GST_STATE_NULL);
  return packets;
}

/* Decodes received RTP and returns, per frequency in @hz, the power share found
 * (0..1). */
static void
measure_hz (GPtrArray *packets, guint skip, const double *hz, guint n_hz, double *share)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipe = gst_parse_launch (
      "appsrc name=src format=time caps=\"application/x-rtp,media=audio,clock-rate=48000,"
      "encoding-name=OPUS,payload=111\" ! rtpopusdepay ! opusdec ! audioconvert ! "
      "audioresample ! audio/x-raw,format=F32LE,rate=48000,channels=1 ! "
      "appsink name=out sync=false",
      &error);
  ck_assert_msg (pipe != NULL, "%s", error ? error->message : "");
  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_autoptr (GstElement) out = gst_bin_get_by_name (GST_BIN (pipe), "out");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (guint i = skip; i < packets->len; i++)
    {
      GBytes *b = g_ptr_array_index (packets, i);
      GstBuffer *buf
          = gst_buffer_new_memdup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
      gst_app_src_push_buffer (GST_APP_SRC (src), buf);
    }
  gst_app_src_end_of_stream (GST_APP_SRC (src));

  double p[MAX_IDS] = { 0 }, total = 0;
  for (;;)
    {
      g_autoptr (GstSample) sample = gst_app_sink_pull_sample (GST_APP_SINK (out));
      if (sample == NULL)
        break;
      GstMapInfo map;
      GstBuffer *buf = gst_sample_get_buffer (sample);
      gst_buffer_map (buf, &map, GST_MAP_READ);
      const float *x = (const float *)map.data;
      gsize n = map.size / sizeof (float);
      for (guint t = 0; t < n_hz; t++)
        {
          double w = 2 * G_PI * hz[t] / 48000.0, c = 2 * cos (w), s1 = 0, s2 = 0;
          for (gsize i = 0; i < n; i++)
            {
              double s0 = x[i] + c * s1 - s2;
              s2 = s1;
              s1 = s0;
            }
          p[t] += (s1 * s1 + s2 * s2 - c * s1 * s2) / ((double)n / 2.0);
        }
      for (gsize i = 0; i < n; i++)
        total += (double)x[i] * x[i];
      gst_buffer_unmap (buf, &map);
    }
  gst_element_set_state (pipe, GST_STATE_NULL);
  for (guint t = 0; t < n_hz; t++)
    share[t] = total > 0 ? p[t] / total : 0;
}

static void
measure (GPtrArray *packets, guint skip, double share[N_PARTS])
{
  measure_hz (packets, skip, tone_hz, N_PARTS, share);
}

typedef struct
{
  McuAudioMixer *mixer;
  GPtrArray *tones[N_PARTS];
  guint next, until, base;
  gint64 t0;
  GMainLoop *loop;
} Feed;

static gboolean
feed_tick (gpointer data)
{
  Feed *f = data;
  guint due = f->base + (guint)((g_get_monotonic_time () - f->t0) / 20000);
  for (; f->next <= due && f->next < f->until; f->next++)
    for (guint i = 0; i < N_PARTS; i++)
      {
        GBytes *b = g_ptr_array_index (f->tones[i], f->next);
        mcu_audio_mixer_push_rtp (f->mixer, i + 1, g_bytes_get_data (b, NULL),
                                  g_bytes_get_size (b));
      }
  if (f->next >= f->until)
    {
      g_main_loop_quit (f->loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Pushes packets [next, until) of every participant in real time: packet k at
 * 20 ms * (k - next) from now. */
static void
feed (Feed *f, guint until)
{
  f->until = until;
  f->base = f->next;
  f->t0 = g_get_monotonic_time ();
  g_timeout_add (5, feed_tick, f);
  g_main_loop_run (f->loop);
}

static void
sink_reset (Sink *s)
{
  g_mutex_lock (&s->lock);
  for (guint i = 1; i <= MAX_IDS; i++)
    {
      g_clear_pointer (&s->received[i], g_ptr_array_unref);
      s->received[i] = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
    }
  g_mutex_unlock (&s->lock);
}

START_TEST (test_mix_minus)
{
  Sink sink = { 0 };
  g_mutex_init (&sink.lock);
  sink_reset (&sink);
  g_autoptr (GError) error = NULL;
  Feed f = { 0 };
  f.loop = g_main_loop_new (NULL, FALSE);
  for (guint i = 0; i < N_PARTS; i++)
    f.tones[i] = encode_tone (tone_hz[i], tone_vol[i], 8);

  f.mixer = mcu_audio_mixer_new (NULL, on_output, &sink, &error);
  ck_assert_msg (f.mixer != NULL, "%s", error ? error->message : "");
  for (guint i = 1; i <= N_PARTS; i++)
    ck_assert (mcu_audio_mixer_add (f.mixer, i, 111, TRUE, &error));
  ck_assert (!mcu_audio_mixer_add (f.mixer, 2, 111, TRUE, &error));
  ck_assert (g_error_matches (error, MCU_ERROR, MCU_ERROR_INVALID));
  g_clear_error (&error);

  /* Phase 1: everyone speaks. Levels come every 200 ms once the pipeline plays, which
   * takes longer to start in a slow build (ASan): feed on, at most 1 s more, until
   * they have come, rather than expecting them at a fixed time. */
  feed (&f, 100);
  while (mcu_audio_mixer_active_speaker (f.mixer) == 0 && f.next < 150)
    feed (&f, f.next + 5);
  ck_assert_uint_eq (mcu_audio_mixer_active_speaker (f.mixer), 2); /* the loudest */
  /* what each hears is measured over the 2 s after that, the mixes' steady state:
   * the start-up just waited for is not what mix-minus promises */
  sink_reset (&sink);
  feed (&f, f.next + 100);
  for (guint id = 1; id <= N_PARTS; id++)
    {
      double share[N_PARTS];
      g_mutex_lock (&sink.lock);
      ck_assert_uint_gt (sink.received[id]->len, 50);
      measure (sink.received[id], 25, share); /* skip the first 0.5 s: start-up */
      g_mutex_unlock (&sink.lock);
      g_print ("participant %u hears %.4f %.4f %.4f\n", id, share[0], share[1], share[2]);
      for (guint t = 0; t < N_PARTS; t++)
        {
          if (t + 1 == id)
            ck_assert_msg (share[t] < 0.01, "participant %u hears itself: %f", id,
                           share[t]);
          else
            ck_assert_msg (share[t] > 0.05, "participant %u misses %u: %f", id, t + 1,
                           share[t]);
        }
    }

  /* Phase 2: participant 2 muted: nobody hears it, it still hears 1 and 3. */
  sink_reset (&sink);
  mcu_audio_mixer_set_muted (f.mixer, 2, TRUE);
  feed (&f, f.next + 100);
  ck_assert_uint_ne (mcu_audio_mixer_active_speaker (f.mixer), 2);
  for (guint id = 1; id <= N_PARTS; id++)
    {
      double share[N_PARTS];
      g_mutex_lock (&sink.lock);
      measure (sink.received[id], 25, share);
      g_mutex_unlock (&sink.lock);
      ck_assert_msg (share[1] < 0.01, "participant %u hears muted 2: %f", id, share[1]);
      if (id == 2)
        ck_assert (share[0] > 0.05 && share[2] > 0.05);
    }

  /* Phase 3: participant 3 leaves: it gets nothing more. */
  mcu_audio_mixer_remove (f.mixer, 3);
  ck_assert_uint_eq (mcu_audio_mixer_n_participants (f.mixer), 2);
  sink_reset (&sink);
  feed (&f, f.next + 25);
  g_mutex_lock (&sink.lock);
  ck_assert_uint_eq (sink.received[3]->len, 0);
  ck_assert_uint_gt (sink.received[1]->len, 10);
  g_mutex_unlock (&sink.lock);

  mcu_audio_mixer_free (f.mixer);
  for (guint i = 0; i < N_PARTS; i++)
    g_ptr_array_unref (f.tones[i]);
  for (guint i = 1; i <= MAX_IDS; i++)
    g_clear_pointer (&sink.received[i], g_ptr_array_unref);
  g_main_loop_unref (f.loop);
  g_mutex_clear (&sink.lock);
}
END_TEST

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name (d))
    n++;
  return n;
}

static void
drop_output (guint id, const guint8 *rtp, gsize len, gpointer data)
{
}

START_TEST (test_add_remove_no_thread_leak)
{
  g_autoptr (GError) error = NULL;
  McuAudioMixer *m = mcu_audio_mixer_new (NULL, drop_output, NULL, &error);
  ck_assert_msg (m != NULL, "%s", error ? error->message : "");
  ck_assert (mcu_audio_mixer_add (m, 1, 111, FALSE, &error));
  /* GStreamer's task pool keeps a few idle threads for reuse: warm it up first,
   * then a leak shows as growth that goes on with the number of rounds. */
  for (guint round = 0; round < 10; round++)
    {
      ck_assert (mcu_audio_mixer_add (m, 100 + round, 111, FALSE, &error));
      mcu_audio_mixer_remove (m, 100 + round);
    }
  guint threads = count_entries ("/proc/self/task"),
        fds = count_entries ("/proc/self/fd");
  for (guint round = 0; round < 40; round++)
    {
      ck_assert (mcu_audio_mixer_add (m, 200 + round, 111, FALSE, &error));
      mcu_audio_mixer_remove (m, 200 + round);
    }
  guint threads2 = count_entries ("/proc/self/task"),
        fds2 = count_entries ("/proc/self/fd");
  ck_assert_uint_eq (mcu_audio_mixer_n_participants (m), 1);
  ck_assert_msg (threads2 <= threads + 2, "threads %u -> %u", threads, threads2);
  ck_assert_msg (fds2 <= fds, "fds %u -> %u", fds, fds2);
  mcu_audio_mixer_remove (m, 999); /* unknown: ignored */
  mcu_audio_mixer_free (m);
}
END_TEST

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define MIN_PLAYED_MS 2980 /* see test_concealed_share */
#else
#define MIN_PLAYED_MS 3980
#endif

typedef struct
{
  McuAudioMixer *mixer;
  GPtrArray *tone;
  guint next, until, warm; /* packets before @warm are never dropped */
  gint64 t0;
  GMainLoop *loop;
} LossyFeed;

/* Participant 1 gets every packet, participant 2 all but every tenth (the sixth of
 * each ten: never the first or the last). */
static gboolean
lossy_tick (gpointer data)
{
  LossyFeed *f = data;
  guint due = (guint)((g_get_monotonic_time () - f->t0) / 20000);
  for (; f->next <= due && f->next < f->until; f->next++)
    {
      GBytes *b = g_ptr_array_index (f->tone, f->next);
      mcu_audio_mixer_push_rtp (f->mixer, 1, g_bytes_get_data (b, NULL),
                                g_bytes_get_size (b));
      if (f->next < f->warm || f->next % 10 != 5)
        mcu_audio_mixer_push_rtp (f->mixer, 2, g_bytes_get_data (b, NULL),
                                  g_bytes_get_size (b));
    }
  if (f->next >= f->until)
    {
      g_main_loop_quit (f->loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

START_TEST (test_concealed_share)
{
  g_autoptr (GError) error = NULL;
  LossyFeed f = { 0 };
  f.loop = g_main_loop_new (NULL, FALSE);
  /* 1 s without loss, then 3 s with every tenth packet of participant 2 lost */
  f.tone = encode_tone (700, 0.3, 4);
  f.warm = 50;
  f.until = f.tone->len;
  f.mixer = mcu_audio_mixer_new (NULL, drop_output, NULL, &error);
  ck_assert_msg (f.mixer != NULL, "%s", error ? error->message : "");
  ck_assert (mcu_audio_mixer_add (f.mixer, 1, 111, TRUE, &error));
  ck_assert (mcu_audio_mixer_add (f.mixer, 2, 111, TRUE, &error));
  guint64 played = 1, concealed = 1;
  ck_assert (mcu_audio_mixer_get_playout (f.mixer, 1, &played, &concealed));
  ck_assert_uint_eq (played, 0);
  ck_assert_uint_eq (concealed, 0);
  ck_assert (!mcu_audio_mixer_get_playout (f.mixer, 9, &played, &concealed));

  /* Why this used to ask for only 2000 of 3000 ms: under ASan the pipeline started
   * so slowly that its jitter buffer dropped the first packets as late, and the old
   * feeder (one packet per 20 ms timeout, which GLib reschedules from when it ran)
   * drifted behind real time on a busy machine, so the jitter buffer dropped more.
   * The feeder now keeps an absolute schedule, so in a plain build every packet
   * must play. The slow start is still true of the ThreadSanitizer build (this
   * suite does not run under ASan): there, and only there, the warm-up second may
   * be lost (MIN_PLAYED_MS) and the 3 s after it must play. */
  f.t0 = g_get_monotonic_time ();
  g_timeout_add (5, lossy_tick, &f);
  g_main_loop_run (f.loop);
  /* the last packets leave the jitter buffer (60 ms) and the decoder shortly after
   * the last push: wait until both have played the whole 4 s, or 5 s at most */
  guint64 p1 = 0, c1 = 0, p2 = 0, c2 = 0;
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    {
      mcu_audio_mixer_get_playout (f.mixer, 1, &p1, &c1);
      mcu_audio_mixer_get_playout (f.mixer, 2, &p2, &c2);
      if (p1 >= 4000 && p2 >= 4000)
        break;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  g_print ("played/concealed ms: clean %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
           ", 10%% dropped %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\n",
           p1, c1, p2, c2);
  /* 200 packets of 20 ms, all played but at most the last, which the jitter buffer
   * may still hold; the lossy input misses 15 of them, each concealed: 300 ms, give
   * or take one packet at either end of a gap; the clean one nothing. */
  ck_assert_uint_ge (p1, MIN_PLAYED_MS);
  ck_assert_uint_ge (p2, MIN_PLAYED_MS);
  ck_assert_uint_le (p1, 4000);
  ck_assert_uint_le (p2, 4000);
  ck_assert_uint_eq (c1, 0);
  ck_assert_msg (c2 >= 260 && c2 <= 340, "concealed %" G_GUINT64_FORMAT " ms", c2);
  mcu_audio_mixer_free (f.mixer);
  g_ptr_array_unref (f.tone);
  g_main_loop_unref (f.loop);
}
END_TEST

/* A crowd: participants 1..n each send their own packet list in real time. */
typedef struct
{
  McuAudioMixer *mixer;
  guint n;
  GPtrArray *pkts[MAX_IDS + 1]; /* by id; (unowned) */
  guint next, until, base;
  gint64 t0;
  GMainLoop *loop;
  guint watch; /* a participant whose moves between encoders are counted */
  gboolean was_speaker;
  guint moves;
} Crowd;

static gboolean
crowd_tick (gpointer data)
{
  Crowd *c = data;
  guint due = c->base + (guint)((g_get_monotonic_time () - c->t0) / 20000);
  for (; c->next <= due && c->next < c->until; c->next++)
    for (guint id = 1; id <= c->n; id++)
      {
        GBytes *b = g_ptr_array_index (c->pkts[id], c->next % c->pkts[id]->len);
        mcu_audio_mixer_push_rtp (c->mixer, id, g_bytes_get_data (b, NULL),
                                  g_bytes_get_size (b));
      }
  if (c->watch)
    {
      gboolean now = mcu_audio_mixer_is_speaker (c->mixer, c->watch);
      c->moves += now != c->was_speaker;
      c->was_speaker = now;
    }
  if (c->next >= c->until)
    {
      g_main_loop_quit (c->loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
crowd_feed (Crowd *c, guint packets)
{
  c->until = c->next + packets;
  c->base = c->next;
  c->t0 = g_get_monotonic_time ();
  g_timeout_add (5, crowd_tick, c);
  g_main_loop_run (c->loop);
}

/* Six participants, three mixed. A, B, C speak loud, D speaks softly (above the
 * speech threshold, 12 dB under C), E and F are silent. Only A, B and C are mixed,
 * each served by its own encoder and not hearing itself; D, E and F hear A, B and C
 * from the one shared encoder: four encoders, and E and F get the same payloads. */
START_TEST (test_loudest_only)
{
  static const double hz[4] = { 500, 900, 1500, 2300 };
  static const double vol[4] = { 0.5, 0.35, 0.25, 0.06 };
  Sink sink = { 0 };
  g_mutex_init (&sink.lock);
  sink_reset (&sink);
  g_autoptr (GError) error = NULL;
  Crowd c = { .n = 6 };
  c.loop = g_main_loop_new (NULL, FALSE);
  GPtrArray *made[5];
  for (guint i = 0; i < 4; i++)
    made[i] = encode_tone (hz[i], vol[i], 2);
  made[4] = encode_tone (440, 0, 2);
  for (guint id = 1; id <= 6; id++)
    c.pkts[id] = made[MIN (id - 1, 4)];
  McuAudioMixerConfig cfg = { .max_speakers = 3 };
  c.mixer = mcu_audio_mixer_new (&cfg, on_output, &sink, &error);
  ck_assert_msg (c.mixer != NULL, "%s", error ? error->message : "");
  for (guint id = 1; id <= 6; id++)
    ck_assert (mcu_audio_mixer_add (c.mixer, id, 111, TRUE, &error));

  /* until A, B and C have their encoders, 3 s at most, then 2 s measured */
  for (guint k = 0; k < 15; k++)
    {
      crowd_feed (&c, 10);
      if (mcu_audio_mixer_is_speaker (c.mixer, 1)
          && mcu_audio_mixer_is_speaker (c.mixer, 2)
          && mcu_audio_mixer_is_speaker (c.mixer, 3))
        break;
    }
  sink_reset (&sink);
  crowd_feed (&c, 100);
  for (guint id = 1; id <= 6; id++)
    g_print ("participant %u speaker %d\n", id, mcu_audio_mixer_is_speaker (c.mixer, id));
  for (guint id = 1; id <= 3; id++)
    ck_assert_msg (mcu_audio_mixer_is_speaker (c.mixer, id), "%u not mixed", id);
  for (guint id = 4; id <= 6; id++)
    ck_assert_msg (!mcu_audio_mixer_is_speaker (c.mixer, id), "%u mixed", id);
  ck_assert_uint_eq (mcu_audio_mixer_n_encoders (c.mixer), 4);

  g_mutex_lock (&sink.lock);
  for (guint id = 1; id <= 6; id++)
    {
      double share[4];
      ck_assert_uint_gt (sink.received[id]->len, 80);
      measure_hz (sink.received[id], 25, hz, 4, share);
      g_print ("participant %u hears %.4f %.4f %.4f %.4f\n", id, share[0], share[1],
               share[2], share[3]);
      for (guint t = 0; t < 3; t++)
        if (t + 1 == id)
          ck_assert_msg (share[t] < 0.01, "speaker %u hears itself: %f", id, share[t]);
        else
          ck_assert_msg (share[t] > 0.02, "participant %u misses %u: %f", id, t + 1,
                         share[t]);
      /* mixed, D would be 0.8% of what each hears */
      ck_assert_msg (share[3] < 0.002, "participant %u hears the soft D: %f", id,
                     share[3]);
    }
  /* one encode for E and F: (nearly) every payload E got, F got too */
  g_autoptr (GHashTable) e_payloads = g_hash_table_new_full (
      g_bytes_hash, g_bytes_equal, (GDestroyNotify)g_bytes_unref, NULL);
  for (guint k = 0; k < sink.received[5]->len; k++)
    {
      GBytes *b = g_ptr_array_index (sink.received[5], k);
      g_hash_table_add (e_payloads,
                        g_bytes_new_from_bytes (b, 12, g_bytes_get_size (b) - 12));
    }
  guint same = 0;
  for (guint k = 0; k < sink.received[6]->len; k++)
    {
      GBytes *b = g_ptr_array_index (sink.received[6], k);
      g_autoptr (GBytes) pl = g_bytes_new_from_bytes (b, 12, g_bytes_get_size (b) - 12);
      same += g_hash_table_contains (e_payloads, pl);
    }
  ck_assert_msg (same + 2 >= sink.received[6]->len, "E and F share %u of %u payloads",
                 same, sink.received[6]->len);
  g_mutex_unlock (&sink.lock);

  mcu_audio_mixer_free (c.mixer);
  for (guint i = 0; i < 5; i++)
    g_ptr_array_unref (made[i]);
  for (guint i = 1; i <= MAX_IDS; i++)
    g_clear_pointer (&sink.received[i], g_ptr_array_unref);
  g_main_loop_unref (c.loop);
  g_mutex_clear (&sink.lock);
}
END_TEST

static guint16
rd16 (const guint8 *p)
{
  return (guint16)(p[0] << 8 | p[1]);
}

static guint32
rd32 (const guint8 *p)
{
  return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

/* Asserts that @packets are one stream: one SSRC, and each packet's sequence number
 * and timestamp advance together (one 20 ms frame, 960 samples, per number) from the
 * first, no number twice, none missing between the lowest and the highest. */
static void
assert_one_stream (GPtrArray *packets)
{
  ck_assert_uint_gt (packets->len, 10);
  const guint8 *first = g_bytes_get_data (g_ptr_array_index (packets, 0), NULL);
  guint32 ssrc = rd32 (first + 8), ts0 = rd32 (first + 4);
  guint16 seq0 = rd16 (first + 2);
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);
  gint lo = 0, hi = 0;
  for (guint k = 0; k < packets->len; k++)
    {
      const guint8 *d = g_bytes_get_data (g_ptr_array_index (packets, k), NULL);
      ck_assert_uint_eq (rd32 (d + 8), ssrc);
      gint16 dseq = (gint16)(guint16)(rd16 (d + 2) - seq0);
      gint32 dts = (gint32)(rd32 (d + 4) - ts0);
      ck_assert_msg (dts == dseq * 960, "packet %u: seq +%d but ts +%d", k, dseq, dts);
      ck_assert_msg (!g_hash_table_contains (seen, GINT_TO_POINTER (dseq + 100000)),
                     "seq +%d twice", dseq);
      g_hash_table_add (seen, GINT_TO_POINTER (dseq + 100000));
      lo = MIN (lo, dseq);
      hi = MAX (hi, dseq);
    }
  ck_assert_msg ((guint)(hi - lo + 1) == packets->len,
                 "%u packets over %d sequence numbers: a gap", packets->len, hi - lo + 1);
}

/* X speaks for 2 s, is silent for 3 s, twice; L listens, S speaks all along. X
 * moves to its own encoder and back to the shared one (at least three moves seen)
 * and receives one stream throughout: no jump, no gap, no repeat, in its sequence
 * numbers and timestamps, and so does L. */
START_TEST (test_switch_continuity)
{
  Sink sink = { 0 };
  g_mutex_init (&sink.lock);
  sink_reset (&sink);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) tone = encode_tone (700, 0.3, 2);
  g_autoptr (GPtrArray) quiet = encode_tone (700, 0, 3);
  g_autoptr (GPtrArray) steady = encode_tone (1100, 0.2, 2);
  g_autoptr (GPtrArray) x = g_ptr_array_new ();
  for (guint round = 0; round < 2; round++)
    {
      for (guint k = 0; k < tone->len; k++)
        g_ptr_array_add (x, g_ptr_array_index (tone, k));
      for (guint k = 0; k < quiet->len; k++)
        g_ptr_array_add (x, g_ptr_array_index (quiet, k));
    }
  Crowd c = { .n = 3, .watch = 1 };
  c.loop = g_main_loop_new (NULL, FALSE);
  c.pkts[1] = x;      /* X */
  c.pkts[2] = quiet;  /* L */
  c.pkts[3] = steady; /* S */
  McuAudioMixerConfig cfg = { .max_speakers = 2 };
  c.mixer = mcu_audio_mixer_new (&cfg, on_output, &sink, &error);
  ck_assert_msg (c.mixer != NULL, "%s", error ? error->message : "");
  for (guint id = 1; id <= 3; id++)
    ck_assert (mcu_audio_mixer_add (c.mixer, id, 111, TRUE, &error));
  crowd_feed (&c, x->len);
  g_print ("X moved %u times between encoders\n", c.moves);
  ck_assert_uint_ge (c.moves, 3);
  g_mutex_lock (&sink.lock);
  assert_one_stream (sink.received[1]);
  assert_one_stream (sink.received[2]);
  assert_one_stream (sink.received[3]);
  g_mutex_unlock (&sink.lock);
  mcu_audio_mixer_free (c.mixer);
  for (guint i = 1; i <= MAX_IDS; i++)
    g_clear_pointer (&sink.received[i], g_ptr_array_unref);
  g_main_loop_unref (c.loop);
  g_mutex_clear (&sink.lock);
}
END_TEST

typedef struct
{
  const guint8 *d;
  gsize len, pos;
  guint32 rng, val, rem;
} RangeDec;

static guint32
rd_byte (RangeDec *r)
{
  return r->pos < r->len ? r->d[r->pos++] : 0;
}

static void
rd_normalize (RangeDec *r)
{
  while (r->rng <= (1u << 23))
    {
      r->rng <<= 8;
      guint32 sym = r->rem;
      r->rem = rd_byte (r);
      sym = (sym << 8 | r->rem) >> 1;
      r->val = ((r->val << 8) + (255 & ~sym)) & 0x7fffffff;
    }
}

static gboolean
rd_bit (RangeDec *r) /* a symbol of probability 1/2 (RFC 6716, 4.1) */
{
  guint32 s = r->rng >> 1;
  gboolean bit = r->val < s;
  if (!bit)
    r->val -= s;
  r->rng = bit ? s : r->rng - s;
  rd_normalize (r);
  return bit;
}

/* Reads an Opus RTP packet's LBRR flag: in-band FEC of the previous frame. Only a
 * SILK or hybrid packet of one mono 20 ms frame is read (RFC 6716 4.2.3: its first
 * two symbols are the voice-activity flag and the LBRR flag); -1 for others. */
static int
lbrr_flag (GBytes *rtp)
{
  gsize n;
  const guint8 *d = g_bytes_get_data (rtp, &n);
  if (n < 14 || (d[12] >> 3) >= 16 || (d[12] & 3) != 0 || (d[12] & 4) != 0)
    return -1;
  RangeDec r = { d + 13, n - 13, 0, 128, 0, 0 };
  r.rem = rd_byte (&r);
  r.val = 127 - (r.rem >> 1);
  rd_normalize (&r);
  rd_bit (&r); /* voice activity */
  return rd_bit (&r);
}

/* Share of @packets carrying FEC; fails when too few are SILK/hybrid to tell. */
static double
fec_share (GPtrArray *packets)
{
  guint silk = 0, fec = 0;
  for (guint k = 0; k < packets->len; k++)
    {
      int f = lbrr_flag (g_ptr_array_index (packets, k));
      silk += f >= 0;
      fec += f == 1;
    }
  ck_assert_msg (silk * 2 > packets->len, "only %u of %u packets SILK or hybrid", silk,
                 packets->len);
  return (double)fec / silk;
}

/* Two speakers and a silent listener. Without reported loss no packet carries FEC;
 * once speaker 1 reports 20%, what its own encoder sends it does, and the shared
 * encode the listener hears does not until the listener reports loss too. */
START_TEST (test_loss_turns_fec_on)
{
  Sink sink = { 0 };
  g_mutex_init (&sink.lock);
  sink_reset (&sink);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) a = encode_tone (500, 0.3, 2);
  g_autoptr (GPtrArray) b = encode_tone (900, 0.3, 2);
  g_autoptr (GPtrArray) quiet = encode_tone (700, 0, 2);
  Crowd c = { .n = 3 };
  c.loop = g_main_loop_new (NULL, FALSE);
  c.pkts[1] = a;
  c.pkts[2] = b;
  c.pkts[3] = quiet;
  c.mixer = mcu_audio_mixer_new (NULL, on_output, &sink, &error);
  ck_assert_msg (c.mixer != NULL, "%s", error ? error->message : "");
  for (guint id = 1; id <= 3; id++)
    ck_assert (mcu_audio_mixer_add (c.mixer, id, 111, TRUE, &error));
  for (guint k = 0; k < 15
                    && !(mcu_audio_mixer_is_speaker (c.mixer, 1)
                         && mcu_audio_mixer_is_speaker (c.mixer, 2));
       k++)
    crowd_feed (&c, 10);
  ck_assert (mcu_audio_mixer_is_speaker (c.mixer, 1));

  double own, shared;
  sink_reset (&sink);
  crowd_feed (&c, 50);
  g_mutex_lock (&sink.lock);
  own = fec_share (sink.received[1]);
  shared = fec_share (sink.received[3]);
  g_mutex_unlock (&sink.lock);
  g_print ("no loss: FEC in %.2f of speaker 1's, %.2f of the listener's\n", own, shared);
  ck_assert (own == 0 && shared == 0);

  mcu_audio_mixer_set_loss (c.mixer, 1, 20);
  crowd_feed (&c, 5); /* the encoder is told on this loop */
  sink_reset (&sink);
  crowd_feed (&c, 50);
  g_mutex_lock (&sink.lock);
  own = fec_share (sink.received[1]);
  shared = fec_share (sink.received[3]);
  g_mutex_unlock (&sink.lock);
  g_print ("speaker 1 loses 20%%: FEC in %.2f of its, %.2f of the listener's\n", own,
           shared);
  ck_assert_msg (own > 0.5, "%f", own);
  ck_assert (shared == 0);

  mcu_audio_mixer_set_loss (c.mixer, 3, 20);
  crowd_feed (&c, 5);
  sink_reset (&sink);
  crowd_feed (&c, 50);
  g_mutex_lock (&sink.lock);
  shared = fec_share (sink.received[3]);
  g_mutex_unlock (&sink.lock);
  g_print ("listener loses 20%%: FEC in %.2f of its\n", shared);
  ck_assert_msg (shared > 0.5, "%f", shared);

  mcu_audio_mixer_free (c.mixer);
  for (guint i = 1; i <= MAX_IDS; i++)
    g_clear_pointer (&sink.received[i], g_ptr_array_unref);
  g_main_loop_unref (c.loop);
  g_mutex_clear (&sink.lock);
}
END_TEST

/* --- inputs that say they are silent (RFC 6464 audio level) ------------------- */

#define LEVEL_EXT 1

/* @rtp (a 12-byte header and a payload) with a one-byte RFC 8285 extension block
 * holding element @id with @data (1..16 bytes), as a browser sends the audio level. */
static GBytes *
with_element (GBytes *rtp, guint8 id, const guint8 *data, gsize n)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (rtp, &len);
  gsize words = (1 + n + 3) / 4;
  guint8 *out = g_malloc0 (len + 4 + 4 * words);
  memcpy (out, d, 12);
  out[0] |= 0x10;
  out[12] = 0xBE;
  out[13] = 0xDE;
  out[15] = (guint8)words;
  out[16] = (guint8)(id << 4 | (n - 1));
  memcpy (out + 17, data, n);
  memcpy (out + 16 + 4 * words, d + 12, len - 12);
  return g_bytes_new_take (out, len + 4 + 4 * words);
}

/* @packets with the audio level (dBov, 0..127 below overload) on each. */
static GPtrArray *
with_level (GPtrArray *packets, guint8 level)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  guint8 v = (guint8)((level < 127 ? 0x80 : 0) | level);
  for (guint k = 0; k < packets->len; k++)
    g_ptr_array_add (out,
                     with_element (g_ptr_array_index (packets, k), LEVEL_EXT, &v, 1));
  return out;
}

/* One sender's stream, from one encoder as a browser's is: @total packets of 20 ms,
 * a sine in the @n_spans spans [from, to) of packet indices in @spans, digital
 * silence elsewhere. The packets of the sine carry the audio level @level, the
 * others -127 dBov. */
static GPtrArray *
encode_spans (double hz, double volume, guint total, const guint *spans, guint n_spans,
              guint8 level)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipe = gst_parse_launch (
      "appsrc name=src format=time caps=\"audio/x-raw,format=F32LE,rate=48000,"
      "channels=1,layout=interleaved\" ! audioconvert ! opusenc frame-size=20 ! "
      "rtpopuspay pt=111 ! "
      "appsink name=out sync=false",
      &error);
  ck_assert_msg (pipe != NULL, "%s", error ? error->message : "");
  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_autoptr (GstElement) out = gst_bin_get_by_name (GST_BIN (pipe), "out");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (guint k = 0; k < total; k++)
    {
      gboolean on = FALSE;
      for (guint i = 0; i < n_spans; i++)
        on = on || (k >= spans[2 * i] && k < spans[2 * i + 1]);
      GstBuffer *buf = gst_buffer_new_allocate (NULL, 960 * sizeof (float), NULL);
      GstMapInfo map;
      gst_buffer_map (buf, &map, GST_MAP_WRITE);
      float *x = (float *)map.data;
      for (guint i = 0; i < 960; i++)
        x[i]
            = on ? (float)(volume * sin (2 * G_PI * hz * (k * 960 + i) / 48000.0)) : 0.0f;
      gst_buffer_unmap (buf, &map);
      GST_BUFFER_PTS (buf) = k * 20 * GST_MSECOND;
      GST_BUFFER_DURATION (buf) = 20 * GST_MSECOND;
      gst_app_src_push_buffer (GST_APP_SRC (src), buf);
    }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  GPtrArray *packets = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  for (guint k = 0;; k++)
    {
      g_autoptr (GstSample) sample = gst_app_sink_pull_sample (GST_APP_SINK (out));
      if (sample == NULL)
        break;
      GstMapInfo map;
      GstBuffer *buf = gst_sample_get_buffer (sample);
      gst_buffer_map (buf, &map, GST_MAP_READ);
      g_autoptr (GBytes) plain = g_bytes_new (map.data, map.size);
      gst_buffer_unmap (buf, &map);
      /* the encoder's delay is under one packet: level the packets the sine is in */
      gboolean on = FALSE;
      for (guint i = 0; i < n_spans; i++)
        on = on || (k >= spans[2 * i] && k <= spans[2 * i + 1]);
      guint8 v = on ? (guint8)(0x80 | level) : 127;
      g_ptr_array_add (packets, with_element (plain, LEVEL_EXT, &v, 1));
    }
  gst_element_set_state (pipe, GST_STATE_NULL);
  ck_assert_uint_ge (packets->len, total);
  return packets;
}

/* @before packets of silence, a word of @n, @after of silence (see encode_spans()). */
static GPtrArray *
encode_word (double hz, double volume, guint before, guint n, guint after, guint8 level)
{
  guint span[2] = { before, before + n };
  return encode_spans (hz, volume, before + n + after, span, 1, level);
}

/* Decodes @packets (all of them, in order) and returns the Goertzel power at @hz over
 * the whole decoded signal: how much of that tone they carry, wherever it is. */
static double
tone_power (GPtrArray *packets, double hz)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipe = gst_parse_launch (
      "appsrc name=src format=time caps=\"application/x-rtp,media=audio,clock-rate=48000,"
      "encoding-name=OPUS,payload=111\" ! rtpopusdepay ! opusdec ! audioconvert ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=1 ! appsink name=out sync=false",
      &error);
  ck_assert_msg (pipe != NULL, "%s", error ? error->message : "");
  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  g_autoptr (GstElement) out = gst_bin_get_by_name (GST_BIN (pipe), "out");
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  for (guint i = 0; i < packets->len; i++)
    {
      GBytes *b = g_ptr_array_index (packets, i);
      gst_app_src_push_buffer (
          GST_APP_SRC (src),
          gst_buffer_new_memdup (g_bytes_get_data (b, NULL), g_bytes_get_size (b)));
    }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  double w = 2 * G_PI * hz / 48000.0, c = 2 * cos (w), s1 = 0, s2 = 0;
  for (;;)
    {
      g_autoptr (GstSample) sample = gst_app_sink_pull_sample (GST_APP_SINK (out));
      if (sample == NULL)
        break;
      GstMapInfo map;
      GstBuffer *buf = gst_sample_get_buffer (sample);
      gst_buffer_map (buf, &map, GST_MAP_READ);
      const float *x = (const float *)map.data;
      for (gsize i = 0; i < map.size / sizeof (float); i++)
        {
          double s0 = x[i] + c * s1 - s2;
          s2 = s1;
          s1 = s0;
        }
      gst_buffer_unmap (buf, &map);
    }
  gst_element_set_state (pipe, GST_STATE_NULL);
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

/* Six participants whose packets carry the audio level: 1 and 2 speak, 3-6 are
 * silent (-127 dBov). 3-6 are never decoded (their decoders output no frame), yet
 * hear 1 and 2, and their silence counts as played, none as concealed. Participant
 * 7 is as silent but sends no extension: it is decoded as before. Participant 8
 * sends no extension either, but Opus DTX (payloads of a TOC alone): not decoded
 * either. Then speaker 1
 * falls silent for 4 s (its decoder stops after its hangover) and speaks again: it
 * is decoded again, and the pause concealed nothing (its decoder sees a stream that
 * paused, not 150 packets lost). */
START_TEST (test_silent_not_decoded)
{
  Sink sink = { 0 };
  g_mutex_init (&sink.lock);
  sink_reset (&sink);
  g_autoptr (GError) error = NULL;
  /* one stream (one encoder, one sequence): 1 s on, 4 s off, 1 s on */
  static const guint spans[4] = { 0, 50, 250, 300 };
  g_autoptr (GPtrArray) x = encode_spans (500, 0.3, 300, spans, 2, 15);
  g_autoptr (GPtrArray) b = encode_tone (900, 0.3, 6);
  g_autoptr (GPtrArray) quiet = encode_tone (700, 0, 4);
  g_autoptr (GPtrArray) b_lv = with_level (b, 15);
  g_autoptr (GPtrArray) quiet_lv = with_level (quiet, 127);
  g_autoptr (GPtrArray) dtx
      = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  for (guint k = 0; k < quiet->len; k++)
    {
      guint8 pkt[13];
      memcpy (pkt, g_bytes_get_data (g_ptr_array_index (quiet, k), NULL), 12);
      pkt[12] = 0xf8; /* TOC of one 20 ms CELT frame, no frame data */
      g_ptr_array_add (dtx, g_bytes_new (pkt, sizeof pkt));
    }
  Crowd c = { .n = MAX_IDS };
  c.loop = g_main_loop_new (NULL, FALSE);
  c.pkts[1] = x;
  c.pkts[2] = b_lv;
  for (guint id = 3; id <= 6; id++)
    c.pkts[id] = quiet_lv;
  c.pkts[7] = quiet;
  c.pkts[8] = dtx;
  c.mixer = mcu_audio_mixer_new (NULL, on_output, &sink, &error);
  ck_assert_msg (c.mixer != NULL, "%s", error ? error->message : "");
  for (guint id = 1; id <= 8; id++)
    {
      ck_assert (mcu_audio_mixer_add (c.mixer, id, 111, TRUE, &error));
      if (id != 8)
        mcu_audio_mixer_set_level_ext (c.mixer, id, LEVEL_EXT);
    }
  crowd_feed (&c, 50); /* speaker 1's first second */
  sink_reset (&sink);
  crowd_feed (&c, 150);
  McuAudioMixerInputStats st;
  ck_assert (mcu_audio_mixer_get_input_stats (c.mixer, 1, &st));
  ck_assert_msg (st.decoded_frames >= 40, "speaker 1 decoded %" G_GUINT64_FORMAT,
                 st.decoded_frames);
  g_mutex_lock (&sink.lock);
  for (guint id = 3; id <= 8; id++)
    {
      double share[2];
      static const double hz[2] = { 500, 900 };
      measure_hz (sink.received[id], 25, hz, 2, share);
      g_print ("participant %u hears %.4f %.4f\n", id, share[0], share[1]);
      ck_assert_msg (share[1] > 0.2, "participant %u misses 2: %f", id, share[1]);
    }
  g_mutex_unlock (&sink.lock);
  for (guint id = 3; id <= 8; id++)
    {
      ck_assert (mcu_audio_mixer_get_input_stats (c.mixer, id, &st));
      g_print ("participant %u: %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
               " parked, %" G_GUINT64_FORMAT " frames decoded\n",
               id, st.packets, st.parked, st.decoded_frames);
      if (id != 7)
        {
          ck_assert_uint_eq (st.decoded_frames, 0);
          ck_assert_uint_eq (st.parked, st.packets);
          ck_assert (!st.decoding);
        }
      else
        ck_assert_uint_ge (st.decoded_frames, 100); /* no extension: decoded */
    }
  /* speaker 1 has been silent 3 s: past its hangover, parked */
  ck_assert (mcu_audio_mixer_get_input_stats (c.mixer, 1, &st));
  ck_assert_msg (!st.decoding && st.parked > 0, "speaker 1 still decoded when silent");
  guint64 frames_silent = st.decoded_frames;
  crowd_feed (&c, 50 + 50); /* the rest of its silence, and its second second */
  ck_assert (mcu_audio_mixer_get_input_stats (c.mixer, 1, &st));
  ck_assert_msg (st.decoded_frames >= frames_silent + 40,
                 "speaker 1 not decoded again: %" G_GUINT64_FORMAT
                 " frames, then %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
                 " packets, %" G_GUINT64_FORMAT " parked)",
                 frames_silent, st.decoded_frames, st.packets, st.parked);

  guint64 played, concealed;
  for (guint id = 1; id <= 8; id++)
    {
      if (id == 7)
        continue; /* decoded: test_concealed_share's case */
      ck_assert (mcu_audio_mixer_get_playout (c.mixer, id, &played, &concealed));
      g_print ("participant %u: played %" G_GUINT64_FORMAT " concealed %" G_GUINT64_FORMAT
               " ms\n",
               id, played, concealed);
      /* never decoded: nothing concealed. The speakers are decoded, so a packet
       * late on a loaded machine is concealed as in test_concealed_share; their
       * silence (2 s parked for speaker 1) is not: a frame or two at most. */
      if (id >= 3)
        ck_assert_msg (concealed == 0,
                       "participant %u: %" G_GUINT64_FORMAT " ms concealed", id,
                       concealed);
      else
        ck_assert_msg (concealed <= 40,
                       "participant %u: %" G_GUINT64_FORMAT " ms concealed", id,
                       concealed);
      ck_assert_uint_ge (played, MIN_PLAYED_MS + 500);
    }
  mcu_audio_mixer_free (c.mixer);
  for (guint i = 1; i <= MAX_IDS; i++)
    g_clear_pointer (&sink.received[i], g_ptr_array_unref);
  g_main_loop_unref (c.loop);
  g_mutex_clear (&sink.lock);
}
END_TEST

/* A participant silent by its audio level says one word of 100 ms: a listener hears
 * it whole (at least half its power), not from when it was chosen as a speaker
 * (which, from the decoded level, came 100-300 ms after it began). */
START_TEST (test_new_speaker_heard_at_once)
{
  Sink sink = { 0 };
  g_mutex_init (&sink.lock);
  sink_reset (&sink);
  g_autoptr (GError) error = NULL;
  /* 2 s silent, a word of 100 ms, 2 s silent */
  g_autoptr (GPtrArray) x = encode_word (700, 0.3, 100, 5, 100, 15);
  g_autoptr (GPtrArray) quiet = encode_tone (700, 0, 2);
  g_autoptr (GPtrArray) steady = encode_tone (1100, 0.2, 4);
  g_autoptr (GPtrArray) quiet_lv = with_level (quiet, 127);
  g_autoptr (GPtrArray) steady_lv = with_level (steady, 18);
  Crowd c = { .n = 3 };
  c.loop = g_main_loop_new (NULL, FALSE);
  c.pkts[1] = x;         /* X: 2 s silent, the word, 2 s silent */
  c.pkts[2] = quiet_lv;  /* L listens */
  c.pkts[3] = steady_lv; /* S speaks all along */
  c.mixer = mcu_audio_mixer_new (NULL, on_output, &sink, &error);
  ck_assert_msg (c.mixer != NULL, "%s", error ? error->message : "");
  for (guint id = 1; id <= 3; id++)
    {
      ck_assert (mcu_audio_mixer_add (c.mixer, id, 111, TRUE, &error));
      mcu_audio_mixer_set_level_ext (c.mixer, id, LEVEL_EXT);
    }
  crowd_feed (&c, x->len);
  crowd_feed (&c, 10); /* what is still in the mixer comes out */
  double sent = tone_power (x, 700);
  g_mutex_lock (&sink.lock);
  double heard = tone_power (sink.received[2], 700);
  g_mutex_unlock (&sink.lock);
  g_print ("the word: %.1f sent, %.1f heard (%.2f)\n", sent, heard, heard / sent);
  ck_assert_msg (heard > 0.5 * sent, "only %.2f of the first 100 ms heard", heard / sent);
  /* and X never hears itself while it is being made a speaker */
  g_mutex_lock (&sink.lock);
  double echo = tone_power (sink.received[1], 700);
  g_mutex_unlock (&sink.lock);
  ck_assert_msg (echo < 0.05 * sent, "X hears its own word: %.2f", echo / sent);
  mcu_audio_mixer_free (c.mixer);
  for (guint i = 1; i <= MAX_IDS; i++)
    g_clear_pointer (&sink.received[i], g_ptr_array_unref);
  g_main_loop_unref (c.loop);
  g_mutex_clear (&sink.lock);
}
END_TEST

/* Peers whose level cannot be believed are mixed as before: A negotiated the
 * extension but sends none; B sends an element under its ID two bytes long, which
 * read as RFC 6464's one byte would say -127 dBov, silence. Both speak, and the
 * listener L (a well-behaved silent peer) hears both; both are decoded. */
START_TEST (test_bogus_level_still_mixed)
{
  Sink sink = { 0 };
  g_mutex_init (&sink.lock);
  sink_reset (&sink);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) a = encode_tone (500, 0.3, 3);
  g_autoptr (GPtrArray) b = encode_tone (900, 0.3, 3);
  g_autoptr (GPtrArray) quiet = encode_tone (700, 0, 3);
  g_autoptr (GPtrArray) b_bogus
      = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  static const guint8 two[2] = { 0x7f, 0x7f };
  for (guint k = 0; k < b->len; k++)
    g_ptr_array_add (b_bogus, with_element (g_ptr_array_index (b, k), LEVEL_EXT, two, 2));
  g_autoptr (GPtrArray) quiet_lv = with_level (quiet, 127);
  Crowd c = { .n = 3 };
  c.loop = g_main_loop_new (NULL, FALSE);
  c.pkts[1] = a;
  c.pkts[2] = b_bogus;
  c.pkts[3] = quiet_lv;
  c.mixer = mcu_audio_mixer_new (NULL, on_output, &sink, &error);
  ck_assert_msg (c.mixer != NULL, "%s", error ? error->message : "");
  for (guint id = 1; id <= 3; id++)
    {
      ck_assert (mcu_audio_mixer_add (c.mixer, id, 111, TRUE, &error));
      mcu_audio_mixer_set_level_ext (c.mixer, id, LEVEL_EXT);
    }
  crowd_feed (&c, 50);
  sink_reset (&sink);
  crowd_feed (&c, 100);
  double share[2];
  static const double hz[2] = { 500, 900 };
  g_mutex_lock (&sink.lock);
  measure_hz (sink.received[3], 25, hz, 2, share);
  g_mutex_unlock (&sink.lock);
  g_print ("the listener hears A %.4f, B %.4f\n", share[0], share[1]);
  ck_assert_msg (share[0] > 0.2 && share[1] > 0.2, "A %f, B %f", share[0], share[1]);
  McuAudioMixerInputStats st;
  for (guint id = 1; id <= 2; id++)
    {
      ck_assert (mcu_audio_mixer_get_input_stats (c.mixer, id, &st));
      ck_assert_uint_eq (st.parked, 0);
      ck_assert_uint_ge (st.decoded_frames, 100);
    }
  mcu_audio_mixer_free (c.mixer);
  for (guint i = 1; i <= MAX_IDS; i++)
    g_clear_pointer (&sink.received[i], g_ptr_array_unref);
  g_main_loop_unref (c.loop);
  g_mutex_clear (&sink.lock);
}
END_TEST

int
main (void)
{
  gst_init (NULL, NULL);
  Suite *s = suite_create ("mcu-audio-mixer");
  TCase *tc = tcase_create ("mix");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_mix_minus);
  tcase_add_test (tc, test_add_remove_no_thread_leak);
  tcase_add_test (tc, test_concealed_share);
  tcase_add_test (tc, test_loudest_only);
  tcase_add_test (tc, test_switch_continuity);
  tcase_add_test (tc, test_loss_turns_fec_on);
  tcase_add_test (tc, test_silent_not_decoded);
  tcase_add_test (tc, test_new_speaker_heard_at_once);
  tcase_add_test (tc, test_bogus_level_still_mixed);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
