/* router.c: the relay's packet path.
 *
 * One lock guards the peers, the program's state and every rewriter (audio arrives
 * on the mixer's streaming threads, video on the transport's), but not the sends:
 * protecting and sending a packet to 300 receivers takes milliseconds, and an audio
 * thread must not wait that long for its one packet. So the lock covers only the
 * decisions and the header rewrites; the sends run after it is released, on a
 * snapshot of the receivers (Receivers, copy-on-write: an immutable, refcounted
 * array replaced whenever a peer comes, goes or changes level).
 *
 * Lifetimes: a snapshot holds a reference on each of its peers, so a Peer stays
 * valid while any fan-out still reads it. The caller's peer pointer (the endpoint
 * behind the ops) is another matter: mcu_router_remove_peer() promises that no send
 * reaches it once it returns. Each Peer counts the sends to it under way outside
 * the lock (inflight); a send is only begun under the lock and only while the peer
 * is not removed, and remove waits on a condition for the count to reach zero.
 *
 * Serialising each peer's SRTP session is the peer's own business (McuEndpoint's
 * send lock): the leg sends its reports to the same peers without the router.
 * Nothing here allocates per packet: each send copies into a stack buffer sized
 * for the largest packet plus SRTP trailer.
 */
#include "router.h"
#include "loss-tracker.h"
#include "rtcp.h"
#include "rtp-rewriter.h"
#include "rtp.h"
#include "rtx-buffer.h"

#include <gst/gst.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mcu_router_debug);
#define GST_CAT_DEFAULT mcu_router_debug

#define MAX_PACKET 1500
#define SEND_CAP (MAX_PACKET + 64) /* SRTP tag, MKI: room to protect in place */
#define VIDEO_CLOCK 90000
#define PLI_INTERVAL_US (300 * 1000)
#define FIR_AFTER_US (600 * 1000)
#define NACK_MAX_SEQS 64 /* numbers per NACK packet we send */
/* answers to one receiver's NACKs: at most this many per window, and one number
 * not again within a round trip (its first answer is still on the way) */
#define RTX_BUDGET 32
#define RTX_WINDOW_US (100 * 1000)
#define RTX_RECENT 128
#define RTX_MIN_REPEAT_US (40 * 1000)
/* The audio mix each peer that negotiated audio rtx received, for its NACKs:
 * 64 frames of 20 ms (1.28 s, past any jitter buffer's wait), packets up to 600
 * bytes (Opus at the mixer's rates is about 100; a larger one is not kept). */
#define AUDIO_RTX_SLOTS 64
#define AUDIO_RTX_MAX_PACKET 600
/* Receivers whose headers one fan-out rewrites per hold of the lock: bounds both
 * what an audio thread may wait (a few microseconds) and the stack used. */
#define FANOUT_CHUNK 64

/* The answers one receiver got on one of its streams, for rtx_allowed(). */
typedef struct
{
  gint64 window_us;                 /* start of the current answer window */
  guint in_window;                  /* answers sent in it */
  guint16 answered_seq[RTX_RECENT]; /* by seq % RTX_RECENT: the last answers */
  gint64 answered_us[RTX_RECENT];
} RtxBudget;

typedef struct
{
  guint id;
  McuPeerInfo info;
  McuPeerOps ops;
  gpointer peer;
  McuMediaLevel level;
  guint32 video_ssrc; /* the SSRC this peer sends video with, once seen */
  gboolean have_video_ssrc;
  /* the video this peer receives, as one stream: the full program and the
   * low-resolution one (mcu_router_send_video) come with SSRCs of their own and
   * are mapped onto the program SSRC here, so that stepping between levels looks
   * to its decoder like one stream with no jump back */
  McuRtpRewriter vout;
  guint16 rtx_seq; /* the numbering of the RTX stream this peer receives */
  RtxBudget video_budget;
  /* the mix this peer received (its own SSRC and numbers: the mixer makes one
   * stream per peer), kept only where it negotiated audio rtx; the NACKs for it
   * are answered on an RTX stream of its own numbering and budget */
  McuRtxBuffer *audio_sent; /* (nullable) */
  gboolean have_audio;
  guint32 audio_ssrc;
  guint16 audio_highest; /* the highest number sent so far */
  guint16 audio_rtx_seq;
  RtxBudget audio_budget;
  /* the gaps in its video while it is the program's source, for our NACKs */
  McuLossTracker loss;
  gint64 rtt_us;
  /* under the lock, except rtp_out and send_failures: those two are counted after
   * sends made outside it, in the atomics below, and filled in when read */
  McuPeerCounters c;
  guint64 rtp_out, send_failures; /* atomic only */
  gint inflight;                  /* sends begun under the lock, not yet done; atomic */
  gint removed;                   /* atomic; set once, under the lock */
} Peer;                           /* g_atomic_rc_box: the router's list and snapshots */

/* The program's receivers at one moment: peers at full level that take video,
 * links first. Immutable once made; g_atomic_rc_box, each entry a Peer reference. */
typedef struct
{
  guint n;
  Peer *v[];
} Receivers;

struct _McuRouter
{
  GMutex lock;
  GCond sent; /* a removed peer's last send ended */
  McuRouterConfig config;
  GPtrArray *peers;     /* Peer*, a reference each; a handful to a few hundred: scanned
                     * linearly */
  Receivers *receivers; /* the current snapshot, replaced under the lock */
  McuRtpRewriter rw;
  McuRtxBuffer *rtx;
  guint program; /* peer whose video is the program now, 0 = none */
  guint pending; /* peer we switch to on its next keyframe, 0 = none */
  gint64 pending_since, last_pli_us, last_fir_us;
  guint8 fir_seq;
  guint32 router_ssrc; /* sender SSRC of the feedback we originate */
};

const char *
mcu_media_level_name (McuMediaLevel level)
{
  static const char *const names[] = { "full", "low", "audio" };
  return level <= MCU_LEVEL_AUDIO ? names[level] : "unknown";
}

gboolean
mcu_media_level_from_name (const char *name, McuMediaLevel *level)
{
  for (McuMediaLevel l = MCU_LEVEL_FULL; l <= MCU_LEVEL_AUDIO; l++)
    if (g_strcmp0 (name, mcu_media_level_name (l)) == 0)
      {
        *level = l;
        return TRUE;
      }
  return FALSE;
}

static inline void
count (guint64 *counter)
{
  __atomic_fetch_add (counter, 1, __ATOMIC_RELAXED);
}

static void
peer_clear (gpointer data)
{
  Peer *p = data;
  g_clear_pointer (&p->audio_sent, mcu_rtx_buffer_free);
}

static void
peer_unref (gpointer p)
{
  g_atomic_rc_box_release_full (p, peer_clear);
}

static void
receivers_clear (gpointer data)
{
  Receivers *rx = data;
  for (guint i = 0; i < rx->n; i++)
    peer_unref (rx->v[i]);
}

static void
receivers_unref (Receivers *rx)
{
  g_atomic_rc_box_release_full (rx, receivers_clear);
}

/* Makes the snapshot the next fan-outs use; ones under way keep theirs. Called
 * with the lock held whenever the set of full-video receivers may have changed.
 * Node links come first: every site below them waits for the packet, while a local
 * site is the end of its path (with 300 local sites, the last is ~2 ms later). */
static void
receivers_update (McuRouter *r)
{
  Receivers *rx
      = g_atomic_rc_box_alloc0 (sizeof (Receivers) + r->peers->len * sizeof (Peer *));
  for (int links = 1; links >= 0; links--)
    for (guint i = 0; i < r->peers->len; i++)
      {
        Peer *p = g_ptr_array_index (r->peers, i);
        if ((p->info.kind != MCU_PEER_SITE) == links && p->level == MCU_LEVEL_FULL
            && p->info.video_pt != 0)
          rx->v[rx->n++] = g_atomic_rc_box_acquire (p);
      }
  g_clear_pointer (&r->receivers, receivers_unref);
  r->receivers = rx;
}

/* Ends a send begun under the lock (inflight). A remove waiting for the peer's
 * last send is woken under the lock, so the wake-up cannot fall between its check
 * and its wait. */
static void
send_done (McuRouter *r, Peer *p)
{
  if (g_atomic_int_dec_and_test (&p->inflight) && g_atomic_int_get (&p->removed))
    {
      g_mutex_lock (&r->lock);
      g_cond_broadcast (&r->sent);
      g_mutex_unlock (&r->lock);
    }
}

McuRouter *
mcu_router_new (const McuRouterConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  static gsize debug_once = 0;
  if (g_once_init_enter (&debug_once))
    {
      GST_DEBUG_CATEGORY_INIT (mcu_router_debug, "mcu-router", 0, "program relay");
      g_once_init_leave (&debug_once, 1);
    }
  McuRouter *r = g_new0 (McuRouter, 1);
  g_mutex_init (&r->lock);
  g_cond_init (&r->sent);
  r->config = *config;
  r->peers = g_ptr_array_new_with_free_func (peer_unref);
  r->receivers = g_atomic_rc_box_new0 (Receivers);
  r->rtx = mcu_rtx_buffer_new (config->rtx_slots ? config->rtx_slots : 512);
  r->router_ssrc = config->program_ssrc ^ 0x5a5a5a5a;
  if (r->config.rtx_ssrc == 0)
    r->config.rtx_ssrc = config->program_ssrc ^ 0x80000000u;
  if (r->config.audio_rtx_ssrc == 0)
    r->config.audio_rtx_ssrc = config->program_ssrc ^ 0x40000000u;
  mcu_rtp_rewriter_init (&r->rw, config->program_ssrc, VIDEO_CLOCK);
  return r;
}

void
mcu_router_free (McuRouter *r)
{
  if (r == NULL)
    return;
  g_ptr_array_unref (r->peers);
  g_clear_pointer (&r->receivers, receivers_unref);
  mcu_rtx_buffer_free (r->rtx);
  g_cond_clear (&r->sent);
  g_mutex_clear (&r->lock);
  g_free (r);
}

static Peer *
find_peer (McuRouter *r, guint id)
{
  for (guint i = 0; i < r->peers->len; i++)
    {
      Peer *p = g_ptr_array_index (r->peers, i);
      if (p->id == id)
        return p;
    }
  return NULL;
}

gboolean
mcu_router_add_peer (McuRouter *r, guint id, const McuPeerInfo *info,
                     const McuPeerOps *ops, gpointer peer)
{
  g_return_val_if_fail (r != NULL && id != 0 && info != NULL && ops != NULL, FALSE);
  g_mutex_lock (&r->lock);
  gboolean ok = find_peer (r, id) == NULL;
  if (ok)
    {
      Peer *p = g_atomic_rc_box_new0 (Peer);
      p->id = id;
      p->info = *info;
      p->ops = *ops;
      p->peer = peer;
      mcu_rtp_rewriter_init (&p->vout, r->config.program_ssrc, VIDEO_CLOCK);
      mcu_loss_tracker_init (&p->loss);
      p->rtx_seq = (guint16)g_random_int (); /* RFC 3550: a random first number */
      p->audio_rtx_seq = (guint16)g_random_int ();
      if (info->audio_pt && info->audio_rtx_pt && !r->config.no_retransmission)
        p->audio_sent = mcu_rtx_buffer_new_full (AUDIO_RTX_SLOTS, AUDIO_RTX_MAX_PACKET);
      g_ptr_array_add (r->peers, p);
      receivers_update (r);
    }
  g_mutex_unlock (&r->lock);
  return ok;
}

/* Once removed, a peer is in no new snapshot and no send to it begins (every send
 * begins under the lock and checks removed); the ones begun before are waited
 * for, so the caller may free what it handed to the router as soon as this
 * returns. The Peer itself lives on in older snapshots until they are dropped. */
void
mcu_router_remove_peer (McuRouter *r, guint id)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  Peer *p = find_peer (r, id);
  if (p)
    {
      g_atomic_int_set (&p->removed, 1);
      g_atomic_rc_box_acquire (p); /* the list's reference goes, ours stays */
      g_ptr_array_remove_fast (r->peers, p);
      receivers_update (r);
      while (g_atomic_int_get (&p->inflight) > 0)
        g_cond_wait (&r->sent, &r->lock);
    }
  if (r->pending == id)
    r->pending = 0;
  /* the program's source left: receivers keep their last frame until the next
   * program, which the leg chooses */
  if (r->program == id)
    r->program = 0;
  g_mutex_unlock (&r->lock);
  if (p)
    peer_unref (p);
}

/* Sends one RTCP feedback packet (PLI or FIR) about @src's video to @src. */
static void
request_keyframe (McuRouter *r, Peer *src, gboolean fir)
{
  guint8 buf[SEND_CAP];
  if (!src->have_video_ssrc)
    return; /* nothing to name yet; asked again once its first packet arrives */
  gsize len = fir ? mcu_rtcp_write_fir (buf, sizeof buf, r->router_ssrc, src->video_ssrc,
                                        r->fir_seq++)
                  : mcu_rtcp_write_pli (buf, sizeof buf, r->router_ssrc, src->video_ssrc);
  if (len == 0)
    return;
  if (src->ops.send_rtcp (src->peer, buf, len, sizeof buf))
    {
      if (fir)
        src->c.firs_out++;
      else
        src->c.plis_out++;
    }
  else
    count (&src->send_failures);
}

void
mcu_router_set_level (McuRouter *r, guint id, McuMediaLevel level)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  Peer *p = find_peer (r, id);
  if (p)
    {
      /* back to the full program after low or audio only: its decoder has missed
       * frames and cannot resume before a keyframe, so ask the program's source now
       * rather than wait for the receiver's PLI or the next periodic keyframe */
      gboolean to_full = level == MCU_LEVEL_FULL && p->level != MCU_LEVEL_FULL;
      /* a new level may bring a new instance of a stream it had before (the low
       * program's encoder is made again): its numbering starts over from here */
      gboolean changed = level != p->level;
      if (changed)
        p->vout.have_src = FALSE;
      p->level = level;
      if (changed)
        receivers_update (r);
      Peer *src = to_full && r->program ? find_peer (r, r->program) : NULL;
      if (src && src != p)
        request_keyframe (r, src, FALSE);
    }
  g_mutex_unlock (&r->lock);
}

void
mcu_router_set_program (McuRouter *r, guint id, gint64 now_us)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  if (id == 0)
    {
      r->program = r->pending = 0;
    }
  else if (id != r->program || r->pending)
    {
      r->pending = id == r->program ? 0 : id;
      r->pending_since = now_us;
      Peer *src = r->pending ? find_peer (r, r->pending) : NULL;
      if (src)
        {
          request_keyframe (r, src, FALSE);
          r->last_pli_us = now_us;
          r->last_fir_us = 0;
        }
    }
  g_mutex_unlock (&r->lock);
}

guint
mcu_router_program (McuRouter *r)
{
  g_return_val_if_fail (r != NULL, 0);
  g_mutex_lock (&r->lock);
  guint id = r->program;
  g_mutex_unlock (&r->lock);
  return id;
}

void
mcu_router_tick (McuRouter *r, gint64 now_us)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  Peer *src = r->pending ? find_peer (r, r->pending) : NULL;
  if (src && now_us - r->last_pli_us >= PLI_INTERVAL_US)
    {
      /* RFC 5104: a source that ignores PLI may still honour FIR */
      gboolean fir = now_us - r->pending_since >= FIR_AFTER_US
                     && now_us - r->last_fir_us >= PLI_INTERVAL_US;
      request_keyframe (r, src, fir);
      r->last_pli_us = now_us;
      if (fir)
        r->last_fir_us = now_us;
    }
  g_mutex_unlock (&r->lock);
}

/* Sends a copy of a plaintext packet to one peer with its own payload type. */
static void
send_copy (Peer *to, const guint8 *pkt, gsize len, guint8 pt)
{
  guint8 buf[SEND_CAP];
  memcpy (buf, pkt, len);
  mcu_rtp_set_pt (buf, len, pt);
  if (to->ops.send_rtp (to->peer, buf, len, sizeof buf))
    count (&to->rtp_out);
  else
    count (&to->send_failures);
}

/* Gives the 12-byte fixed header @hdr (a copy of a video packet's) @to's payload
 * type and its own continuous numbering (Peer.vout): a packet of another stream
 * than the last one it got starts that stream there. Only the fixed header changes
 * (SSRC, sequence number, timestamp, payload type), so one fan-out rewrites every
 * receiver's header under the lock and copies the payload outside it. With the
 * lock held. Returns FALSE when the packet is not for @to's stream. */
static gboolean
rewrite_video_header (Peer *to, guint8 *hdr, gint64 now_us)
{
  mcu_rtp_set_pt (hdr, 12, to->info.video_pt);
  guint32 ssrc
      = (guint32)hdr[8] << 24 | (guint32)hdr[9] << 16 | (guint32)hdr[10] << 8 | hdr[11];
  mcu_rtp_rewriter_switch (&to->vout, ssrc);
  return mcu_rtp_rewriter_rewrite (&to->vout, hdr, 12, now_us);
}

/* The program path, with the lock held: a keyframe of the pending source completes
 * a switch; the program's packets are rewritten once and kept for NACKs. Returns
 * (transfer full) the receivers to send it to (fan_out), or NULL. */
static Receivers *
route_video (McuRouter *r, Peer *from, guint8 *pkt, gsize len, const McuRtpHeader *h,
             gint64 now_us)
{
  if (r->pending == from->id
      && mcu_payload_is_keyframe (from->info.video_codec, h->payload, h->payload_len))
    {
      r->program = from->id;
      r->pending = 0;
      mcu_rtp_rewriter_switch (&r->rw, h->ssrc);
    }
  if (r->program != from->id || !mcu_rtp_rewriter_rewrite (&r->rw, pkt, len, now_us))
    return NULL;
  mcu_rtx_buffer_store (r->rtx, pkt, len);
  return g_atomic_rc_box_acquire (r->receivers);
}

/* Sends the program packet @pkt (rewritten by route_video) to every receiver of
 * @rx but its source @from that takes video of the same codec, without the lock:
 * per chunk of receivers, their headers are rewritten under the lock (the
 * rewriters' state is the router's) and each send is begun there (inflight, so a
 * remove waits for it); then the chunk is protected and sent with the lock free,
 * so audio threads and NACK answers go ahead between chunks, not after the whole
 * fan-out. A peer removed or stepped down since the snapshot is skipped. */
static void
fan_out (McuRouter *r, Receivers *rx, guint from, McuVideoCodec codec, const guint8 *pkt,
         gsize len, gint64 now_us)
{
  guint8 hdr[FANOUT_CHUNK][12];
  Peer *to[FANOUT_CHUNK];
  for (guint base = 0; base < rx->n; base += FANOUT_CHUNK)
    {
      guint n = 0;
      g_mutex_lock (&r->lock);
      for (guint i = base; i < rx->n && i < base + FANOUT_CHUNK; i++)
        {
          Peer *p = rx->v[i];
          if (p->id == from || p->info.video_codec != codec || p->level != MCU_LEVEL_FULL
              || g_atomic_int_get (&p->removed))
            continue;
          memcpy (hdr[n], pkt, 12);
          p->c.video_forwarded++;
          if (!rewrite_video_header (p, hdr[n], now_us))
            continue;
          g_atomic_int_inc (&p->inflight);
          to[n++] = p;
        }
      g_mutex_unlock (&r->lock);
      for (guint k = 0; k < n; k++)
        {
          guint8 buf[SEND_CAP];
          memcpy (buf, hdr[k], 12);
          memcpy (buf + 12, pkt + 12, len - 12);
          if (to[k]->ops.send_rtp (to[k]->peer, buf, len, sizeof buf))
            count (&to[k]->rtp_out);
          else
            count (&to[k]->send_failures);
          send_done (r, to[k]);
        }
    }
}

/* Asks the program's source for the packets of its video that did not reach us
 * (RFC 4585 generic NACK), as the loss tracker schedules them: each number at once,
 * again after a round trip, until it is too old to be played. Without this a
 * commune's uplink loss reaches every receiver below as a frozen picture until
 * the next keyframe. */
static void
send_nacks (McuRouter *r, Peer *src, gint64 now_us)
{
  guint16 seqs[NACK_MAX_SEQS];
  gboolean asks = !r->config.no_retransmission && src->info.nack && src->have_video_ssrc;
  /* without NACKs the tracker still expires its numbers, so its counters hold */
  guint n = mcu_loss_tracker_due (&src->loss, now_us, src->rtt_us, seqs,
                                  asks ? G_N_ELEMENTS (seqs) : 0);
  if (n == 0)
    return;
  guint8 buf[SEND_CAP];
  gsize len
      = mcu_rtcp_write_nack (buf, sizeof buf, r->router_ssrc, src->video_ssrc, seqs, n);
  if (len == 0)
    return;
  if (src->ops.send_rtcp (src->peer, buf, len, sizeof buf))
    src->c.nacks_out++;
  else
    count (&src->send_failures);
}

/* Loss is tracked on the video of the program's source only (the pending one too,
 * so a switch starts with a clean record): nobody else's video reaches receivers. */
static McuLossResult
track_loss (McuRouter *r, Peer *from, guint16 seq, gint64 now_us)
{
  if (from->id != r->program && from->id != r->pending)
    return MCU_LOSS_DUPLICATE;
  McuLossResult res = mcu_loss_tracker_push (&from->loss, seq, now_us);
  send_nacks (r, from, now_us);
  return res;
}

/* An RFC 4588 retransmission from @from, restored in place to the original packet
 * (the OSN back as its sequence number, the video's SSRC and payload type). Only
 * one that fills a gap we track goes on: a duplicate would be protected a second
 * time under the index the original already took at every receiver. */
static gboolean
take_retransmission (McuRouter *r, Peer *from, guint8 *pkt, gsize *len, McuRtpHeader *h,
                     gint64 now_us)
{
  if (h->payload_len == 0)
    return FALSE; /* padding only: a sender's bandwidth probe */
  from->c.rtx_in++;
  if (r->config.no_retransmission || !from->have_video_ssrc
      || mcu_rtx_unwrap (pkt, len, from->info.video_pt, from->video_ssrc) != MCU_RTX_OK
      || mcu_rtp_parse (pkt, *len, h) != MCU_RTP_OK
      || track_loss (r, from, h->seq, now_us) != MCU_LOSS_FILLED)
    {
      from->c.rtx_dropped++;
      return FALSE;
    }
  from->c.rtx_recovered++;
  return TRUE;
}

void
mcu_router_receive_rtp (McuRouter *r, guint id, guint8 *pkt, gsize len, gint64 now_us)
{
  McuRtpHeader h;
  Receivers *rx = NULL;
  McuVideoCodec codec = 0;
  if (len > MAX_PACKET)
    return;
  g_mutex_lock (&r->lock);
  Peer *from = find_peer (r, id);
  if (from == NULL)
    goto out;
  if (mcu_rtp_parse (pkt, len, &h) != MCU_RTP_OK)
    {
      from->c.malformed++;
      goto out;
    }
  from->c.rtp_in++;
  if (h.pt == from->info.audio_pt)
    {
      from->c.audio_in++;
      if (r->config.audio)
        r->config.audio (id, pkt, len, r->config.user_data);
    }
  else if (h.pt == from->info.video_pt && from->info.video_pt != 0)
    {
      gboolean first = !from->have_video_ssrc;
      if (!first && h.ssrc != from->video_ssrc)
        mcu_loss_tracker_reset (&from->loss); /* another stream: other numbers */
      from->video_ssrc = h.ssrc;
      from->have_video_ssrc = TRUE;
      track_loss (r, from, h.seq, now_us);
      if (first && r->pending == id)
        request_keyframe (r, from, FALSE); /* the switch asked before we knew it */
      if (r->config.video)
        r->config.video (id, pkt, len, r->config.user_data);
      codec = from->info.video_codec;
      rx = route_video (r, from, pkt, len, &h, now_us);
    }
  else if (h.pt == from->info.video_rtx_pt && from->info.video_rtx_pt != 0)
    {
      /* a retransmission we asked for takes the original's path from here */
      if (!take_retransmission (r, from, pkt, &len, &h, now_us))
        goto out;
      if (r->config.video)
        r->config.video (id, pkt, len, r->config.user_data);
      codec = from->info.video_codec;
      rx = route_video (r, from, pkt, len, &h, now_us);
    }
out:
  g_mutex_unlock (&r->lock);
  if (rx)
    {
      fan_out (r, rx, id, codec, pkt, len, now_us);
      receivers_unref (rx);
    }
}

/* Keyframe requests from receivers of the program go to its source, at most one
 * per PLI_INTERVAL_US however many receivers ask. */
static void
forward_keyframe_request (McuRouter *r, gint64 now_us)
{
  /* during a switch the keyframe that matters is the new source's: a node further
   * down waits for it to complete its own switch */
  guint id = r->pending ? r->pending : r->program;
  Peer *src = id ? find_peer (r, id) : NULL;
  if (src && now_us - r->last_pli_us >= PLI_INTERVAL_US)
    {
      request_keyframe (r, src, FALSE);
      r->last_pli_us = now_us;
    }
}

/* One RFC 4588 retransmission of @orig (in @to's numbering, first sent as @osn)
 * on an RTX stream of the node (@pt, @ssrc, numbered by *@seq): a number of its
 * own each time, so every retransmission is protected under a fresh SRTP index. */
static gboolean
send_rtx (Peer *to, const guint8 *orig, gsize len, guint16 osn, guint8 pt, guint16 *seq,
          guint32 ssrc)
{
  guint8 buf[SEND_CAP];
  gsize n = mcu_rtx_wrap (buf, MAX_PACKET + 2, orig, len, osn, pt, *seq, ssrc);
  if (n == 0)
    return FALSE;
  (*seq)++;
  if (to->ops.send_rtp (to->peer, buf, n, sizeof buf))
    count (&to->rtp_out);
  else
    count (&to->send_failures);
  return TRUE;
}

/* A receiver that negotiated rtx gets an RTX packet (send_rtx). One without it gets
 * a plain resend under its own sequence number, which must be the very bytes first
 * protected under it (same SSRC, number, timestamp, payload type and payload),
 * never anything else: SRTP with AES-CM or GCM must not protect two payloads under
 * one index (keystream and nonce reuse). Either way only numbers the receiver's
 * current mapping made are answered (mcu_rtp_rewriter_source_seq): after a step
 * between levels, a number that carried the low stream or an older mapping of the
 * program is a miss (an RTX of it would carry the wrong picture). */
/* Whether @to may have one more retransmission of @seq now. A lossy receiver asks
 * again for what it has not got yet, and a loaded node drops datagrams when it
 * falls behind: without a budget, answers to repeated and bursty NACKs add to the
 * very load that makes the losses. Refused numbers are asked again later. */
static gboolean
rtx_allowed (RtxBudget *b, gint64 rtt_us, guint16 seq, gint64 now_us)
{
  guint i = seq % RTX_RECENT;
  gint64 repeat = MAX (rtt_us, RTX_MIN_REPEAT_US);
  if (b->answered_us[i] != 0 && b->answered_seq[i] == seq
      && now_us - b->answered_us[i] < repeat)
    return FALSE;
  if (now_us - b->window_us >= RTX_WINDOW_US)
    {
      b->window_us = now_us;
      b->in_window = 0;
    }
  if (b->in_window >= RTX_BUDGET)
    return FALSE;
  b->in_window++;
  b->answered_seq[i] = seq;
  b->answered_us[i] = now_us;
  return TRUE;
}

static void
answer_nack (McuRouter *r, Peer *from, const McuRtcpNack *n, gint64 now_us)
{
  guint16 seqs[17];
  guint count = mcu_rtcp_nack_expand (n->pid, n->blp, seqs);
  /* the buffer keeps the program in its own numbering; this peer's is shifted by
   * its offsets, and only while it receives the program (not the low stream) */
  McuRtpRewriter *v = &from->vout;
  gboolean mapped = v->have_src && v->src_ssrc == r->config.program_ssrc;
  for (guint k = 0; k < count; k++)
    {
      gsize plen = 0;
      guint16 src_seq = 0;
      const guint8 *stored = mapped && mcu_rtp_rewriter_source_seq (v, seqs[k], &src_seq)
                                 ? mcu_rtx_buffer_lookup (r->rtx, src_seq, &plen)
                                 : NULL;
      if (stored == NULL || plen > SEND_CAP)
        {
          from->c.nack_misses++;
          continue;
        }
      if (!rtx_allowed (&from->video_budget, from->rtt_us, seqs[k], now_us))
        {
          from->c.rtx_held++;
          continue;
        }
      guint8 buf[SEND_CAP];
      memcpy (buf, stored, plen);
      guint32 ts = ((guint32)buf[4] << 24 | (guint32)buf[5] << 16 | (guint32)buf[6] << 8
                    | buf[7])
                   + v->ts_offset;
      buf[2] = (guint8)(seqs[k] >> 8);
      buf[3] = (guint8)seqs[k];
      buf[4] = (guint8)(ts >> 24);
      buf[5] = (guint8)(ts >> 16);
      buf[6] = (guint8)(ts >> 8);
      buf[7] = (guint8)ts;
      if (from->info.video_rtx_pt != 0)
        {
          if (!send_rtx (from, buf, plen, seqs[k], from->info.video_rtx_pt,
                         &from->rtx_seq, r->config.rtx_ssrc))
            {
              from->c.nack_misses++;
              continue;
            }
        }
      else
        send_copy (from, buf, plen, from->info.video_pt);
      from->c.retransmitted++;
    }
}

/* NACKs for the mix @from receives are answered from what was sent to @from
 * alone (audio_sent), on its audio RTX stream: each answer is the very bytes first
 * protected under that number, wrapped under a fresh index. Only a number among
 * the last AUDIO_RTX_SLOTS sent is looked up: the buffer holds nothing older, and a
 * number ahead of the highest was never sent. There is no plain resend for audio
 * (a peer without rtx): the transport-cc stamp added after the router would make
 * a resend other bytes under the original's index. */
static void
answer_audio_nack (McuRouter *r, Peer *from, const McuRtcpNack *n, gint64 now_us)
{
  guint16 seqs[17];
  guint count = mcu_rtcp_nack_expand (n->pid, n->blp, seqs);
  for (guint k = 0; k < count; k++)
    {
      gsize plen = 0;
      gint16 age = (gint16)(guint16)(from->audio_highest - seqs[k]);
      const guint8 *stored
          = from->audio_sent && age >= 0 && age < AUDIO_RTX_SLOTS
                ? mcu_rtx_buffer_lookup (from->audio_sent, seqs[k], &plen)
                : NULL;
      if (stored == NULL)
        {
          from->c.audio_nack_misses++;
          continue;
        }
      if (!rtx_allowed (&from->audio_budget, from->rtt_us, seqs[k], now_us))
        {
          from->c.rtx_held++;
          continue;
        }
      if (!send_rtx (from, stored, plen, seqs[k], from->info.audio_rtx_pt,
                     &from->audio_rtx_seq, r->config.audio_rtx_ssrc))
        {
          from->c.audio_nack_misses++;
          continue;
        }
      from->c.audio_retransmitted++;
    }
}

void
mcu_router_receive_rtcp (McuRouter *r, guint id, const guint8 *pkt, gsize len,
                         gint64 now_us)
{
  McuRtcpInfo info;
  if (mcu_rtcp_parse (pkt, len, MCU_RTCP_PARSE_REDUCED_SIZE, &info) != MCU_RTCP_OK)
    {
      g_mutex_lock (&r->lock);
      Peer *p = find_peer (r, id);
      if (p)
        p->c.malformed++;
      g_mutex_unlock (&r->lock);
      return;
    }
  g_mutex_lock (&r->lock);
  Peer *from = find_peer (r, id);
  if (from == NULL)
    goto out;
  from->c.rtcp_in++;
  guint32 program = r->config.program_ssrc;
  for (guint i = 0; i < info.n_nacks; i++)
    if (info.nacks[i].media_ssrc == program)
      {
        from->c.nacks_in++;
        if (!r->config.no_retransmission)
          answer_nack (r, from, &info.nacks[i], now_us);
      }
    else if (from->have_audio && info.nacks[i].media_ssrc == from->audio_ssrc)
      {
        /* its own mix only: a NACK naming any other SSRC is not for us to answer */
        from->c.audio_nacks_in++;
        if (!r->config.no_retransmission)
          answer_audio_nack (r, from, &info.nacks[i], now_us);
      }
  gboolean wants_key = FALSE;
  for (guint i = 0; i < info.n_plis; i++)
    wants_key |= info.plis[i].media_ssrc == program;
  for (guint i = 0; i < info.n_firs; i++)
    wants_key |= info.firs[i].media_ssrc == program;
  if (wants_key)
    {
      from->c.plis_in++;
      forward_keyframe_request (r, now_us);
    }
out:
  g_mutex_unlock (&r->lock);
}

/* With the lock held: notes the mix packet @pkt about to go to @to (its SSRC and
 * highest number) and, where @to negotiated audio rtx, keeps it as it will be
 * protected (with @to's payload type) for answer_audio_nack(). Kept before it is
 * sent: an answer that overtakes the original is still an RTX packet of the same
 * bytes. A new SSRC is another stream: what was kept of the old one is dropped. */
static void
keep_audio (Peer *to, const guint8 *pkt, gsize len)
{
  guint32 ssrc
      = (guint32)pkt[8] << 24 | (guint32)pkt[9] << 16 | (guint32)pkt[10] << 8 | pkt[11];
  guint16 seq = (guint16)(pkt[2] << 8 | pkt[3]);
  if (to->have_audio && ssrc != to->audio_ssrc && to->audio_sent)
    mcu_rtx_buffer_clear (to->audio_sent);
  if (!to->have_audio || ssrc != to->audio_ssrc
      || (gint16)(guint16)(seq - to->audio_highest) > 0)
    to->audio_highest = seq;
  to->audio_ssrc = ssrc;
  to->have_audio = TRUE;
  if (to->audio_sent == NULL)
    return;
  guint8 buf[SEND_CAP];
  memcpy (buf, pkt, len);
  mcu_rtp_set_pt (buf, len, to->info.audio_pt);
  mcu_rtx_buffer_store (to->audio_sent, buf, len);
}

void
mcu_router_send_audio (McuRouter *r, guint id, const guint8 *pkt, gsize len)
{
  g_return_if_fail (r != NULL);
  if (pkt == NULL || len < 12 || len > MAX_PACKET)
    return;
  g_mutex_lock (&r->lock);
  Peer *to = find_peer (r, id);
  if (to && to->info.audio_pt)
    {
      g_atomic_int_inc (&to->inflight); /* a remove waits for this send */
      keep_audio (to, pkt, len);
    }
  else
    to = NULL;
  g_mutex_unlock (&r->lock);
  if (to)
    {
      send_copy (to, pkt, len, to->info.audio_pt);
      send_done (r, to);
    }
}

void
mcu_router_send_video (McuRouter *r, guint id, const guint8 *pkt, gsize len)
{
  g_return_if_fail (r != NULL);
  if (pkt == NULL || len < 12 || len > MAX_PACKET)
    return;
  guint8 buf[SEND_CAP];
  memcpy (buf, pkt, len);
  g_mutex_lock (&r->lock);
  Peer *to = find_peer (r, id);
  if (to && to->info.video_pt && to->level != MCU_LEVEL_AUDIO
      && rewrite_video_header (to, buf, g_get_monotonic_time ()))
    g_atomic_int_inc (&to->inflight); /* a remove waits for this send */
  else
    to = NULL;
  g_mutex_unlock (&r->lock);
  if (to)
    {
      if (to->ops.send_rtp (to->peer, buf, len, sizeof buf))
        count (&to->rtp_out);
      else
        count (&to->send_failures);
      send_done (r, to);
    }
}

void
mcu_router_request_keyframe (McuRouter *r, guint id, gint64 now_us)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  Peer *src = find_peer (r, id);
  if (src && now_us - r->last_pli_us >= PLI_INTERVAL_US)
    {
      request_keyframe (r, src, FALSE);
      r->last_pli_us = now_us;
    }
  g_mutex_unlock (&r->lock);
}

gboolean
mcu_router_peer_counters (McuRouter *r, guint id, McuPeerCounters *out)
{
  g_return_val_if_fail (r != NULL && out != NULL, FALSE);
  g_mutex_lock (&r->lock);
  Peer *p = find_peer (r, id);
  if (p)
    {
      McuLossCounters lc;
      mcu_loss_tracker_get (&p->loss, &lc);
      *out = p->c;
      out->nack_seqs_out = lc.requested;
      out->loss_missing = lc.missing;
      out->loss_given_up = lc.given_up;
      out->rtp_out = __atomic_load_n (&p->rtp_out, __ATOMIC_RELAXED);
      out->send_failures = __atomic_load_n (&p->send_failures, __ATOMIC_RELAXED);
    }
  g_mutex_unlock (&r->lock);
  return p != NULL;
}

void
mcu_router_set_rtt (McuRouter *r, guint id, gint64 rtt_us)
{
  g_return_if_fail (r != NULL);
  g_mutex_lock (&r->lock);
  Peer *p = find_peer (r, id);
  if (p)
    p->rtt_us = MAX (rtt_us, 0);
  g_mutex_unlock (&r->lock);
}
