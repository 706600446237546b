/* text.h: Vietnamese text helpers shared by import, search and display. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * rooms_text_fold:
 * @text: (transfer none): valid UTF-8
 *
 * Folds @text for diacritic- and case-insensitive matching: Vietnamese letters lose
 * their tone and vowel marks ("Sơn Dương" -> "son duong", "Đắk Lắk" -> "dak lak"),
 * everything is lower-cased and runs of white space become one space, trimmed.
 *
 * Returns: (transfer full): the folded text, or %NULL when @text is not valid UTF-8.
 */
char *rooms_text_fold (const char *text);

G_END_DECLS
