/* sig-prompt.c: the password prompt of the command-line programs. */
#include "sig-prompt.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

gboolean
sig_prompt_is_terminal (void)
{
  return isatty (STDIN_FILENO);
}

char *
sig_prompt_secret (const char *prompt)
{
  gboolean tty = isatty (STDIN_FILENO);
  struct termios old, quiet;
  gboolean quieted = FALSE;
  if (tty)
    {
      g_printerr ("%s", prompt);
      if (tcgetattr (STDIN_FILENO, &old) == 0)
        {
          quiet = old;
          quiet.c_lflag &= ~(tcflag_t)ECHO;
          quieted = tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        }
    }
  char buf[LINE_MAX_BYTES + 2];
  char *line = fgets (buf, sizeof buf, stdin);
  if (line != NULL && strchr (buf, '\n') == NULL)
    {
      /* the rest of an over-long line is not the next answer */
      int c;
      while ((c = getchar ()) != EOF && c != '\n')
        ;
    }
  if (quieted)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
  if (tty)
    g_printerr ("\n");
  if (line == NULL)
    return NULL;
  buf[strcspn (buf, "\n")] = '\0';
  char *out = g_strdup (buf);
  explicit_bzero (buf, sizeof buf);
  return out;
}
