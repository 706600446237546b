/* Suite quality-stepdown: link quality acted on, end to end, with real parts only.
 * One signald (its [quality] times shortened to a few seconds), one lienthong-mcu
 * node, a chair and a commune hall played by webrtcbin clients. The commune joins the
 * way a commune behind a firewall does, relay-only through Debian's coturn, and every
 * packet between it and the TURN server crosses tests/tools/lt-impair, where loss is
 * switched at run time. It proves that:
 *  - on a clean line the commune's leg is graded good or ok at level full, with the
 *    ICE pair reported as host/relay and no alarm;
 *  - with 15% loss both ways the node measures the loss (a plausible band for a 5 s
 *    window of 15% random loss), the very-bad alarm opens, the commune steps down to
 *    the low-resolution program and then to audio only, in that order, and is told so
 *    on its own socket; at audio only it receives no more video but still hears the
 *    chair;
 *  - with the loss removed it steps back up, audio -> low -> full, receiving the
 *    low-resolution program (its smaller picture) while at low, the alarm is closed
 *    with a clearing time, and the full program's video reaches it again;
 *  - a dashboard subscribed to the meeting sees, for the commune, exactly
 *    alarm.raised, link.level low, link.level audio, alarm.cleared, link.level low,
 *    link.level full, in that order, and the hall was told low,audio,low,full.
 * Order is asserted, not timing: every wait has a generous deadline. The [quality]
 * times make that order the only possible one (see START_TEST). The time from
 * switching the loss on to the alarm is printed as a figure, not asserted.
 *
 * Usage (meson runs it in a loopback-only namespace):
 *   test-stepdown SIGNALD MCU CLIENT IMPAIR UNITS.csv TURNSERVER.conf
 * Exits 77 (skipped) when coturn's turnserver is not installed. */
#include "lt-test.h"
#include "lt-meeting-env.h"

#include <stdio.h>
#include <unistd.h>

static const char *impair_bin, *units_csv, *turn_sample;

static Node node = { .id = "node-vn", .unit = "VN", .address = "127.0.0.1" };
static Site chair = { .name = "chair", .unit = "VN", .tone = 500 };
static Site commune = { .name = "tan-trao", .unit = "02545", .tone = 700 };

/* ---- lt-impair, between the commune and coturn ---- */

static GSubprocess *impair;
static GDataInputStream *impair_out;

static guint16
start_impair (guint16 target)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *t = g_strdup_printf ("%u", target);
  impair = g_subprocess_new (
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, impair_bin,
      "--target", t, "--listen", "0", "--seed", "7", NULL);
  ck_assert_msg (impair != NULL, "%s", error ? error->message : "");
  impair_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (impair));
  g_autofree char *line
      = g_data_input_stream_read_line_utf8 (impair_out, NULL, NULL, NULL);
  ck_assert_msg (line && atoi (line) > 0, "lt-impair printed no port");
  return (guint16)atoi (line);
}

/* Sends one command and waits for its "ok" (it has taken effect then). */
static void
impair_cmd (const char *cmd)
{
  g_autofree char *l = g_strdup_printf ("%s\n", cmd);
  ck_assert (g_output_stream_write_all (g_subprocess_get_stdin_pipe (impair), l,
                                        strlen (l), NULL, NULL, NULL));
  for (;;)
    {
      g_autofree char *line
          = g_data_input_stream_read_line_utf8 (impair_out, NULL, NULL, NULL);
      ck_assert_msg (line != NULL, "lt-impair exited on \"%s\"", cmd);
      ck_assert_msg (!g_str_has_prefix (line, "error"), "lt-impair: %s", line);
      if (g_str_equal (line, "ok"))
        return;
    }
}

/* ---- what signald says ---- */

static gint64 meeting_id;

typedef struct
{
  char level[8];
  int grade;
  double up_loss;
  char pair_local[8], pair_remote[8];
} LegView;

/* The commune's leg in GET /meetings/{id}/links; FALSE while it has none. */
static gboolean
commune_leg (LegView *v)
{
  g_autofree char *path
      = g_strdup_printf ("/api/v1/meetings/%" G_GINT64_FORMAT "/links", meeting_id);
  g_autoptr (JsonNode) r = api ("GET", path, NULL, NULL, 200);
  JsonArray *a = json_object_get_array_member (json_node_get_object (r), "links");
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (json_object_get_int_member_with_default (o, "site_id", 0) != commune.site_id)
        continue;
      memset (v, 0, sizeof *v);
      g_strlcpy (v->level, json_object_get_string_member_with_default (o, "level", ""),
                 sizeof v->level);
      v->grade = (int)json_object_get_int_member_with_default (o, "grade", -1);
      JsonNode *up = json_object_get_member (o, "up");
      v->up_loss = up && JSON_NODE_HOLDS_OBJECT (up)
                       ? json_object_get_double_member_with_default (
                           json_node_get_object (up), "loss", -1)
                       : -1;
      JsonNode *pair = json_object_get_member (o, "pair");
      if (pair && JSON_NODE_HOLDS_OBJECT (pair))
        {
          JsonObject *p = json_node_get_object (pair);
          g_strlcpy (v->pair_local,
                     json_object_get_string_member_with_default (p, "local", ""),
                     sizeof v->pair_local);
          g_strlcpy (v->pair_remote,
                     json_object_get_string_member_with_default (p, "remote", ""),
                     sizeof v->pair_remote);
        }
      return TRUE;
    }
  return FALSE;
}

/* The very-bad alarm of the commune's leg: 0 none, 1 open, 2 cleared. */
static int
commune_alarm (void)
{
  g_autofree char *path
      = g_strdup_printf ("/api/v1/alarms?meeting=%" G_GINT64_FORMAT, meeting_id);
  g_autoptr (JsonNode) r = api ("GET", path, NULL, NULL, 200);
  JsonArray *a = json_object_get_array_member (json_node_get_object (r), "alarms");
  g_autofree char *suffix = g_strdup_printf (":site:%" G_GINT64_FORMAT, commune.site_id);
  int state = 0;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonObject *o = json_array_get_object_element (a, i);
      if (!g_str_equal (json_object_get_string_member (o, "kind"), "leg.very_bad")
          || !g_str_has_suffix (json_object_get_string_member (o, "subject"), suffix))
        continue;
      gboolean open = json_object_get_boolean_member (o, "open");
      JsonNode *cleared = json_object_get_member (o, "cleared_at");
      ck_assert (open == (cleared == NULL || JSON_NODE_HOLDS_NULL (cleared)));
      state = MAX (state, open ? 1 : 2);
      if (open)
        return 1;
    }
  return state;
}

/* Follows the commune's level until it is @want, noting each level it passes
 * through in @seen ("full,low,audio"); also notes the alarm and the loss seen. */
typedef struct
{
  const char *want;
  GString *seen;
  int alarm;          /* the last alarm state read */
  gboolean alarm_set; /* the alarm was open at some poll */
  double max_loss;
  gint64 next_poll;
  gint64 frames_at[4]; /* the commune's video frames when each level was first seen */
  guint n_levels;
  char size_at_low[16]; /* the picture size of the last polls at low with new frames */
} Follow;

static const char *video_size (void);

static gboolean
level_reached (gpointer data)
{
  Follow *f = data;
  gint64 now = g_get_monotonic_time ();
  if (now < f->next_poll)
    return FALSE;
  f->next_poll = now + 500000;
  LegView v;
  if (!commune_leg (&v))
    return FALSE;
  const char *last = strrchr (f->seen->str, ',');
  last = last ? last + 1 : f->seen->str;
  if (!g_str_equal (last, v.level))
    {
      g_string_append_printf (f->seen, "%s%s", f->seen->len ? "," : "", v.level);
      if (f->n_levels < G_N_ELEMENTS (f->frames_at))
        f->frames_at[f->n_levels++] = site_frames (&commune);
    }
  if (g_str_equal (v.level, "low") && f->n_levels > 0
      && site_frames (&commune) > f->frames_at[f->n_levels - 1])
    g_strlcpy (f->size_at_low, video_size (), sizeof f->size_at_low);
  f->max_loss = MAX (f->max_loss, v.up_loss);
  f->alarm = commune_alarm ();
  f->alarm_set |= f->alarm == 1;
  return g_str_equal (v.level, f->want);
}

static gboolean
hears_chair_and_sees (gpointer data)
{
  return site_frames (&commune) > GPOINTER_TO_INT (data)
         && site_hears (&commune, 500) > 0.05;
}

static gboolean
told_level (gpointer want)
{
  return commune.last
         && g_str_equal (
             json_object_get_string_member_with_default (commune.last, "level", ""),
             (const char *)want);
}

static gboolean
alarm_cleared (gpointer data)
{
  run_for (300);
  return commune_alarm () == 2;
}

static gboolean
leg_clean (gpointer data)
{
  LegView *v = data;
  run_for (200);
  return commune_leg (v) && v->grade >= 0 && v->grade <= 1 && v->pair_remote[0];
}

/* The area of a "WxH" picture size; 0 when there is none. */
static int
area (const char *size)
{
  int w = 0, h = 0;
  return sscanf (size, "%dx%d", &w, &h) == 2 ? w * h : 0;
}

/* ---- a dashboard on /api/v1/ws, subscribed to the meeting ---- */

typedef struct
{
  SoupSession *session;
  SoupWebsocketConnection *conn;
  gboolean done, subscribed;
  GString *events;    /* the commune's, in order: "alarm.raised,low,audio,..." */
  gint64 t_raised_us; /* monotonic time alarm.raised arrived */
} Dashboard;

static Dashboard dash;

static void
dash_note (const char *what)
{
  g_string_append_printf (dash.events, "%s%s", dash.events->len ? "," : "", what);
}

static void
dash_message (SoupWebsocketConnection *c, gint kind, GBytes *msg, gpointer data)
{
  gsize n;
  const char *text = g_bytes_get_data (msg, &n);
  g_autoptr (JsonParser) p = json_parser_new ();
  if (!json_parser_load_from_data (p, text, (gssize)n, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
    return;
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  const char *type = json_object_get_string_member_with_default (o, "type", "");
  if (g_str_equal (type, "subscribed"))
    dash.subscribed = TRUE;
  else if (g_str_equal (type, "link.level")
           && json_object_get_int_member_with_default (o, "site_id", 0)
                  == commune.site_id)
    dash_note (json_object_get_string_member_with_default (o, "level", "?"));
  else if (g_str_equal (type, "alarm.raised") || g_str_equal (type, "alarm.cleared"))
    {
      g_autofree char *suffix
          = g_strdup_printf (":site:%" G_GINT64_FORMAT, commune.site_id);
      const char *kind = json_object_get_string_member_with_default (o, "kind", "");
      const char *subject = json_object_get_string_member_with_default (o, "subject", "");
      if (!g_str_equal (kind, "leg.very_bad") || !g_str_has_suffix (subject, suffix))
        return;
      dash_note (type);
      if (g_str_equal (type, "alarm.raised") && dash.t_raised_us == 0)
        dash.t_raised_us = g_get_monotonic_time ();
    }
}

static void
dash_connected (GObject *src, GAsyncResult *res, gpointer data)
{
  g_autoptr (GError) error = NULL;
  dash.conn = soup_session_websocket_connect_finish (SOUP_SESSION (src), res, &error);
  ck_assert_msg (dash.conn != NULL, "dashboard socket: %s", error->message);
  g_signal_connect (dash.conn, "message", G_CALLBACK (dash_message), NULL);
  dash.done = TRUE;
}

static gboolean
flag_set (gpointer flag)
{
  return *(gboolean *)flag;
}

/* Opens the socket as the admin and subscribes to the meeting; returns once signald
 * said "subscribed", so every later event of the meeting reaches it. */
static void
dash_open (void)
{
  dash.events = g_string_new ("");
  dash.session = soup_session_new ();
  g_autofree char *url = g_strdup_printf ("%s/api/v1/ws", base);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autofree char *auth = g_strdup_printf ("Bearer %s", admin);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                auth);
  soup_session_websocket_connect_async (dash.session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                        NULL, dash_connected, NULL);
  ck_assert_msg (wait_for (flag_set, &dash.done, 10000), "no dashboard socket");
  g_autofree char *sub = g_strdup_printf (
      "{\"type\":\"subscribe\",\"meeting_id\":%" G_GINT64_FORMAT "}", meeting_id);
  soup_websocket_connection_send_text (dash.conn, sub);
  ck_assert_msg (wait_for (flag_set, &dash.subscribed, 10000), "not subscribed");
}

static void
dash_close (void)
{
  soup_websocket_connection_close (dash.conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  run_for (100);
  g_signal_handlers_disconnect_by_func (dash.conn, dash_message, NULL);
  g_clear_object (&dash.conn);
  g_clear_object (&dash.session);
  g_string_free (dash.events, TRUE);
}

static gboolean
dash_saw (gpointer want)
{
  return g_str_equal (dash.events->str, (const char *)want);
}

static const char *
told (void)
{
  return commune.last
             ? json_object_get_string_member_with_default (commune.last, "told", "")
             : "";
}

static const char *
video_size (void)
{
  return commune.last
             ? json_object_get_string_member_with_default (commune.last, "video_size", "")
             : "";
}

static gint64
audio_buffers (void)
{
  return commune.last ? json_object_get_int_member (commune.last, "audio_buffers") : 0;
}

static gboolean
sees_size (gpointer want)
{
  return g_str_equal (video_size (), (const char *)want);
}

/* [quality] times: raise-after <= stepdown-after, and the alarm's run of very-bad
 * samples starts no later than the step's (a merely bad sample restarts only the
 * latter) and is judged first on each report, so alarm.raised comes before the step
 * to low; clear-after < stepup-after likewise puts alarm.cleared before the first step
 * back up. Short enough for the suite to take well under a minute. */
START_TEST (test_loss_steps_down_and_back)
{
  g_autofree char *turnserver = g_find_program_in_path ("turnserver");
  env_start (
      "lt-stepdown",
      "[quality]\nraise-after=4\nclear-after=4\nstepdown-after=4\nstepup-after=6\n",
      units_csv);
  guint16 turn_port = free_udp_port ();
  start_turn (turnserver, turn_sample, turn_port);
  guint16 relay = start_impair (turn_port);
  start_node (&node);
  ck_assert_msg (wait_for (nodes_up, GUINT_TO_POINTER (1), 10000), "no node registered");

  gint64 occ = book_now ("VN", "[{\"unit\":\"VN\"},{\"unit\":\"02545\"}]");
  g_autofree char *mpath
      = g_strdup_printf ("/api/v1/occurrences/%" G_GINT64_FORMAT "/media", occ);
  g_autoptr (JsonNode) media = api ("GET", mpath, NULL, NULL, 200);
  meeting_id = json_object_get_int_member (json_node_get_object (media), "meeting_id");
  g_autofree char *turn_url
      = g_strdup_printf ("turn://%s@127.0.0.1:%u", turn_user, relay);
  const char *via_turn[] = { "--turn", turn_url, "--relay-only", NULL };
  site_credentials (&commune); /* its site id, for the dashboard's filter */
  dash_open ();
  start_site (&chair, occ, "500,700", NULL);
  start_site (&commune, occ, "500,700", via_turn);

  /* a clean line: the chair is heard and seen, the leg good or ok, level full */
  ck_assert_msg (wait_for (hears_chair_and_sees, GINT_TO_POINTER (0), 30000),
                 "the commune never heard and saw the chair through TURN");
  LegView v;
  ck_assert_msg (wait_for (leg_clean, &v, 20000),
                 "the commune's leg was never graded clean");
  g_print ("clean: grade %d, loss %.1f%%, pair %s/%s, level %s\n", v.grade, v.up_loss,
           v.pair_local, v.pair_remote, v.level);
  ck_assert_str_eq (v.level, "full");
  ck_assert_str_eq (v.pair_remote, "relay"); /* its media really crosses coturn */
  ck_assert_int_eq (commune_alarm (), 0);
  ck_assert_str_eq (dash.events->str, "");
  g_autofree char *full_size = g_strdup (video_size ());
  ck_assert_int_gt (area (full_size), 0);

  /* 15% loss both ways: alarm, then low, then audio only */
  impair_cmd ("both loss 15");
  gint64 t_loss_on = g_get_monotonic_time ();
  Follow down = { "audio", g_string_new (""), 0, FALSE, 0, 0, { 0 }, 0, "" };
  gboolean reached = wait_for (level_reached, &down, 60000);
  g_print ("with 15%% loss: levels %s, alarm %s, most loss measured %.1f%%\n",
           down.seen->str, down.alarm_set ? "raised" : "not raised", down.max_loss);
  ck_assert_msg (reached, "the commune never reached audio only (levels %s)",
                 down.seen->str);
  ck_assert_str_eq (down.seen->str, "full,low,audio");
  ck_assert_msg (down.alarm_set, "the very-bad alarm was not raised");
  /* a 5 s window of 15% random loss over ~250 audio packets: 8-25% */
  ck_assert_msg (down.max_loss >= 8 && down.max_loss <= 25, "measured loss %.1f%%",
                 down.max_loss);
  ck_assert_msg (wait_for (dash_saw, "alarm.raised,low,audio", 10000),
                 "the dashboard saw \"%s\", not alarm.raised,low,audio",
                 dash.events->str);
  g_print ("alarm.raised on the dashboard %.1f s after the loss began (budget: raise "
           "4 s + window 5 s + reporting 2 s = 11 s)\n",
           (double)(dash.t_raised_us - t_loss_on) / 1e6);
  ck_assert_msg (wait_for (told_level, "audio", 10000),
                 "the hall was not told it is at audio");
  ck_assert_str_eq (told (), "low,audio");

  /* audio only: no more video, the chair still heard */
  run_for (3000); /* packets already on their way */
  gint64 frames = site_frames (&commune), buffers = audio_buffers ();
  run_for (4000);
  g_print ("at audio only: %" G_GINT64_FORMAT " new frames, %" G_GINT64_FORMAT
           " new audio buffers in 4 s, chair heard %.3f\n",
           site_frames (&commune) - frames, audio_buffers () - buffers,
           site_hears (&commune, 500));
  ck_assert_int_eq (site_frames (&commune), frames);
  ck_assert_int_gt (audio_buffers (), buffers);
  ck_assert_msg (site_hears (&commune, 500) > 0.05,
                 "the chair is not heard at audio only");

  /* the loss removed: back up step by step, the alarm closed, video again */
  impair_cmd ("both loss 0");
  Follow up = { "full", g_string_new ("audio"), 0, FALSE, 0, 0, { 0 }, 0, "" };
  reached = wait_for (level_reached, &up, 90000);
  g_print ("loss removed: levels %s\n", up.seen->str);
  ck_assert_msg (reached, "the commune never got back to full (levels %s)", up.seen->str);
  ck_assert_str_eq (up.seen->str, "audio,low,full");
  /* between the step to low and the step to full the low-resolution program came */
  g_print ("frames while at low: %" G_GINT64_FORMAT ", picture %s (full: %s)\n",
           up.frames_at[1] - up.frames_at[0], up.size_at_low, full_size);
  ck_assert_int_gt (up.frames_at[1], up.frames_at[0]);
  ck_assert_msg (area (up.size_at_low) > 0 && area (up.size_at_low) < area (full_size),
                 "at low the picture was %s, the full program's %s", up.size_at_low,
                 full_size);
  ck_assert_msg (wait_for (alarm_cleared, NULL, 30000), "the alarm was not cleared");
  ck_assert_msg (
      wait_for (dash_saw, "alarm.raised,low,audio,alarm.cleared,low,full", 10000),
      "the dashboard saw \"%s\"", dash.events->str);
  ck_assert_msg (wait_for (told_level, "full", 10000),
                 "the hall was not told it is back");
  ck_assert_str_eq (told (), "low,audio,low,full");
  /* the full program again: new frames at its own picture size */
  gint64 at_full = site_frames (&commune);
  ck_assert_msg (wait_for (hears_chair_and_sees, GINT_TO_POINTER ((int)at_full), 15000),
                 "no video after stepping back up");
  ck_assert_msg (wait_for (sees_size, full_size, 10000),
                 "back at full the picture is %s, not %s", video_size (), full_size);

  g_string_free (down.seen, TRUE);
  g_string_free (up.seen, TRUE);
  dash_close ();
  stop_site (&commune);
  stop_site (&chair);
  stop_node (&node);
  g_subprocess_send_signal (impair, SIGTERM);
  g_subprocess_wait (impair, NULL, NULL);
  g_clear_object (&impair_out);
  g_clear_object (&impair);
  stop_turn ();
  env_stop ();
}
END_TEST

int
main (int argc, char **argv)
{
  if (argc < 7)
    {
      g_printerr ("usage: %s SIGNALD MCU CLIENT IMPAIR UNITS.csv TURNSERVER.conf\n",
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
  impair_bin = argv[4];
  units_csv = argv[5];
  turn_sample = argv[6];
  Suite *s = suite_create ("quality-stepdown");
  TCase *tc = tcase_create ("impaired-commune");
  tcase_set_timeout (tc, 280);
  tcase_add_test (tc, test_loss_steps_down_and_back);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
