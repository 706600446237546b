/* sig-links.c: the link-quality side of signald (issue 7).
 *
 * Every `stats` message of a node carries, per endpoint of one occurrence, a windowed
 * view of both directions (mcu/quality.h). Each (occurrence, node, endpoint) is a
 * "leg" here, with id "<occurrence>:<node>:<endpoint>" (e.g. "12:076:site:17",
 * "12:08:node:076"); each direction keeps a ring of 450 compact 2 s samples, 15
 * minutes. The same samples drive, on the nodes' clock (the `t` of the messages, so
 * tests control time by what they send), the very-bad alarm and automatic step-down
 * of a site's level, both with hysteresis from the [quality] configuration. */
#include "sig-links.h"

#include "sig-alarms.h"
#include "sig-error.h"
#include "sig-validate.h"
#include "sig-runtime-private.h"

#include <math.h>
#include <string.h>

#define U16_UNKNOWN 0xffff

/* One 2 s sample of one direction: 16 bytes. Unknown values are U16_UNKNOWN, a mos
 * of 0 and a grade of -1. */
typedef struct
{
  guint32 t;       /* node's unix seconds */
  guint16 loss_cp; /* loss in hundredths of a percent */
  guint16 jit_ms;
  guint16 rtt_ms;
  guint16 kbps;
  guint16 lost; /* packets lost in the window, clamped */
  guint8 mos50; /* MOS times 50 */
  gint8 grade;  /* 0 good .. 3 very bad, -1 unknown */
} Sample;

G_STATIC_ASSERT (sizeof (Sample) == 16);

typedef struct
{
  Sample s[SIG_LINKS_HISTORY];
  guint16 head; /* next slot to write */
  guint16 n;
} Ring;

enum
{
  KIND_SITE,
  KIND_LINK
};
static const char *const kind_names[] = { "site", "link" };
enum
{
  LEVEL_FULL,
  LEVEL_LOW,
  LEVEL_AUDIO,
  LEVEL_UNKNOWN
};
static const char *const level_names[] = { "full", "low", "audio" };
/* what a site gets of the content, as its node reports it ("content":{"gets":..}) */
static const char *const content_names[] = { "full", "stills", "none" };
#define CONTENT_UNKNOWN 0xff

typedef struct
{
  char *id;
  gint64 occurrence_id;
  char *node_id;
  char *endpoint;
  gint64 site_id;   /* site legs, else 0 */
  const char *srtp; /* interned, nullable */
  /* the selected ICE pair's candidate types, static strings ("host", "srflx",
   * "prflx", "relay"), NULL until a node reported one */
  const char *pair_local, *pair_remote;
  /* of the last report, per direction (not kept in the history: the samples stay
   * 16 bytes): concealed audio in hundredths of a percent, the frozen video time in
   * ms (U16_UNKNOWN unknown), and frozen now (1), not (0) or unknown (-1) */
  guint16 conc_cp[2], frz_ms[2];
  gint8 frozen[2];
  /* retransmission of the last report, counted since the member joined (-1
   * unknown): its packets we found missing and those its retransmissions filled;
   * the numbers it asked us for and the packets we answered with */
  gint32 up_lost, up_recovered, down_asked, down_answered;
  /* its downlink estimate and what we send it, kbit/s (U16_UNKNOWN unknown), and
   * whether the estimate holds it back (1), not (0), unknown (-1); whether that
   * estimate comes from transport-cc feedback (1) or from reports alone (0) */
  guint16 cc_estimate_kbps, cc_sent_kbps;
  gint8 cc_limited, cc_twcc;
  /* sites: the level the node sends it, from its downlink estimate ("cc" of the
   * node's report), as an index into level_names; LEVEL_UNKNOWN until reported */
  guint8 node_level;
  guint8 content_gets;  /* sites: an index into content_names, CONTENT_UNKNOWN */
  const char *tier;     /* interned, label of the metrics */
  const char *province; /* interned, label of the metrics */
  guint8 kind;
  /* hysteresis on sample time: when the current bad or good run began (0: none) */
  gint64 alarm_bad_since, alarm_good_since;
  gint64 step_bad_since, step_good_since;
  Ring dir[2]; /* 0: up (what the node receives), 1: down (what the endpoint does) */
} Leg;

typedef struct
{
  gint64 occurrence_id;
  gint64 meeting_id;
  GHashTable *legs; /* id -> Leg*, owned */
} Occ;

#define N_BUCKETS 9
static const double rtt_buckets[N_BUCKETS]
    = { 25, 50, 100, 150, 200, 300, 500, 1000, 2000 };
static const double jit_buckets[N_BUCKETS]
    = { 0.005, 0.01, 0.02, 0.03, 0.04, 0.06, 0.1, 0.2, 0.5 }; /* seconds */

typedef struct
{
  guint64 counts[N_BUCKETS + 1];
  double sum;
  guint64 n;
} Histogram;

struct _SigLinks
{
  SigRuntime *rt;
  GHashTable *occs; /* gint64* occurrence id -> Occ* */
  gint64 raise_after, clear_after, stepdown_after, stepup_after;
  Histogram rtt[2], jit[2]; /* by kind */
  GHashTable *lost;         /* "kind\ttier\tprovince" -> guint64* packets lost */
  GHashTable *node_labels;  /* node id -> "tier\tprovince" */
};

/* The level the session keeps for @leg's site (sig-cascade.c holds the one copy), as
 * an index into level_names; @pinned (optional): set by a person. */
static guint8
site_level (SigLinks *l, const Leg *leg, gboolean *pinned)
{
  const char *name
      = sig_cascade_site_level (l->rt, leg->occurrence_id, leg->site_id, pinned);
  for (guint8 i = 0; name && i < G_N_ELEMENTS (level_names); i++)
    if (g_str_equal (name, level_names[i]))
      return i;
  return LEVEL_FULL;
}

static void
leg_free (gpointer p)
{
  Leg *l = p;
  g_free (l->id);
  g_free (l->node_id);
  g_free (l->endpoint);
  g_free (l);
}

static void
occ_free (gpointer p)
{
  Occ *o = p;
  g_hash_table_unref (o->legs);
  g_free (o);
}

gsize
sig_links_leg_bytes (void)
{
  /* the struct, its three strings (about 40 bytes) and a hash table slot */
  return sizeof (Leg) + 40 + 3 * sizeof (gpointer);
}

/* Checks one [quality] value the caller read (absent: keep the default). The keys
 * are read by literal name, since tests/deploy checks that every key read is in
 * lienthong.conf(5). The caller frees @local. */
static gboolean
take_seconds (const char *key, gboolean present, gint64 v, GError *local, gint64 *out,
              GError **error)
{
  if (!present)
    return TRUE;
  if (local != NULL || v < 0 || v > 86400)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "[quality] %s must be seconds from 0 to 86400", key);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
read_quality_config (SigLinks *l, GKeyFile *kf, GError **error)
{
  GError *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
  gboolean p1 = kf && g_key_file_has_key (kf, "quality", "raise-after", NULL);
  gboolean p2 = kf && g_key_file_has_key (kf, "quality", "clear-after", NULL);
  gboolean p3 = kf && g_key_file_has_key (kf, "quality", "stepdown-after", NULL);
  gboolean p4 = kf && g_key_file_has_key (kf, "quality", "stepup-after", NULL);
  gint64 v1 = p1 ? g_key_file_get_int64 (kf, "quality", "raise-after", &e1) : 0;
  gint64 v2 = p2 ? g_key_file_get_int64 (kf, "quality", "clear-after", &e2) : 0;
  gint64 v3 = p3 ? g_key_file_get_int64 (kf, "quality", "stepdown-after", &e3) : 0;
  gint64 v4 = p4 ? g_key_file_get_int64 (kf, "quality", "stepup-after", &e4) : 0;
  gboolean ok = take_seconds ("raise-after", p1, v1, e1, &l->raise_after, error)
                && take_seconds ("clear-after", p2, v2, e2, &l->clear_after, error)
                && take_seconds ("stepdown-after", p3, v3, e3, &l->stepdown_after, error)
                && take_seconds ("stepup-after", p4, v4, e4, &l->stepup_after, error);
  g_clear_error (&e1);
  g_clear_error (&e2);
  g_clear_error (&e3);
  g_clear_error (&e4);
  return ok;
}

SigLinks *
sig_links_new (SigRuntime *rt, GError **error)
{
  SigLinks *l = g_new0 (SigLinks, 1);
  l->rt = rt;
  l->raise_after = 10;
  l->clear_after = 30;
  l->stepdown_after = 10;
  l->stepup_after = 30;
  GKeyFile *kf = rt->config->keyfile;
  if (!read_quality_config (l, kf, error))
    {
      g_free (l);
      return NULL;
    }
  l->occs = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, occ_free);
  l->lost = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  l->node_labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return l;
}

void
sig_links_free (SigLinks *l)
{
  if (l == NULL)
    return;
  g_hash_table_unref (l->occs);
  g_hash_table_unref (l->lost);
  g_hash_table_unref (l->node_labels);
  g_free (l);
}

/* ---- labels ---- */

/* Why tier and province and nothing finer: one series per site would be 11,000 per
 * metric in a national meeting; these two give IT staff the map at a glance. */
static void
unit_labels (RoomsStore *store, const char *code, const char **tier,
             const char **province)
{
  RoomsUnit *u = code ? rooms_store_get_unit (store, code) : NULL;
  *tier = g_intern_string (u ? rooms_unit_get_tier (u) : "unknown");
  while (u && rooms_unit_get_depth (u) > 1)
    u = rooms_unit_get_parent (u);
  *province = g_intern_string (
      u && rooms_unit_get_depth (u) == 1 ? rooms_unit_get_code (u) : "none");
}

static void
node_labels (SigLinks *l, const char *node_id, const char **tier, const char **province)
{
  g_autoptr (GPtrArray) nodes = rooms_store_list_nodes (l->rt->store);
  const char *unit = NULL;
  for (guint i = 0; nodes && i < nodes->len; i++)
    if (g_str_equal (rooms_node_get_id (nodes->pdata[i]), node_id))
      unit = rooms_node_get_unit_code (nodes->pdata[i]);
  unit_labels (l->rt->store, unit, tier, province);
}

/* ---- samples ---- */

static double
num (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return -1;
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    return (double)json_node_get_int (n);
  if (t == G_TYPE_DOUBLE)
    {
      double d = json_node_get_double (n);
      return isfinite (d) ? d : -1;
    }
  return -1;
}

static guint16
to_u16 (double v, double scale)
{
  if (v < 0)
    return U16_UNKNOWN;
  double s = round (v * scale);
  return s >= U16_UNKNOWN - 1 ? U16_UNKNOWN - 1 : (guint16)s;
}

static double
from_u16 (guint16 v, double scale)
{
  return v == U16_UNKNOWN ? -1 : v / scale;
}

static Sample
sample_from_json (JsonObject *q, gint64 t)
{
  Sample s = { 0 };
  s.t = (guint32)t;
  s.loss_cp = to_u16 (num (q, "loss"), 100);
  s.jit_ms = to_u16 (num (q, "jit"), 1);
  s.rtt_ms = to_u16 (num (q, "rtt"), 1);
  s.kbps = to_u16 (num (q, "kbps"), 1);
  s.lost = to_u16 (num (q, "lost"), 1);
  double mos = num (q, "mos");
  s.mos50 = mos < 0 ? 0 : (guint8)CLAMP (round (mos * 50), 1, 250);
  double g = num (q, "grade");
  s.grade = g < 0 || g > 3 ? -1 : (gint8)g;
  return s;
}

static const Sample *
ring_last (const Ring *r)
{
  return r->n ? &r->s[(r->head + SIG_LINKS_HISTORY - 1) % SIG_LINKS_HISTORY] : NULL;
}

static void
ring_push (Ring *r, const Sample *s)
{
  r->s[r->head] = *s;
  r->head = (r->head + 1) % SIG_LINKS_HISTORY;
  if (r->n < SIG_LINKS_HISTORY)
    r->n++;
}

static void
observe (Histogram *h, const double *bounds, double v)
{
  if (v < 0)
    return;
  guint i = 0;
  while (i < N_BUCKETS && v > bounds[i])
    i++;
  h->counts[i]++;
  h->sum += v;
  h->n++;
}

/* The grade of a leg now: the worse of its two directions' last samples. */
static int
leg_grade (const Leg *leg)
{
  int g = -1;
  for (int d = 0; d < 2; d++)
    {
      const Sample *s = ring_last (&leg->dir[d]);
      if (s && s->grade > g)
        g = s->grade;
    }
  return g;
}

/* The name of a candidate type as mcu/ice.c writes it, or NULL for anything else: a
 * node's report is not trusted to name only those, and names are kept as static
 * strings, not interned, so a wrong node cannot grow signald's memory. */
static const char *
pair_type (JsonObject *pair, const char *side)
{
  static const char *const types[] = { "host", "srflx", "prflx", "relay" };
  JsonNode *n = json_object_get_member (pair, side);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  const char *v = json_node_get_string (n);
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_strcmp0 (v, types[i]) == 0)
      return types[i];
  return NULL;
}

/* Keeps an endpoint's "pair":{"local":..,"remote":..}; anything else (a pair not
 * selected yet: empty strings, a bad type, a pair that is no object) leaves the
 * last known pair as it was. */
static void
leg_take_pair (Leg *leg, JsonObject *e)
{
  JsonNode *pn = json_object_get_member (e, "pair");
  if (pn == NULL || !JSON_NODE_HOLDS_OBJECT (pn))
    return;
  JsonObject *pair = json_node_get_object (pn);
  const char *local = pair_type (pair, "local"), *remote = pair_type (pair, "remote");
  if (local == NULL || remote == NULL)
    return;
  leg->pair_local = local;
  leg->pair_remote = remote;
}

/* A counter of a node's report: a whole number from 0 to G_MAXINT32, else -1. */
static gint32
counter (JsonObject *o, const char *name)
{
  double v = num (o, name);
  return v >= 0 && v <= G_MAXINT32 && v == floor (v) ? (gint32)v : -1;
}

/* A flag of a node's report: 1, 0, or -1 when absent or not a boolean. */
static gint8
flag (JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return -1;
  return json_node_get_boolean (n) ? 1 : 0;
}

/* Keeps what an endpoint's "retransmission" and "cc" objects of the last report say
 * (mcu/leg.c): how much of its lost uplink retransmission filled and how many of its
 * requests we answered; its downlink estimate, what we send it, and whether that
 * estimate holds it back. An IT board reads them to tell a line that loses packets
 * and is repaired from one that is not. Absent objects leave the last values. */
static void
leg_take_repair (Leg *leg, JsonObject *e)
{
  JsonNode *rn = json_object_get_member (e, "retransmission");
  if (rn != NULL && JSON_NODE_HOLDS_OBJECT (rn))
    {
      JsonObject *r = json_node_get_object (rn);
      leg->up_lost = counter (r, "lost");
      leg->up_recovered = counter (r, "recovered");
      leg->down_asked = counter (r, "nacks_in");
      leg->down_answered = counter (r, "retransmitted");
    }
  JsonNode *cn = json_object_get_member (e, "cc");
  if (cn != NULL && JSON_NODE_HOLDS_OBJECT (cn))
    {
      JsonObject *c = json_node_get_object (cn);
      double est = num (c, "estimate"), sent = num (c, "sent");
      leg->cc_estimate_kbps = to_u16 (est < 0 ? -1 : est / 1000, 1);
      leg->cc_sent_kbps = to_u16 (sent < 0 ? -1 : sent / 1000, 1);
      leg->cc_limited = flag (c, "limited");
      leg->cc_twcc = flag (c, "twcc");
    }
}

/* Keeps the level the node says it sends the endpoint ("cc":{"level":..}): its own
 * downlink estimate moves a site from full to low ahead of the grades, and only it
 * knows. An unknown name is ignored. */
static void
leg_take_node_level (Leg *leg, JsonObject *e)
{
  JsonNode *cn = json_object_get_member (e, "cc");
  if (cn == NULL || !JSON_NODE_HOLDS_OBJECT (cn))
    return;
  const char *name = sig_json_string (json_node_get_object (cn), "level");
  for (guint8 i = 0; name && i < G_N_ELEMENTS (level_names); i++)
    if (g_str_equal (name, level_names[i]))
      leg->node_level = i;
}

/* Keeps what the node says a site gets of the content ("content":{"gets":..}) and,
 * when that changes, tells the hall and the meeting's subscribers
 * (content.receive): a hall at audio only says whether stills of the content reach
 * it or nothing does. An unknown name is ignored. */
static void
leg_take_content (SigLinks *l, const Occ *o, Leg *leg, JsonObject *e)
{
  JsonNode *cn = json_object_get_member (e, "content");
  if (leg->kind != KIND_SITE || cn == NULL || !JSON_NODE_HOLDS_OBJECT (cn))
    return;
  const char *name = sig_json_string (json_node_get_object (cn), "gets");
  guint8 gets = CONTENT_UNKNOWN;
  for (guint8 i = 0; name && i < G_N_ELEMENTS (content_names); i++)
    if (g_str_equal (name, content_names[i]))
      gets = i;
  if (gets == CONTENT_UNKNOWN || gets == leg->content_gets)
    return;
  leg->content_gets = gets;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "content.receive");
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, o->meeting_id);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, o->occurrence_id);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, leg->site_id);
  json_builder_set_member_name (b, "gets");
  json_builder_add_string_value (b, content_names[gets]);
  json_builder_end_object (b);
  g_autoptr (JsonNode) ev = json_builder_get_root (b);
  l->rt->sink.publish (l->rt->sink_data, o->meeting_id, ev);
  l->rt->sink.to_site (l->rt->sink_data, o->meeting_id, o->occurrence_id, leg->site_id,
                       ev);
}

/* Keeps a direction's concealed audio and frozen video of the last report. */
static void
leg_take_playout (Leg *leg, int d, JsonObject *q)
{
  leg->conc_cp[d] = to_u16 (num (q, "conc"), 100);
  leg->frz_ms[d] = to_u16 (num (q, "frz_ms"), 1);
  double fr = num (q, "frozen");
  leg->frozen[d] = fr == 0 || fr == 1 ? (gint8)fr : -1;
}

static void
sample_members (JsonBuilder *b, const Sample *s, gboolean with_t)
{
  if (with_t)
    {
      json_builder_set_member_name (b, "t");
      json_builder_add_int_value (b, s->t);
    }
  json_builder_set_member_name (b, "loss");
  json_builder_add_double_value (b, from_u16 (s->loss_cp, 100));
  json_builder_set_member_name (b, "jit");
  json_builder_add_double_value (b, from_u16 (s->jit_ms, 1));
  json_builder_set_member_name (b, "rtt");
  json_builder_add_double_value (b, from_u16 (s->rtt_ms, 1));
  json_builder_set_member_name (b, "kbps");
  json_builder_add_double_value (b, from_u16 (s->kbps, 1));
  json_builder_set_member_name (b, "lost");
  json_builder_add_int_value (b, s->lost == U16_UNKNOWN ? -1 : s->lost);
  json_builder_set_member_name (b, "mos");
  json_builder_add_double_value (b, s->mos50 ? s->mos50 / 50.0 : -1);
  json_builder_set_member_name (b, "grade");
  json_builder_add_int_value (b, s->grade);
}

static void
sample_to_json (JsonBuilder *b, const Sample *s, gboolean with_t)
{
  json_builder_begin_object (b);
  sample_members (b, s, with_t);
  json_builder_end_object (b);
}

/* The last report's playout measures of direction @d, -1 when unknown. */
static void
playout_members (JsonBuilder *b, const Leg *leg, int d)
{
  json_builder_set_member_name (b, "concealed");
  json_builder_add_double_value (b, from_u16 (leg->conc_cp[d], 100));
  json_builder_set_member_name (b, "frozen");
  json_builder_add_int_value (b, leg->frozen[d]);
  json_builder_set_member_name (b, "frozen_ms");
  json_builder_add_double_value (b, from_u16 (leg->frz_ms[d], 1));
}

static void
int_or_null (JsonBuilder *b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  if (v < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, v);
}

static void
flag_or_null (JsonBuilder *b, const char *name, gint8 v)
{
  json_builder_set_member_name (b, name);
  if (v < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_boolean_value (b, v == 1);
}

/* "repair": {"up_lost","up_recovered","down_asked","down_answered"} and "cc":
 * {"estimate_kbps","sent_kbps","limited","twcc"} of the last report, null when the
 * node never said (a node without retransmission, or before its first report). */
static void
repair_members (JsonBuilder *b, const Leg *leg)
{
  json_builder_set_member_name (b, "repair");
  if (leg->up_lost < 0 && leg->up_recovered < 0 && leg->down_asked < 0
      && leg->down_answered < 0)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      int_or_null (b, "up_lost", leg->up_lost);
      int_or_null (b, "up_recovered", leg->up_recovered);
      int_or_null (b, "down_asked", leg->down_asked);
      int_or_null (b, "down_answered", leg->down_answered);
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "cc");
  if (leg->cc_estimate_kbps == U16_UNKNOWN && leg->cc_sent_kbps == U16_UNKNOWN)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      int_or_null (b, "estimate_kbps",
                   leg->cc_estimate_kbps == U16_UNKNOWN ? -1 : leg->cc_estimate_kbps);
      int_or_null (b, "sent_kbps",
                   leg->cc_sent_kbps == U16_UNKNOWN ? -1 : leg->cc_sent_kbps);
      flag_or_null (b, "limited", leg->cc_limited);
      flag_or_null (b, "twcc", leg->cc_twcc);
      json_builder_end_object (b);
    }
}

static void
leg_summary (SigLinks *l, JsonBuilder *b, const Occ *o, const Leg *leg)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "leg");
  json_builder_add_string_value (b, leg->id);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, leg->occurrence_id);
  json_builder_set_member_name (b, "node_id");
  json_builder_add_string_value (b, leg->node_id);
  json_builder_set_member_name (b, "endpoint");
  json_builder_add_string_value (b, leg->endpoint);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind_names[leg->kind]);
  if (leg->site_id > 0)
    {
      json_builder_set_member_name (b, "site_id");
      json_builder_add_int_value (b, leg->site_id);
      gboolean pinned;
      guint8 level = site_level (l, leg, &pinned);
      json_builder_set_member_name (b, "level");
      json_builder_add_string_value (b, level_names[level]);
      json_builder_set_member_name (b, "pinned");
      json_builder_add_boolean_value (b, pinned);
      json_builder_set_member_name (b, "node_level");
      if (leg->node_level != LEVEL_UNKNOWN)
        json_builder_add_string_value (b, level_names[leg->node_level]);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "content_gets");
      if (leg->content_gets != CONTENT_UNKNOWN)
        json_builder_add_string_value (b, content_names[leg->content_gets]);
      else
        json_builder_add_null_value (b);
    }
  json_builder_set_member_name (b, "srtp");
  json_builder_add_string_value (b, leg->srtp);
  json_builder_set_member_name (b, "pair");
  if (leg->pair_local)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "local");
      json_builder_add_string_value (b, leg->pair_local);
      json_builder_set_member_name (b, "remote");
      json_builder_add_string_value (b, leg->pair_remote);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  repair_members (b, leg);
  json_builder_set_member_name (b, "grade");
  json_builder_add_int_value (b, leg_grade (leg));
  const Sample *last
      = ring_last (&leg->dir[0]) ? ring_last (&leg->dir[0]) : ring_last (&leg->dir[1]);
  json_builder_set_member_name (b, "t");
  json_builder_add_int_value (b, last ? last->t : 0);
  for (int d = 0; d < 2; d++)
    {
      const Sample *s = ring_last (&leg->dir[d]);
      json_builder_set_member_name (b, d == 0 ? "up" : "down");
      if (s)
        {
          json_builder_begin_object (b);
          sample_members (b, s, FALSE);
          playout_members (b, leg, d);
          json_builder_end_object (b);
        }
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
}

/* ---- acting on grades ---- */

static void
set_level (SigLinks *l, Occ *o, Leg *leg, guint8 level, gint64 t, const char *why)
{
  sig_cascade_set_level (l->rt, o->occurrence_id, leg->site_id, level_names[level],
                         FALSE);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "link.level");
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, o->meeting_id);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, o->occurrence_id);
  json_builder_set_member_name (b, "site_id");
  json_builder_add_int_value (b, leg->site_id);
  json_builder_set_member_name (b, "leg");
  json_builder_add_string_value (b, leg->id);
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, level_names[level]);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, why);
  json_builder_set_member_name (b, "t");
  json_builder_add_int_value (b, t);
  json_builder_end_object (b);
  g_autoptr (JsonNode) ev = json_builder_get_root (b);
  /* everyone subscribed to the meeting sees it, the site itself included */
  l->rt->sink.publish (l->rt->sink_data, o->meeting_id, ev);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "LT_OCCURRENCE_ID", "", "MESSAGE",
                    "occurrence %" G_GINT64_FORMAT " site %" G_GINT64_FORMAT
                    " level %s (%s)",
                    o->occurrence_id, leg->site_id, level_names[level], why);
}

/* Why runs measured on sample time with a fresh start after each step: "very bad
 * for 10 s" then "10 s more" then "30 s good" each need their own run, and the
 * nodes' clock is the one the samples were measured on. Grade 2 (bad) neither
 * steps down nor counts as good. */
static void
step_site (SigLinks *l, Occ *o, Leg *leg, int grade, gint64 t)
{
  gboolean pinned;
  guint8 level = leg->site_id > 0 ? site_level (l, leg, &pinned) : LEVEL_FULL;
  if (leg->site_id <= 0 || grade < 0 || pinned)
    return;
  if (grade == 3)
    {
      leg->step_good_since = 0;
      if (leg->step_bad_since == 0)
        leg->step_bad_since = t;
      if (level < LEVEL_AUDIO && t - leg->step_bad_since >= l->stepdown_after)
        {
          set_level (l, o, leg, level + 1, t, "very bad");
          leg->step_bad_since = t;
        }
    }
  else if (grade <= 1)
    {
      leg->step_bad_since = 0;
      if (leg->step_good_since == 0)
        leg->step_good_since = t;
      if (level > LEVEL_FULL && t - leg->step_good_since >= l->stepup_after)
        {
          set_level (l, o, leg, level - 1, t, "good again");
          leg->step_good_since = t;
        }
    }
  else
    leg->step_bad_since = leg->step_good_since = 0;
}

static void
alarm_leg (SigLinks *l, Occ *o, Leg *leg, int grade, gint64 t)
{
  if (grade < 0)
    return;
  if (grade == 3)
    {
      leg->alarm_good_since = 0;
      if (leg->alarm_bad_since == 0)
        leg->alarm_bad_since = t;
      if (t - leg->alarm_bad_since >= l->raise_after)
        {
          g_autofree char *detail = g_strdup_printf (
              "%s at node %s graded very bad for %" G_GINT64_FORMAT " s", leg->endpoint,
              leg->node_id, t - leg->alarm_bad_since);
          sig_alarm_raise (l->rt, "leg.very_bad", leg->id, o->meeting_id,
                           o->occurrence_id, detail, t);
        }
    }
  else if (grade <= 1)
    {
      leg->alarm_bad_since = 0;
      if (leg->alarm_good_since == 0)
        leg->alarm_good_since = t;
      if (t - leg->alarm_good_since >= l->clear_after)
        sig_alarm_clear (l->rt, "leg.very_bad", leg->id, t);
    }
}

/* ---- ingest ---- */

static Occ *
occ_get (SigLinks *l, gint64 occurrence_id)
{
  Occ *o = g_hash_table_lookup (l->occs, &occurrence_id);
  if (o != NULL)
    return o;
  g_autoptr (RoomsOccurrence) occ
      = rooms_store_get_occurrence (l->rt->store, occurrence_id, NULL);
  if (occ == NULL)
    return NULL;
  o = g_new0 (Occ, 1);
  o->occurrence_id = occurrence_id;
  o->meeting_id = rooms_occurrence_get_meeting_id (occ);
  o->legs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, leg_free);
  g_hash_table_insert (l->occs, &o->occurrence_id, o);
  return o;
}

static Leg *
leg_get (SigLinks *l, Occ *o, const char *node_id, const char *endpoint)
{
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT ":%s:%s", o->occurrence_id,
                                         node_id, endpoint);
  Leg *leg = g_hash_table_lookup (o->legs, id);
  if (leg != NULL)
    return leg;
  leg = g_new0 (Leg, 1);
  leg->id = g_steal_pointer (&id);
  leg->occurrence_id = o->occurrence_id;
  leg->node_id = g_strdup (node_id);
  leg->endpoint = g_strdup (endpoint);
  leg->node_level = LEVEL_UNKNOWN;
  leg->content_gets = CONTENT_UNKNOWN;
  for (int d = 0; d < 2; d++)
    {
      leg->conc_cp[d] = leg->frz_ms[d] = U16_UNKNOWN;
      leg->frozen[d] = -1;
    }
  leg->up_lost = leg->up_recovered = leg->down_asked = leg->down_answered = -1;
  leg->cc_estimate_kbps = leg->cc_sent_kbps = U16_UNKNOWN;
  leg->cc_limited = leg->cc_twcc = -1;
  if (g_str_has_prefix (endpoint, "site:"))
    {
      leg->kind = KIND_SITE;
      leg->site_id = g_ascii_strtoll (endpoint + 5, NULL, 10);
      g_autoptr (RoomsSite) s = rooms_store_get_site (l->rt->store, leg->site_id, NULL);
      unit_labels (l->rt->store, s ? rooms_site_get_unit_code (s) : NULL, &leg->tier,
                   &leg->province);
    }
  else
    {
      leg->kind = KIND_LINK;
      node_labels (l, node_id, &leg->tier, &leg->province);
    }
  g_hash_table_insert (o->legs, leg->id, leg);
  return leg;
}

static void
count_lost (SigLinks *l, const Leg *leg, const Sample *prev, const Sample *s, double win)
{
  if (s->lost == U16_UNKNOWN || s->lost == 0)
    return;
  /* windows (5 s) overlap the 2 s reports: count only the share since the last one */
  double share = 1;
  if (prev != NULL && win > 0 && s->t > prev->t)
    share = MIN (1.0, (s->t - prev->t) / win);
  g_autofree char *key
      = g_strdup_printf ("%s\t%s\t%s", kind_names[leg->kind], leg->tier, leg->province);
  guint64 *n = g_hash_table_lookup (l->lost, key);
  if (n == NULL)
    {
      n = g_new0 (guint64, 1);
      g_hash_table_insert (l->lost, g_steal_pointer (&key), n);
    }
  *n += (guint64)round (s->lost * share);
}

gboolean
sig_links_ingest (SigLinks *l, const char *node_id, JsonObject *msg, GError **error)
{
  gint64 occ_id = sig_json_int (msg, "occurrence_id");
  /* the node's clock, in seconds with a fraction; anything beyond 32 bits is refused
   * below, and never converted (a float that large has no integer) */
  double tv = num (msg, "t");
  gint64 t = tv >= 1 && tv <= G_MAXUINT32 ? (gint64)tv : -1;
  JsonNode *en = json_object_get_member (msg, "endpoints");
  if (occ_id <= 0 || t <= 0 || t > G_MAXUINT32 || en == NULL
      || !JSON_NODE_HOLDS_ARRAY (en))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "stats needs occurrence_id, t and endpoints");
      return FALSE;
    }
  /* only running legs keep statistics: what a node says of anything else is dropped,
   * so no node can grow signald's memory with occurrences or endpoints of its own
   * invention */
  Occ *o = sig_cascade_is_open (l->rt, occ_id) ? occ_get (l, occ_id) : NULL;
  if (o == NULL)
    return TRUE; /* an occurrence that is not running: nothing to keep */
  guint foreign = 0;
  JsonArray *arr = json_node_get_array (en);
  g_autoptr (JsonBuilder) ev = json_builder_new ();
  json_builder_begin_object (ev);
  json_builder_set_member_name (ev, "type");
  json_builder_add_string_value (ev, "link.stats");
  json_builder_set_member_name (ev, "meeting_id");
  json_builder_add_int_value (ev, o->meeting_id);
  json_builder_set_member_name (ev, "occurrence_id");
  json_builder_add_int_value (ev, occ_id);
  json_builder_set_member_name (ev, "node_id");
  json_builder_add_string_value (ev, node_id);
  json_builder_set_member_name (ev, "t");
  json_builder_add_int_value (ev, t);
  json_builder_set_member_name (ev, "links");
  json_builder_begin_array (ev);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonNode *item = json_array_get_element (arr, i);
      if (!JSON_NODE_HOLDS_OBJECT (item))
        continue;
      JsonObject *e = json_node_get_object (item);
      const char *endpoint = sig_json_string (e, "endpoint");
      JsonNode *qn = json_object_get_member (e, "quality");
      if (endpoint == NULL || strlen (endpoint) > 64 || qn == NULL
          || !JSON_NODE_HOLDS_OBJECT (qn))
        continue;
      if (!sig_cascade_node_speaks_for (l->rt, occ_id, node_id, endpoint))
        {
          foreign++; /* another node's site or link: not this node's to grade */
          continue;
        }
      JsonObject *q = json_node_get_object (qn);
      Leg *leg = leg_get (l, o, node_id, endpoint);
      const char *srtp = sig_json_string (e, "srtp");
      if (srtp && strlen (srtp) < 64)
        leg->srtp = g_intern_string (srtp);
      leg_take_pair (leg, e);
      leg_take_repair (leg, e);
      leg_take_node_level (leg, e);
      leg_take_content (l, o, leg, e);
      for (int d = 0; d < 2; d++)
        {
          JsonNode *dn = json_object_get_member (q, d == 0 ? "up" : "down");
          if (dn == NULL || !JSON_NODE_HOLDS_OBJECT (dn))
            continue;
          JsonObject *dq = json_node_get_object (dn);
          Sample s = sample_from_json (dq, t);
          leg_take_playout (leg, d, dq);
          Sample prev_copy;
          const Sample *prev = ring_last (&leg->dir[d]);
          if (prev)
            prev_copy = *prev;
          ring_push (&leg->dir[d], &s);
          observe (&l->rtt[leg->kind], rtt_buckets, from_u16 (s.rtt_ms, 1000));
          observe (&l->jit[leg->kind], jit_buckets, from_u16 (s.jit_ms, 1000));
          count_lost (l, leg, prev ? &prev_copy : NULL, &s, num (dq, "win"));
        }
      int grade = leg_grade (leg);
      alarm_leg (l, o, leg, grade, t);
      step_site (l, o, leg, grade, t);
      leg_summary (l, ev, o, leg);
    }
  json_builder_end_array (ev);
  json_builder_end_object (ev);
  g_autoptr (JsonNode) node = json_builder_get_root (ev);
  sig_alarm_publish_staff (l->rt, o->meeting_id, node);
  if (foreign > 0)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_FORBIDDEN,
                   "%u endpoints that %s does not host were ignored", foreign, node_id);
      return FALSE;
    }
  return TRUE;
}

/* ---- states and nodes ---- */

void
sig_links_endpoint_state (SigLinks *l, const char *node_id, JsonObject *msg)
{
  gint64 occ_id = sig_json_int (msg, "occurrence_id");
  const char *endpoint = sig_json_string (msg, "endpoint");
  const char *state = sig_json_string (msg, "state");
  if (occ_id <= 0 || endpoint == NULL || state == NULL)
    return;
  SigRuntime *srv = l->rt;
  g_autoptr (RoomsOccurrence) occ = rooms_store_get_occurrence (srv->store, occ_id, NULL);
  if (occ == NULL)
    return;
  gint64 meeting = rooms_occurrence_get_meeting_id (occ);
  gboolean live = rooms_occurrence_get_state (occ) == ROOMS_OCCURRENCE_LIVE;
  gboolean down = g_str_equal (state, "failed") || g_str_equal (state, "closed");
  gboolean up = g_str_equal (state, "connected");
  gint64 now = sig_runtime_now (srv);
  if (g_str_has_prefix (endpoint, "site:"))
    {
      g_autofree char *subject
          = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", occ_id, endpoint);
      if (down && live)
        {
          g_autofree char *detail
              = g_strdup_printf ("%s dropped out of the live meeting at node %s (%s)",
                                 endpoint, node_id, state);
          sig_alarm_raise (srv, "site.dropped", subject, meeting, occ_id, detail, now);
        }
      else if (up)
        sig_alarm_clear (srv, "site.dropped", subject, now);
      return;
    }
  if (!g_str_has_prefix (endpoint, "node:"))
    return;
  gboolean found;
  const char *parent = sig_cascade_plan_parent (l->rt, occ_id, node_id, &found);
  if (parent == NULL || !g_str_equal (parent, endpoint + 5))
    return; /* not this node's uplink */
  g_autofree char *subject = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", occ_id, node_id);
  if (g_str_equal (state, "failed"))
    {
      g_autofree char *detail = g_strdup_printf (
          "node %s lost its uplink to %s: it meets alone", node_id, parent);
      sig_alarm_raise (srv, "uplink.islanded", subject, meeting, occ_id, detail, now);
    }
  else if (up)
    sig_alarm_clear (srv, "uplink.islanded", subject, now);
}

void
sig_links_node (SigLinks *l, const char *node_id, gboolean up)
{
  gint64 now = sig_runtime_now (l->rt);
  if (up)
    sig_alarm_clear (l->rt, "node.down", node_id, now);
  else
    {
      g_autofree char *detail = g_strdup_printf ("node %s stopped answering", node_id);
      sig_alarm_raise (l->rt, "node.down", node_id, 0, 0, detail, now);
    }
}

void
sig_links_forget (SigLinks *l, gint64 occurrence_id)
{
  if (l != NULL)
    g_hash_table_remove (l->occs, &occurrence_id);
}

/* ---- metrics ---- */

static void
put_histogram (GString *out, const char *name, const Histogram *h, const double *bounds,
               const char *kind)
{
  guint64 cum = 0;
  for (guint i = 0; i < N_BUCKETS; i++)
    {
      cum += h->counts[i];
      g_string_append_printf (out,
                              "%s_bucket{kind=\"%s\",le=\"%g\"} %" G_GUINT64_FORMAT "\n",
                              name, kind, bounds[i], cum);
    }
  cum += h->counts[N_BUCKETS];
  g_string_append_printf (
      out, "%s_bucket{kind=\"%s\",le=\"+Inf\"} %" G_GUINT64_FORMAT "\n", name, kind, cum);
  g_string_append_printf (out, "%s_sum{kind=\"%s\"} %.6f\n", name, kind, h->sum);
  g_string_append_printf (out, "%s_count{kind=\"%s\"} %" G_GUINT64_FORMAT "\n", name,
                          kind, h->n);
}

typedef struct
{
  guint legs[5];   /* by grade + 1 */
  guint levels[3]; /* site legs by level: full, low, audio */
  double loss_max;
  double mos_min;
} Group;

static int
cmp_key (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static void
sorted_keys (GHashTable *t, GPtrArray *out)
{
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init (&it, t);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_ptr_array_add (out, k);
  g_ptr_array_sort (out, cmp_key);
}

/* Why aggregated gauges: per-leg series would be 11,000 per metric in a national
 * meeting. Legs are grouped by kind, tier and province; each group has its count of
 * legs per grade, its worst loss and its lowest MOS. */
void
sig_links_metrics (SigLinks *l, GString *out)
{
  g_autoptr (GHashTable) groups
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter oi, li;
  gpointer v;
  gsize n_legs = 0;
  g_hash_table_iter_init (&oi, l->occs);
  while (g_hash_table_iter_next (&oi, NULL, &v))
    {
      Occ *o = v;
      g_hash_table_iter_init (&li, o->legs);
      gpointer lv;
      while (g_hash_table_iter_next (&li, NULL, &lv))
        {
          Leg *leg = lv;
          n_legs++;
          g_autofree char *key
              = g_strdup_printf ("kind=\"%s\",tier=\"%s\",province=\"%s\"",
                                 kind_names[leg->kind], leg->tier, leg->province);
          Group *g = g_hash_table_lookup (groups, key);
          if (g == NULL)
            {
              g = g_new0 (Group, 1);
              g->mos_min = -1;
              g_hash_table_insert (groups, g_steal_pointer (&key), g);
            }
          g->legs[leg_grade (leg) + 1]++;
          if (leg->kind == KIND_SITE)
            g->levels[site_level (l, leg, NULL)]++;
          for (int d = 0; d < 2; d++)
            {
              const Sample *s = ring_last (&leg->dir[d]);
              if (s == NULL)
                continue;
              g->loss_max = MAX (g->loss_max, from_u16 (s->loss_cp, 100));
              if (s->mos50 && (g->mos_min < 0 || s->mos50 / 50.0 < g->mos_min))
                g->mos_min = s->mos50 / 50.0;
            }
        }
    }
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  sorted_keys (groups, keys);
  static const char *const grade_names[] = { "unknown", "good", "ok", "bad", "very_bad" };
  g_string_append (out, "# HELP lienthong_link_legs Legs with statistics now, by grade.\n"
                        "# TYPE lienthong_link_legs gauge\n");
  for (guint i = 0; i < keys->len; i++)
    {
      Group *g = g_hash_table_lookup (groups, keys->pdata[i]);
      for (guint k = 0; k < G_N_ELEMENTS (grade_names); k++)
        g_string_append_printf (out, "lienthong_link_legs{%s,grade=\"%s\"} %u\n",
                                (char *)keys->pdata[i], grade_names[k], g->legs[k]);
    }
  g_string_append (out, "# HELP lienthong_link_loss_max_percent The worst loss of a leg "
                        "direction in the group now.\n"
                        "# TYPE lienthong_link_loss_max_percent gauge\n");
  for (guint i = 0; i < keys->len; i++)
    {
      Group *g = g_hash_table_lookup (groups, keys->pdata[i]);
      g_string_append_printf (out, "lienthong_link_loss_max_percent{%s} %.2f\n",
                              (char *)keys->pdata[i], g->loss_max);
    }
  g_string_append (out, "# HELP lienthong_link_mos_min The lowest MOS estimate of a leg "
                        "direction in the group now.\n"
                        "# TYPE lienthong_link_mos_min gauge\n");
  for (guint i = 0; i < keys->len; i++)
    {
      Group *g = g_hash_table_lookup (groups, keys->pdata[i]);
      if (g->mos_min >= 0)
        g_string_append_printf (out, "lienthong_link_mos_min{%s} %.2f\n",
                                (char *)keys->pdata[i], g->mos_min);
    }
  g_string_append (out,
                   "# HELP lienthong_link_rtt_seconds Round-trip times reported per leg "
                   "direction every 2 s.\n"
                   "# TYPE lienthong_link_rtt_seconds histogram\n");
  for (int k = 0; k < 2; k++)
    put_histogram (out, "lienthong_link_rtt_seconds", &l->rtt[k], rtt_buckets,
                   kind_names[k]);
  g_string_append (
      out, "# HELP lienthong_link_jitter_seconds Interarrival jitter reported per "
           "leg direction every 2 s.\n"
           "# TYPE lienthong_link_jitter_seconds histogram\n");
  for (int k = 0; k < 2; k++)
    put_histogram (out, "lienthong_link_jitter_seconds", &l->jit[k], jit_buckets,
                   kind_names[k]);
  g_string_append (out, "# HELP lienthong_link_packets_lost_total Packets lost on legs.\n"
                        "# TYPE lienthong_link_packets_lost_total counter\n");
  g_autoptr (GPtrArray) lk = g_ptr_array_new ();
  sorted_keys (l->lost, lk);
  for (guint i = 0; i < lk->len; i++)
    {
      g_auto (GStrv) p = g_strsplit (lk->pdata[i], "\t", 3);
      g_string_append_printf (
          out,
          "lienthong_link_packets_lost_total{kind=\"%s\",tier=\"%s\",province=\"%s\"} "
          "%" G_GUINT64_FORMAT "\n",
          p[0], p[1], p[2], *(guint64 *)g_hash_table_lookup (l->lost, lk->pdata[i]));
    }
  /* how many sites are stepped down now: an alert on many at once points at a
   * node or an uplink rather than at one commune's line */
  g_string_append (out, "# HELP lienthong_link_site_levels Site legs by what they "
                        "receive now (full, low resolution, audio only).\n"
                        "# TYPE lienthong_link_site_levels gauge\n");
  for (guint i = 0; i < keys->len; i++)
    {
      Group *g = g_hash_table_lookup (groups, keys->pdata[i]);
      if (!g_str_has_prefix (keys->pdata[i], "kind=\"site\""))
        continue;
      for (guint k = 0; k < G_N_ELEMENTS (level_names); k++)
        g_string_append_printf (out, "lienthong_link_site_levels{%s,level=\"%s\"} %u\n",
                                (char *)keys->pdata[i], level_names[k], g->levels[k]);
    }
  g_string_append_printf (out,
                          "# HELP lienthong_link_history_bytes Memory of the 15-minute "
                          "history of all legs.\n"
                          "# TYPE lienthong_link_history_bytes gauge\n"
                          "lienthong_link_history_bytes %" G_GSIZE_FORMAT "\n",
                          n_legs * sig_links_leg_bytes ());
}

/* ---- views ---- */

static int
leg_order (gconstpointer a, gconstpointer b)
{
  const Leg *x = *(const Leg *const *)a, *y = *(const Leg *const *)b;
  int gx = leg_grade (x), gy = leg_grade (y);
  if (gx != gy)
    return gy - gx;
  double lx = -1, ly = -1;
  for (int d = 0; d < 2; d++)
    {
      const Sample *s = ring_last (&x->dir[d]);
      if (s)
        lx = MAX (lx, from_u16 (s->loss_cp, 100));
      s = ring_last (&y->dir[d]);
      if (s)
        ly = MAX (ly, from_u16 (s->loss_cp, 100));
    }
  if (lx != ly)
    return lx < ly ? 1 : -1;
  return strcmp (x->id, y->id);
}

JsonNode *
sig_links_meeting_json (SigLinks *l, gint64 meeting_id)
{
  g_autoptr (GPtrArray) legs = g_ptr_array_new ();
  GHashTableIter oi, li;
  gpointer v;
  g_hash_table_iter_init (&oi, l->occs);
  while (g_hash_table_iter_next (&oi, NULL, &v))
    {
      Occ *o = v;
      if (o->meeting_id != meeting_id)
        continue;
      g_hash_table_iter_init (&li, o->legs);
      gpointer lv;
      while (g_hash_table_iter_next (&li, NULL, &lv))
        g_ptr_array_add (legs, lv);
    }
  g_ptr_array_sort (legs, leg_order);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, meeting_id);
  json_builder_set_member_name (b, "links");
  json_builder_begin_array (b);
  for (guint i = 0; i < legs->len; i++)
    {
      Leg *leg = legs->pdata[i];
      leg_summary (l, b, g_hash_table_lookup (l->occs, &leg->occurrence_id), leg);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static Leg *
find_leg (SigLinks *l, const char *id, Occ **occ)
{
  gint64 occ_id = g_ascii_strtoll (id, NULL, 10);
  Occ *o = occ_id > 0 ? g_hash_table_lookup (l->occs, &occ_id) : NULL;
  *occ = o;
  return o ? g_hash_table_lookup (o->legs, id) : NULL;
}

JsonNode *
sig_links_history_json (SigLinks *l, const char *leg_id, gint64 since, gint64 *meeting_id)
{
  Occ *o = NULL;
  Leg *leg = leg_id ? find_leg (l, leg_id, &o) : NULL;
  if (leg == NULL)
    return NULL;
  *meeting_id = o->meeting_id;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "leg");
  json_builder_add_string_value (b, leg->id);
  json_builder_set_member_name (b, "meeting_id");
  json_builder_add_int_value (b, o->meeting_id);
  json_builder_set_member_name (b, "occurrence_id");
  json_builder_add_int_value (b, leg->occurrence_id);
  json_builder_set_member_name (b, "node_id");
  json_builder_add_string_value (b, leg->node_id);
  json_builder_set_member_name (b, "endpoint");
  json_builder_add_string_value (b, leg->endpoint);
  json_builder_set_member_name (b, "capacity");
  json_builder_add_int_value (b, SIG_LINKS_HISTORY);
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, (gint64)sig_links_leg_bytes ());
  for (int d = 0; d < 2; d++)
    {
      const Ring *r = &leg->dir[d];
      json_builder_set_member_name (b, d == 0 ? "up" : "down");
      json_builder_begin_array (b);
      for (guint i = 0; i < r->n; i++)
        {
          const Sample *s
              = &r->s[(r->head + SIG_LINKS_HISTORY - r->n + i) % SIG_LINKS_HISTORY];
          if ((gint64)s->t >= since)
            sample_to_json (b, s, TRUE);
        }
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
sig_links_pin (SigLinks *l, gint64 occurrence_id, gint64 site_id, const char *level,
               GError **error)
{
  gboolean pin = !g_str_equal (level, "auto");
  gboolean running
      = pin ? sig_cascade_set_level (l->rt, occurrence_id, site_id, level, TRUE)
            : sig_cascade_unpin_level (l->rt, occurrence_id, site_id);
  if (!running && pin)
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "occurrence %" G_GINT64_FORMAT " is not running", occurrence_id);
      return FALSE;
    }
  /* the automatic steps start over from what the person chose */
  Occ *o = g_hash_table_lookup (l->occs, &occurrence_id);
  GHashTableIter it;
  gpointer v;
  if (o != NULL)
    {
      g_hash_table_iter_init (&it, o->legs);
      while (g_hash_table_iter_next (&it, NULL, &v))
        if (((Leg *)v)->site_id == site_id)
          ((Leg *)v)->step_bad_since = ((Leg *)v)->step_good_since = 0;
    }
  return TRUE;
}
