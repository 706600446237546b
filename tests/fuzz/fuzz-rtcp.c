/* libFuzzer target: the compound RTCP reader must accept or refuse any datagram, in
 * both strict and reduced-size modes, without reading past it; stored counts never
 * exceed their arrays and SDES pointers lie inside the datagram. NACK items are
 * expanded and re-written as the retransmission path does. */
#include "mcu.h"

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static McuRtcpInfo info;
  for (int mode = 0; mode < 2; mode++)
    {
      int r = mcu_rtcp_parse (
          data, size, mode ? MCU_RTCP_PARSE_REDUCED_SIZE : MCU_RTCP_PARSE_STRICT, &info);
      if (r != MCU_RTCP_OK)
        continue;
      if (info.n_reports > MCU_RTCP_MAX_REPORTS || info.n_nacks > MCU_RTCP_MAX_NACK
          || info.n_sdes > MCU_RTCP_MAX_SDES || info.n_srs > MCU_RTCP_MAX_SR)
        abort ();
      for (guint i = 0; i < info.n_sdes; i++)
        if (info.sdes[i].cname < data
            || info.sdes[i].cname + info.sdes[i].cname_len > data + size)
          abort ();
      guint16 seqs[17 * MCU_RTCP_MAX_NACK];
      guint n = 0;
      for (guint i = 0; i < info.n_nacks; i++)
        n += mcu_rtcp_nack_expand (info.nacks[i].pid, info.nacks[i].blp, seqs + n);
      guint8 out[1500];
      if (n > 0)
        (void)mcu_rtcp_write_nack (out, sizeof out, 1, 2, seqs, n);
      if (info.n_reports > 0)
        (void)mcu_rtcp_write_rr (out, sizeof out, 1, info.reports,
                                 info.n_reports > 31 ? 31 : info.n_reports);
    }
  return 0;
}
