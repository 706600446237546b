/* sig-prompt.h: reading a password from the person at the keyboard, for the
 * command-line programs (lienthong-signald --create-admin, ltctl). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * sig_prompt_secret:
 * @prompt: (transfer none): shown on standard error when standard input is a
 *   terminal
 *
 * Reads one line from standard input without its newline: on a terminal with echo
 * off (and @prompt shown), else as it comes (a pipe, a file), so scripts can feed
 * it. A password is never an argument: it would show in ps and the shell's history.
 * A line longer than 4 KiB is cut there (every password rule refuses it anyway).
 *
 * Returns: (transfer full) (nullable): the line, or %NULL at the end of input; clear
 *   it with explicit_bzero() before freeing
 */
char *sig_prompt_secret (const char *prompt);

/* Returns: %TRUE when standard input is a terminal (a person may be asked twice). */
gboolean sig_prompt_is_terminal (void);

G_END_DECLS
