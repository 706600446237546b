/* sig-ws-stream.c: SigWsStream, a GIOStream that reads its base within a byte budget
 * between complete WebSocket messages (see sig-ws-stream.h). */
#include "sig-ws-stream.h"

/* The input side: a filter over the socket's pollable input that counts. libsoup's
 * WebSocket connection reads only through the pollable interface, so both paths
 * count. */
#define SIG_TYPE_WS_INPUT (sig_ws_input_get_type ())
G_DECLARE_FINAL_TYPE (SigWsInput, sig_ws_input, SIG, WS_INPUT, GFilterInputStream)

struct _SigWsInput
{
  GFilterInputStream parent_instance;
  gsize budget;
  gsize used;
};

static void sig_ws_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE (SigWsInput, sig_ws_input, G_TYPE_FILTER_INPUT_STREAM,
                         G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                sig_ws_input_pollable_init))

static GInputStream *
input_base (gpointer stream)
{
  return g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (stream));
}

/* Refuses to read once the budget is spent; a read that spends it is still handed
 * over, so what a peer may make signald hold is the budget plus one read. */
static gboolean
within_budget (SigWsInput *in, GError **error)
{
  if (in->used <= in->budget)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
               "over %" G_GSIZE_FORMAT " bytes without a complete message", in->budget);
  return FALSE;
}

static gssize
input_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
            GError **error)
{
  SigWsInput *in = SIG_WS_INPUT (stream);
  if (!within_budget (in, error))
    return -1;
  gssize n = g_input_stream_read (input_base (in), buffer, count, cancellable, error);
  if (n > 0)
    in->used += (gsize)n;
  return n;
}

static gssize
input_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count,
                        GError **error)
{
  SigWsInput *in = SIG_WS_INPUT (stream);
  if (!within_budget (in, error))
    return -1;
  gssize n = g_pollable_input_stream_read_nonblocking (
      G_POLLABLE_INPUT_STREAM (input_base (in)), buffer, count, NULL, error);
  if (n > 0)
    in->used += (gsize)n;
  return n;
}

static gboolean
input_can_poll (GPollableInputStream *stream)
{
  return g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (input_base (stream)));
}

static gboolean
input_is_readable (GPollableInputStream *stream)
{
  return g_pollable_input_stream_is_readable (
      G_POLLABLE_INPUT_STREAM (input_base (stream)));
}

static GSource *
input_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  GSource *base = g_pollable_input_stream_create_source (
      G_POLLABLE_INPUT_STREAM (input_base (stream)), NULL);
  GSource *source = g_pollable_source_new_full (stream, base, cancellable);
  g_source_unref (base);
  return source;
}

static void
sig_ws_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = input_can_poll;
  iface->is_readable = input_is_readable;
  iface->create_source = input_create_source;
  iface->read_nonblocking = input_read_nonblocking;
}

static void
sig_ws_input_class_init (SigWsInputClass *klass)
{
  G_INPUT_STREAM_CLASS (klass)->read_fn = input_read;
}

static void
sig_ws_input_init (SigWsInput *in)
{
}

/* ---- the stream ---- */

struct _SigWsStream
{
  GIOStream parent_instance;
  GIOStream *base;
  SigWsInput *input;
};

G_DEFINE_TYPE (SigWsStream, sig_ws_stream, G_TYPE_IO_STREAM)

static GInputStream *
stream_get_input (GIOStream *stream)
{
  return G_INPUT_STREAM (SIG_WS_STREAM (stream)->input);
}

static GOutputStream *
stream_get_output (GIOStream *stream)
{
  return g_io_stream_get_output_stream (SIG_WS_STREAM (stream)->base);
}

/* Closing closes the connection itself (not only its two streams), so the socket is
 * shut when libsoup is done with it rather than when the last reference goes. */
static gboolean
stream_close (GIOStream *stream, GCancellable *cancellable, GError **error)
{
  return g_io_stream_close (SIG_WS_STREAM (stream)->base, cancellable, error);
}

static void
base_closed_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  GTask *task = data;
  GError *error = NULL;
  if (g_io_stream_close_finish (G_IO_STREAM (source), res, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

/* Why not GIOStream's default: it runs the synchronous close in a worker thread; the
 * socket's own asynchronous close stays on signald's thread. */
static void
stream_close_async (GIOStream *stream, int priority, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer data)
{
  GTask *task = g_task_new (stream, cancellable, callback, data);
  g_io_stream_close_async (SIG_WS_STREAM (stream)->base, priority, cancellable,
                           base_closed_cb, task);
}

static gboolean
stream_close_finish (GIOStream *stream, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
stream_dispose (GObject *object)
{
  SigWsStream *s = SIG_WS_STREAM (object);
  g_clear_object (&s->input);
  g_clear_object (&s->base);
  G_OBJECT_CLASS (sig_ws_stream_parent_class)->dispose (object);
}

static void
sig_ws_stream_class_init (SigWsStreamClass *klass)
{
  GIOStreamClass *io = G_IO_STREAM_CLASS (klass);
  io->get_input_stream = stream_get_input;
  io->get_output_stream = stream_get_output;
  io->close_fn = stream_close;
  io->close_async = stream_close_async;
  io->close_finish = stream_close_finish;
  G_OBJECT_CLASS (klass)->dispose = stream_dispose;
}

static void
sig_ws_stream_init (SigWsStream *s)
{
}

SigWsStream *
sig_ws_stream_new (GIOStream *base, gsize budget)
{
  g_return_val_if_fail (G_IS_IO_STREAM (base), NULL);
  SigWsStream *s = g_object_new (SIG_TYPE_WS_STREAM, NULL);
  s->base = g_object_ref (base);
  s->input = g_object_new (SIG_TYPE_WS_INPUT, "base-stream",
                           g_io_stream_get_input_stream (base), "close-base-stream",
                           FALSE, NULL);
  s->input->budget = budget;
  return s;
}

void
sig_ws_stream_message (SigWsStream *stream)
{
  g_return_if_fail (SIG_IS_WS_STREAM (stream));
  stream->input->used = 0;
}
