/* bench-fold: the cost of folding unit names for diacritic-free search, against
 * GLib's own g_utf8_casefold (which keeps the diacritics) in the same run.
 * Usage: bench-fold [CSV]   (default: $LT_SHARED_DATA/vn-units-2024.csv) */
#include "rooms.h"

#include <stdio.h>
#include <stdlib.h>

static double
per_name_ns (char *(*fn) (const char *), char **names, guint n, guint rounds)
{
  gint64 t0 = g_get_monotonic_time ();
  for (guint r = 0; r < rounds; r++)
    for (guint i = 0; i < n; i++)
      g_free (fn (names[i]));
  return (double)(g_get_monotonic_time () - t0) * 1000.0 / ((double)n * rounds);
}

static char *
casefold (const char *s)
{
  return g_utf8_casefold (s, -1);
}

int
main (int argc, char **argv)
{
  g_autofree char *path = NULL;
  if (argc > 1)
    path = g_strdup (argv[1]);
  else if (g_getenv ("LT_SHARED_DATA"))
    path = g_build_filename (g_getenv ("LT_SHARED_DATA"), "vn-units-2024.csv", NULL);
  g_autofree char *csv = NULL;
  if (path == NULL || !g_file_get_contents (path, &csv, NULL, NULL))
    {
      printf ("bench-fold: skipped: no unit list (give the CSV path as argument)\n");
      return 0;
    }

  /* The name is the second column; names hold no commas in the national list. */
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 1; lines[i]; i++)
    {
      g_auto (GStrv) cols = g_strsplit (lines[i], ",", 3);
      if (cols[0] && cols[1])
        g_ptr_array_add (names, g_strdup (cols[1]));
    }
  guint n = names->len;
  double base = per_name_ns (casefold, (char **)names->pdata, n, 20);
  double fold = per_name_ns (rooms_text_fold, (char **)names->pdata, n, 20);
  printf ("names: %u\n", n);
  printf ("casefold_baseline: %.0f ns/name\n", base);
  printf ("rooms_text_fold: %.0f ns/name\n", fold);
  printf ("fold_vs_baseline: %.2f x\n", fold / base);
  return 0;
}
