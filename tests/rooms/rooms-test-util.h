/* rooms-test-util.h: small helpers shared by the rooms suites: a temporary store
 * folder, file hashing and a tiny hand-made tree. */
#pragma once

#include <glib/gstdio.h>

#include "lt-test.h"
#include "rooms.h"

/* A tree small enough to reason about: VN, two provinces, districts, communes. */
#define RT_SMALL_CSV                              \
  "code,name,tier,parent_code\n"                  \
  "VN,Trung ương,central,\n"                    \
  "08,Tỉnh Tuyên Quang,province,VN\n"          \
  "10,Tỉnh Lào Cai,province,VN\n"              \
  "076,Huyện Sơn Dương,district,08\n"        \
  "070,Thành phố Tuyên Quang,district,08\n"   \
  "080,Thành phố Lào Cai,district,10\n"       \
  "02500,Xã Hợp Thành,commune,076\n"          \
  "02501,Thị trấn Sơn Dương,commune,076\n" \
  "02200,Phường Phan Thiết,commune,070\n"    \
  "02600,Phường Cốc Lếu,commune,080\n"

typedef struct
{
  char *dir;
  char *path;
} RtTmp;

static inline void
rt_tmp_init (RtTmp *t)
{
  GError *error = NULL;
  t->dir = g_dir_make_tmp ("rooms-test-XXXXXX", &error);
  ck_assert_msg (t->dir != NULL, "tmp dir: %s", error ? error->message : "");
  t->path = g_build_filename (t->dir, "rooms.db", NULL);
}

static inline void
rt_tmp_clear (RtTmp *t)
{
  const char *suffix[] = { "", "-wal", "-shm", "-journal" };
  for (guint i = 0; i < G_N_ELEMENTS (suffix); i++)
    {
      g_autofree char *p = g_strconcat (t->path, suffix[i], NULL);
      g_unlink (p);
    }
  g_rmdir (t->dir);
  g_free (t->dir);
  g_free (t->path);
}

/* SHA-256 of the database file and its WAL together (an absent file hashes as ""). */
static inline char *
rt_hash_db (const char *path)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  const char *suffix[] = { "", "-wal" };
  for (guint i = 0; i < G_N_ELEMENTS (suffix); i++)
    {
      g_autofree char *p = g_strconcat (path, suffix[i], NULL);
      g_autofree char *data = NULL;
      gsize len = 0;
      if (g_file_get_contents (p, &data, &len, NULL))
        g_checksum_update (sum, (const guchar *)data, len);
      g_checksum_update (sum, (const guchar *)"|", 1);
    }
  return g_strdup (g_checksum_get_string (sum));
}

static inline RoomsStore *
rt_open_small (const char *path)
{
  g_autoptr (GError) error = NULL;
  RoomsStore *s = rooms_store_open (path, NULL, &error);
  ck_assert_msg (s != NULL, "open: %s", error ? error->message : "");
  ck_assert_msg (
      rooms_store_import_csv (s, RT_SMALL_CSV, strlen (RT_SMALL_CSV), NULL, &error),
      "import: %s", error ? error->message : "");
  return s;
}

static inline RoomsStore *
rt_open_shared (const char *path, const char *file, const char *const *tiers)
{
  g_autofree char *csv_path = lt_test_shared_file (file);
  if (csv_path == NULL)
    return NULL;
  g_autofree char *csv = NULL;
  gsize len = 0;
  ck_assert (g_file_get_contents (csv_path, &csv, &len, NULL));
  g_autoptr (GError) error = NULL;
  RoomsStore *s = rooms_store_open (path, tiers, &error);
  ck_assert_msg (s != NULL, "open: %s", error ? error->message : "");
  ck_assert_msg (rooms_store_import_csv (s, csv, len, NULL, &error), "import %s: %s",
                 file, error ? error->message : "");
  return s;
}

/* The id of the default site of @code. */
static inline gint64
rt_site_of (RoomsStore *s, const char *code)
{
  g_autoptr (GPtrArray) sites = rooms_store_list_sites (s, code, NULL);
  ck_assert_ptr_nonnull (sites);
  ck_assert_uint_ge (sites->len, 1);
  return rooms_site_get_id (sites->pdata[0]);
}
