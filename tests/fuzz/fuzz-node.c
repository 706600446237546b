/* libFuzzer target: what a media node can say to signald's runtime. A small store (a
 * province, a district, two communes), node-08 and node-076 registered, a running leg
 * whose communes' offers went to node-076, and a sink that counts what the runtime
 * emits; then each input, read as a node message by the strict JSON scanner, goes to
 * the runtime entry point its "type" reaches (stats, endpoint.state, link relays,
 * speaker, heartbeat), spoken by node-08, which hosts no commune. Nothing may crash,
 * leak or read out of bounds; and since node-08 hosts no site, nothing may ever be
 * said to a site or a hall stepped down because of it (the trust rule of the node
 * channel), else this aborts. */
#include "sig-alarms.h"
#include "sig-links.h"
#include "sig-runtime.h"
#include "sig-validate.h"
#include "fuzz-tree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct
{
  guint to_site; /* events told to a hall: none may follow node-08's words */
  guint level;   /* level messages to any node: none may follow either */
} Counts;

static Counts counts;

static gboolean
count_to_node (gpointer sink, const char *node_id, JsonNode *msg)
{
  const char *type = json_object_get_string_member_with_default (
      json_node_get_object (msg), "type", "");
  counts.level += g_str_equal (type, "level");
  return TRUE;
}

static void
count_publish (gpointer sink, gint64 meeting_id, JsonNode *event)
{
}

static void
count_broadcast (gpointer sink, JsonNode *event)
{
}

static void
count_to_site (gpointer sink, gint64 meeting_id, gint64 occurrence_id, gint64 site_id,
               JsonNode *event)
{
  counts.to_site++;
}

static void
count_node_down (gpointer sink, const char *node_id)
{
}

static const SigSinkFuncs sink = {
  count_to_node,   count_publish, count_publish,
  count_broadcast, count_to_site, count_node_down,
};

static SigRuntime *rt;

static void
setup (void)
{
  static SigConfig config;
  config.heartbeat_interval = 3600;
  config.heartbeat_misses = 3;
  config.redial_base_ms = 1000;
  config.redial_max_ms = 30000;
  config.lobby_window = 900;
  config.fake_now = 1796087400; /* inside the meeting below */
  config.keyfile = g_key_file_new ();
  RoomsStore *store = rooms_store_open (":memory:", NULL, NULL);
  if (store == NULL
      || !rooms_store_import_csv (store, fuzz_tree, strlen (fuzz_tree), NULL, NULL))
    abort ();
  rooms_store_set_now (store, config.fake_now);
  rt = sig_runtime_new (store, &config, NULL);
  if (rt == NULL)
    abort ();
  sig_runtime_set_sink (rt, &sink, NULL);
  if (!sig_runtime_node_register (rt, "node-08", "08", 50, "sha-256 08", NULL)
      || !sig_runtime_node_register (rt, "node-076", "076", 50, "sha-256 076", NULL))
    abort ();
  sig_runtime_node_ready (rt, "node-08");
  sig_runtime_node_ready (rt, "node-076");
  g_autoptr (RoomsMeetingSpec) spec = rooms_meeting_spec_new (
      "Giao ban", "08", config.fake_now - 600, config.fake_now + 3600);
  rooms_meeting_spec_add_selection (spec, "08", "commune");
  g_autoptr (RoomsBooking) b = NULL;
  if (!rooms_store_book (store, spec, &b, NULL, NULL))
    abort ();
  gint64 occ = g_array_index (rooms_booking_get_occurrence_ids (b), gint64, 0);
  sig_cascade_open (rt, rooms_booking_get_meeting_id (b), occ);
  if (!sig_cascade_is_open (rt, occ))
    abort ();
  GArray *sites = rooms_booking_get_site_ids (b);
  for (guint i = 0; i < sites->len; i++)
    sig_cascade_site_routed (rt, occ, g_array_index (sites, gint64, i), "node-076");
  counts = (Counts){ 0 };
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (rt == NULL)
    setup ();
  g_autoptr (JsonNode) root = sig_json_parse_object (data, size, NULL);
  if (root == NULL)
    return 0;
  JsonObject *o = json_node_get_object (root);
  JsonNode *tn = json_object_get_member (o, "type");
  if (tn == NULL || !JSON_NODE_HOLDS_VALUE (tn)
      || json_node_get_value_type (tn) != G_TYPE_STRING)
    return 0;
  const char *type = json_node_get_string (tn);
  SigLinks *links = sig_runtime_get_links (rt);
  g_autoptr (GError) error = NULL;
  if (g_str_equal (type, "stats"))
    sig_links_ingest (links, "node-08", o, &error);
  else if (g_str_equal (type, "endpoint.state"))
    {
      JsonNode *on = json_object_get_member (o, "occurrence_id");
      if (sig_cascade_endpoint_state (rt, "node-08", o, &error) && on != NULL
          && JSON_NODE_HOLDS_VALUE (on) && json_node_get_value_type (on) == G_TYPE_INT64
          && sig_cascade_is_open (rt, json_node_get_int (on)))
        sig_links_endpoint_state (links, "node-08", o);
    }
  else if (g_str_has_prefix (type, "link."))
    sig_cascade_relay_link (rt, "node-08", o, &error);
  else if (g_str_equal (type, "heartbeat"))
    sig_runtime_node_heartbeat (rt, "node-08");
  if (counts.to_site != 0 || counts.level != 0)
    abort (); /* node-08 moved a hall it does not host */
  return 0;
}
