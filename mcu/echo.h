/* echo.h: "test my line" — a site's own media sent straight back to it.
 *
 * A commune hall operator presses one button before the meeting and sees and hears
 * themselves through the node: ICE, DTLS-SRTP, the path and the codecs are proven
 * end to end without a meeting. The node relays, it does not decode.
 */
#pragma once

#include "endpoint.h"
#include "sdp.h"

G_BEGIN_DECLS

typedef struct _McuEcho McuEcho;

/**
 * mcu_echo_new:
 * @ep: (transfer full): a connected or connecting endpoint (from mcu_peer_answer_async)
 * @session: (transfer full): its negotiated session
 * @audio_ssrc: @video_ssrc: the SSRCs our answer announced
 * @offer_time_us: monotonic time the offer arrived, to measure time to first media
 *
 * Every RTP packet of the peer goes back with our SSRC of its kind; the peer's
 * keyframe requests about our video become requests about its own video.
 */
McuEcho *mcu_echo_new (McuEndpoint *ep, McuSdpSession *session, guint32 audio_ssrc,
                       guint32 video_ssrc, gint64 offer_time_us);
void mcu_echo_free (McuEcho *echo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuEcho, mcu_echo_free)

McuEndpoint *mcu_echo_get_endpoint (McuEcho *echo);
guint64 mcu_echo_get_echoed (McuEcho *echo);
/* From the offer to the first decrypted RTP packet, in ms; -1 before any. */
double mcu_echo_get_first_media_ms (McuEcho *echo);

G_END_DECLS
