/* bench-receiver.h: a relay receiver for the benchmarks that route through
 * McuRouter (bench-relay, bench-content): its own SRTP session, protecting each
 * packet the router hands it and sending it with sendto() to a loopback socket
 * nobody reads. Include once, after the mcu headers. */
#pragma once

#include "srtp.h"

#include <netinet/in.h>
#include <sys/socket.h>

typedef struct
{
  McuSrtp *srtp;
  int fd;
  struct sockaddr_in to;
  guint64 sent; /* packets protected and handed to the kernel */
} Receiver;

static gboolean
receiver_send (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  Receiver *r = peer;
  if (mcu_srtp_protect_rtp (r->srtp, pkt, &len, cap) != MCU_SRTP_OK)
    return FALSE;
  r->sent++;
  return sendto (r->fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&r->to, sizeof r->to)
         >= 0;
}

static gboolean
receiver_send_rtcp (gpointer peer, guint8 *pkt, gsize len, gsize cap)
{
  return TRUE; /* keyframe requests to the sources: not part of these measures */
}
