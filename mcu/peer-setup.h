/* peer-setup.h: answer one peer's SDP offer with a new, gathered McuEndpoint.
 *
 * Sites and echo tests do not trickle our candidates through every signalling path,
 * so the answer waits for gathering to finish (immediate on configured addresses)
 * and carries every local candidate. Shared by the echo service and meeting legs.
 */
#pragma once

#include "endpoint.h"
#include "sdp.h"

G_BEGIN_DECLS

/**
 * McuPeerAnswerFunc:
 * @ep: (transfer full) (nullable): the endpoint, remote side set, ICE running
 * @session: (transfer full) (nullable): what the exchange negotiated
 * @answer: (transfer none) (nullable): the SDP answer to send to the peer
 * @error: (nullable): why there is no answer (bad offer, no common codec, ...)
 *
 * Called once, on the endpoint's GMainContext.
 */
typedef void (*McuPeerAnswerFunc) (McuEndpoint *ep, McuSdpSession *session,
                                   const char *answer, const GError *error,
                                   gpointer user_data);

/* What we send a peer: the SSRCs we announce (0: we do not send that stream;
 * RTX SSRCs are announced where rtx is negotiated), whether retransmission is off
 * (neither rtx nor generic NACK negotiated), and our CNAME. */
typedef struct
{
  guint32 audio_ssrc, video_ssrc, video_rtx_ssrc, audio_rtx_ssrc;
  guint32 content_ssrc, content_rtx_ssrc;
  gboolean no_retransmission;
  const char *cname;
} McuPeerStreams;

/**
 * mcu_peer_answer_async:
 * @config: the endpoint's configuration (copied)
 * @offer: (transfer none): the peer's SDP offer
 * @ours: (transfer none): what we send (copied)
 *
 * Creates and starts an endpoint, waits for its candidates, answers @offer and
 * applies it. The offer is parsed first: a malformed one fails at once, before any
 * socket is opened.
 */
void mcu_peer_answer_async (GMainContext *context, McuCert *cert,
                            const McuEndpointConfig *config, const char *offer,
                            const McuPeerStreams *ours, McuPeerAnswerFunc callback,
                            gpointer user_data);

/* The accepted m-line of @session for @kind, or NULL: "audio", "video" (the
 * program: the first video m-line that is not the content) or "content". */
const McuSdpMedia *mcu_sdp_session_find_media (const McuSdpSession *session,
                                               const char *kind);

G_END_DECLS
