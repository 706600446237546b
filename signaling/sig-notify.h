/* sig-notify.h: sd_notify without libsystemd. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * sig_notify:
 * @state: (transfer none): a state line such as "READY=1" or "STOPPING=1"
 *
 * Sends @state to the datagram socket named by $NOTIFY_SOCKET (a path, or an abstract
 * name starting with '@'). Does nothing when the variable is unset.
 *
 * Returns: %TRUE when sent or when there is no socket to send to
 */
gboolean sig_notify (const char *state);

/**
 * sig_notify_watchdog_usec:
 *
 * Returns: the watchdog interval systemd asked for ($WATCHDOG_USEC, when
 *   $WATCHDOG_PID is unset or ours), or 0
 */
guint64 sig_notify_watchdog_usec (void);

G_END_DECLS
