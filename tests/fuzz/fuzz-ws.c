/* libFuzzer target: what any socket can say to signald over its WebSockets, through
 * the daemon's own path (bounds, strict JSON, the message table, who may send what,
 * the handlers, the runtime, the roll call), with no network. A real SigServer on a
 * store in a temporary folder, its clock pinned inside a running meeting of a
 * province, a district and two communes; six sockets: two communes' halls, the
 * district node (which hosts the communes) and the province node, a secretary and an
 * IT dashboard. The first byte of an input picks the sender, the rest is one text
 * message. Nothing may crash, leak or read out of bounds; a socket the daemon closes
 * is opened again for the next input. */
#define _GNU_SOURCE /* pipe2 */
#include "sig-runtime-private.h"
#include "sig-server-private.h"
#include "sig-ws-private.h"
#include "fuzz-tree.h"

#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define NOW 1796087400 /* inside the meeting booked below */

typedef struct
{
  SigRole role;
  const char *scope;             /* sites: filled with their site id */
  const char *unit;              /* nodes */
  SoupWebsocketConnection *conn; /* (owned) the open socket's, to see it closed */
  WsClient *client;
} Sender;

static SigServer *srv;
static char site_a[24], site_b[24];
static Sender senders[] = {
  { SIG_ROLE_SITE, site_a, NULL, NULL, NULL },
  { SIG_ROLE_SITE, site_b, NULL, NULL, NULL },
  { SIG_ROLE_NODE, "node-076", "076", NULL, NULL },
  { SIG_ROLE_NODE, "node-08", "08", NULL, NULL },
  { SIG_ROLE_SECRETARY, "08", NULL, NULL, NULL },
  { SIG_ROLE_IT, "VN", NULL, NULL, NULL },
};

/* A socket's two ends with nobody on the far side: reads wait on a pipe nothing is
 * written to, writes go into a pipe that drain() empties after every input, so the
 * daemon's answers cost no memory. */
static int quiet_in[2] = { -1, -1 }, sink[2] = { -1, -1 };

static GIOStream *
quiet_stream (void)
{
  if (quiet_in[0] < 0
      && (pipe (quiet_in) != 0 || pipe2 (sink, O_NONBLOCK | O_CLOEXEC) != 0))
    abort ();
  g_autoptr (GInputStream) in = g_unix_input_stream_new (dup (quiet_in[0]), TRUE);
  g_autoptr (GOutputStream) o = g_unix_output_stream_new (dup (sink[1]), TRUE);
  return g_simple_io_stream_new (in, o);
}

static void
drain (void)
{
  char buf[65536];
  while (read (sink[0], buf, sizeof buf) > 0)
    ;
}

static void
open_sender (Sender *s, guint i)
{
  SigPrincipal *p = g_new0 (SigPrincipal, 1);
  p->role = s->role;
  p->scope = g_strdup (s->scope);
  p->unit = g_strdup (s->unit);
  p->token_id = g_strdup_printf ("tok_fuzz%u", i);
  p->expires_at = -1;
  g_autoptr (GIOStream) stream = quiet_stream ();
  g_clear_object (&s->conn);
  s->client = sig_ws_open_for_testing (srv->ws, p, stream);
  s->conn = g_object_ref (s->client->conn);
  if (s->role == SIG_ROLE_NODE)
    {
      g_autofree char *reg = g_strdup_printf (
          "{\"v\":1,\"type\":\"register\",\"node_id\":\"%s\",\"unit\":\"%s\","
          "\"capacity\":50,\"fingerprint\":\"sha-256 AA:%s\"}",
          s->scope, s->unit, s->unit);
      sig_ws_receive_for_testing (s->client, (const guint8 *)reg, strlen (reg));
    }
}

static char *state_dir;

/* The daemon and its folder go when the process ends (the replay test runs often). */
static void
teardown (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (senders); i++)
    g_clear_object (&senders[i].conn);
  g_clear_pointer (&srv, sig_server_free);
  g_autoptr (GDir) d = g_dir_open (state_dir, 0, NULL);
  for (const char *name; d != NULL && (name = g_dir_read_name (d)) != NULL;)
    {
      g_autofree char *path = g_build_filename (state_dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (state_dir);
  g_free (state_dir);
}

static void
setup (void)
{
  sig_config_allow_testing ();
  state_dir = g_dir_make_tmp ("lt-fuzz-ws-XXXXXX", NULL);
  const char *dir = state_dir;
  if (dir == NULL)
    abort ();
  atexit (teardown);
  g_autofree char *conf_path = g_build_filename (dir, "signald.conf", NULL);
  g_autofree char *conf = g_strdup_printf ("[server]\nlisten=127.0.0.1:0\n"
                                           "state-dir=%s\n[testing]\nnow=%d\n",
                                           dir, NOW);
  if (!g_file_set_contents (conf_path, conf, -1, NULL))
    abort ();
  g_autoptr (SigConfig) config = sig_config_load (conf_path, TRUE, NULL);
  if (config == NULL)
    abort ();
  srv = sig_server_new (config, NULL);
  if (srv == NULL
      || !rooms_store_import_csv (srv->store, fuzz_tree, strlen (fuzz_tree), NULL, NULL))
    abort ();
  g_autoptr (RoomsMeetingSpec) spec
      = rooms_meeting_spec_new ("Giao ban", "08", NOW - 600, NOW + 3600);
  rooms_meeting_spec_add_selection (spec, "08", "commune");
  g_autoptr (RoomsBooking) b = NULL;
  if (!rooms_store_book (srv->store, spec, &b, NULL, NULL))
    abort ();
  GArray *sites = rooms_booking_get_site_ids (b);
  if (sites->len < 2)
    abort ();
  /* the last two sites of the plan are the communes' halls */
  g_snprintf (site_a, sizeof site_a, "%" G_GINT64_FORMAT,
              g_array_index (sites, gint64, sites->len - 1));
  g_snprintf (site_b, sizeof site_b, "%" G_GINT64_FORMAT,
              g_array_index (sites, gint64, sites->len - 2));
  for (guint i = 0; i < G_N_ELEMENTS (senders); i++)
    open_sender (&senders[i], i);
  gint64 occ = g_array_index (rooms_booking_get_occurrence_ids (b), gint64, 0);
  sig_cascade_open (srv->rt, rooms_booking_get_meeting_id (b), occ);
  if (!sig_cascade_is_open (srv->rt, occ))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (srv == NULL)
    setup ();
  if (size < 1)
    return 0;
  Sender *s = &senders[data[0] % G_N_ELEMENTS (senders)];
  if (soup_websocket_connection_get_state (s->conn) != SOUP_WEBSOCKET_STATE_OPEN)
    open_sender (s, (guint)(s - senders));
  sig_ws_receive_for_testing (s->client, data + 1, size - 1);
  /* timers and batched writes (the roll call's) run as the daemon's loop would */
  do
    drain ();
  while (g_main_context_iteration (NULL, FALSE));
  return 0;
}
