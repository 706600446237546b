/* libFuzzer target: the unit-list CSV importer must refuse or accept any bytes
 * without reading past them, and a refused import must leave the store as it was. */
#include "rooms.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* a small valid tree, imported first and after every accepted input, so that
 * re-imports (the difference apply) are fuzzed too */
static const char seed[] = "code,name,tier,parent_code\n"
                           "VN,Trung ương,central,\n"
                           "08,Tỉnh Tuyên Quang,province,VN\n"
                           "076,Huyện Sơn Dương,district,08\n"
                           "02545,Xã Tân Trào,commune,076\n";

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static RoomsStore *store;
  if (store == NULL)
    {
      store = rooms_store_open (":memory:", NULL, NULL);
      if (store == NULL)
        abort ();
      if (!rooms_store_import_csv (store, seed, sizeof seed - 1, NULL, NULL))
        abort ();
    }
  guint before = rooms_store_count_units (store);
  RoomsImportReport *report = NULL;
  GError *error = NULL;
  gboolean ok = rooms_store_import_csv (store, (const char *)data, size, &report, &error);
  if (!ok && rooms_store_count_units (store) != before)
    abort (); /* a refused import changed the store */
  if (ok)
    {
      /* put the seed tree back for the next input */
      rooms_store_import_csv (store, seed, sizeof seed - 1, NULL, NULL);
    }
  g_clear_error (&error);
  g_clear_pointer (&report, rooms_import_report_free);
  return 0;
}
