/* router.h: McuRouter, the per-packet relay of one meeting leg on a node.
 *
 * Every peer of the leg (a local site, the link to the parent node, a link to a child
 * node) hands its decrypted packets to the router. Audio goes to the mixer; the
 * program video (the floor holder's) is rewritten into one continuous stream and
 * sent to every other peer, so it reaches every site and flows up and down the
 * cascade; the content (one presenter's screen, a second video m-line) is relayed
 * the same way as a stream of its own, and a peer's content is dropped (and
 * counted) unless it is the content's source; NACKs are answered from the node's own retransmission buffer (on an
 * RFC 4588 RTX stream for a peer that negotiated rtx; for the audio mix, from what
 * was sent to that peer, on an RTX stream only), the program source's own
 * losses are NACKed and its retransmissions fed back into the program, and
 * keyframe requests go to the program's source.
 *
 * Threads: every function may be called from any thread. The router's lock covers
 * its decisions and header rewrites, not the sends: a fan-out protects and sends
 * after releasing it, so an audio thread never waits for a whole video fan-out.
 * A peer's send functions may run on several threads at once (the mixers' threads, the transport's); each
 * peer serialises its own protect + send (McuEndpoint does), since the leg also
 * sends its reports to the same peer without the router.
 */
#pragma once

#include "keyframe.h"

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MCU_PEER_SITE,
  MCU_PEER_PARENT,
  MCU_PEER_CHILD,
} McuPeerKind;

/* What a peer receives: everything, the program at low resolution (from the
 * composite), or audio only (a weak link stepped down). */
typedef enum
{
  MCU_LEVEL_FULL,
  MCU_LEVEL_LOW,
  MCU_LEVEL_AUDIO,
} McuMediaLevel;

const char *mcu_media_level_name (McuMediaLevel level);

/* The video streams a leg relays without transcoding. */
typedef enum
{
  MCU_STREAM_PROGRAM, /* the floor holder's camera */
  MCU_STREAM_CONTENT, /* the presenter's screen or slides */
  MCU_N_STREAMS,
} McuStream;

#define MCU_MAX_CONTENT_SSRCS 4
/* a peer at audio only gets a still of the content this often (seconds) */
#define MCU_STILL_EVERY_S 5
gboolean mcu_media_level_from_name (const char *name, McuMediaLevel *level);

/* How the router reaches one peer. Both functions get a plaintext packet in a
 * buffer of @cap bytes (room for the SRTP trailer), protect it and send it; they
 * return FALSE when it could not be sent. They may be called on several threads at
 * once and must serialise their own protection; they must not call back into the
 * router. */
typedef struct
{
  gboolean (*send_rtp) (gpointer peer, guint8 *pkt, gsize len, gsize cap);
  gboolean (*send_rtcp) (gpointer peer, guint8 *pkt, gsize len, gsize cap);
} McuPeerOps;

typedef struct
{
  McuPeerKind kind;
  guint8 audio_pt, video_pt; /* the payload types this peer negotiated */
  McuVideoCodec video_codec;
  /* RFC 4588 rtx for its video (apt = video_pt), 0 = none: NACKs it sends are
   * answered on the node's RTX stream, and its own retransmissions are taken */
  guint8 video_rtx_pt;
  gboolean nack; /* it takes generic NACKs for its video (rtcp-fb nack) */
  /* RFC 4588 rtx for the audio it receives (apt = audio_pt), 0 = none: the NACKs
   * it sends for its mix are answered on the node's audio RTX stream, from the
   * last packets of the mix sent to it (and to nobody else) */
  guint8 audio_rtx_pt;
  /* its content m-line (a second video m-line): payload type and rtx, 0 = none;
   * whether it takes NACKs for what it sends there; and the SSRCs it announced on
   * it (the content's and its rtx), by which its content is told from its program
   * when both use one payload type. A packet on content_pt whose SSRC is not
   * among them is program, unless content_pt differs from video_pt. */
  guint8 content_pt, content_rtx_pt;
  McuVideoCodec content_codec;
  gboolean content_nack;
  guint32 content_ssrcs[MCU_MAX_CONTENT_SSRCS];
  guint n_content_ssrcs;
} McuPeerInfo;

/* Which of a peer's video streams its packet with @ssrc and payload type @pt
 * belongs to, by the rule McuPeerInfo states: content when the SSRC is one it
 * announced on its content m-line, or (where the two m-lines use different payload
 * types) when it came with the content's types; else the program. */
McuStream mcu_peer_info_stream (const McuPeerInfo *info, guint32 ssrc, guint8 pt);

/* Counters of one peer, for statistics. */
typedef struct
{
  guint64 rtp_in, rtp_out, rtcp_in;
  guint64 video_forwarded, audio_in;
  guint64 nacks_in, retransmitted, nack_misses; /* NACKs it sent us, our answers */
  guint64 rtx_held; /* numbers not answered now: asked again too soon, or over budget */
  guint64 nacks_out, nack_seqs_out; /* NACK packets and numbers we sent it */
  guint64 rtx_in, rtx_recovered;    /* retransmissions it sent, those that filled a gap */
  guint64 rtx_dropped;              /* its retransmissions not wanted or malformed */
  guint64 loss_missing,
      loss_given_up; /* its program packets found missing, given up on */
  /* NACKs for the audio we send it, numbers answered on its audio RTX stream,
   * numbers we no longer (or never) had; budget holds count in rtx_held */
  guint64 audio_nacks_in, audio_retransmitted, audio_nack_misses;
  guint64 plis_in, plis_out, firs_out;
  guint64 send_failures, malformed;
  /* content it was sent, and content it sent while not the content's source
   * (dropped: only the presenter's screen is relayed) */
  guint64 content_forwarded, content_dropped;
} McuPeerCounters;

typedef struct _McuRouter McuRouter;

/* Hands a packet of a peer to a mixer: audio to the audio mixer, any peer's video
 * to the composite. Called with the router's lock held, on the receiving thread. */
typedef void (*McuRouterMediaFunc) (guint peer, const guint8 *pkt, gsize len,
                                    gpointer user_data);

typedef struct
{
  guint32 program_ssrc; /* the SSRC receivers see for the program video */
  /* the content's SSRC and its RTX stream's; 0 = program_ssrc ^ 0x01000000 and
   * that ^ 1 << 31 */
  guint32 content_ssrc, content_rtx_ssrc;
  guint rtx_slots;  /* retransmission buffer; 0 = 512 packets */
  guint32 rtx_ssrc; /* the SSRC of the program's RTX stream; 0 = program_ssrc ^ 1 << 31 */
  /* the SSRC of the RTX stream of each peer's audio; 0 = program_ssrc ^ 1 << 30 */
  guint32 audio_rtx_ssrc;
  /* neither answer NACKs nor send them (a comparison run): loss is left to keyframes */
  gboolean no_retransmission;
  McuRouterMediaFunc audio; /* nullable */
  McuRouterMediaFunc video; /* nullable: every peer's video, for composites */
  gpointer user_data;
} McuRouterConfig;

McuRouter *mcu_router_new (const McuRouterConfig *config);
void mcu_router_free (McuRouter *router);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (McuRouter, mcu_router_free)

/**
 * mcu_router_add_peer:
 * @id: non-zero, unique in this router
 * @peer: (transfer none): passed to @ops; must outlive its removal
 *
 * Returns: %FALSE when @id is already there.
 */
gboolean mcu_router_add_peer (McuRouter *router, guint id, const McuPeerInfo *info,
                              const McuPeerOps *ops, gpointer peer);
/**
 * mcu_router_remove_peer:
 * Waits for the sends to peer @id already under way on other threads (the router
 * sends without its lock held); once it returns, no thread calls @id's ops again
 * and its peer pointer may be freed. Must not be called from those ops.
 */
void mcu_router_remove_peer (McuRouter *router, guint id);
void mcu_router_set_level (McuRouter *router, guint id, McuMediaLevel level);

/**
 * mcu_router_set_program:
 * @id: the peer the program video comes from: the floor holder when local, else the
 *   link toward it; 0 for no program
 * @now_us: monotonic time
 *
 * The switch waits for a keyframe of the new source (asked for with PLI, then FIR);
 * until then receivers keep the old program.
 */
void mcu_router_set_program (McuRouter *router, guint id, gint64 now_us);
guint mcu_router_program (McuRouter *router);

/**
 * mcu_router_set_content:
 * @id: the peer the content comes from: the presenting site when local, else the
 *   link toward it; 0 for no content
 *
 * As mcu_router_set_program() for the content stream; with 0 the content stops at
 * once (receivers keep their last frame; the leg tells them content ended).
 */
void mcu_router_set_content (McuRouter *router, guint id, gint64 now_us);
guint mcu_router_content (McuRouter *router);

/**
 * mcu_router_set_stills:
 * @on: whether peer @id, while at audio only, gets still images of the content:
 *   one keyframe every 5 s (asked of the presenter), nothing in between. On by
 *   default; the leg turns it off where a still does not fit the peer's downlink.
 *   At low and full a peer gets the whole content.
 */
void mcu_router_set_stills (McuRouter *router, guint id, gboolean on);
/* The size in bytes of the content's last whole keyframe (0: none yet, or no
 * content): what one still costs. */
gsize mcu_router_content_key_bytes (McuRouter *router);

/**
 * mcu_router_receive_rtp:
 * @pkt: (inout): a decrypted RTP packet of peer @id, in a buffer the router may
 *   rewrite in place
 */
void mcu_router_receive_rtp (McuRouter *router, guint id, guint8 *pkt, gsize len,
                             gint64 now_us);
/* A decrypted compound RTCP packet of peer @id: NACK, PLI, FIR are acted on. */
void mcu_router_receive_rtcp (McuRouter *router, guint id, const guint8 *pkt, gsize len,
                              gint64 now_us);

/**
 * mcu_router_send_audio:
 * @pkt: (transfer none): an Opus RTP packet the mixer made for peer @id; copied,
 *   given the peer's payload type and sent. Each (SSRC, sequence number) must come
 *   once per peer (the mixer's promise): a peer that negotiated audio rtx gets its
 *   NACKed numbers back from these very bytes, as RTX packets.
 */
void mcu_router_send_audio (McuRouter *router, guint id, const guint8 *pkt, gsize len);

/**
 * mcu_router_send_video:
 * @pkt: (transfer none): a video RTP packet made for peer @id (a composite or the
 *   program at low resolution); copied, given the peer's video payload type, sent
 */
void mcu_router_send_video (McuRouter *router, guint id, const guint8 *pkt, gsize len);

/* Asks peer @id for a keyframe (PLI), at most once per 300 ms per router. */
void mcu_router_request_keyframe (McuRouter *router, guint id, gint64 now_us);

/* Retries keyframe requests of a pending switch (PLI, then FIR). Call every ~100 ms. */
void mcu_router_tick (McuRouter *router, gint64 now_us);

/* The round trip to peer @id (from its reports), for how soon to ask again for a
 * packet it has not retransmitted; 0 = unknown. */
void mcu_router_set_rtt (McuRouter *router, guint id, gint64 rtt_us);

gboolean mcu_router_peer_counters (McuRouter *router, guint id, McuPeerCounters *out);

G_END_DECLS
