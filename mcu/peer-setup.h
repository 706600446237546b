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

/**
 * mcu_peer_answer_async:
 * @config: the endpoint's configuration (copied)
 * @offer: (transfer none): the peer's SDP offer
 * @audio_ssrc: @video_ssrc: the SSRCs we announce for what we send
 * @video_rtx_ssrc: @audio_rtx_ssrc: our RTX SSRCs, announced where rtx is
 *   negotiated (0: none)
 * @no_retransmission: negotiate neither rtx nor generic NACK
 *
 * Creates and starts an endpoint, waits for its candidates, answers @offer and
 * applies it. The offer is parsed first: a malformed one fails at once, before any
 * socket is opened.
 */
void mcu_peer_answer_async (GMainContext *context, McuCert *cert,
                            const McuEndpointConfig *config, const char *offer,
                            guint32 audio_ssrc, guint32 video_ssrc,
                            guint32 video_rtx_ssrc, guint32 audio_rtx_ssrc,
                            gboolean no_retransmission, const char *cname,
                            McuPeerAnswerFunc callback, gpointer user_data);

/* The accepted audio or video m-line of @session ("audio"/"video"), or NULL. */
const McuSdpMedia *mcu_sdp_session_find_media (const McuSdpSession *session,
                                               const char *kind);

G_END_DECLS
