/* Suite mcu-quality: proves that the Opus E-model gives about 4.4 on a clean link
 * and falls strictly with loss, delay and jitter (and hits G.107's values at known
 * points); that the grade changes exactly at Pexip's loss thresholds and drops one
 * grade (once) when jitter > 40 ms or RTT > 300 ms; that a window counts only its
 * last seconds of loss, bitrate, feedback, concealment and freezes, and is fed
 * correctly from McuRecvStats (our own sequence tracking), McuSendStats (the
 * peer's report blocks) and parsed RTCP feedback (NACKed packets, PLIs, FIRs);
 * and that the JSON object is exactly the compact form and parses as numbers with
 * json-glib. */
#include "quality.h"
#include "lt-test.h"

#include <json-glib/json-glib.h>
#include <math.h>

#define T0 G_GINT64_CONSTANT (5000000000)
#define SEC G_USEC_PER_SEC

START_TEST (test_emodel_points)
{
  ck_assert_double_eq_tol (mcu_quality_r_factor (0, 0), 93.2, 1e-9);
  /* Ie_eff = 95 * 5 / (5 + 25.1) */
  ck_assert_double_eq_tol (mcu_quality_r_factor (0, 5), 93.2 - 95.0 * 5 / 30.1, 1e-9);
  /* Id = 0.024 d + 0.11 (d - 177.3) past 177.3 ms */
  ck_assert_double_eq_tol (mcu_quality_r_factor (100, 0), 93.2 - 2.4, 1e-9);
  ck_assert_double_eq_tol (mcu_quality_r_factor (277.3, 0), 93.2 - 0.024 * 277.3 - 11.0,
                           1e-9);
  /* G.107 Annex B */
  ck_assert_double_eq_tol (mcu_quality_mos_from_r (93.2), 4.4094, 1e-3);
  ck_assert_double_eq_tol (mcu_quality_mos_from_r (50), 2.575, 1e-3);
  ck_assert_double_eq_tol (mcu_quality_mos_from_r (0), 1.0, 1e-9);
  ck_assert_double_eq_tol (mcu_quality_mos_from_r (-5), 1.0, 1e-9);
  ck_assert_double_eq_tol (mcu_quality_mos_from_r (100), 4.5, 1e-9);
  ck_assert_double_eq_tol (mcu_quality_mos_from_r (120), 4.5, 1e-9);

  /* a clean link: 20 ms RTT, 2 ms jitter, no loss */
  double clean = mcu_quality_audio_mos (20, 2, 0);
  ck_assert_double_ge (clean, 4.3);
  ck_assert_double_le (clean, 4.45);
  /* unknown RTT/jitter count as 0, not as negative delay */
  ck_assert_double_eq_tol (mcu_quality_audio_mos (-1, -1, 0),
                           mcu_quality_audio_mos (0, 0, 0), 1e-12);
}
END_TEST

START_TEST (test_emodel_monotonic)
{
  double prev = mcu_quality_audio_mos (20, 2, 0);
  for (double loss = 0.5; loss <= 40.0; loss += 0.5)
    {
      double m = mcu_quality_audio_mos (20, 2, loss);
      ck_assert_msg (m < prev, "MOS did not fall at %.1f%% loss", loss);
      prev = m;
    }
  prev = mcu_quality_audio_mos (0, 2, 1);
  for (double rtt = 10; rtt <= 1000; rtt += 10)
    {
      double m = mcu_quality_audio_mos (rtt, 2, 1);
      ck_assert_msg (m < prev, "MOS did not fall at RTT %.0f ms", rtt);
      prev = m;
    }
  prev = mcu_quality_audio_mos (50, 0, 1);
  for (double jit = 5; jit <= 200; jit += 5)
    {
      double m = mcu_quality_audio_mos (50, jit, 1);
      ck_assert_msg (m < prev, "MOS did not fall at jitter %.0f ms", jit);
      prev = m;
    }
  /* 15% loss is poor, whatever the delay */
  ck_assert_double_lt (mcu_quality_audio_mos (20, 2, 15), 3.1);
}
END_TEST

START_TEST (test_grades)
{
  ck_assert_int_eq (mcu_quality_grade (0, 0, 0), MCU_GRADE_GOOD);
  ck_assert_int_eq (mcu_quality_grade (0.99, 0, 0), MCU_GRADE_GOOD);
  ck_assert_int_eq (mcu_quality_grade (1.0, 0, 0), MCU_GRADE_OK);
  ck_assert_int_eq (mcu_quality_grade (2.99, 0, 0), MCU_GRADE_OK);
  ck_assert_int_eq (mcu_quality_grade (3.0, 0, 0), MCU_GRADE_BAD);
  ck_assert_int_eq (mcu_quality_grade (9.99, 0, 0), MCU_GRADE_BAD);
  ck_assert_int_eq (mcu_quality_grade (10.0, 0, 0), MCU_GRADE_VERY_BAD);
  ck_assert_int_eq (mcu_quality_grade (100.0, 0, 0), MCU_GRADE_VERY_BAD);

  /* the one-grade-lower rule: strictly over 40 ms / 300 ms, once for both */
  ck_assert_int_eq (mcu_quality_grade (0.5, 40.0, 300.0), MCU_GRADE_GOOD);
  ck_assert_int_eq (mcu_quality_grade (0.5, 40.01, 0), MCU_GRADE_OK);
  ck_assert_int_eq (mcu_quality_grade (0.5, 0, 300.01), MCU_GRADE_OK);
  ck_assert_int_eq (mcu_quality_grade (0.5, 80, 900), MCU_GRADE_OK);
  ck_assert_int_eq (mcu_quality_grade (1.5, 41, 0), MCU_GRADE_BAD);
  ck_assert_int_eq (mcu_quality_grade (5, 0, 301), MCU_GRADE_VERY_BAD);
  ck_assert_int_eq (mcu_quality_grade (15, 41, 301), MCU_GRADE_VERY_BAD);
  /* unknown (negative) jitter and RTT do not lower */
  ck_assert_int_eq (mcu_quality_grade (0.5, -1, -1), MCU_GRADE_GOOD);

  ck_assert_str_eq (mcu_grade_id (MCU_GRADE_GOOD), "good");
  ck_assert_str_eq (mcu_grade_id (MCU_GRADE_OK), "ok");
  ck_assert_str_eq (mcu_grade_id (MCU_GRADE_BAD), "bad");
  ck_assert_str_eq (mcu_grade_id (MCU_GRADE_VERY_BAD), "very_bad");
  ck_assert_str_eq (mcu_grade_name_vi (MCU_GRADE_GOOD), "T\xe1\xbb\x91t");
  ck_assert_str_eq (mcu_grade_name_vi (MCU_GRADE_OK), "Kh\xc3\xa1");
  ck_assert_str_eq (mcu_grade_name_vi (MCU_GRADE_BAD), "K\xc3\xa9m");
  ck_assert_str_eq (mcu_grade_name_vi (MCU_GRADE_VERY_BAD), "R\xe1\xba\xa5t k\xc3\xa9m");
  ck_assert_str_eq (mcu_grade_name_en (MCU_GRADE_VERY_BAD), "Very bad");
  for (int g = MCU_GRADE_GOOD; g <= MCU_GRADE_VERY_BAD; g++)
    ck_assert (g_utf8_validate (mcu_grade_name_vi (g), -1, NULL));
}
END_TEST

START_TEST (test_window_slides)
{
  g_autoptr (McuQualityWindow) w = mcu_quality_window_new (5000, T0);
  McuQualitySnapshot s;
  for (gint64 k = 1; k <= 8; k++)
    {
      mcu_quality_window_add_traffic (w, T0 + k * SEC, 100, k <= 3 ? 10 : 0, 1000);
      mcu_quality_window_add_feedback (w, T0 + k * SEC, 1, k == 2 ? 1 : 0, 0);
      mcu_quality_window_add_retransmissions (w, T0 + k * SEC, 2);
      if (k == 3)
        {
          mcu_quality_window_get (w, T0 + 3 * SEC, &s);
          ck_assert_int_eq (s.expected, 300);
          ck_assert_int_eq (s.lost, 30);
          ck_assert_double_eq_tol (s.loss_pct, 10.0, 1e-9);
          ck_assert_int_eq (s.grade, MCU_GRADE_VERY_BAD);
          ck_assert_double_eq_tol (s.window_s, 3.0, 1e-9);
          ck_assert_double_eq_tol (s.kbps, 8.0, 1e-9); /* 3000 bytes in 3 s */
          ck_assert_uint_eq (s.nacks, 3);
          ck_assert_uint_eq (s.plis, 1);
          ck_assert_uint_eq (s.retransmissions, 6);
        }
    }
  /* at 8 s the window holds 3.5 .. 8 s: the lossy seconds have left it */
  mcu_quality_window_get (w, T0 + 8 * SEC, &s);
  ck_assert_int_eq (s.expected, 500);
  ck_assert_int_eq (s.lost, 0);
  ck_assert_double_eq_tol (s.loss_pct, 0, 1e-9);
  ck_assert_double_eq_tol (s.kbps, 8.0, 1e-9);
  ck_assert_double_eq_tol (s.window_s, 5.0, 1e-9);
  ck_assert_uint_eq (s.nacks, 5);
  ck_assert_uint_eq (s.retransmissions, 10);
  ck_assert_uint_eq (s.plis, 0);
  ck_assert_int_eq (s.grade, MCU_GRADE_GOOD);
  ck_assert_double_eq_tol (s.jitter_ms, -1, 1e-9);
  ck_assert_double_eq_tol (s.rtt_ms, -1, 1e-9);
  ck_assert_double_eq_tol (s.concealed_pct, -1, 1e-9);
  ck_assert (!s.frozen);

  /* long after, nothing is left */
  mcu_quality_window_get (w, T0 + 60 * SEC, &s);
  ck_assert_int_eq (s.expected, 0);
  ck_assert_double_eq_tol (s.kbps, 0, 1e-9);

  /* duplicates (negative loss) do not make a negative percentage */
  mcu_quality_window_add_traffic (w, T0 + 61 * SEC, 100, -3, 0);
  mcu_quality_window_get (w, T0 + 61 * SEC, &s);
  ck_assert_int_eq (s.lost, -3);
  ck_assert_double_eq_tol (s.loss_pct, 0, 1e-9);
}
END_TEST

START_TEST (test_window_video_audio)
{
  g_autoptr (McuQualityWindow) w = mcu_quality_window_new (5000, T0);
  gint64 t;
  /* before the first frame (or for a member that sends no video) nothing is frozen,
   * however long it has been */
  McuQualitySnapshot none;
  mcu_quality_window_get (w, T0 + 10 * SEC, &none);
  ck_assert (!none.frozen);
  ck_assert_uint_eq (none.freezes, 0);
  ck_assert_double_eq_tol (none.frozen_ms, 0, 1e-9);
  for (t = T0; t <= T0 + SEC; t += 40000)
    mcu_quality_window_video_frame (w, t);
  /* last frame at T0 + 1 s; the next at 1.8 s: one 800 ms freeze */
  for (t = T0 + 1800000; t <= T0 + 2 * SEC; t += 40000)
    mcu_quality_window_video_frame (w, t);
  McuQualitySnapshot s;
  mcu_quality_window_get (w, T0 + 2 * SEC, &s);
  ck_assert_uint_eq (s.freezes, 1);
  ck_assert_double_eq_tol (s.frozen_ms, 800, 1e-9);
  ck_assert (!s.frozen);
  /* a 400 ms gap is no freeze */
  mcu_quality_window_video_frame (w, T0 + 2400000);
  /* no frame since 2.4 s: frozen now, the open gap counts */
  mcu_quality_window_get (w, T0 + 3 * SEC, &s);
  ck_assert_uint_eq (s.freezes, 1);
  ck_assert (s.frozen);
  ck_assert_double_eq_tol (s.frozen_ms, 800 + 600, 1e-9);
  /* much later: the ended freeze left the window, the open gap fills it */
  mcu_quality_window_get (w, T0 + 20 * SEC, &s);
  ck_assert_uint_eq (s.freezes, 0);
  ck_assert (s.frozen);
  ck_assert_double_eq_tol (s.frozen_ms, 5000, 1e-9);

  mcu_quality_window_add_audio (w, T0 + 20 * SEC, 1000, 0);
  mcu_quality_window_add_audio (w, T0 + 21 * SEC, 1000, 100);
  mcu_quality_window_get (w, T0 + 21 * SEC, &s);
  ck_assert_double_eq_tol (s.concealed_pct, 5.0, 1e-9);
}
END_TEST

/* Our receive side at 50 packets/s, every 20th lost (5%), sampled every second. */
START_TEST (test_window_from_recv_stats)
{
  g_autoptr (McuRecvStats) rs = mcu_recv_stats_new (1, 48000);
  g_autoptr (McuQualityWindow) w = mcu_quality_window_new (5000, T0);
  mcu_quality_window_sample_recv (w, rs, T0);
  for (guint i = 0; i < 500; i++)
    {
      gint64 at = T0 + (gint64)i * 20000;
      if (i % 20 != 10)
        mcu_recv_stats_update (rs, (guint16)i, i * 960, 100, at);
      if (i % 50 == 49)
        mcu_quality_window_sample_recv (w, rs, at + 20000);
    }
  McuQualitySnapshot s;
  mcu_quality_window_get (w, T0 + 10 * SEC, &s);
  ck_assert_int_eq (s.expected, 250);
  ck_assert_int_ge (s.lost, 12);
  ck_assert_int_le (s.lost, 13);
  ck_assert_double_ge (s.loss_pct, 4.8);
  ck_assert_double_le (s.loss_pct, 5.3);
  ck_assert_int_eq (s.grade, MCU_GRADE_BAD);
  ck_assert_double_eq_tol (s.jitter_ms, 0, 1e-9);
  /* 237 or 238 packets of 100 bytes in 5 s */
  ck_assert_double_ge (s.kbps, 237 * 800 / 5000.0);
  ck_assert_double_le (s.kbps, 238 * 800 / 5000.0);
  ck_assert_double_lt (s.mos, 4.1);
}
END_TEST

/* Our send side: the peer's RR blocks say 2% lost and 10 ms jitter each second,
 * and the RTT is 350 ms: ok by loss, one grade lower for the RTT. */
START_TEST (test_window_from_send_stats)
{
  const guint32 ssrc = 77;
  g_autoptr (McuSendStats) ss = mcu_send_stats_new (ssrc, 48000);
  g_autoptr (McuQualityWindow) w = mcu_quality_window_new (5000, T0);
  mcu_quality_window_sample_send (w, ss, T0);
  guint32 ext = 1000;
  gint32 cum = 0;
  for (gint64 k = 1; k <= 10; k++)
    {
      for (guint i = 0; i < 50; i++)
        mcu_send_stats_on_sent (ss, 200, 188);
      ext += 50;
      cum += 1;
      guint32 now32 = 0x10000000u + (guint32)k * 65536;
      McuRtcpReportBlock b = { .ssrc = ssrc,
                               .ext_highest_seq = ext,
                               .cumulative_lost = cum,
                               .jitter = 480,
                               /* sent 350 ms + 1 s held ago */
                               .lsr = now32 - 65536 - 22938,
                               .dlsr = 65536 };
      ck_assert (mcu_send_stats_on_report_block (ss, &b, now32));
      mcu_quality_window_sample_send (w, ss, T0 + k * SEC);
    }
  McuQualitySnapshot s;
  mcu_quality_window_get (w, T0 + 10 * SEC, &s);
  /* the first block only set the baseline of the peer's counters */
  ck_assert_int_eq (s.expected, 250);
  ck_assert_int_eq (s.lost, 5);
  ck_assert_double_eq_tol (s.loss_pct, 2.0, 1e-9);
  ck_assert_double_eq_tol (s.jitter_ms, 10.0, 1e-9);
  ck_assert_double_eq_tol (s.rtt_ms, 350.0, 0.02);
  ck_assert_double_eq_tol (s.kbps, 250 * 200 * 8 / 1000.0 / 5, 1e-9);
  ck_assert_int_eq (s.grade, MCU_GRADE_BAD);

  /* no new block: bytes still count, loss/jitter/RTT samples do not repeat */
  for (guint i = 0; i < 50; i++)
    mcu_send_stats_on_sent (ss, 200, 188);
  mcu_quality_window_sample_send (w, ss, T0 + 11 * SEC);
  mcu_quality_window_get (w, T0 + 11 * SEC, &s);
  ck_assert_int_eq (s.expected, 200);
  ck_assert_double_eq_tol (s.kbps, 250 * 200 * 8 / 1000.0 / 5, 1e-9);
}
END_TEST

/* Feedback counted from a real compound packet written by the RTCP writers. */
START_TEST (test_window_rtcp_feedback)
{
  guint8 buf[512];
  gsize n = mcu_rtcp_write_rr (buf, sizeof buf, 1, NULL, 0);
  /* lost: 100, 101, 105 (one pid/blp pair) and 300 (a second pair) */
  static const guint16 lost[] = { 100, 101, 105, 300 };
  n += mcu_rtcp_write_nack (buf + n, sizeof buf - n, 1, 2, lost, G_N_ELEMENTS (lost));
  n += mcu_rtcp_write_pli (buf + n, sizeof buf - n, 1, 2);
  n += mcu_rtcp_write_pli (buf + n, sizeof buf - n, 1, 3);
  n += mcu_rtcp_write_fir (buf + n, sizeof buf - n, 1, 2, 7);
  McuRtcpInfo info;
  ck_assert_int_eq (mcu_rtcp_parse (buf, n, MCU_RTCP_PARSE_STRICT, &info), MCU_RTCP_OK);
  ck_assert_uint_eq (info.n_nacks, 2);

  g_autoptr (McuQualityWindow) w = mcu_quality_window_new (5000, T0);
  mcu_quality_window_add_rtcp_feedback (w, T0 + SEC, &info);
  mcu_quality_window_add_rtcp_feedback (w, T0 + 2 * SEC, &info);
  McuQualitySnapshot s;
  mcu_quality_window_get (w, T0 + 2 * SEC, &s);
  ck_assert_uint_eq (s.nacks, 8);
  ck_assert_uint_eq (s.plis, 4);
  ck_assert_uint_eq (s.firs, 2);
}
END_TEST

START_TEST (test_json)
{
  McuQualitySnapshot up = { .window_s = 5,
                            .expected = 250,
                            .lost = 3,
                            .loss_pct = 1.2,
                            .jitter_ms = 4.5,
                            .rtt_ms = -1,
                            .kbps = 48.25,
                            .nacks = 2,
                            .concealed_pct = -1,
                            .mos = 4.2149,
                            .grade = MCU_GRADE_OK };
  McuQualitySnapshot down = up;
  down.frozen = TRUE;
  down.retransmissions = 3;
  down.freezes = 1;
  down.frozen_ms = 700;
  down.rtt_ms = 120.5;
  down.grade = MCU_GRADE_VERY_BAD;

  g_autoptr (GString) out = g_string_new ("");
  mcu_quality_leg_to_json (42, &up, &down, out);
  ck_assert_str_eq (
      out->str,
      "{\"leg\":42,\"up\":{\"win\":5,\"exp\":250,\"lost\":3,\"loss\":1.20,\"jit\":4.50,"
      "\"rtt\":-1,\"kbps\":48.25,\"nack\":2,\"pli\":0,\"fir\":0,\"rtx\":0,\"frz\":0,"
      "\"frz_ms\":0,"
      "\"frozen\":0,\"conc\":-1,\"mos\":4.21,\"grade\":1},"
      "\"down\":{\"win\":5,\"exp\":250,\"lost\":3,\"loss\":1.20,\"jit\":4.50,"
      "\"rtt\":120.50,\"kbps\":48.25,\"nack\":2,\"pli\":0,\"fir\":0,\"rtx\":3,\"frz\":1,"
      "\"frz_ms\":700,\"frozen\":1,\"conc\":-1,\"mos\":4.21,\"grade\":3}}");

  /* a direction whose frames cannot be seen says -1 for the freezes */
  g_autoptr (GString) unk = g_string_new ("");
  down.video_unknown = TRUE;
  mcu_quality_leg_to_json (1, NULL, &down, unk);
  ck_assert (strstr (unk->str, "\"frz\":-1,\"frz_ms\":-1,\"frozen\":-1,") != NULL);
  down.video_unknown = FALSE;

  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;
  ck_assert (json_parser_load_from_data (p, out->str, -1, &error));
  JsonObject *root = json_node_get_object (json_parser_get_root (p));
  ck_assert_int_eq (json_object_get_int_member (root, "leg"), 42);
  JsonObject *d = json_object_get_object_member (root, "down");
  ck_assert_int_eq (json_object_get_int_member (d, "grade"), MCU_GRADE_VERY_BAD);
  ck_assert_double_eq_tol (json_object_get_double_member (d, "rtt"), 120.5, 1e-9);
  g_autoptr (GList) members = json_object_get_members (d);
  ck_assert_uint_eq (g_list_length (members), 17);
  for (GList *l = members; l != NULL; l = l->next)
    ck_assert_int_eq (json_node_get_value_type (json_object_get_member (d, l->data))
                          == G_TYPE_STRING,
                      FALSE);

  /* a leg with one direction known, and a fresh window's real snapshot */
  g_autoptr (McuQualityWindow) w = mcu_quality_window_new (0, T0);
  McuQualitySnapshot fresh;
  mcu_quality_window_get (w, T0, &fresh);
  g_string_truncate (out, 0);
  mcu_quality_leg_to_json (7, &fresh, NULL, out);
  ck_assert (json_parser_load_from_data (p, out->str, -1, &error));
  root = json_node_get_object (json_parser_get_root (p));
  ck_assert (!json_object_has_member (root, "down"));
  JsonObject *u = json_object_get_object_member (root, "up");
  ck_assert_double_eq_tol (json_object_get_double_member (u, "win"), 0.5, 1e-9);
  ck_assert_int_eq (json_object_get_int_member (u, "grade"), MCU_GRADE_GOOD);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-quality");
  TCase *tc = tcase_create ("quality");
  tcase_add_test (tc, test_emodel_points);
  tcase_add_test (tc, test_emodel_monotonic);
  tcase_add_test (tc, test_grades);
  tcase_add_test (tc, test_window_slides);
  tcase_add_test (tc, test_window_video_audio);
  tcase_add_test (tc, test_window_from_recv_stats);
  tcase_add_test (tc, test_window_from_send_stats);
  tcase_add_test (tc, test_window_rtcp_feedback);
  tcase_add_test (tc, test_json);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
