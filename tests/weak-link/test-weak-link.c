/* Suite weak-link: issue 14's goals for weak commune lines, measured with real
 * parts: one signald, lienthong-mcu nodes, a chair in headless Chromium sending its
 * fake camera at 1280x720, commune halls played by webrtcbin clients (NACKing lost
 * video, as browsers do, and lost audio, which browsers do not offer: a hall's
 * endpoint that does gets it retransmitted on RTX), and real impairment: a commune joins relay-only through
 * coturn with tests/tools/lt-impair between it and coturn; the district<->province
 * link loses packets in the namespace's nftables. Each scenario is a test case of its
 * own, prints every figure, and asserts the goal exactly:
 *  - clean-ramp: on a clean line the chair's sent video bit rate (its own getStats)
 *    reaches 1.5 Mbit/s within 15 s of its first video;
 *  - commune-loss: with 5% random loss and 60 ms RTT on one commune's line, that
 *    commune gets back (retransmission) at least 80% of the program video packets
 *    lost on its line, sees at most 1 freeze (> 500 ms without a new frame) a
 *    minute more than the clean commune in the same minute (those come from the
 *    chair or a starved machine), and conceals under 5% of its audio;
 *  - commune-loss-no-rtx: the same line with the node's retransmission turned off
 *    (--no-retransmission) recovers less than 20% (only what reordering or late
 *    arrival fills): the figures of commune-loss come from retransmission;
 *  - commune-cap (in clean-ramp's meeting, once the chair has ramped): a 600 kbit/s
 *    bottleneck (300 ms queue) on one commune's line moves
 *    that commune to low within 10 s while the other stays at full, and the chair
 *    keeps sending at least 80% of what it sent before (its encoder is not pulled
 *    down to the weak commune);
 *  - district-loss: with 10% loss on the district<->province link, the communes of
 *    the district keep receiving audio, concealing under 10% of it (what their node
 *    conceals of the link's audio and what they conceal of their own line).
 *
 * Usage (meson runs it in a loopback-only namespace):
 *   test-weak-link SIGNALD MCU CLIENT UNITS.csv TURNSERVER.conf NODE SITE.mjs
 * Exits 77 (skipped) when coturn's turnserver is not installed. */
#include "lt-test.h"
#include "lt-impair-harness.h"
#include "lt-meeting-env.h"

#include <math.h>

static const char *units_csv, *turn_sample;

static Node nodes[] = { { .id = "node-vn", .unit = "VN", .address = "127.0.0.1" },
                        { .id = "node-08", .unit = "08", .address = "127.0.0.2" },
                        { .id = "node-076", .unit = "076", .address = "127.0.0.3" } };
static guint n_nodes;
static BrowserSite chair = { .name = "chair", .unit = "VN", .size = "1280x720" };
/* two communes of Sơn Dương; the first one's line is the weak one */
static Site weak = { .name = "tan-trao", .unit = "02545", .tone = 700 };
static Site other = { .name = "trung-yen", .unit = "02539", .tone = 900 };
/* the province hall, heard by the communes across the district<->province link */
static Site province = { .name = "province", .unit = "08", .tone = 500 };
static Impair *imp;
static gint64 meeting_id;

/* ---- what the sites report ---- */

static gint64
num (JsonObject *o, const char *member)
{
  return o ? json_object_get_int_member_with_default (o, member, 0) : 0;
}

static gint64
jb (Site *s, const char *kind, const char *field)
{
  g_autofree char *key = g_strdup_printf ("%s_jb", kind);
  JsonObject *o = s->last && json_object_has_member (s->last, key)
                      ? json_object_get_object_member (s->last, key)
                      : NULL;
  return num (o, field);
}

/* A commune's playout counters at one moment; differences make a window's figures. */
typedef struct
{
  gint64 t_us, frames, freezes, audio_buffers;
  gint64 vpackets, vgaps, vfills, vlost, apackets, agaps, apushed, alost;
} Playout;

static Playout
playout_now (Site *s)
{
  Playout p = { g_get_monotonic_time (),    num (s->last, "video_frames"),
                num (s->last, "freezes"),   num (s->last, "audio_buffers"),
                jb (s, "video", "packets"), jb (s, "video", "gaps"),
                jb (s, "video", "fills"),   jb (s, "video", "lost"),
                jb (s, "audio", "packets"), jb (s, "audio", "gaps"),
                jb (s, "audio", "pushed"),  jb (s, "audio", "lost") };
  return p;
}

typedef struct
{
  double seconds, frames, freezes_per_min, recovered_pct, concealed_pct;
  gint64 video_packets, video_missing, video_unrecovered, video_fills;
  gint64 audio_packets, audio_missing, audio_lost, freezes;
} Window;

/* The figures of @s between @a and now. A freeze still going on at the end (no
 * frame for more than 500 ms) counts too. */
static Window
window_of (Site *s, const Playout *a)
{
  Playout b = playout_now (s);
  Window w = { 0 };
  w.seconds = (double)(b.t_us - a->t_us) / G_USEC_PER_SEC;
  w.frames = (double)(b.frames - a->frames);
  w.freezes = b.freezes - a->freezes + (num (s->last, "since_frame_ms") > 500 ? 1 : 0);
  w.freezes_per_min = (double)w.freezes * 60.0 / w.seconds;
  w.video_packets = b.vpackets - a->vpackets;
  w.video_missing = b.vgaps - a->vgaps;
  w.video_unrecovered = MIN (b.vlost - a->vlost, w.video_missing);
  w.video_fills = b.vfills - a->vfills;
  w.recovered_pct
      = w.video_missing > 0
            ? 100.0 * (double)(w.video_missing - w.video_unrecovered) / w.video_missing
            : -1;
  w.audio_packets = b.apackets - a->apackets;
  w.audio_missing = b.agaps - a->agaps;
  w.audio_lost = b.alost - a->alost;
  gint64 played = (b.apushed - a->apushed) + w.audio_lost;
  w.concealed_pct = played > 0 ? 100.0 * (double)w.audio_lost / (double)played : -1;
  return w;
}

static const char *site_level (Site *s);

static void
print_window (const char *label, Site *s, const Window *w)
{
  g_print ("%s %s over %.0f s: %.0f frames, %" G_GINT64_FORMAT
           " freezes (%.2f a minute); video: %" G_GINT64_FORMAT
           " packets arrived, %" G_GINT64_FORMAT " missing on arrival, %" G_GINT64_FORMAT
           " filled later, %" G_GINT64_FORMAT
           " never played: recovered %.1f%%; audio: %" G_GINT64_FORMAT
           " packets, %" G_GINT64_FORMAT " missing, %" G_GINT64_FORMAT
           " concealed: %.2f%%; level %s\n",
           label, s->name, w->seconds, w->frames, w->freezes, w->freezes_per_min,
           w->video_packets, w->video_missing, w->video_fills, w->video_unrecovered,
           w->recovered_pct, w->audio_packets, w->audio_missing, w->audio_lost,
           w->concealed_pct, site_level (s));
}

static gboolean
sees_video (gpointer data)
{
  return site_frames (data) > 30;
}

static gboolean
chair_sends (gpointer data)
{
  return chair.last && num (chair.last, "vout_bytes") > 0;
}

static double
chair_kbps_mean (guint from, guint to)
{
  double sum = 0;
  guint n = 0;
  for (guint i = from; i < to && i < chair.vout_kbps->len; i++, n++)
    sum += g_array_index (chair.vout_kbps, double, i);
  return n ? sum / n : 0;
}

static void
print_chair (const char *when)
{
  JsonObject *o = chair.last;
  g_print ("%s chair: capture %s, sends %s at %.0f fps, %" G_GINT64_FORMAT
           " kbit/s (encoder target %" G_GINT64_FORMAT ", estimate %" G_GINT64_FORMAT
           " kbit/s), limited by %s, %" G_GINT64_FORMAT
           " NACKs received, %" G_GINT64_FORMAT " retransmitted\n",
           when, o ? json_object_get_string_member_with_default (o, "capture", "?") : "?",
           o ? json_object_get_string_member_with_default (o, "vout_size", "?") : "?",
           o ? json_object_get_double_member_with_default (o, "vout_fps", 0) : 0,
           num (o, "vout_kbps"), num (o, "vout_target_kbps"), num (o, "bwe_kbps"),
           o ? json_object_get_string_member_with_default (o, "vout_limit", "?") : "?",
           num (o, "vout_nacks"), num (o, "vout_rtx"));
}

/* ---- a meeting of the chair and two communes ---- */

static void meeting_stop (void);

/* Starts signald, the nodes (@tree: central, province and district; else the
 * central node alone, serving every site), and the meeting: the chair in Chromium,
 * the two communes in webrtcbin, the weak one relay-only through coturn and
 * lt-impair when @weak_line; with @tree also the province hall. Returns once both
 * communes decode the program and the chair sends. */
static void
meeting_start (gboolean tree, gboolean weak_line, const char *const *node_extra)
{
  env_start ("lt-weak", "", units_csv);
  g_autofree char *turn_url = NULL;
  if (weak_line)
    {
      g_autofree char *turnserver = g_find_program_in_path ("turnserver");
      guint16 turn_port = free_udp_port ();
      start_turn (turnserver, turn_sample, turn_port);
      const char *args[] = { "--seed", "7", NULL };
      imp = impair_start (turn_port, args);
      turn_url = g_strdup_printf ("turn://%s@127.0.0.1:%u", turn_user, imp->port);
    }
  n_nodes = tree ? 3 : 1;
  for (guint i = 0; i < n_nodes; i++)
    {
      nodes[i].extra = node_extra;
      start_node (&nodes[i]);
    }
  ck_assert_msg (wait_for (nodes_up, GUINT_TO_POINTER (n_nodes), 15000),
                 "the nodes did not register");
  gint64 occ = book_now (
      "VN", tree ? "[{\"unit\":\"VN\"},{\"unit\":\"08\"},"
                   "{\"unit\":\"076\",\"down_to\":\"commune\"}]"
                 : "[{\"unit\":\"VN\"},{\"unit\":\"02545\"},{\"unit\":\"02539\"}]");
  g_autofree char *mpath
      = g_strdup_printf ("/api/v1/occurrences/%" G_GINT64_FORMAT "/media", occ);
  g_autoptr (JsonNode) media = api ("GET", mpath, NULL, NULL, 200);
  meeting_id = json_object_get_int_member (json_node_get_object (media), "meeting_id");

  /* what the chair's camera shows: 2 s at 15 fps, looped, of colour bars with a
   * 320x180 patch of noise. Chromium's own fake picture is nearly still: its
   * encoder sends about 500 kbit/s at a 2.5 Mbit/s target (tried), so a ramp would
   * measure the picture, not the rate control. The patch takes every bit the
   * encoder is allowed; a whole picture of noise made it drop frames at low rates
   * (tried: 8 freezes a minute on a clean line), which would measure the picture
   * again. */
  chair.camera = g_build_filename (tmp, "camera.y4m", NULL);
  g_autofree char *gst = g_strdup_printf (
      "gst-launch-1.0 -q compositor name=m sink_1::xpos=480 sink_1::ypos=270 ! "
      "video/x-raw,width=1280,height=720,framerate=15/1,format=I420 ! y4menc ! "
      "filesink location=%s videotestsrc pattern=smpte num-buffers=30 ! "
      "video/x-raw,width=1280,height=720,framerate=15/1 ! m.sink_0 "
      "videotestsrc pattern=snow num-buffers=30 ! "
      "video/x-raw,width=320,height=180,framerate=15/1 ! m.sink_1",
      chair.camera);
  gint status = -1;
  ck_assert_msg (g_spawn_command_line_sync (gst, NULL, NULL, &status, NULL)
                     && g_spawn_check_wait_status (status, NULL),
                 "could not make the chair's camera file");
  start_browser_site (&chair, occ);
  const char *nack[] = { "--nack", "--nack-audio", NULL };
  const char *weak_opts[]
      = { "--nack", "--nack-audio", "--turn", turn_url, "--relay-only", NULL };
  start_site (&weak, occ, "500,700,900", weak_line ? weak_opts : nack);
  start_site (&other, occ, "500,700,900", nack);
  if (tree)
    start_site (&province, occ, "500,700,900", nack);
  gboolean up = wait_for (chair_sends, NULL, 40000) && wait_for (sees_video, &weak, 30000)
                && wait_for (sees_video, &other, 10000);
  print_chair ("joined:");
  Site *communes[] = { &weak, &other };
  for (guint i = 0; i < G_N_ELEMENTS (communes); i++)
    {
      g_autoptr (JsonNode) n
          = communes[i]->last ? json_node_new (JSON_NODE_OBJECT) : NULL;
      if (n)
        json_node_set_object (n, communes[i]->last);
      g_autofree char *text = n ? json_to_string (n, FALSE) : g_strdup ("nothing");
      g_print ("joined: %s reports %s\n", communes[i]->name, text);
    }
  if (!up)
    {
      meeting_stop ();
      ck_abort_msg ("the meeting did not start: the chair sends nothing or a commune "
                    "decodes no program");
    }
}

/* Stops whatever meeting_start started; safe to call twice. */
static void
meeting_stop (void)
{
  stop_browser_site (&chair);
  g_clear_pointer (&chair.camera, g_free);
  stop_site (&weak);
  stop_site (&other);
  stop_site (&province);
  for (guint i = 0; i < n_nodes; i++)
    stop_node (&nodes[i]);
  if (imp)
    {
      impair_stop (imp);
      imp = NULL;
    }
  if (turn)
    stop_turn ();
  if (signald)
    env_stop ();
}

static const char *
site_level (Site *s)
{
  g_autoptr (JsonObject) leg = meeting_leg (meeting_id, s->site_id, NULL);
  static char level[16];
  g_strlcpy (level,
             leg ? json_object_get_string_member_with_default (leg, "level", "?") : "?",
             sizeof level);
  return level;
}

/* The level a site actually receives: signald's (the grades' step-down, or a pin),
 * or the node's where its downlink estimate holds the site lower (node_level). */
static const char *
site_gets (Site *s)
{
  g_autoptr (JsonObject) leg = meeting_leg (meeting_id, s->site_id, NULL);
  static char level[16];
  const char *decided
      = leg ? json_object_get_string_member_with_default (leg, "level", "?") : "?";
  const char *node = leg && json_object_has_member (leg, "node_level")
                             && !json_object_get_null_member (leg, "node_level")
                         ? json_object_get_string_member (leg, "node_level")
                         : NULL;
  g_strlcpy (level, g_str_equal (decided, "full") && node ? node : decided, sizeof level);
  return level;
}

/* ---- the scenarios ---- */

/* clean-ramp, in a meeting already started: the chair's first 15 s of video, its
 * highest rate in them (*@best, kbit/s) and its capture size (*@capture). */
static void
clean_ramp (double *best_out, char **capture_out)
{
  /* the chair's first second of video is the first rate it reports */
  guint first = chair.vout_kbps->len ? chair.vout_kbps->len - 1 : 0;
  run_for (16000);
  g_autoptr (GString) series = g_string_new (NULL);
  double best = 0;
  guint best_at = 0;
  for (guint i = first; i < chair.vout_kbps->len && i < first + 15; i++)
    {
      double k = g_array_index (chair.vout_kbps, double, i);
      g_string_append_printf (series, " %.0f", k);
      if (k > best)
        best = k, best_at = i - first + 1;
    }
  print_chair ("after 15 s:");
  g_autofree char *capture = g_strdup (
      chair.last ? json_object_get_string_member_with_default (chair.last, "capture", "")
                 : "");
  g_print ("clean line: the chair's video, kbit/s each second from its first:%s\n",
           series->str);
  g_print ("clean line: highest %.0f kbit/s (in second %u); goal >= 1500 within 15 s\n",
           best, best_at);
  *best_out = best;
  *capture_out = g_steal_pointer (&capture);
}

/* 5% loss both ways and 30 ms each way (60 ms RTT) on the weak commune's line, for
 * @seconds once the program flows; fills @w with its figures. */
static void
lossy_commune (guint seconds, Window *w, Window *ctl)
{
  ck_assert (impair_cmd (imp, "both loss 5", NULL, NULL));
  ck_assert (impair_cmd (imp, "both delay 30", NULL, NULL));
  run_for (3000); /* the delay's queue fills, the jitter buffers adapt */
  Playout a = playout_now (&weak), c = playout_now (&other);
  DirStats up0 = { 0 }, down0 = { 0 }, up1 = { 0 }, down1 = { 0 };
  ck_assert (impair_cmd (imp, "stats", &up0, &down0));
  run_for (seconds * 1000);
  ck_assert (impair_cmd (imp, "stats", &up1, &down1));
  *w = window_of (&weak, &a);
  *ctl = window_of (&other, &c);
  g_print ("the weak line lost %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
           " datagrams to the commune (%.1f%%) and %" G_GUINT64_FORMAT
           " of %" G_GUINT64_FORMAT " from it\n",
           down1.loss - down0.loss, down1.rx - down0.rx,
           100.0 * (double)(down1.loss - down0.loss)
               / (double)MAX (1, down1.rx - down0.rx),
           up1.loss - up0.loss, up1.rx - up0.rx);
  g_autoptr (JsonObject) leg = meeting_leg (meeting_id, weak.site_id, NULL);
  for (int d = 0; d < 2; d++)
    {
      const char *dir = d ? "down" : "up";
      JsonNode *n = leg ? json_object_get_member (leg, dir) : NULL;
      JsonObject *o = n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      g_print ("the node measures the weak line %s: loss %.1f%%, RTT %.0f ms\n", dir,
               o ? json_object_get_double_member_with_default (o, "loss", -1) : -1,
               o ? json_object_get_double_member_with_default (o, "rtt", -1) : -1);
    }
  print_chair ("end:");
}

START_TEST (test_commune_loss)
{
  meeting_start (FALSE, TRUE, NULL);
  Window w, ctl;
  lossy_commune (60, &w, &ctl);
  print_window ("5% loss, 60 ms RTT, retransmission on:", &weak, &w);
  print_window ("clean line (control):", &other, &ctl);
  meeting_stop ();
  g_print ("goals: recovered >= 80%% (%.1f%%), freezes <= 1 a minute (%.2f; the clean "
           "commune %.2f), audio concealed < 5%% (%.2f%%)\n",
           w.recovered_pct, w.freezes_per_min, ctl.freezes_per_min, w.concealed_pct);
  /* the measure itself: the line did lose program video and audio */
  ck_assert_msg (w.video_missing > 0 && w.audio_missing > 0,
                 "nothing went missing: the loss did not reach the commune");
  ck_assert_msg (w.frames > 0, "no video at all on the lossy line");
  ck_assert_msg (w.recovered_pct >= 80, "recovered %.1f%% of lost program video",
                 w.recovered_pct);
  /* a freeze the clean commune saw in the same minute came from the chair or the
   * machine (the chair's encoder or a node starved of CPU), not from the weak line:
   * the goal is held against the freezes the line adds */
  ck_assert_msg (w.freezes_per_min - ctl.freezes_per_min <= 1,
                 "%.2f freezes a minute, %.2f more than on the clean line",
                 w.freezes_per_min, w.freezes_per_min - ctl.freezes_per_min);
  ck_assert_msg (w.concealed_pct >= 0 && w.concealed_pct < 5, "audio concealed %.2f%%",
                 w.concealed_pct);
}
END_TEST

/* Whether lienthong-mcu knows --no-retransmission (a feature of its own branch). */
static gboolean
node_has_option (const char *opt)
{
  g_autofree char *out = NULL;
  g_autofree char *cmd = g_strdup_printf ("'%s' --help", mcu_bin);
  return g_spawn_command_line_sync (cmd, &out, NULL, NULL, NULL) && out
         && strstr (out, opt) != NULL;
}

START_TEST (test_commune_loss_no_rtx)
{
  ck_assert_msg (node_has_option ("--no-retransmission"),
                 "lienthong-mcu has no --no-retransmission: the comparison cannot run");
  const char *no_rtx[] = { "--no-retransmission", NULL };
  meeting_start (FALSE, TRUE, no_rtx);
  Window w, ctl;
  lossy_commune (30, &w, &ctl);
  print_window ("5% loss, 60 ms RTT, retransmission off:", &weak, &w);
  print_window ("clean line (control):", &other, &ctl);
  meeting_stop ();
  /* for comparison with commune-loss: what the line's loss costs audio when
   * nothing is retransmitted (Opus in-band FEC is on either way) */
  g_print ("retransmission off: recovered %.1f%% of lost program video, audio "
           "concealed %.2f%%\n",
           w.recovered_pct, w.concealed_pct);
  ck_assert_msg (w.video_missing > 0, "nothing went missing");
  /* without retransmission nothing but reordering fills a gap: far below the goal */
  ck_assert_msg (w.recovered_pct < 20,
                 "recovered %.1f%% with retransmission off: the figure does not measure "
                 "retransmission",
                 w.recovered_pct);
}
END_TEST

/* clean-ramp, then commune-cap in the same meeting: the cap needs the chair
 * ramped, which is what clean-ramp measures (the weak commune's line runs through
 * coturn and lt-impair, so far unimpaired). One meeting for both saves a set-up
 * and the wait for the ramp. */
START_TEST (test_commune_cap)
{
  meeting_start (FALSE, TRUE, NULL);
  double ramp = 0;
  g_autofree char *capture = NULL;
  clean_ramp (&ramp, &capture);
  guint n0 = chair.vout_kbps->len;
  double before = chair_kbps_mean (n0 >= 5 ? n0 - 5 : 0, n0);
  g_autofree char *weak_before = g_strdup (site_gets (&weak));
  g_autofree char *other_before = g_strdup (site_gets (&other));
  print_chair ("before the cap:");
  g_print ("before the cap: the chair sends %.0f kbit/s (last 5 s), levels %s %s, %s "
           "%s\n",
           before, weak.name, weak_before, other.name, other_before);

  DirStats up0 = { 0 }, down0 = { 0 };
  ck_assert (impair_cmd (imp, "stats", &up0, &down0));
  ck_assert (impair_cmd (imp, "both rate 600 300", NULL, NULL));
  gint64 t0 = g_get_monotonic_time ();
  double low_after = -1;
  gboolean other_full = TRUE;
  g_autoptr (GString) levels = g_string_new (NULL);
  while (g_get_monotonic_time () - t0 < 20 * G_USEC_PER_SEC)
    {
      run_for (500);
      g_autofree char *wl = g_strdup (site_gets (&weak));
      const char *ol = site_gets (&other);
      double t = (double)(g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
      g_string_append_printf (levels, " %.1fs:%s/%s", t, wl, ol);
      if (low_after < 0 && (g_str_equal (wl, "low") || g_str_equal (wl, "audio")))
        low_after = t;
      other_full &= g_str_equal (ol, "full");
    }
  guint n1 = chair.vout_kbps->len;
  double during = chair_kbps_mean (n1 >= 10 ? n1 - 10 : 0, n1);
  DirStats up = { 0 }, down = { 0 };
  ck_assert (impair_cmd (imp, "stats", &up, &down));
  print_chair ("capped:");
  meeting_stop ();
  g_print ("600 kbit/s cap: levels (weak/other) every 0.5 s:%s\n", levels->str);
  g_print ("600 kbit/s cap: %s at low after %.1f s (goal <= 10 s), %s stayed full: %s; "
           "the chair sends %.0f kbit/s (last 10 s) after %.0f before (goal >= 80%%); "
           "the bottleneck dropped %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
           " datagrams to the commune\n",
           weak.name, low_after, other.name, other_full ? "yes" : "no", during, before,
           down.rate - down0.rate, down.rx - down0.rx);
  /* the feedback's own way across the line: RTCP each way during the cap */
  g_print ("600 kbit/s cap: RTCP from the commune %" G_GUINT64_FORMAT
           " datagrams, %" G_GUINT64_FORMAT " delivered; to it %" G_GUINT64_FORMAT
           ", %" G_GUINT64_FORMAT " delivered; it sent %" G_GUINT64_FORMAT
           " datagrams up, the line dropped %" G_GUINT64_FORMAT "\n",
           up.rtcp_rx - up0.rtcp_rx, up.rtcp_tx - up0.rtcp_tx,
           down.rtcp_rx - down0.rtcp_rx, down.rtcp_tx - down0.rtcp_tx, up.rx - up0.rx,
           up.rate - up0.rate);
  /* clean-ramp's goal first, then the cap's */
  ck_assert_str_eq (capture, "1280x720");
  ck_assert_msg (ramp >= 1500, "the chair reached only %.0f kbit/s in 15 s", ramp);
  ck_assert_str_eq (weak_before, "full");
  ck_assert_msg (low_after >= 0 && low_after <= 10, "%s moved to low after %.1f s",
                 weak.name, low_after);
  ck_assert_msg (other_full, "%s did not stay at full", other.name);
  ck_assert_msg (
      before > 750,
      "the chair sent only %.0f kbit/s before the cap: a 600 kbit/s cap cannot "
      "show whether it pulls the encoder down",
      before);
  ck_assert_msg (during >= 0.8 * before, "the chair fell from %.0f to %.0f kbit/s",
                 before, during);
}
END_TEST

/* 10% random loss, both ways, on every datagram between the district node and the
 * province node (nftables in the test's namespace); counts what it dropped. */
static void
lossy_uplink (gboolean on)
{
  const char *cmd
      = on ? "nft add table inet ltweak && "
             "nft add chain inet ltweak out '{ type filter hook output priority 0; }' && "
             "nft add rule inet ltweak out ip saddr 127.0.0.3 ip daddr 127.0.0.2 counter "
             "numgen random mod 100 '<' 10 counter drop && "
             "nft add rule inet ltweak out ip saddr 127.0.0.2 ip daddr 127.0.0.3 counter "
             "numgen random mod 100 '<' 10 counter drop"
           : "nft list table inet ltweak | grep counter; nft delete table inet ltweak";
  ck_assert_msg (system (cmd) == 0, "nft failed: %s", cmd);
}

/* The concealment node-076 reports for what it receives on its uplink, -1 unknown. */
static double
uplink_concealed (const char *dir)
{
  g_autoptr (JsonObject) leg = meeting_leg (meeting_id, 0, "node-076");
  JsonNode *d = leg ? json_object_get_member (leg, dir) : NULL;
  return d && JSON_NODE_HOLDS_OBJECT (d) ? json_object_get_double_member_with_default (
             json_node_get_object (d), "concealed", -1)
                                         : -1;
}

START_TEST (test_district_loss)
{
  meeting_start (TRUE, FALSE, NULL);
  run_for (3000);
  g_print ("clean: %s hears the province %.3f, %s %.3f\n", weak.name,
           site_hears (&weak, province.tone), other.name,
           site_hears (&other, province.tone));
  lossy_uplink (TRUE);
  run_for (6000); /* the node's 5 s window fills with the lossy link */
  Playout a = playout_now (&weak), b = playout_now (&other);
  double conc_sum = 0, heard_w = 0, heard_o = 0;
  guint conc_n = 0, seconds = 30;
  g_autoptr (GString) samples = g_string_new (NULL);
  g_autoptr (GString) shares = g_string_new (NULL);
  for (guint i = 0; i < seconds; i++)
    {
      run_for (1000);
      heard_w += site_hears (&weak, province.tone) / seconds;
      heard_o += site_hears (&other, province.tone) / seconds;
      g_string_append_printf (shares, " %.2f/%.2f", site_hears (&weak, province.tone),
                              site_hears (&other, province.tone));
      if (i % 5 == 4)
        {
          double c = uplink_concealed ("up");
          g_string_append_printf (samples, " %.2f/%.2f", c, uplink_concealed ("down"));
          if (c >= 0)
            conc_sum += c, conc_n++;
        }
    }
  Window ww = window_of (&weak, &a), wo = window_of (&other, &b);
  lossy_uplink (FALSE);
  print_window ("10% loss district<->province:", &weak, &ww);
  print_window ("10% loss district<->province:", &other, &wo);
  meeting_stop ();
  double link = conc_n ? conc_sum / conc_n : -1;
  /* what a commune hears of the province was concealed at its node (the link) or
   * at the commune itself (its own line) */
  double tw
      = link < 0 ? -1 : 100.0 * (1 - (1 - link / 100) * (1 - ww.concealed_pct / 100));
  double to
      = link < 0 ? -1 : 100.0 * (1 - (1 - link / 100) * (1 - wo.concealed_pct / 100));
  g_print ("district node's uplink concealment every 5 s (received/sent):%s\n",
           samples->str);
  g_print ("the province's share of what each commune heard, each second (%s/%s):%s\n",
           weak.name, other.name, shares->str);
  g_print ("10%% loss district<->province: the district node conceals %.2f%% of the "
           "link's audio; %s received %.1f audio packets a second, heard the province "
           "at a mean share of %.3f, concealed %.2f%% itself, in all %.2f%%; %s %.1f, "
           "%.3f, %.2f%%, in all %.2f%% (goal < 10%%)\n",
           link, weak.name, ww.audio_packets / ww.seconds, heard_w, ww.concealed_pct, tw,
           other.name, wo.audio_packets / wo.seconds, heard_o, wo.concealed_pct, to);
  ck_assert_msg (link >= 0, "the district node reports no concealment for its uplink");
  /* they keep receiving audio: Opus's 50 packets a second arrive (45: slack for the
   * reports' timing), and the province is in it */
  ck_assert_msg (ww.audio_packets / ww.seconds >= 45
                     && wo.audio_packets / wo.seconds >= 45,
                 "a commune's audio thinned out");
  ck_assert_msg (heard_w > 0.05 && heard_o > 0.05, "the province was not heard");
  ck_assert_msg (tw < 10 && to < 10, "concealment %.2f%% and %.2f%%", tw, to);
}
END_TEST

int
main (int argc, char **argv)
{
  if (argc < 8)
    {
      g_printerr (
          "usage: %s SIGNALD MCU CLIENT UNITS.csv TURNSERVER.conf NODE SITE.mjs\n",
          argv[0]);
      return 2;
    }
  g_autofree char *turnserver = g_find_program_in_path ("turnserver");
  if (turnserver == NULL)
    {
      g_print ("SKIP: turnserver not installed (apt-get install coturn)\n");
      return 77;
    }
  signald_bin = argv[1];
  mcu_bin = argv[2];
  client_bin = argv[3];
  units_csv = argv[4];
  turn_sample = argv[5];
  node_bin = argv[6];
  site_js = argv[7];
  Suite *s = suite_create ("weak-link");
  /* Goals issue 14 sets that the node does not meet yet are tagged "open": the
   * test command runs the others (CK_EXCLUDE_TAGS, tests/meson.build), and suite
   * open-goals runs these and fails with their figures until they are met (none
   * today). commune-cap was the last: the node estimates the downlink of peers
   * without transport-cc from their receiver reports and from how late their
   * NACKs come (mcu/bwe.h). Reading the NACKed fraction as the loss failed it in
   * about one run in five: behind the bottleneck the commune NACKs 10 to 20% of
   * the 60% it loses and, while it NACKs, puts its receiver reports off for up to
   * 26 s (the capped commune was moved late or never), and a starting receiver
   * NACKs nearly every packet that is only late (a commune was moved at the
   * start). Since NACKs count only when a queue delays them, 18 runs of 19 met the
   * goal (to low in 3.0 to 5.1 s, the chair at 1.9 to 2.0 Mbit/s after 1.7
   * before); the 19th failed before the cap: the weak commune's webrtcbin client
   * aborted on a GLib critical (a hash table changed during its iteration) as it
   * connected. */
  struct
  {
    const char *name;
    const TTest *test;
    int timeout;
    gboolean open;
  } cases[] = {
    { "commune-loss", test_commune_loss, 150, FALSE },
    { "commune-loss-no-rtx", test_commune_loss_no_rtx, 120, FALSE },
    { "clean-ramp-commune-cap", test_commune_cap, 150, FALSE },
    { "district-loss", test_district_loss, 120, FALSE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TCase *tc = tcase_create (cases[i].name);
      if (cases[i].open)
        tcase_set_tags (tc, "open");
      tcase_set_timeout (tc, cases[i].timeout);
      tcase_add_test (tc, cases[i].test);
      suite_add_tcase (s, tc);
    }
  return lt_test_run (s);
}
