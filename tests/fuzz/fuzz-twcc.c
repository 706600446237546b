/* libFuzzer target: the transport-cc feedback reader must accept or refuse any
 * bytes without reading past them, and what it accepts must write back out and
 * parse to the same statuses; the compound walker must stay inside the datagram;
 * the sender must number (or refuse) any bytes taken as an RTP packet without
 * writing past its buffer, and the extension reader must read what it wrote. */
#include "mcu.h"

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static McuTwccFeedback fb, back;
  static guint8 out[8192];
  if (mcu_twcc_parse (data, size, &fb) == MCU_TWCC_OK)
    {
      if (fb.count == 0 || fb.count > MCU_TWCC_MAX_PACKETS)
        abort ();
      gsize n = mcu_twcc_write (out, sizeof out, &fb);
      if (n > 0)
        {
          if (mcu_twcc_parse (out, n, &back) != MCU_TWCC_OK || back.count != fb.count)
            abort ();
          for (guint i = 0; i < fb.count; i++)
            if (back.received[i] != fb.received[i])
              abort ();
        }
    }
  gsize off = 0;
  const guint8 *pkt;
  gsize plen;
  while (mcu_twcc_find_in_compound (data, size, &off, &pkt, &plen))
    {
      if (pkt < data || pkt + plen > data + size)
        abort ();
      (void)mcu_twcc_parse (pkt, plen, &fb);
    }
  static McuTwccSender *tx;
  if (tx == NULL)
    tx = mcu_twcc_sender_new (5);
  if (size <= 1500)
    {
      guint8 buf[1500 + 64];
      memcpy (buf, data, size);
      gsize len = size;
      if (mcu_twcc_sender_stamp (tx, buf, &len, sizeof buf, 0))
        {
          guint16 seq;
          if (len > sizeof buf || !mcu_twcc_read_ext (buf, len, 5, &seq))
            abort ();
        }
    }
  return 0;
}
