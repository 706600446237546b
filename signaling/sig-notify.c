/* sig-notify.c: the sd_notify protocol is one datagram per state change to an
 * AF_UNIX socket; a dozen lines do not justify linking libsystemd. */
#include "sig-notify.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

gboolean
sig_notify (const char *state)
{
  const char *path = g_getenv ("NOTIFY_SOCKET");
  if (path == NULL || *path == '\0')
    return TRUE;
  gsize plen = strlen (path);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (plen >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
    return FALSE;
  memcpy (sa.sun_path, path, plen);
  if (path[0] == '@')
    sa.sun_path[0] = '\0';
  int fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return FALSE;
  socklen_t salen = (socklen_t)(offsetof (struct sockaddr_un, sun_path) + plen);
  ssize_t r
      = sendto (fd, state, strlen (state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
  close (fd);
  return r >= 0;
}

guint64
sig_notify_watchdog_usec (void)
{
  const char *usec = g_getenv ("WATCHDOG_USEC");
  const char *pid = g_getenv ("WATCHDOG_PID");
  if (usec == NULL)
    return 0;
  if (pid != NULL && g_ascii_strtoll (pid, NULL, 10) != (gint64)getpid ())
    return 0;
  return g_ascii_strtoull (usec, NULL, 10);
}
