/* sdp.h: SDP offer/answer for one peer over GStreamer's GstSDPMessage (gst-sdp).
 *
 * What we negotiate (DESIGN.md, "Media plane"): Opus/48000/2 for audio; VP8, then
 * H.264 packetization-mode=1, for video; one BUNDLE transport with rtcp-mux
 * (required); rtcp-fb nack, nack pli, ccm fir; transport-wide congestion control
 * (its extmap and rtcp-fb transport-cc) and goog-remb where offered; the RFC 6464
 * audio level extension on audio; DTLS-SRTP only (UDP/TLS/RTP/SAVPF).
 * m-lines we cannot serve (other codecs, data channels) are answered with port 0.
 * Parsing never trusts the text: garbage gives MCU_ERROR_INVALID, never a crash. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What our side puts into an answer or an offer. Strings are borrowed for the call. */
typedef struct
{
  const char *ice_ufrag, *ice_pwd;
  const char *fingerprint; /* "sha-256 AB:CD:..." */
  /* offers: "actpass" (default), "active", "passive"; answers to "actpass":
   * "passive" takes the DTLS server role, anything else "active" */
  const char *setup;
  guint32 audio_ssrc, video_ssrc; /* our send SSRCs (0 = recvonly) */
  /* the SSRC our video retransmissions (RFC 4588 rtx) come from, announced with
   * a=ssrc-group:FID next to video_ssrc where rtx is negotiated; 0 = none announced */
  guint32 video_rtx_ssrc;
  /* the same for our audio: an offered rtx for Opus, with generic NACK, is accepted
   * only when this is set, and announced in an a=ssrc-group:FID with audio_ssrc;
   * 0 = audio gets neither (its NACKs are answered on RTX only) */
  guint32 audio_rtx_ssrc;
  /* the content (a second video stream, the presenter's screen): our SSRC for it and
   * its rtx, put on the content m-line (McuSdpMedia.content); in an offer, a third
   * m-line marked a=content:slides is written only when content_ssrc is set */
  guint32 content_ssrc, content_rtx_ssrc;
  /* neither rtx nor generic NACK is offered or accepted (nack pli and ccm fir are) */
  gboolean no_retransmission;
  const char *cname, *msid_stream;
  /* Optional, may be NULL: NULL-terminated "candidate:..." lines (without "a=") put
   * on the first m-line for peers that do not trickle. */
  const char *const *candidates;
} McuSdpLocal;

/* One negotiated m-line, read-only, owned by its McuSdpSession. */
typedef struct
{
  guint index;                 /* m-line position in the SDP */
  const char *mid;             /* a=mid value, "" when absent */
  const char *kind;            /* "audio", "video", "application" or other */
  gboolean accepted;           /* FALSE: rejected (port 0); the fields below are 0 */
  guint pt;                    /* accepted payload type */
  const char *codec;           /* "opus", "VP8", "H264" */
  guint clock_rate;            /* 48000, 90000 */
  guint channels;              /* 2 for Opus, 0 for video */
  const char *fmtp;            /* the accepted codec's fmtp parameters, or NULL */
  guint rtx_pt;                /* the remote rtx payload type for pt, 0 if none */
  const guint32 *remote_ssrcs; /* the peer's a=ssrc values in order of appearance */
  guint n_remote_ssrcs;
  gboolean nack, pli, fir; /* rtcp-fb both sides agreed on for pt */
  /* congestion control (mcu/twcc.h): the transport-wide sequence number's extmap
   * ID (1..14, 0 = none) and the feedback agreed for pt; transport_cc needs the
   * extension too */
  guint8 twcc_ext_id;
  gboolean transport_cc, remb;
  /* the RFC 6464 audio level extension's ID (1..14) on audio, 0 = none */
  guint8 audio_level_ext_id;
  /* the presenter's stream: the first accepted video m-line marked
   * a=content:slides (RFC 4796), else the second accepted video m-line (browsers
   * write no a=content for their second video transceiver); at most one */
  gboolean content;
  gboolean remote_sends;    /* the peer's direction includes sending */
  gboolean remote_receives; /* the peer's direction includes receiving */
} McuSdpMedia;

/* The negotiated result of one offer/answer exchange, opaque. */
typedef struct _McuSdpSession McuSdpSession;

/**
 * mcu_sdp_answer_offer:
 * @offer: (transfer none): the remote offer text (need not be NUL-terminated)
 * @len: its length in bytes
 * @local: (transfer none): our ICE, DTLS and SSRC parameters
 * @answer_out: (out) (transfer full): the answer text, free with g_free()
 * @error: MCU_ERROR_INVALID for text that is not a usable SDP (garbage, no
 *   ice-ufrag/pwd, no fingerprint, no m-line, over 256 KiB); MCU_ERROR_UNSUPPORTED
 *   for an offer whose audio/video m-line lacks a=rtcp-mux, named in the message
 *
 * Parses a remote offer with GstSDPMessage and writes the answer. m-lines we cannot
 * serve (codecs we lack, data channels, protocols other than UDP/TLS/RTP/SAVPF,
 * m-lines outside the BUNDLE group, or after the first one when there is no group)
 * are answered with port 0; a bundle-only m-line (port 0) in the group is accepted. The answer takes setup "active" for an "actpass" or
 * "passive" offer and "passive" for an "active" one (local->setup is not used).
 * Our SSRCs go on the first accepted audio and video m-lines the peer receives on;
 * an offered rtx for the chosen video codec is accepted (unless
 * local->no_retransmission), with local->video_rtx_ssrc in an ssrc-group FID when
 * we send video: browsers map our RTX packets to the stream they repair by it.
 * Opus gets rtx and generic NACK together or neither: both when offered and
 * local->audio_rtx_ssrc is set (announced in its own FID group).
 * Returns: (transfer full) (nullable): the negotiated session, or NULL with @error.
 */
McuSdpSession *mcu_sdp_answer_offer (const char *offer, gsize len,
                                     const McuSdpLocal *local, char **answer_out,
                                     GError **error);

/**
 * mcu_sdp_create_offer:
 * @local: (transfer none): our parameters (setup is normally "actpass")
 *
 * Writes an offer for node-to-node links: one audio (Opus) and one video (VP8, H.264,
 * each with rtx and NACK unless local->no_retransmission) m-line, and a second
 * video m-line marked a=content:slides for the content where local->content_ssrc
 * is set; BUNDLEd, rtcp-mux.
 * Returns: (transfer full): the offer text, free with g_free().
 */
char *mcu_sdp_create_offer (const McuSdpLocal *local);

/**
 * mcu_sdp_accept_answer:
 * @answer: (transfer none): the remote answer to an offer from mcu_sdp_create_offer()
 * @len: its length in bytes
 * @error: as for mcu_sdp_answer_offer()
 *
 * Returns: (transfer full) (nullable): the negotiated session.
 */
McuSdpSession *mcu_sdp_accept_answer (const char *answer, gsize len, GError **error);

/* Remote ICE and DTLS parameters; (transfer none), valid while @s lives. */
const char *mcu_sdp_session_remote_ufrag (const McuSdpSession *s);
const char *mcu_sdp_session_remote_pwd (const McuSdpSession *s);
/* "sha-256 AB:CD:...": hash name lower-case, hex upper-case, whatever the peer's
 * case, so it compares as a plain string with a digest printed the same way */
const char *mcu_sdp_session_remote_fingerprint (const McuSdpSession *s);
/* "active", "passive" or "actpass" ("actpass" when the peer omitted it) */
const char *mcu_sdp_session_remote_setup (const McuSdpSession *s);
/* Our DTLS role from this exchange: "active" (DTLS client) or "passive" */
const char *mcu_sdp_session_local_setup (const McuSdpSession *s);
/* NULL-terminated "candidate:..." lines of the bundle transport, possibly empty */
const char *const *mcu_sdp_session_remote_candidates (const McuSdpSession *s);

/**
 * mcu_sdp_session_n_media:
 * Returns: the number of m-lines, accepted or not, in SDP order.
 */
guint mcu_sdp_session_n_media (const McuSdpSession *s);

/**
 * mcu_sdp_session_media:
 * Returns: (transfer none): m-line @i, or NULL when @i is out of range.
 */
const McuSdpMedia *mcu_sdp_session_media (const McuSdpSession *s, guint i);

/**
 * mcu_sdp_session_free:
 * Frees @s and everything it returned. NULL is accepted.
 */
void mcu_sdp_session_free (McuSdpSession *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuSdpSession, mcu_sdp_session_free)

G_END_DECLS
