/* lienthong-mcu: the media node daemon. */
#include "lt-config.h"
#include "mcu.h"

#include <gst/gst.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  gboolean version = FALSE;
  GOptionEntry entries[] = { { "version", 'V', 0, G_OPTION_ARG_NONE, &version,
                               "Print the version and exit", NULL },
                             { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- lienthong media node (MCU)");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  g_option_context_set_description (
      ctx, "This build registers no node yet: the control protocol, transport and mixer\n"
           "are being written (see README.md). It exits without doing anything else.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("lienthong-mcu: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("lienthong-mcu %s (GStreamer %s)\n", LT_VERSION, gst_version_string ());
      return 0;
    }
  g_printerr ("lienthong-mcu: nothing to do yet in this build; see --help.\n");
  return 1;
}
