/* sdp.c: SDP offer/answer over GstSDPMessage (see sdp.h).
 *
 * GstSDPMessage does the line parsing; it is lenient and accepts almost any text,
 * so everything we rely on (ICE credentials, fingerprint, rtcp-mux, payload types)
 * is checked here, and every value read from the peer is bounded before use. */
#include "sdp.h"
#include "audio-level.h"
#include "mcu-error.h"
#include "twcc.h"

#include <gst/sdp/sdp.h>
#include <string.h>

#define SDP_MAX_LEN (256 * 1024)
#define SDP_MAX_MEDIA 64
#define SDP_MAX_SSRCS 32
#define SDP_MAX_TOKEN 256
#define SDP_PROTO "UDP/TLS/RTP/SAVPF"
#define SDP_OFFER_TWCC_EXT 3 /* our extmap ID for transport-cc on node links */
/* and for the audio level on node links, the ID browsers give it */
#define SDP_OFFER_LEVEL_EXT 1

typedef struct
{
  McuSdpMedia pub;
  char *mid, *kind, *codec, *fmtp;
  GArray *ssrcs; /* guint32 */
} SdpMedia;

struct _McuSdpSession
{
  char *ufrag, *pwd, *fingerprint, *setup, *local_setup;
  GStrv candidates;
  GPtrArray *media; /* SdpMedia */
};

/* What one m-line says about each payload type, filled in one pass over its
 * attributes so that large inputs cost linear time. */
typedef struct
{
  gboolean mapped;
  char name[32];
  guint clock, channels;
  const char *fmtp; /* borrowed from the GstSDPMedia */
  gboolean nack, pli, fir;
  gboolean twcc, remb; /* rtcp-fb transport-cc, goog-remb */
  gint apt;            /* for rtx: the payload type it repairs, -1 if none */
} PtInfo;

typedef struct
{
  PtInfo pts[128];
  gboolean fb_all_nack, fb_all_pli, fb_all_fir; /* a=rtcp-fb:* */
  gboolean fb_all_twcc, fb_all_remb;
  guint twcc_ext; /* a=extmap ID of the transport-wide sequence number, 0 = none */
  /* a=extmap ID of the RFC 6464 audio level, 0 = none */
  guint level_ext;
  const char *mid, *direction, *ufrag, *pwd, *fingerprint, *setup;
  gboolean rtcp_mux;
  gboolean bundle_only; /* RFC 8843: port 0 but part of the BUNDLE transport */
  gboolean slides;      /* RFC 4796 a=content:slides: the presenter's stream */
  GArray *ssrcs;        /* guint32, unique, in order */
  GPtrArray *candidates;
} MediaScan;

static void
sdp_media_free (gpointer p)
{
  SdpMedia *m = p;
  g_free (m->mid);
  g_free (m->kind);
  g_free (m->codec);
  g_free (m->fmtp);
  if (m->ssrcs)
    g_array_unref (m->ssrcs);
  g_free (m);
}

void
mcu_sdp_session_free (McuSdpSession *s)
{
  if (s == NULL)
    return;
  g_free (s->ufrag);
  g_free (s->pwd);
  g_free (s->fingerprint);
  g_free (s->setup);
  g_free (s->local_setup);
  g_strfreev (s->candidates);
  if (s->media)
    g_ptr_array_unref (s->media);
  g_free (s);
}

/* Parses an unsigned decimal at s, stopping at the first non-digit (returned in
 * rest); FALSE when there is no digit or the value exceeds max. */
static gboolean
sdp_parse_uint (const char *s, const char **rest, guint64 max, guint64 *out)
{
  if (s == NULL || !g_ascii_isdigit (*s))
    return FALSE;
  guint64 v = 0;
  while (g_ascii_isdigit (*s))
    {
      v = v * 10 + (guint64)(*s - '0');
      if (v > max)
        return FALSE;
      s++;
    }
  *out = v;
  if (rest)
    *rest = s;
  return TRUE;
}

/* A token we echo back or hand on must be printable, without spaces, and short. */
static gboolean
sdp_token_ok (const char *s)
{
  if (s == NULL || *s == '\0')
    return FALSE;
  gsize n = 0;
  for (; *s; s++, n++)
    if ((guchar)*s <= 0x20 || (guchar)*s >= 0x7f || n >= SDP_MAX_TOKEN)
      return FALSE;
  return TRUE;
}

/* Free text we echo back (fmtp): printable, spaces allowed, bounded. */
static gboolean
sdp_text_ok (const char *s)
{
  if (s == NULL || *s == '\0')
    return FALSE;
  gsize n = 0;
  for (; *s; s++, n++)
    if ((guchar)*s < 0x20 || (guchar)*s >= 0x7f || n >= SDP_MAX_TOKEN)
      return FALSE;
  return TRUE;
}

/* Looks up key in an fmtp parameter list "a=1;b=2" and copies its value. */
static gboolean
sdp_fmtp_param (const char *fmtp, const char *key, char *val, gsize val_len)
{
  if (fmtp == NULL)
    return FALSE;
  gsize klen = strlen (key);
  const char *p = fmtp;
  while (*p)
    {
      while (*p == ' ' || *p == ';')
        p++;
      const char *end = strchr (p, ';');
      if (end == NULL)
        end = p + strlen (p);
      if ((gsize)(end - p) > klen && g_ascii_strncasecmp (p, key, klen) == 0
          && p[klen] == '=')
        {
          gsize n = (gsize)(end - p) - klen - 1;
          if (n >= val_len)
            return FALSE;
          memcpy (val, p + klen + 1, n);
          val[n] = '\0';
          return TRUE;
        }
      p = end;
    }
  return FALSE;
}

/* Whether the comma-separated list @v (RFC 4796's a=content values) holds @word. */
static gboolean
sdp_list_has (const char *v, const char *word)
{
  gsize n = strlen (word);
  for (const char *p = v; p && *p;)
    {
      const char *end = strchr (p, ',');
      gsize len = end ? (gsize)(end - p) : strlen (p);
      if (len == n && g_ascii_strncasecmp (p, word, n) == 0)
        return TRUE;
      p = end ? end + 1 : NULL;
    }
  return FALSE;
}

static void
sdp_scan_rtpmap (MediaScan *sc, const char *v)
{
  guint64 pt, clock, ch = 0;
  const char *p;
  if (!sdp_parse_uint (v, &p, 127, &pt) || *p != ' ')
    return;
  p++;
  const char *slash = strchr (p, '/');
  if (slash == NULL || slash == p || (gsize)(slash - p) >= sizeof sc->pts[0].name)
    return;
  const char *name = p;
  if (!sdp_parse_uint (slash + 1, &p, G_MAXUINT32, &clock))
    return;
  if (*p == '/' && !sdp_parse_uint (p + 1, &p, 255, &ch))
    return;
  PtInfo *i = &sc->pts[pt];
  i->mapped = TRUE;
  memcpy (i->name, name, (gsize)(slash - name));
  i->name[slash - name] = '\0';
  i->clock = (guint)clock;
  i->channels = (guint)ch;
}

static void
sdp_scan_fmtp (MediaScan *sc, const char *v)
{
  guint64 pt;
  const char *p;
  if (!sdp_parse_uint (v, &p, 127, &pt) || *p != ' ')
    return;
  PtInfo *i = &sc->pts[pt];
  i->fmtp = p + 1;
  char apt[8];
  guint64 a;
  if (sdp_fmtp_param (i->fmtp, "apt", apt, sizeof apt)
      && sdp_parse_uint (apt, &p, 127, &a) && *p == '\0')
    i->apt = (gint)a;
}

static void
sdp_scan_rtcp_fb (MediaScan *sc, const char *v)
{
  guint64 pt = 0;
  const char *p;
  gboolean all = v[0] == '*';
  if (all)
    p = v + 1;
  else if (!sdp_parse_uint (v, &p, 127, &pt))
    return;
  if (*p != ' ')
    return;
  p++;
  gboolean *nack = all ? &sc->fb_all_nack : &sc->pts[pt].nack;
  gboolean *pli = all ? &sc->fb_all_pli : &sc->pts[pt].pli;
  gboolean *fir = all ? &sc->fb_all_fir : &sc->pts[pt].fir;
  gboolean *twcc = all ? &sc->fb_all_twcc : &sc->pts[pt].twcc;
  gboolean *remb = all ? &sc->fb_all_remb : &sc->pts[pt].remb;
  if (strcmp (p, "transport-cc") == 0)
    *twcc = TRUE;
  else if (strcmp (p, "goog-remb") == 0)
    *remb = TRUE;
  else if (strcmp (p, "nack") == 0)
    *nack = TRUE;
  else if (strcmp (p, "nack pli") == 0)
    *pli = TRUE;
  else if (strcmp (p, "ccm fir") == 0)
    *fir = TRUE;
}

/* a=extmap:<id>[/<direction>] <uri>: only the transport-wide sequence number is
 * taken, and only with a one-byte ID (1..14), which every browser offers. */
static void
sdp_scan_extmap (MediaScan *sc, const char *v)
{
  guint64 id;
  const char *p;
  if (!sdp_parse_uint (v, &p, 255, &id) || id < 1 || id > 14)
    return;
  if (*p == '/')
    p = strchr (p, ' ');
  if (p == NULL || *p != ' ')
    return;
  if (strcmp (p + 1, MCU_TWCC_EXT_URI) == 0)
    sc->twcc_ext = (guint)id;
  /* RFC 6464 4: the URI may be followed by "vad=on|off" */
  gsize n = strlen (MCU_AUDIO_LEVEL_EXT_URI);
  if (strncmp (p + 1, MCU_AUDIO_LEVEL_EXT_URI, n) == 0
      && (p[1 + n] == '\0' || p[1 + n] == ' '))
    sc->level_ext = (guint)id;
}

static void
sdp_scan_ssrc (MediaScan *sc, const char *v)
{
  guint64 ssrc;
  if (!sdp_parse_uint (v, NULL, G_MAXUINT32, &ssrc))
    return;
  for (guint i = 0; i < sc->ssrcs->len; i++)
    if (g_array_index (sc->ssrcs, guint32, i) == (guint32)ssrc)
      return;
  if (sc->ssrcs->len < SDP_MAX_SSRCS)
    {
      guint32 s32 = (guint32)ssrc;
      g_array_append_val (sc->ssrcs, s32);
    }
}

static void
sdp_scan_init (MediaScan *sc)
{
  memset (sc, 0, sizeof *sc);
  for (guint i = 0; i < 128; i++)
    sc->pts[i].apt = -1;
  sc->ssrcs = g_array_new (FALSE, FALSE, sizeof (guint32));
  sc->candidates = g_ptr_array_new ();
}

static void
sdp_scan_clear (MediaScan *sc)
{
  g_array_unref (sc->ssrcs);
  g_ptr_array_unref (sc->candidates);
}

/* One pass over an m-line's attributes. Values stay borrowed from the message. */
static void
sdp_scan_media (const GstSDPMedia *m, MediaScan *sc)
{
  guint n = gst_sdp_media_attributes_len (m);
  for (guint i = 0; i < n; i++)
    {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, i);
      const char *k = a->key, *v = a->value;
      if (k == NULL)
        continue;
      if (strcmp (k, "rtcp-mux") == 0)
        sc->rtcp_mux = TRUE;
      else if (strcmp (k, "bundle-only") == 0)
        sc->bundle_only = TRUE;
      else if (strcmp (k, "sendrecv") == 0 || strcmp (k, "sendonly") == 0
               || strcmp (k, "recvonly") == 0 || strcmp (k, "inactive") == 0)
        sc->direction = k;
      else if (v == NULL)
        continue;
      else if (strcmp (k, "rtpmap") == 0)
        sdp_scan_rtpmap (sc, v);
      else if (strcmp (k, "fmtp") == 0)
        sdp_scan_fmtp (sc, v);
      else if (strcmp (k, "rtcp-fb") == 0)
        sdp_scan_rtcp_fb (sc, v);
      else if (strcmp (k, "ssrc") == 0)
        sdp_scan_ssrc (sc, v);
      else if (strcmp (k, "extmap") == 0)
        sdp_scan_extmap (sc, v);
      else if (strcmp (k, "mid") == 0 && sc->mid == NULL)
        sc->mid = v;
      else if (strcmp (k, "content") == 0)
        sc->slides |= sdp_list_has (v, "slides");
      else if (strcmp (k, "ice-ufrag") == 0 && sc->ufrag == NULL)
        sc->ufrag = v;
      else if (strcmp (k, "ice-pwd") == 0 && sc->pwd == NULL)
        sc->pwd = v;
      else if (strcmp (k, "fingerprint") == 0 && sc->fingerprint == NULL)
        sc->fingerprint = v;
      else if (strcmp (k, "setup") == 0 && sc->setup == NULL)
        sc->setup = v;
      else if (strcmp (k, "candidate") == 0)
        g_ptr_array_add (sc->candidates, (gpointer)v);
    }
}

/* A session-level direction attribute applies to m-lines without their own. */
static const char *
sdp_session_direction (const GstSDPMessage *msg)
{
  const char *dir = NULL;
  for (guint i = 0; i < gst_sdp_message_attributes_len (msg); i++)
    {
      const GstSDPAttribute *a = gst_sdp_message_get_attribute (msg, i);
      if (a->key
          && (strcmp (a->key, "sendrecv") == 0 || strcmp (a->key, "sendonly") == 0
              || strcmp (a->key, "recvonly") == 0 || strcmp (a->key, "inactive") == 0))
        dir = a->key;
    }
  return dir;
}

static const char *
sdp_session_attr (const GstSDPMessage *msg, const char *key)
{
  return gst_sdp_message_get_attribute_val (msg, key);
}

/* "sha-256 ab:cd:.." → "sha-256 AB:CD:..": hash name lower-case, hex upper-case,
 * so the transport can compare it with its own digest as a plain string. */
static char *
sdp_canonical_fingerprint (const char *v)
{
  if (v == NULL)
    return NULL;
  const char *sp = strchr (v, ' ');
  if (sp == NULL || sp == v || sp - v > 16)
    return NULL;
  const char *hex = sp + 1;
  gsize n = strlen (hex);
  if (n < 2 || n > 3 * 64)
    return NULL;
  for (gsize i = 0; i < n; i++)
    {
      gboolean colon = (i % 3) == 2;
      if (colon ? hex[i] != ':' : !g_ascii_isxdigit (hex[i]))
        return NULL;
    }
  if ((n + 1) % 3 != 0)
    return NULL;
  g_autofree char *name = g_ascii_strdown (v, sp - v);
  if (strcmp (name, "sha-1") != 0 && strcmp (name, "sha-256") != 0
      && strcmp (name, "sha-384") != 0 && strcmp (name, "sha-512") != 0)
    return NULL;
  g_autofree char *up = g_ascii_strup (hex, -1);
  return g_strdup_printf ("%s %s", name, up);
}

static gboolean
sdp_is_bundled (const char *group, const char *mid)
{
  if (group == NULL || mid == NULL || strncmp (group, "BUNDLE", 6) != 0)
    return FALSE;
  g_auto (GStrv) toks = g_strsplit (group + 6, " ", -1);
  for (guint i = 0; toks[i]; i++)
    if (strcmp (toks[i], mid) == 0)
      return TRUE;
  return FALSE;
}

/* Picks the payload type we take from an m-line: Opus/48000/2 for audio; VP8, else
 * H.264 with packetization-mode=1 (constrained baseline preferred), for video; in
 * the peer's order within a codec. Returns -1 when none fits. */
static gint
sdp_choose_pt (const GstSDPMedia *m, const MediaScan *sc, const char *kind)
{
  gint h264 = -1, h264_any = -1;
  for (guint f = 0; f < gst_sdp_media_formats_len (m); f++)
    {
      guint64 pt;
      const char *rest;
      if (!sdp_parse_uint (gst_sdp_media_get_format (m, f), &rest, 127, &pt)
          || *rest != '\0')
        continue;
      const PtInfo *i = &sc->pts[pt];
      if (!i->mapped)
        continue;
      if (strcmp (kind, "audio") == 0)
        {
          if (g_ascii_strcasecmp (i->name, "opus") == 0 && i->clock == 48000
              && i->channels == 2)
            return (gint)pt;
          continue;
        }
      if (i->clock != 90000)
        continue;
      if (g_ascii_strcasecmp (i->name, "VP8") == 0)
        return (gint)pt;
      char mode[8], plid[16];
      if (g_ascii_strcasecmp (i->name, "H264") == 0
          && sdp_fmtp_param (i->fmtp, "packetization-mode", mode, sizeof mode)
          && strcmp (mode, "1") == 0)
        {
          gboolean cb = sdp_fmtp_param (i->fmtp, "profile-level-id", plid, sizeof plid)
                        && g_ascii_strncasecmp (plid, "42e0", 4) == 0;
          if (cb && h264 < 0)
            h264 = (gint)pt;
          if (h264_any < 0)
            h264_any = (gint)pt;
        }
    }
  return h264 >= 0 ? h264 : h264_any;
}

static const char *
sdp_codec_name (const char *name)
{
  if (g_ascii_strcasecmp (name, "opus") == 0)
    return "opus";
  if (g_ascii_strcasecmp (name, "VP8") == 0)
    return "VP8";
  if (g_ascii_strcasecmp (name, "H264") == 0)
    return "H264";
  return NULL;
}

static gint
sdp_find_rtx (const MediaScan *sc, gint pt)
{
  for (guint i = 0; i < 128; i++)
    if (sc->pts[i].mapped && sc->pts[i].apt == pt
        && g_ascii_strcasecmp (sc->pts[i].name, "rtx") == 0)
      return (gint)i;
  return -1;
}

static SdpMedia *
sdp_media_new (guint index, const char *mid, const char *kind)
{
  SdpMedia *m = g_new0 (SdpMedia, 1);
  m->mid = g_strdup (mid ? mid : "");
  m->kind = g_strdup (kind ? kind : "");
  m->ssrcs = g_array_new (FALSE, FALSE, sizeof (guint32));
  m->pub.index = index;
  return m;
}

/* Fills the accepted fields of m from the scan for payload type pt. */
static void
sdp_media_accept (SdpMedia *m, const MediaScan *sc, gint pt, const char *direction)
{
  const PtInfo *i = &sc->pts[pt];
  m->pub.accepted = TRUE;
  m->pub.pt = (guint)pt;
  m->codec = g_strdup (sdp_codec_name (i->name));
  m->pub.clock_rate = i->clock;
  m->pub.channels = i->channels;
  m->fmtp = sdp_text_ok (i->fmtp) ? g_strdup (i->fmtp) : NULL;
  gint rtx = sdp_find_rtx (sc, pt);
  m->pub.rtx_pt = rtx > 0 ? (guint)rtx : 0;
  m->pub.nack = i->nack || sc->fb_all_nack;
  m->pub.pli = i->pli || sc->fb_all_pli;
  m->pub.fir = i->fir || sc->fb_all_fir;
  /* the extension is worth nothing without the feedback, nor the feedback without it */
  m->pub.transport_cc = sc->twcc_ext != 0 && (i->twcc || sc->fb_all_twcc);
  m->pub.twcc_ext_id = m->pub.transport_cc ? (guint8)sc->twcc_ext : 0;
  m->pub.remb = i->remb || sc->fb_all_remb;
  /* the mixer reads it to leave silent inputs undecoded (mcu/audio-mixer.h) */
  m->pub.audio_level_ext_id = strcmp (m->kind, "audio") == 0 ? (guint8)sc->level_ext : 0;
  g_array_append_vals (m->ssrcs, sc->ssrcs->data, sc->ssrcs->len);
  m->pub.content = sc->slides && strcmp (m->kind, "video") == 0;
  const char *d = direction ? direction : "sendrecv";
  m->pub.remote_sends = strcmp (d, "sendrecv") == 0 || strcmp (d, "sendonly") == 0;
  m->pub.remote_receives = strcmp (d, "sendrecv") == 0 || strcmp (d, "recvonly") == 0;
}

/* Which accepted video m-line carries the content: the first marked
 * a=content:slides, else the second accepted video m-line (a browser's second
 * video transceiver: browsers do not write a=content); every other is not. */
static void
sdp_choose_content (McuSdpSession *s)
{
  SdpMedia *marked = NULL, *second = NULL;
  guint n_video = 0;
  for (guint i = 0; i < s->media->len; i++)
    {
      SdpMedia *m = g_ptr_array_index (s->media, i);
      if (!m->pub.accepted || strcmp (m->kind, "video") != 0)
        continue;
      if (m->pub.content && marked == NULL)
        marked = m;
      if (++n_video == 2)
        second = m;
      m->pub.content = FALSE;
    }
  if (marked ? marked : second)
    (marked ? marked : second)->pub.content = TRUE;
}

static void
sdp_media_publish (SdpMedia *m)
{
  m->pub.mid = m->mid;
  m->pub.kind = m->kind;
  m->pub.codec = m->codec;
  m->pub.fmtp = m->fmtp;
  m->pub.remote_ssrcs = (const guint32 *)(void *)m->ssrcs->data;
  m->pub.n_remote_ssrcs = m->ssrcs->len;
}

static McuSdpSession *
sdp_session_new (void)
{
  McuSdpSession *s = g_new0 (McuSdpSession, 1);
  s->media = g_ptr_array_new_with_free_func (sdp_media_free);
  return s;
}

/* Takes the transport parameters from the bundle-tag m-line (media level first,
 * then session level) and checks them. */
static gboolean
sdp_take_transport (McuSdpSession *s, const GstSDPMessage *msg, const MediaScan *tag,
                    GError **error)
{
  const char *ufrag = tag->ufrag ? tag->ufrag : sdp_session_attr (msg, "ice-ufrag");
  const char *pwd = tag->pwd ? tag->pwd : sdp_session_attr (msg, "ice-pwd");
  const char *fp
      = tag->fingerprint ? tag->fingerprint : sdp_session_attr (msg, "fingerprint");
  const char *setup = tag->setup ? tag->setup : sdp_session_attr (msg, "setup");

  if (!sdp_token_ok (ufrag) || !sdp_token_ok (pwd))
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "SDP has no usable a=ice-ufrag / a=ice-pwd");
      return FALSE;
    }
  s->fingerprint = sdp_canonical_fingerprint (fp);
  if (s->fingerprint == NULL)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "SDP has no usable a=fingerprint (need e.g. \"sha-256 AB:CD:...\")");
      return FALSE;
    }
  if (setup == NULL)
    setup = "actpass";
  if (strcmp (setup, "active") != 0 && strcmp (setup, "passive") != 0
      && strcmp (setup, "actpass") != 0)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "SDP has an invalid a=setup");
      return FALSE;
    }
  s->ufrag = g_strdup (ufrag);
  s->pwd = g_strdup (pwd);
  s->setup = g_strdup (setup);
  GPtrArray *c = g_ptr_array_new ();
  for (guint i = 0; i < tag->candidates->len && i < 64; i++)
    g_ptr_array_add (
        c, g_strconcat (
               "candidate:", (const char *)g_ptr_array_index (tag->candidates, i), NULL));
  g_ptr_array_add (c, NULL);
  s->candidates = (GStrv)g_ptr_array_free (c, FALSE);
  return TRUE;
}

static gboolean
sdp_parse_text (const char *text, gsize len, GstSDPMessage **out, GError **error)
{
  if (text == NULL || len == 0 || len > SDP_MAX_LEN)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "SDP is empty or too large");
      return FALSE;
    }
  GstSDPMessage *msg = NULL;
  gst_sdp_message_new (&msg);
  if (gst_sdp_message_parse_buffer ((const guint8 *)text, (guint)len, msg) != GST_SDP_OK
      || gst_sdp_message_medias_len (msg) == 0)
    {
      gst_sdp_message_free (msg);
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "not an SDP with media lines");
      return FALSE;
    }
  if (gst_sdp_message_medias_len (msg) > SDP_MAX_MEDIA)
    {
      gst_sdp_message_free (msg);
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID, "SDP has more than %d m-lines",
                   SDP_MAX_MEDIA);
      return FALSE;
    }
  *out = msg;
  return TRUE;
}

/* ---- writing ---- */

/* gst_sdp_media_init() frees whatever the fields point at, so a stack struct must
 * be zeroed first. */
static void
sdp_media_init (GstSDPMedia *m)
{
  memset (m, 0, sizeof *m);
  gst_sdp_media_init (m);
}

static void
sdp_add_transport (GstSDPMedia *m, const McuSdpLocal *local, const char *setup,
                   gboolean with_candidates)
{
  gst_sdp_media_add_attribute (m, "ice-ufrag", local->ice_ufrag);
  gst_sdp_media_add_attribute (m, "ice-pwd", local->ice_pwd);
  gst_sdp_media_add_attribute (m, "ice-options", "trickle");
  gst_sdp_media_add_attribute (m, "fingerprint", local->fingerprint);
  gst_sdp_media_add_attribute (m, "setup", setup);
  if (with_candidates && local->candidates)
    for (guint i = 0; local->candidates[i]; i++)
      {
        const char *c = local->candidates[i];
        if (g_str_has_prefix (c, "a="))
          c += 2;
        if (g_str_has_prefix (c, "candidate:"))
          c += strlen ("candidate:");
        gst_sdp_media_add_attribute (m, "candidate", c);
      }
}

static void
sdp_add_codec (GstSDPMedia *m, guint pt, const char *name, guint clock, guint channels,
               const char *fmtp, gboolean nack, gboolean pli, gboolean fir, guint rtx_pt)
{
  g_autofree char *ptstr = g_strdup_printf ("%u", pt);
  g_autofree char *map = channels
                             ? g_strdup_printf ("%u %s/%u/%u", pt, name, clock, channels)
                             : g_strdup_printf ("%u %s/%u", pt, name, clock);
  gst_sdp_media_add_format (m, ptstr);
  gst_sdp_media_add_attribute (m, "rtpmap", map);
  if (nack)
    {
      g_autofree char *v = g_strdup_printf ("%u nack", pt);
      gst_sdp_media_add_attribute (m, "rtcp-fb", v);
    }
  if (pli)
    {
      g_autofree char *v = g_strdup_printf ("%u nack pli", pt);
      gst_sdp_media_add_attribute (m, "rtcp-fb", v);
    }
  if (fir)
    {
      g_autofree char *v = g_strdup_printf ("%u ccm fir", pt);
      gst_sdp_media_add_attribute (m, "rtcp-fb", v);
    }
  if (fmtp && *fmtp)
    {
      g_autofree char *v = g_strdup_printf ("%u %s", pt, fmtp);
      gst_sdp_media_add_attribute (m, "fmtp", v);
    }
  if (rtx_pt)
    {
      g_autofree char *rs = g_strdup_printf ("%u", rtx_pt);
      g_autofree char *rm = g_strdup_printf ("%u rtx/%u", rtx_pt, clock);
      g_autofree char *rf = g_strdup_printf ("%u apt=%u", rtx_pt, pt);
      gst_sdp_media_add_format (m, rs);
      gst_sdp_media_add_attribute (m, "rtpmap", rm);
      gst_sdp_media_add_attribute (m, "fmtp", rf);
    }
}

/* Congestion feedback for @pt (mcu/twcc.h, mcu/bwe.h): the transport-wide sequence
 * number extension under @ext_id and the feedback kinds agreed or offered. */
static void
sdp_add_congestion (GstSDPMedia *m, guint pt, guint ext_id, gboolean twcc, gboolean remb)
{
  if (ext_id)
    {
      g_autofree char *v = g_strdup_printf ("%u %s", ext_id, MCU_TWCC_EXT_URI);
      gst_sdp_media_add_attribute (m, "extmap", v);
    }
  if (twcc)
    {
      g_autofree char *v = g_strdup_printf ("%u transport-cc", pt);
      gst_sdp_media_add_attribute (m, "rtcp-fb", v);
    }
  if (remb)
    {
      g_autofree char *v = g_strdup_printf ("%u goog-remb", pt);
      gst_sdp_media_add_attribute (m, "rtcp-fb", v);
    }
}

/* The RFC 6464 audio level extension under @ext_id (0: none): what we receive may
 * carry it; the mix we send does not. */
static void
sdp_add_audio_level (GstSDPMedia *m, guint ext_id)
{
  if (ext_id)
    {
      g_autofree char *v = g_strdup_printf ("%u %s", ext_id, MCU_AUDIO_LEVEL_EXT_URI);
      gst_sdp_media_add_attribute (m, "extmap", v);
    }
}

/* Our SSRC lines; with @rtx_ssrc, the RTX stream's too and the FID group that ties
 * it to the stream it repairs (RFC 5576, as RFC 4588 section 8.3 uses it). */
static void
sdp_add_ssrc (GstSDPMedia *m, const McuSdpLocal *local, guint32 ssrc, guint32 rtx_ssrc,
              const char *kind)
{
  const char *cname = local->cname ? local->cname : "lienthong";
  const char *stream = local->msid_stream ? local->msid_stream : "lienthong";
  g_autofree char *msid = g_strdup_printf ("%s %s-%s", stream, stream, kind);
  gst_sdp_media_add_attribute (m, "msid", msid);
  if (rtx_ssrc)
    {
      g_autofree char *fid = g_strdup_printf ("FID %u %u", ssrc, rtx_ssrc);
      gst_sdp_media_add_attribute (m, "ssrc-group", fid);
    }
  guint32 ssrcs[2] = { ssrc, rtx_ssrc };
  for (guint i = 0; i < 2 && ssrcs[i]; i++)
    {
      g_autofree char *c = g_strdup_printf ("%u cname:%s", ssrcs[i], cname);
      g_autofree char *ms
          = g_strdup_printf ("%u msid:%s %s-%s", ssrcs[i], stream, stream, kind);
      gst_sdp_media_add_attribute (m, "ssrc", c);
      gst_sdp_media_add_attribute (m, "ssrc", ms);
    }
}

static GstSDPMessage *
sdp_new_message (void)
{
  GstSDPMessage *msg = NULL;
  gst_sdp_message_new (&msg);
  gst_sdp_message_set_version (msg, "0");
  g_autofree char *sess
      = g_strdup_printf ("%" G_GUINT64_FORMAT, (guint64)g_random_int () << 20
                                                   | g_random_int_range (0, 1 << 20));
  gst_sdp_message_set_origin (msg, "-", sess, "2", "IN", "IP4", "127.0.0.1");
  gst_sdp_message_set_session_name (msg, "-");
  gst_sdp_message_add_time (msg, "0", "0", NULL);
  return msg;
}

static const char *
sdp_direction (gboolean we_send, gboolean we_receive)
{
  if (we_send && we_receive)
    return "sendrecv";
  if (we_send)
    return "sendonly";
  if (we_receive)
    return "recvonly";
  return "inactive";
}

static void
sdp_add_rejected (GstSDPMessage *ans, const GstSDPMedia *off, const char *mid)
{
  GstSDPMedia m;
  sdp_media_init (&m);
  const char *kind = gst_sdp_media_get_media (off);
  const char *proto = gst_sdp_media_get_proto (off);
  gst_sdp_media_set_media (&m, sdp_token_ok (kind) ? kind : "unknown");
  gst_sdp_media_set_port_info (&m, 0, 1);
  gst_sdp_media_set_proto (&m, sdp_token_ok (proto) ? proto : SDP_PROTO);
  const char *fmt
      = gst_sdp_media_formats_len (off) > 0 ? gst_sdp_media_get_format (off, 0) : NULL;
  gst_sdp_media_add_format (&m, sdp_token_ok (fmt) ? fmt : "0");
  gst_sdp_media_add_connection (&m, "IN", "IP4", "0.0.0.0", 0, 0);
  if (mid)
    gst_sdp_media_add_attribute (&m, "mid", mid);
  gst_sdp_message_add_media (ans, &m);
}

/* Writes the answer's m-line for an accepted offer m-line. */
static void
sdp_add_accepted (GstSDPMessage *ans, const McuSdpMedia *pm, const McuSdpLocal *local,
                  const char *setup, gboolean first, guint32 our_ssrc, guint32 rtx_ssrc)
{
  GstSDPMedia m;
  sdp_media_init (&m);
  gst_sdp_media_set_media (&m, pm->kind);
  gst_sdp_media_set_port_info (&m, 9, 1);
  gst_sdp_media_set_proto (&m, SDP_PROTO);
  gst_sdp_media_add_connection (&m, "IN", "IP4", "0.0.0.0", 0, 0);
  sdp_add_transport (&m, local, setup, first);
  if (pm->mid[0])
    gst_sdp_media_add_attribute (&m, "mid", pm->mid);
  if (pm->content)
    gst_sdp_media_add_attribute (&m, "content", "slides");
  gboolean we_send = our_ssrc != 0 && pm->remote_receives;
  gst_sdp_media_add_attribute (&m, sdp_direction (we_send, pm->remote_sends), NULL);
  gst_sdp_media_add_attribute (&m, "rtcp-mux", NULL);
  sdp_add_codec (&m, pm->pt, pm->codec, pm->clock_rate, pm->channels, pm->fmtp, pm->nack,
                 pm->pli, pm->fir, pm->rtx_pt);
  sdp_add_congestion (&m, pm->pt, pm->twcc_ext_id, pm->transport_cc, pm->remb);
  sdp_add_audio_level (&m, pm->audio_level_ext_id);
  if (we_send)
    sdp_add_ssrc (&m, local, our_ssrc, pm->rtx_pt ? rtx_ssrc : 0,
                  pm->content ? "content" : pm->kind);
  gst_sdp_message_add_media (ans, &m);
}

static gboolean
sdp_local_ok (const McuSdpLocal *local)
{
  return local && sdp_token_ok (local->ice_ufrag) && sdp_token_ok (local->ice_pwd)
         && local->fingerprint && strchr (local->fingerprint, ' ') != NULL;
}

/* Negotiates one offer m-line into m (accepted or not). Returns FALSE with error
 * when the offer must be refused as a whole (a media line without rtcp-mux). */
static gboolean
sdp_negotiate_media (const GstSDPMedia *om, const MediaScan *sc, const char *group,
                     gboolean have_bundle_tag, SdpMedia *m, GError **error)
{
  const char *kind = m->kind;
  gboolean av = strcmp (kind, "audio") == 0 || strcmp (kind, "video") == 0;
  const char *proto = gst_sdp_media_get_proto (om);
  /* A bundle-only m-line (max-bundle offers) has port 0 yet is not rejected. */
  gboolean port_zero = gst_sdp_media_get_port (om) == 0 && !(sc->bundle_only && group);
  if (!av || port_zero || proto == NULL || strcmp (proto, SDP_PROTO) != 0)
    return TRUE;
  /* One transport only: with a BUNDLE group we take its members; without one, only
   * the first media line we can serve. */
  if (group ? !sdp_is_bundled (group, sc->mid) : have_bundle_tag)
    return TRUE;
  if (!sc->rtcp_mux)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_UNSUPPORTED,
                   "offer m-line %u (%s) lacks a=rtcp-mux, which is required",
                   m->pub.index, kind);
      return FALSE;
    }
  gint pt = sdp_choose_pt (om, sc, kind);
  if (pt < 0)
    return TRUE;
  sdp_media_accept (m, sc, pt, sc->direction);
  return TRUE;
}

McuSdpSession *
mcu_sdp_answer_offer (const char *offer, gsize len, const McuSdpLocal *local,
                      char **answer_out, GError **error)
{
  g_return_val_if_fail (sdp_local_ok (local), NULL);
  g_return_val_if_fail (answer_out != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  *answer_out = NULL;

  GstSDPMessage *msg = NULL;
  if (!sdp_parse_text (offer, len, &msg, error))
    return NULL;
  g_autoptr (GstSDPMessage) owned = msg;
  g_autoptr (McuSdpSession) s = sdp_session_new ();
  const char *group = sdp_session_attr (msg, "group");
  if (group && !g_str_has_prefix (group, "BUNDLE"))
    group = NULL;
  const char *sess_dir = sdp_session_direction (msg);

  gboolean have_tag = FALSE;
  MediaScan tag;
  sdp_scan_init (&tag);
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++)
    {
      const GstSDPMedia *om = gst_sdp_message_get_media (msg, i);
      MediaScan sc;
      sdp_scan_init (&sc);
      sdp_scan_media (om, &sc);
      if (sc.direction == NULL)
        sc.direction = sess_dir;
      const char *mid = sdp_token_ok (sc.mid) ? sc.mid : NULL;
      sc.mid = mid;
      SdpMedia *m = sdp_media_new (i, mid, gst_sdp_media_get_media (om));
      g_ptr_array_add (s->media, m);
      gboolean ok = sdp_negotiate_media (om, &sc, group, have_tag, m, error);
      if (ok && m->pub.accepted && !have_tag)
        {
          /* The first accepted m-line is our bundle tag: its transport is the one. */
          sdp_scan_clear (&tag);
          tag = sc;
          have_tag = TRUE;
        }
      else
        sdp_scan_clear (&sc);
      if (!ok)
        {
          sdp_scan_clear (&tag);
          return NULL;
        }
    }
  if (!have_tag)
    {
      /* Nothing to accept: still check the transport so garbage is refused. */
      const GstSDPMedia *om = gst_sdp_message_get_media (msg, 0);
      sdp_scan_media (om, &tag);
    }
  gboolean ok = sdp_take_transport (s, msg, &tag, error);
  sdp_scan_clear (&tag);
  if (!ok)
    return NULL;

  /* The opposite of a fixed role. To "actpass", "active" (RFC 5763 5: the answerer
   * should be the DTLS client) unless the caller asks for "passive": as DTLS
   * server we choose the SRTP profile by our preference (GCM), where browsers as
   * servers may pick AES-CM, which costs the node three times the CPU. */
  if (strcmp (s->setup, "actpass") == 0)
    s->local_setup
        = g_strdup (g_strcmp0 (local->setup, "passive") == 0 ? "passive" : "active");
  else
    s->local_setup = g_strdup (strcmp (s->setup, "active") == 0 ? "passive" : "active");

  sdp_choose_content (s);
  g_autoptr (GstSDPMessage) ans = sdp_new_message ();
  GString *bundle = g_string_new ("BUNDLE");
  gboolean first = TRUE, sent_audio = FALSE, sent_video = FALSE;
  guint n_bundled = 0;
  for (guint i = 0; i < s->media->len; i++)
    {
      SdpMedia *m = g_ptr_array_index (s->media, i);
      sdp_media_publish (m);
      const GstSDPMedia *om = gst_sdp_message_get_media (msg, i);
      if (!m->pub.accepted)
        {
          sdp_add_rejected (ans, om, m->mid[0] ? m->mid : NULL);
          continue;
        }
      gboolean audio = strcmp (m->kind, "audio") == 0;
      /* audio NACKs are answered on an RTX stream only (router.c): a NACK we would
       * not answer is not accepted, nor an rtx nobody asks for */
      if (local->no_retransmission
          || (audio && (local->audio_rtx_ssrc == 0 || !m->pub.rtx_pt || !m->pub.nack)))
        m->pub.rtx_pt = 0, m->pub.nack = FALSE;
      guint32 ssrc = 0, rtx_ssrc = 0;
      if (m->pub.content)
        ssrc = local->content_ssrc, rtx_ssrc = local->content_rtx_ssrc;
      else if (audio && !sent_audio)
        {
          ssrc = local->audio_ssrc, rtx_ssrc = local->audio_rtx_ssrc;
          sent_audio = ssrc != 0 && m->pub.remote_receives;
        }
      else if (!audio && !sent_video)
        {
          ssrc = local->video_ssrc, rtx_ssrc = local->video_rtx_ssrc;
          sent_video = ssrc != 0 && m->pub.remote_receives;
        }
      sdp_add_accepted (ans, &m->pub, local, s->local_setup, first, ssrc, rtx_ssrc);
      if (m->mid[0])
        g_string_append_printf (bundle, " %s", m->mid), n_bundled++;
      first = FALSE;
    }
  if (n_bundled > 0)
    gst_sdp_message_add_attribute (ans, "group", bundle->str);
  g_string_free (bundle, TRUE);
  gst_sdp_message_add_attribute (ans, "msid-semantic", " WMS *");
  *answer_out = gst_sdp_message_as_text (ans);
  return g_steal_pointer (&s);
}

char *
mcu_sdp_create_offer (const McuSdpLocal *local)
{
  g_return_val_if_fail (sdp_local_ok (local), NULL);
  const char *setup = local->setup ? local->setup : "actpass";
  gboolean rtx_off = local->no_retransmission;
  g_autoptr (GstSDPMessage) msg = sdp_new_message ();
  gboolean content = local->content_ssrc != 0;
  gst_sdp_message_add_attribute (msg, "group", content ? "BUNDLE 0 1 2" : "BUNDLE 0 1");
  gst_sdp_message_add_attribute (msg, "msid-semantic", " WMS *");

  const char *kinds[3] = { "audio", "video", "video" };
  const char *labels[3] = { "audio", "video", "content" };
  guint32 ssrcs[3] = { local->audio_ssrc, local->video_ssrc, local->content_ssrc };
  guint32 rtx_ssrcs[3] = { 0, local->video_rtx_ssrc, local->content_rtx_ssrc };
  for (guint k = 0; k < (content ? 3u : 2u); k++)
    {
      GstSDPMedia m;
      sdp_media_init (&m);
      gst_sdp_media_set_media (&m, kinds[k]);
      gst_sdp_media_set_port_info (&m, 9, 1);
      gst_sdp_media_set_proto (&m, SDP_PROTO);
      gst_sdp_media_add_connection (&m, "IN", "IP4", "0.0.0.0", 0, 0);
      sdp_add_transport (&m, local, setup, k == 0);
      g_autofree char *mid = g_strdup_printf ("%u", k);
      gst_sdp_media_add_attribute (&m, "mid", mid);
      if (k == 2)
        gst_sdp_media_add_attribute (&m, "content", "slides");
      gst_sdp_media_add_attribute (&m, ssrcs[k] ? "sendrecv" : "recvonly", NULL);
      gst_sdp_media_add_attribute (&m, "rtcp-mux", NULL);
      if (k == 0)
        {
          sdp_add_codec (&m, 111, "opus", 48000, 2, "minptime=10;useinbandfec=1", FALSE,
                         FALSE, FALSE, 0);
          sdp_add_congestion (&m, 111, SDP_OFFER_TWCC_EXT, TRUE, FALSE);
          sdp_add_audio_level (&m, SDP_OFFER_LEVEL_EXT);
        }
      else
        {
          sdp_add_codec (&m, 96, "VP8", 90000, 0, NULL, !rtx_off, TRUE, TRUE,
                         rtx_off ? 0 : 97);
          sdp_add_codec (&m, 102, "H264", 90000, 0,
                         "level-asymmetry-allowed=1;packetization-mode=1;"
                         "profile-level-id=42e01f",
                         !rtx_off, TRUE, TRUE, rtx_off ? 0 : 103);
          sdp_add_congestion (&m, 96, SDP_OFFER_TWCC_EXT, TRUE, TRUE);
          sdp_add_congestion (&m, 102, 0, TRUE, TRUE);
        }
      if (ssrcs[k])
        sdp_add_ssrc (&m, local, ssrcs[k], k > 0 && !rtx_off ? rtx_ssrcs[k] : 0,
                      labels[k]);
      gst_sdp_message_add_media (msg, &m);
    }
  return gst_sdp_message_as_text (msg);
}

McuSdpSession *
mcu_sdp_accept_answer (const char *answer, gsize len, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  GstSDPMessage *msg = NULL;
  if (!sdp_parse_text (answer, len, &msg, error))
    return NULL;
  g_autoptr (GstSDPMessage) owned = msg;
  g_autoptr (McuSdpSession) s = sdp_session_new ();
  const char *group = sdp_session_attr (msg, "group");
  if (group && !g_str_has_prefix (group, "BUNDLE"))
    group = NULL;

  gboolean have_tag = FALSE;
  MediaScan tag;
  sdp_scan_init (&tag);
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++)
    {
      const GstSDPMedia *am = gst_sdp_message_get_media (msg, i);
      MediaScan sc;
      sdp_scan_init (&sc);
      sdp_scan_media (am, &sc);
      sc.mid = sdp_token_ok (sc.mid) ? sc.mid : NULL;
      SdpMedia *m = sdp_media_new (i, sc.mid, gst_sdp_media_get_media (am));
      g_ptr_array_add (s->media, m);
      gboolean ok = TRUE;
      /* The answer names one codec first: take it if it is one we offered. */
      guint64 pt;
      const char *rest;
      if (gst_sdp_media_get_port (am) != 0 && gst_sdp_media_formats_len (am) > 0
          && sdp_parse_uint (gst_sdp_media_get_format (am, 0), &rest, 127, &pt)
          && *rest == '\0' && sc.pts[pt].mapped && sdp_codec_name (sc.pts[pt].name))
        {
          if (!sc.rtcp_mux)
            {
              g_set_error (error, MCU_ERROR, MCU_ERROR_UNSUPPORTED,
                           "answer m-line %u lacks a=rtcp-mux, which is required", i);
              ok = FALSE;
            }
          else
            sdp_media_accept (m, &sc, (gint)pt, sc.direction);
        }
      if (ok && m->pub.accepted && !have_tag)
        {
          sdp_scan_clear (&tag);
          tag = sc;
          have_tag = TRUE;
        }
      else
        sdp_scan_clear (&sc);
      if (!ok)
        {
          sdp_scan_clear (&tag);
          return NULL;
        }
    }
  if (!have_tag)
    sdp_scan_media (gst_sdp_message_get_media (msg, 0), &tag);
  gboolean ok = sdp_take_transport (s, msg, &tag, error);
  sdp_scan_clear (&tag);
  if (!ok)
    return NULL;
  if (strcmp (s->setup, "actpass") == 0)
    {
      g_set_error (error, MCU_ERROR, MCU_ERROR_INVALID,
                   "an answer must choose a=setup:active or passive, not actpass");
      return NULL;
    }
  s->local_setup = g_strdup (strcmp (s->setup, "active") == 0 ? "passive" : "active");
  sdp_choose_content (s);
  for (guint i = 0; i < s->media->len; i++)
    sdp_media_publish (g_ptr_array_index (s->media, i));
  return g_steal_pointer (&s);
}

const char *
mcu_sdp_session_remote_ufrag (const McuSdpSession *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->ufrag;
}

const char *
mcu_sdp_session_remote_pwd (const McuSdpSession *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->pwd;
}

const char *
mcu_sdp_session_remote_fingerprint (const McuSdpSession *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->fingerprint;
}

const char *
mcu_sdp_session_remote_setup (const McuSdpSession *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->setup;
}

const char *
mcu_sdp_session_local_setup (const McuSdpSession *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->local_setup;
}

const char *const *
mcu_sdp_session_remote_candidates (const McuSdpSession *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return (const char *const *)s->candidates;
}

guint
mcu_sdp_session_n_media (const McuSdpSession *s)
{
  g_return_val_if_fail (s != NULL, 0);
  return s->media->len;
}

const McuSdpMedia *
mcu_sdp_session_media (const McuSdpSession *s, guint i)
{
  g_return_val_if_fail (s != NULL, NULL);
  if (i >= s->media->len)
    return NULL;
  return &((SdpMedia *)g_ptr_array_index (s->media, i))->pub;
}
