#include "echo.h"
#include "peer-setup.h"
#include "rtcp.h"
#include "rtp.h"

struct _McuEcho
{
  McuEndpoint *ep;
  McuSdpSession *session;
  guint audio_pt, video_pt;
  guint32 audio_ssrc, video_ssrc; /* ours */
  guint32 peer_video_ssrc;        /* learned from its packets */
  guint64 echoed;
  gint64 created_us, first_media_us; /* time to first media, for the logs */
};

/* Keyframe requests about our video SSRC are really about the peer's own: ask it. */
static void
echo_rtcp (McuEcho *e, const guint8 *buf, gsize len)
{
  McuRtcpInfo info;
  if (mcu_rtcp_parse (buf, len, MCU_RTCP_PARSE_REDUCED_SIZE, &info) != MCU_RTCP_OK
      || e->peer_video_ssrc == 0)
    return;
  gboolean want = FALSE;
  for (guint i = 0; i < info.n_plis; i++)
    want |= info.plis[i].media_ssrc == e->video_ssrc;
  for (guint i = 0; i < info.n_firs; i++)
    want |= info.firs[i].media_ssrc == e->video_ssrc;
  if (!want)
    return;
  guint8 out[64];
  gsize n = mcu_rtcp_write_pli (out, sizeof out, e->video_ssrc, e->peer_video_ssrc);
  if (n)
    mcu_endpoint_send_rtcp (e->ep, out, n);
}

static void
on_packet (McuEndpoint *ep, gboolean is_rtcp, guint8 *buf, gsize len, gpointer data)
{
  McuEcho *e = data;
  McuRtpHeader h;

  if (is_rtcp)
    {
      echo_rtcp (e, buf, len);
      return;
    }
  if (mcu_rtp_parse (buf, len, &h) != MCU_RTP_OK)
    return;
  if (e->first_media_us == 0)
    {
      e->first_media_us = g_get_monotonic_time ();
      g_log_structured ("lienthong-mcu", G_LOG_LEVEL_INFO, "MESSAGE",
                        "echo: first media %.1f ms after the offer",
                        (double)(e->first_media_us - e->created_us) / 1000.0);
    }
  if (h.pt == e->video_pt)
    {
      if (e->peer_video_ssrc != h.ssrc)
        {
          /* first video (or a new source): ask for a keyframe so our echo starts */
          e->peer_video_ssrc = h.ssrc;
          guint8 out[64];
          gsize n = mcu_rtcp_write_pli (out, sizeof out, e->video_ssrc, h.ssrc);
          if (n)
            mcu_endpoint_send_rtcp (e->ep, out, n);
        }
      mcu_rtp_set_ssrc (buf, len, e->video_ssrc);
    }
  else if (h.pt == e->audio_pt)
    mcu_rtp_set_ssrc (buf, len, e->audio_ssrc);
  else
    return; /* rtx and other payloads are not echoed */
  if (mcu_endpoint_send_rtp (e->ep, buf, len) == 0)
    e->echoed++;
}

McuEcho *
mcu_echo_new (McuEndpoint *ep, McuSdpSession *session, guint32 audio_ssrc,
              guint32 video_ssrc, gint64 offer_time_us)
{
  g_return_val_if_fail (MCU_IS_ENDPOINT (ep) && session != NULL, NULL);
  McuEcho *e = g_new0 (McuEcho, 1);
  e->created_us = offer_time_us;
  e->ep = ep;
  e->session = session;
  e->audio_ssrc = audio_ssrc;
  e->video_ssrc = video_ssrc;
  const McuSdpMedia *a = mcu_sdp_session_find_media (session, "audio");
  const McuSdpMedia *v = mcu_sdp_session_find_media (session, "video");
  e->audio_pt = a ? a->pt : 256; /* 256: matches no payload type */
  e->video_pt = v ? v->pt : 256;
  mcu_endpoint_set_packet_func (ep, on_packet, e, NULL);
  return e;
}

void
mcu_echo_free (McuEcho *e)
{
  if (e == NULL)
    return;
  mcu_endpoint_set_packet_func (e->ep, NULL, NULL, NULL);
  mcu_endpoint_close (e->ep);
  g_object_unref (e->ep);
  mcu_sdp_session_free (e->session);
  g_free (e);
}

McuEndpoint *
mcu_echo_get_endpoint (McuEcho *e)
{
  return e->ep;
}

guint64
mcu_echo_get_echoed (McuEcho *e)
{
  return e->echoed;
}

double
mcu_echo_get_first_media_ms (McuEcho *e)
{
  return e->first_media_us ? (double)(e->first_media_us - e->created_us) / 1000.0 : -1;
}
