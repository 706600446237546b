/* ltctl: the command-line client of lienthong-signald. */
#include "lt-config.h"

#include <glib.h>

int
main (int argc, char **argv)
{
  gboolean version = FALSE;
  GOptionEntry entries[] = { { "version", 'V', 0, G_OPTION_ARG_NONE, &version,
                               "Print the version and exit", NULL },
                             { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("COMMAND - lienthong control");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (
      ctx, "This build has no commands yet: they come with the signaling API\n"
           "(see README.md).\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("ltctl: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("ltctl %s\n", LT_VERSION);
      return 0;
    }
  g_printerr ("ltctl: no commands yet in this build; see --help.\n");
  return 1;
}
