/* lt-impair-harness.h: drives lt-impair (tests/tools/lt-impair.c) from a Check
 * test: starts it as a real process on a loopback sink, sends it commands and reads
 * its answers and counters, and moves numbered datagrams through it. */
#pragma once

#include "lt-test.h"

#include <gio/gio.h>
#include <string.h>

typedef struct
{
  GSubprocess *proc;
  GDataInputStream *out;
  GOutputStream *in;
  guint16 port;
} Impair;

typedef struct
{
  guint64 rx, tx, bytes_tx, loss, burst, cut, rate, reordered;
  guint64 rtcp_rx, rtcp_tx; /* RTCP among rx and tx, inside TURN framing too */
} DirStats;

static inline char *
impair_path (void)
{
  const char *build = g_getenv ("LT_BUILD_ROOT");
  ck_assert_msg (build != NULL, "LT_BUILD_ROOT is not set (run through meson test)");
  return g_build_filename (build, "tests", "tools", "lt-impair", NULL);
}

static inline GSocket *
udp_socket (guint16 *port)
{
  g_autoptr (GError) error = NULL;
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                             G_SOCKET_PROTOCOL_UDP, &error);
  ck_assert_msg (s != NULL, "%s", error ? error->message : "");
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, 0);
  ck_assert (g_socket_bind (s, sa, FALSE, &error));
  /* a guard against a hang, not a timing assertion */
  g_socket_set_timeout (s, 10);
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (s, &error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return s;
}

static inline Impair *
impair_start (guint16 target, const char *const *args)
{
  g_autofree char *path = impair_path ();
  g_autofree char *target_s = g_strdup_printf ("%u", target);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, "--target");
  g_ptr_array_add (argv, target_s);
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);

  g_autoptr (GError) error = NULL;
  Impair *imp = g_new0 (Impair, 1);
  imp->proc = g_subprocess_newv (
      (const char *const *)argv->pdata,
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  ck_assert_msg (imp->proc != NULL, "%s", error ? error->message : "");
  imp->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (imp->proc));
  imp->in = g_subprocess_get_stdin_pipe (imp->proc);
  g_autofree char *line = g_data_input_stream_read_line (imp->out, NULL, NULL, &error);
  ck_assert_msg (line != NULL, "lt-impair printed no port");
  guint64 port = 0;
  ck_assert (g_ascii_string_to_unsigned (line, 10, 1, 65535, &port, NULL));
  imp->port = (guint16)port;
  return imp;
}

static inline void
parse_stats (const char *line, DirStats *st)
{
  g_auto (GStrv) words = g_strsplit (line, " ", -1);
  for (guint i = 2; words[i] != NULL; i++)
    {
      g_auto (GStrv) kv = g_strsplit (words[i], "=", 2);
      ck_assert (kv[1] != NULL);
      guint64 v = g_ascii_strtoull (kv[1], NULL, 10);
      if (g_str_equal (kv[0], "rx"))
        st->rx = v;
      else if (g_str_equal (kv[0], "tx"))
        st->tx = v;
      else if (g_str_equal (kv[0], "loss"))
        st->loss = v;
      else if (g_str_equal (kv[0], "burst"))
        st->burst = v;
      else if (g_str_equal (kv[0], "cut"))
        st->cut = v;
      else if (g_str_equal (kv[0], "rate"))
        st->rate = v;
      else if (g_str_equal (kv[0], "reordered"))
        st->reordered = v;
      else if (g_str_equal (kv[0], "rtcp_rx"))
        st->rtcp_rx = v;
      else if (g_str_equal (kv[0], "rtcp_tx"))
        st->rtcp_tx = v;
      else if (g_str_equal (kv[0], "bytes_tx"))
        st->bytes_tx = v;
    }
}

/* Sends one command and reads up to its "ok"/"error" answer; fills @up/@down from
 * "stats" lines. Returns: TRUE for "ok". */
static inline gboolean
impair_cmd (Impair *imp, const char *cmd, DirStats *up, DirStats *down)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_strconcat (cmd, "\n", NULL);
  ck_assert (
      g_output_stream_write_all (imp->in, line, strlen (line), NULL, NULL, &error));
  for (;;)
    {
      g_autofree char *ans = g_data_input_stream_read_line (imp->out, NULL, NULL, &error);
      ck_assert_msg (ans != NULL, "lt-impair went away during '%s'", cmd);
      if (g_str_equal (ans, "ok"))
        return TRUE;
      if (g_str_has_prefix (ans, "error"))
        return FALSE;
      if (g_str_has_prefix (ans, "stats up ") && up != NULL)
        parse_stats (ans, up);
      else if (g_str_has_prefix (ans, "stats down ") && down != NULL)
        parse_stats (ans, down);
    }
}

/* Ends the relay through end of stdin, as a test harness would, and checks that it
 * printed its counters and exited cleanly. */
static inline void
impair_stop (Impair *imp)
{
  g_autoptr (GError) error = NULL;
  ck_assert (g_output_stream_close (imp->in, NULL, &error));
  guint n_stats = 0;
  char *line;
  while ((line = g_data_input_stream_read_line (imp->out, NULL, NULL, NULL)) != NULL)
    {
      n_stats += g_str_has_prefix (line, "stats ");
      g_free (line);
    }
  ck_assert_uint_eq (n_stats, 2);
  ck_assert (g_subprocess_wait_check (imp->proc, NULL, &error));
  g_object_unref (imp->out);
  g_object_unref (imp->proc);
  g_free (imp);
}

static inline void
send_num (GSocket *s, guint16 port, guint32 n)
{
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) to = g_inet_socket_address_new (lo, port);
  guint8 buf[100] = { 0 };
  buf[0] = n >> 24, buf[1] = n >> 16, buf[2] = n >> 8, buf[3] = n;
  ck_assert_int_eq (g_socket_send_to (s, to, (char *)buf, sizeof buf, NULL, NULL),
                    sizeof buf);
}

static inline guint32
recv_num (GSocket *s, GSocketAddress **from)
{
  g_autoptr (GError) error = NULL;
  guint8 buf[200];
  gssize n = g_socket_receive_from (s, from, (char *)buf, sizeof buf, NULL, &error);
  ck_assert_msg (n >= 4, "receive: %s", error ? error->message : "short");
  return (guint32)buf[0] << 24 | (guint32)buf[1] << 16 | (guint32)buf[2] << 8 | buf[3];
}

/* Sends @n numbered datagrams through @imp in batches small enough for the socket
 * buffers, collecting after each batch exactly as many as the relay says it
 * forwarded. Returns: (transfer full): which numbers arrived. */
static inline GArray *
send_through (Impair *imp, GSocket *client, GSocket *sink, guint n)
{
  GArray *got = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint64 base_tx = 0;
  DirStats up = { 0 };
  impair_cmd (imp, "stats", &up, NULL);
  base_tx = up.tx;
  for (guint sent = 0; sent < n;)
    {
      for (guint i = 0; i < 100 && sent < n; i++, sent++)
        send_num (client, imp->port, sent);
      impair_cmd (imp, "stats", &up, NULL);
      while (got->len < up.tx - base_tx)
        {
          guint32 v = recv_num (sink, NULL);
          /* in order, each once */
          if (got->len > 0)
            ck_assert_uint_gt (v, g_array_index (got, guint32, got->len - 1));
          g_array_append_val (got, v);
        }
    }
  return got;
}
