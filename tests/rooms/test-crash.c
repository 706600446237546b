/* Suite rooms-crash: proves durability. A child process books meetings in a loop and
 * reports each acknowledged meeting id through a pipe; the parent kills it with
 * SIGKILL mid-stream, reopens the database and finds every acknowledged booking
 * present and PRAGMA integrity_check clean. */
#include "rooms-test-util.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void G_GNUC_NORETURN
child_books (const char *path, int fd)
{
  RoomsStore *s = rooms_store_open (path, NULL, NULL);
  if (s == NULL)
    _exit (2);
  for (gint64 i = 0;; i++)
    {
      RoomsMeetingSpec *spec
          = rooms_meeting_spec_new ("crash", "076", 1000 + i * 10, 1005 + i * 10);
      rooms_meeting_spec_add_selection (spec, "076", "commune");
      RoomsBooking *b = NULL;
      if (!rooms_store_book (s, spec, &b, NULL, NULL))
        _exit (3);
      gint64 id = rooms_booking_get_meeting_id (b);
      if (write (fd, &id, sizeof id) != sizeof id)
        _exit (4);
      rooms_booking_free (b);
      rooms_meeting_spec_free (spec);
    }
}

START_TEST (test_kill_mid_stream)
{
  RtTmp t;
  rt_tmp_init (&t);
  rooms_store_free (rt_open_small (t.path));
  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  pid_t pid = fork ();
  ck_assert_int_ge (pid, 0);
  if (pid == 0)
    {
      close (fds[0]);
      child_books (t.path, fds[1]);
    }
  close (fds[1]);
  g_autoptr (GArray) acked = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 id;
  while (acked->len < 40 && read (fds[0], &id, sizeof id) == sizeof id)
    g_array_append_val (acked, id);
  kill (pid, SIGKILL);
  /* ids written before the kill are acknowledged too */
  while (read (fds[0], &id, sizeof id) == sizeof id)
    g_array_append_val (acked, id);
  close (fds[0]);
  int status;
  ck_assert_int_eq (waitpid (pid, &status, 0), pid);
  ck_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  ck_assert_uint_ge (acked->len, 40);

  g_autoptr (GError) error = NULL;
  g_autoptr (RoomsStore) s = rooms_store_open (t.path, NULL, &error);
  ck_assert_msg (s != NULL, "%s", error ? error->message : "");
  ck_assert_msg (rooms_store_integrity_check (s, &error), "%s",
                 error ? error->message : "");
  for (guint i = 0; i < acked->len; i++)
    {
      g_autoptr (RoomsMeeting) m
          = rooms_store_get_meeting (s, g_array_index (acked, gint64, i), NULL);
      ck_assert_msg (m != NULL, "acknowledged meeting %" G_GINT64_FORMAT " lost",
                     g_array_index (acked, gint64, i));
      ck_assert_uint_eq (rooms_meeting_get_site_ids (m)->len, 3);
    }
  g_clear_pointer (&s, rooms_store_free);
  rt_tmp_clear (&t);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("rooms-crash");
  TCase *tc = tcase_create ("crash");
  tcase_add_test (tc, test_kill_mid_stream);
  suite_add_tcase (s, tc);
  return lt_test_run (s);
}
