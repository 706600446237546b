/* Replays a fuzz target's seed corpus (and any crash files added to it) as a plain
 * regression test: every file under the folders given is fed to the target once.
 * Linked with each target when the build is not a libFuzzer build. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint
replay_dir (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  guint n = 0;

  if (d == NULL)
    {
      g_printerr ("replay: %s\n", error->message);
      exit (EXIT_FAILURE);
    }
  for (const char *name; (name = g_dir_read_name (d)) != NULL;)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      if (!g_file_get_contents (path, &contents, &len, &error))
        {
          g_printerr ("replay: %s\n", error->message);
          exit (EXIT_FAILURE);
        }
      /* An exact-size heap copy, so ASan sees any read past the end. */
      uint8_t *copy = g_memdup2 (contents, len);
      LLVMFuzzerTestOneInput (copy, len);
      g_free (copy);
      n++;
    }
  return n;
}

int
main (int argc, char **argv)
{
  guint n = 0;
  for (int i = 1; i < argc; i++)
    n += replay_dir (argv[i]);
  if (n == 0)
    {
      g_printerr ("replay: no corpus files found\n");
      return EXIT_FAILURE;
    }
  printf ("replayed %u corpus files\n", n);
  return EXIT_SUCCESS;
}
