/* libFuzzer target: the RTP reader must accept or refuse any datagram without
 * reading past it, and every view it returns (CSRCs, extension elements, payload,
 * padding) must lie inside the datagram. */
#include "mcu.h"

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  McuRtpHeader h;
  if (mcu_rtp_parse (data, size, &h) != MCU_RTP_OK)
    return 0;
  const uint8_t *end = data + size;
  if (h.payload < data || h.payload + h.payload_len + h.padding_len != end)
    abort ();
  for (guint i = 0; i < h.csrc_count; i++)
    (void)mcu_rtp_csrc (&h, i);
  McuRtpExtIter it;
  guint8 id;
  const guint8 *d;
  gsize l;
  guint sum = 0;
  if (mcu_rtp_ext_iter_init (&it, &h))
    while (mcu_rtp_ext_iter_next (&it, &id, &d, &l) == 1)
      {
        if (d < data || d + l > end)
          abort ();
        for (gsize i = 0; i < l; i++)
          sum += d[i];
      }
  (void)mcu_rtp_find_ext (&h, 3, &d, &l);
  /* The writers on a copy, as the router uses them. */
  guint8 copy[64];
  gsize n = size < sizeof copy ? size : sizeof copy;
  memcpy (copy, data, n);
  mcu_rtp_set_ssrc (copy, n, sum);
  mcu_rtp_set_seq (copy, n, (guint16)sum);
  mcu_rtp_set_timestamp (copy, n, sum);
  return 0;
}
