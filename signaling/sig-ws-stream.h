/* sig-ws-stream.h: the byte budget under a WebSocket.
 *
 * libsoup bounds each WebSocket frame, not a message: a client that sends a message
 * as endless continuation frames makes it buffer without limit (a probe held 97 MiB
 * in signald this way). SigWsStream sits between the socket and libsoup's
 * connection and counts the bytes read since the last complete message; past its
 * budget the next read fails, and libsoup closes the connection. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SIG_TYPE_WS_STREAM (sig_ws_stream_get_type ())
G_DECLARE_FINAL_TYPE (SigWsStream, sig_ws_stream, SIG, WS_STREAM, GIOStream)

/**
 * sig_ws_stream_new:
 * @base: (transfer none): the upgraded connection's stream (its input must be
 *   pollable, as a socket's is)
 * @budget: the most bytes read between two sig_ws_stream_message() calls
 *
 * Returns: (transfer full): a stream reading @base's input within @budget and writing
 *   to @base's output; closing it closes @base
 */
SigWsStream *sig_ws_stream_new (GIOStream *base, gsize budget);

/* A complete message was delivered: the budget starts over. */
void sig_ws_stream_message (SigWsStream *stream);

G_END_DECLS
