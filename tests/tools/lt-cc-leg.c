/* lt-cc-leg: one meeting leg of a node, driven over stdin/stdout, so a test can put
 * a real browser (or any WebRTC peer) in it without signald: each line
 * "join <endpoint> <base64 offer>" adds a site at full and answers with
 * "answer <endpoint> <base64 answer>"; "floor <endpoint>" makes its video the
 * program; the leg's statistics report comes out as "stats <json>" every 2 s.
 * It runs until stdin closes.
 *
 * Usage: lt-cc-leg ADDRESS   (the one address its ICE agents gather on) */
#include "leg.h"

#include <gio/gio.h>
#include <gst/gst.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

static GMainLoop *loop;
static McuLeg *leg;

static void
on_answer (const char *sdp, const GError *error, gpointer data)
{
  g_autofree char *endpoint = data;
  if (sdp == NULL)
    {
      printf ("error %s %s\n", endpoint, error ? error->message : "no answer");
      fflush (stdout);
      return;
    }
  g_autofree char *b64 = g_base64_encode ((const guchar *)sdp, strlen (sdp));
  printf ("answer %s %s\n", endpoint, b64);
  fflush (stdout);
}

static void
on_stats (const char *json, gpointer data)
{
  printf ("stats %s\n", json);
  fflush (stdout);
}

static gboolean
on_line (GIOChannel *ch, GIOCondition cond, gpointer data)
{
  g_autofree char *line = NULL;
  gsize n = 0;
  GIOStatus st = g_io_channel_read_line (ch, &line, &n, NULL, NULL);
  if (st == G_IO_STATUS_EOF || st == G_IO_STATUS_ERROR)
    {
      g_main_loop_quit (loop);
      return G_SOURCE_REMOVE;
    }
  if (line == NULL)
    return G_SOURCE_CONTINUE;
  g_strstrip (line);
  g_auto (GStrv) w = g_strsplit (line, " ", 3);
  if (g_strcmp0 (w[0], "join") == 0 && w[1] && w[2])
    {
      gsize len = 0;
      g_autofree guchar *offer = g_base64_decode (w[2], &len);
      g_autofree char *text = g_strndup ((const char *)offer, len);
      mcu_leg_add_site_async (leg, w[1], text, MCU_LEVEL_FULL, on_answer,
                              g_strdup (w[1]));
    }
  else if (g_strcmp0 (w[0], "floor") == 0 && w[1])
    mcu_leg_set_floor (leg, w[1]);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: lt-cc-leg ADDRESS\n");
      return 2;
    }
  gst_init (NULL, NULL);
  g_autoptr (GError) error = NULL;
  McuCert *cert = mcu_cert_generate ("lt-cc-leg", &error);
  if (cert == NULL)
    {
      fprintf (stderr, "lt-cc-leg: %s\n", error->message);
      return 1;
    }
  const char *addresses[] = { argv[1], NULL };
  McuEndpointConfig cfg = { 0 };
  cfg.ice.local_addresses = addresses;
  McuLegCallbacks cb = { .stats = on_stats };
  leg = mcu_leg_new (NULL, cert, "cc/ramp", &cfg, NULL, &cb, NULL, &error);
  if (leg == NULL)
    {
      fprintf (stderr, "lt-cc-leg: %s\n", error->message);
      return 1;
    }
  loop = g_main_loop_new (NULL, FALSE);
  GIOChannel *in = g_io_channel_unix_new (0);
  g_io_add_watch (in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_line, NULL);
  printf ("ready\n");
  fflush (stdout);
  g_main_loop_run (loop);
  g_io_channel_unref (in);
  mcu_leg_free (leg);
  mcu_cert_unref (cert);
  g_main_loop_unref (loop);
  return 0;
}
