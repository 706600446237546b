/* sig-web.h: the web UI of lienthong-signald: static pages embedded with GResource. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/**
 * sig_web_serve:
 * @msg: (transfer none): a request no API route matched
 * @method: its method
 * @path: its path (no query)
 *
 * Answers a GET or HEAD of one of the embedded pages (`/`, `/secretary`, `/hall`,
 * `/it`) or of a file under `/web/`, with its Content-Type, `Cache-Control: no-cache`
 * and a Content-Security-Policy that allows only the daemon's own origin.
 *
 * Returns: %TRUE when @msg was answered, %FALSE when @path is not a web path (the
 *   caller answers 404 as for any unknown path)
 */
gboolean sig_web_serve (SoupServerMessage *msg, const char *method, const char *path);

G_END_DECLS
