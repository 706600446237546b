/* lienthong-signald: the signaling daemon. */
#include "lt-config.h"

#include <glib.h>

int
main (int argc, char **argv)
{
  gboolean version = FALSE;
  GOptionEntry entries[] = { { "version", 'V', 0, G_OPTION_ARG_NONE, &version,
                               "Print the version and exit", NULL },
                             { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- lienthong signaling daemon");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (
      ctx, "This build serves no API yet: the HTTP/WebSocket API is being written\n"
           "(see README.md). It exits without doing anything else.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("lienthong-signald: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("lienthong-signald %s\n", LT_VERSION);
      return 0;
    }
  g_printerr ("lienthong-signald: nothing to do yet in this build; see --help.\n");
  return 1;
}
