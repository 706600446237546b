/* lt-test.h: the common main() of lienthong's Check suites.
 *
 * Every suite runs with unexpected g_critical/g_warning made fatal (a test that logs
 * one fails), Check's normal verbosity so its summary line stays visible, and the
 * national data folder found through $LT_SHARED_DATA (set by tests/meson.build).
 */
#pragma once

#include <check.h>
#include <glib.h>
#include <stdlib.h>

/* Skips the rest of a test case, with a message, when the national unit lists are
 * absent (a fresh clone without ../shared beside it). Check has no skip status, so
 * the case passes after printing why it tested nothing. */
#define LT_REQUIRE_SHARED_FILE(var, name)                                         \
  g_autofree char *var = lt_test_shared_file (name);                              \
  if (var == NULL)                                                                \
    {                                                                             \
      g_print ("SKIP %s: %s not found (set LT_SHARED_DATA or put ../shared/data " \
               "beside the source tree)\n",                                       \
               __func__, name);                                                   \
      return;                                                                     \
    }

static inline char *
lt_test_shared_file (const char *name)
{
  const char *dir = g_getenv ("LT_SHARED_DATA");
  if (dir == NULL || *dir == '\0')
    return NULL;
  char *path = g_build_filename (dir, name, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_free (path);
      return NULL;
    }
  return path;
}

static inline int
lt_test_run (Suite *suite)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  SRunner *runner = srunner_create (suite);
  srunner_run_all (runner, CK_ENV);
  int failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
