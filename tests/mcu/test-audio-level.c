/* Suite mcu-audio-level: proves what the reader of the loudness a packet declares
 * (mcu/audio-level.h) takes and what it refuses. The RFC 6464 element is read in
 * the one-byte and two-byte forms, its V flag and level exactly; an element under
 * another ID, or none, leaves DTX (a one- or two-byte payload) as the only signal;
 * an element of the wrong length under our ID, an element or a block that runs past
 * its end, and bytes that are not RTP tell nothing, even where the payload looks
 * like DTX; Opus durations come from the TOC and code 3's frame count. */
#include "audio-level.h"
#include "lt-test.h"

#include <string.h>

typedef struct
{
  const char *what;
  guint8 ext_id;
  const guint8 *pkt;
  gsize len;
  McuAudioLevelSource source;
  gint db;
  gboolean voice;
  guint samples;
} Case;

/* RTP header (PT 111, X as given) */
#define HDR(x) \
  0x80 | ((x) ? 0x10 : 0), 111, 0x03, 0xe8, 0, 0, 0xbb, 0x80, 0, 0, 0x12, 0x34

static const guint8 one_byte[]
    = { HDR (1), 0xbe, 0xde, 0, 2, 0x32, 0, 1, 2, 0x10, 0x9e, 0, 0, 0x78, 1, 2, 3 };
static const guint8 silent[]
    = { HDR (1), 0xbe, 0xde, 0, 1, 0x10, 0x7f, 0, 0, 0x78, 1, 2 };
static const guint8 two_byte[] = { HDR (1), 0x10, 0x00, 0, 1, 5, 1, 0x8a, 0, 0xf8, 1 };
static const guint8 wrong_len[]
    = { HDR (1), 0xbe, 0xde, 0, 1, 0x11, 0x7f, 0x7f, 0, 0xf8 };
static const guint8 past_block[] = { HDR (1), 0xbe, 0xde, 0, 1, 0x1f, 0, 0, 0, 0xf8 };
static const guint8 past_packet[] = { HDR (1), 0xbe, 0xde, 0, 9, 0x10, 0x05 };
static const guint8 dtx[] = { HDR (0), 0xf8 };
static const guint8 dtx_other[]
    = { HDR (1), 0xbe, 0xde, 0, 1, 0x30, 7, 0, 0, 0xf8, 0xff };
static const guint8 plain[] = { HDR (0), 0x78, 1, 2, 3 };
static const guint8 code3[] = { HDR (0), 0xfb, 0x06, 0, 0, 0 };
static const guint8 code3_long[] = { HDR (0), 0x1b, 0x3f, 0, 0, 0 };
static const guint8 short_pkt[] = { 0x80, 111, 0, 1 };

#define PKT(a) a, sizeof a

static const Case cases[] = {
  { "one-byte element, V set, 30 dBov", 1, PKT (one_byte), MCU_AUDIO_LEVEL_EXT, -30, TRUE,
    960 },
  { "one-byte element, silence", 1, PKT (silent), MCU_AUDIO_LEVEL_EXT, -127, FALSE, 960 },
  { "two-byte element", 5, PKT (two_byte), MCU_AUDIO_LEVEL_EXT, -10, TRUE, 960 },
  { "the element is not ours", 2, PKT (one_byte), MCU_AUDIO_LEVEL_UNKNOWN, 0, FALSE,
    960 },
  { "none negotiated", 0, PKT (silent), MCU_AUDIO_LEVEL_UNKNOWN, 0, FALSE, 960 },
  { "two bytes under our ID", 1, PKT (wrong_len), MCU_AUDIO_LEVEL_UNKNOWN, 0, FALSE,
    960 },
  { "element past its block", 1, PKT (past_block), MCU_AUDIO_LEVEL_UNKNOWN, 0, FALSE,
    960 },
  { "block past the packet", 1, PKT (past_packet), MCU_AUDIO_LEVEL_UNKNOWN, 0, FALSE, 0 },
  { "DTX, no extension", 1, PKT (dtx), MCU_AUDIO_LEVEL_DTX, -127, FALSE, 960 },
  { "DTX beside another element", 1, PKT (dtx_other), MCU_AUDIO_LEVEL_DTX, -127, FALSE,
    960 },
  { "speech, no extension", 1, PKT (plain), MCU_AUDIO_LEVEL_UNKNOWN, 0, FALSE, 960 },
  { "code 3, six 20 ms frames", 0, PKT (code3), MCU_AUDIO_LEVEL_UNKNOWN, 0, FALSE, 5760 },
  { "code 3, 63 frames: past 120 ms", 0, PKT (code3_long), MCU_AUDIO_LEVEL_UNKNOWN, 0,
    FALSE, 0 },
  { "not RTP", 1, PKT (short_pkt), MCU_AUDIO_LEVEL_UNKNOWN, 0, FALSE, 0 },
};

START_TEST (test_read)
{
  const Case *c = &cases[_i];
  /* a copy of exactly its size, so that a read past it is a sanitizer report */
  guint8 *pkt = g_memdup2 (c->pkt, c->len);
  McuAudioLevel lv;
  McuAudioLevelSource s = mcu_audio_level_read (pkt, c->len, c->ext_id, &lv);
  ck_assert_msg (s == c->source && lv.source == s, "%s: source %d", c->what, s);
  ck_assert_msg (lv.db == c->db, "%s: %d dBov", c->what, lv.db);
  ck_assert_msg (lv.voice == c->voice, "%s: voice %d", c->what, lv.voice);
  ck_assert_msg (lv.samples == c->samples, "%s: %u samples", c->what, lv.samples);
  g_free (pkt);
}
END_TEST

START_TEST (test_opus_samples)
{
  static const struct
  {
    guint8 toc[2];
    gsize len;
    guint samples;
  } t[] = {
    { { 0x00 }, 1, 480 },        /* SILK NB 10 ms */
    { { 0x18 }, 1, 2880 },       /* SILK 60 ms */
    { { 0x19 }, 1, 5760 },       /* SILK 60 ms, two frames */
    { { 0x60 }, 1, 480 },        /* hybrid 10 ms */
    { { 0x68 }, 1, 960 },        /* hybrid 20 ms */
    { { 0x80 }, 1, 120 },        /* CELT 2.5 ms */
    { { 0xfa }, 1, 1920 },       /* CELT 20 ms, code 2 */
    { { 0xfb, 0x03 }, 2, 2880 }, /* code 3, three frames */
    { { 0xfb, 0x00 }, 2, 0 },    /* code 3, no frame */
    { { 0xfb }, 1, 0 },          /* code 3 without its count */
    { { 0 }, 0, 0 },             /* empty */
  };
  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    ck_assert_msg (mcu_audio_level_opus_samples (t[i].toc, t[i].len) == t[i].samples,
                   "case %u", i);
  ck_assert_uint_eq (mcu_audio_level_opus_samples (NULL, 4), 0);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("mcu-audio-level");
  TCase *tc = tcase_create ("read");
  tcase_add_loop_test (tc, test_read, 0, G_N_ELEMENTS (cases));
  tcase_add_test (tc, test_opus_samples);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
