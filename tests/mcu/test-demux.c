/* Suite mcu-demux: proves that RFC 7983 demultiplexing sends STUN, DTLS, RTP and
 * muxed RTCP each to the right handler and drops everything else, including the
 * ranges that look close (ZRTP, TURN channels) and truncated packets. */
#include "mcu.h"
#include "lt-test.h"

START_TEST (test_demux_ranges)
{
  guint8 pkt[64] = { 0 };
  for (int b = 0; b < 256; b++)
    {
      pkt[0] = (guint8)b;
      pkt[1] = 96; /* an RTP payload type */
      McuPacketKind want = MCU_PACKET_UNKNOWN;
      if (b <= 3)
        want = MCU_PACKET_STUN;
      else if (b >= 20 && b <= 63)
        want = MCU_PACKET_DTLS;
      else if (b >= 128 && b <= 191)
        want = MCU_PACKET_RTP;
      ck_assert_int_eq (mcu_demux_classify (pkt, sizeof pkt), want);
    }
}
END_TEST

START_TEST (test_demux_rtcp_types)
{
  guint8 pkt[32] = { 0x80, 0 };
  for (int pt = 0; pt < 256; pt++)
    {
      pkt[1] = (guint8)pt;
      McuPacketKind want = (pt >= 192 && pt <= 223) ? MCU_PACKET_RTCP : MCU_PACKET_RTP;
      ck_assert_int_eq (mcu_demux_classify (pkt, sizeof pkt), want);
    }
  /* A receiver report (PT 201) with marker-looking bits is still RTCP. */
  pkt[0] = 0x81;
  pkt[1] = 201;
  ck_assert_int_eq (mcu_demux_classify (pkt, 8), MCU_PACKET_RTCP);
}
END_TEST

START_TEST (test_demux_truncated)
{
  guint8 rtp[12] = { 0x80, 96 };
  ck_assert_int_eq (mcu_demux_classify (NULL, 0), MCU_PACKET_UNKNOWN);
  ck_assert_int_eq (mcu_demux_classify (rtp, 0), MCU_PACKET_UNKNOWN);
  ck_assert_int_eq (mcu_demux_classify (rtp, 11), MCU_PACKET_UNKNOWN);
  ck_assert_int_eq (mcu_demux_classify (rtp, 12), MCU_PACKET_RTP);
  guint8 stun[20] = { 0x00, 0x01 };
  ck_assert_int_eq (mcu_demux_classify (stun, 19), MCU_PACKET_UNKNOWN);
  ck_assert_int_eq (mcu_demux_classify (stun, 20), MCU_PACKET_STUN);
  ck_assert_str_eq (mcu_packet_kind_name (MCU_PACKET_DTLS), "dtls");
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-demux");
  TCase *tc = tcase_create ("classify");
  tcase_add_test (tc, test_demux_ranges);
  tcase_add_test (tc, test_demux_rtcp_types);
  tcase_add_test (tc, test_demux_truncated);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
