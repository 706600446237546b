/* sig-server.h: SigServer, the HTTP/WebSocket front of lienthong-signald.
 *
 * It owns the store, the SoupServer, the route table, the node registry, the
 * lifecycle timers and the metrics, all on the thread-default GMainContext. */
#pragma once

#include <glib-object.h>

#include "rooms.h"
#include "sig-config.h"

G_BEGIN_DECLS

typedef struct _SigServer SigServer;

/**
 * sig_server_new:
 * @config: (transfer none): the configuration (copied as needed)
 * @error: ROOMS_ERROR_STORE, G_FILE_ERROR or G_IO_ERROR
 *
 * Opens `<state-dir>/lienthong.db`, creates the first admin token when the token store
 * is empty (written to `<state-dir>/admin.token`, mode 0600), binds the listening
 * socket and writes the bound address to `<state-dir>/signald.addr`.
 *
 * Returns: (transfer full) (nullable): the server, serving once the main loop runs
 */
SigServer *sig_server_new (const SigConfig *config, GError **error);

/* Returns: (transfer none): the bound "ADDR:PORT". */
const char *sig_server_get_address (SigServer *server);

/**
 * sig_server_drain:
 * @done: (scope notified) (nullable): called once the grace time has passed
 *
 * Starts draining: new bookings and joins are refused with 503 and Retry-After, live
 * meetings keep running, and after the configured grace @done runs.
 */
void sig_server_drain (SigServer *server, GCallback done, gpointer user_data);

/* Returns: %TRUE once sig_server_drain() was called. */
gboolean sig_server_is_draining (SigServer *server);

void sig_server_free (SigServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigServer, sig_server_free)

G_END_DECLS
