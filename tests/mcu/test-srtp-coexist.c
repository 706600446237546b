/* Suite mcu-srtp-coexist: proves that McuSrtp works in a process where GStreamer's
 * srtp plugin initialised libsrtp first (as in any process that also runs
 * webrtcbin or srtpenc): a second srtp_init() fails there, and must not make every
 * session fail with it. */
#include "srtp.h"
#include "lt-test.h"

#include <gst/gst.h>
#include <string.h>

START_TEST (test_after_gstreamer_srtp)
{
  g_autoptr (GstElement) enc = gst_element_factory_make ("srtpenc", NULL);
  ck_assert_msg (enc != NULL,
                 "GStreamer's srtp plugin (gstreamer1.0-plugins-bad) is missing");
  guint8 a[28], b[28];
  memset (a, 1, sizeof a);
  memset (b, 2, sizeof b);
  g_autoptr (GError) error = NULL;
  g_autoptr (McuSrtp) tx = mcu_srtp_new (MCU_SRTP_PROFILE_AEAD_AES_128_GCM, a, b, &error);
  ck_assert_msg (tx != NULL, "%s", error ? error->message : "");
  g_autoptr (McuSrtp) rx = mcu_srtp_new (MCU_SRTP_PROFILE_AEAD_AES_128_GCM, b, a, &error);
  ck_assert_msg (rx != NULL, "%s", error ? error->message : "");
  guint8 pkt[100] = { 0x80, 96, 0, 1, 0, 0, 0, 1, 0xAA, 0xBB, 0xCC, 0xDD };
  gsize len = 60;
  ck_assert_int_eq (mcu_srtp_protect_rtp (tx, pkt, &len, sizeof pkt), MCU_SRTP_OK);
  ck_assert_uint_eq (len, 60 + 16);
  ck_assert_int_eq (mcu_srtp_unprotect_rtp (rx, pkt, &len), MCU_SRTP_OK);
  ck_assert_uint_eq (len, 60);
}
END_TEST

int
main (void)
{
  gst_init (NULL, NULL);
  Suite *s = suite_create ("mcu-srtp-coexist");
  TCase *tc = tcase_create ("coexist");
  tcase_add_test (tc, test_after_gstreamer_srtp);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
