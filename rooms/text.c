#include "text.h"

#include <string.h>

/* Why decompose instead of a lookup table: NFD splits every precomposed Vietnamese
 * letter into its base letter plus combining marks, so dropping the marks (Unicode
 * category Mn) handles all 134 accented letters at once. Đ/đ has no decomposition and
 * is the one letter mapped by hand. */
char *
rooms_text_fold (const char *text)
{
  g_return_val_if_fail (text != NULL, NULL);

  if (!g_utf8_validate (text, -1, NULL))
    return NULL;

  g_autofree char *nfd = g_utf8_normalize (text, -1, G_NORMALIZE_NFD);
  GString *out = g_string_sized_new (strlen (nfd));
  gboolean pending_space = FALSE;

  for (const char *p = nfd; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_type (c) == G_UNICODE_NON_SPACING_MARK)
        continue;
      if (c == 0x0110 || c == 0x0111) /* Đ đ */
        c = 'd';
      if (g_unichar_isspace (c))
        {
          pending_space = out->len > 0;
          continue;
        }
      if (pending_space)
        {
          g_string_append_c (out, ' ');
          pending_space = FALSE;
        }
      g_string_append_unichar (out, g_unichar_tolower (c));
    }
  return g_string_free (out, FALSE);
}
