/* import.c: the CSV import of a unit tree: parse, validate, difference-apply. */
#include "store-private.h"

#include <string.h>

struct _RoomsImportReport
{
  guint total, added, renamed, moved, removed, unchanged;
};

guint
rooms_import_report_get_total (const RoomsImportReport *r)
{
  return r->total;
}
guint
rooms_import_report_get_added (const RoomsImportReport *r)
{
  return r->added;
}
guint
rooms_import_report_get_renamed (const RoomsImportReport *r)
{
  return r->renamed;
}
guint
rooms_import_report_get_moved (const RoomsImportReport *r)
{
  return r->moved;
}
guint
rooms_import_report_get_removed (const RoomsImportReport *r)
{
  return r->removed;
}
guint
rooms_import_report_get_unchanged (const RoomsImportReport *r)
{
  return r->unchanged;
}
void
rooms_import_report_free (RoomsImportReport *r)
{
  g_free (r);
}

static const char *const columns[] = { "code", "name", "tier", "parent_code" };

typedef struct
{
  char *field[4];
  guint line;
  int depth;
  guint parent; /* index into rows, G_MAXUINT for none */
} Row;

static void
row_clear (Row *r)
{
  for (guint i = 0; i < 4; i++)
    g_free (r->field[i]);
}

typedef struct
{
  const char *data;
  gsize len, pos;
  guint line;
} Reader;

/* Reads one RFC 4180 record into @fields (at most @max; extra fields are counted in
 * *n but dropped). Returns FALSE at end of input. Every access is checked against
 * len; a quote left open runs to the end of the data and is an error. */
static gboolean
read_record (Reader *rd, GPtrArray *fields, guint *n, gboolean *bad_quote)
{
  g_ptr_array_set_size (fields, 0);
  *n = 0;
  *bad_quote = FALSE;
  if (rd->pos >= rd->len)
    return FALSE;
  GString *cur = g_string_new (NULL);
  for (;;)
    {
      gboolean quoted = FALSE;
      if (rd->pos < rd->len && rd->data[rd->pos] == '"')
        {
          quoted = TRUE;
          rd->pos++;
          for (;;)
            {
              if (rd->pos >= rd->len)
                {
                  *bad_quote = TRUE;
                  break;
                }
              char c = rd->data[rd->pos++];
              if (c == '"')
                {
                  if (rd->pos < rd->len && rd->data[rd->pos] == '"')
                    {
                      g_string_append_c (cur, '"');
                      rd->pos++;
                      continue;
                    }
                  break;
                }
              if (c == '\n')
                rd->line++;
              g_string_append_c (cur, c);
            }
        }
      while (rd->pos < rd->len && rd->data[rd->pos] != ',' && rd->data[rd->pos] != '\n')
        {
          if (quoted
              || (rd->data[rd->pos] == '\r'
                  && (rd->pos + 1 >= rd->len || rd->data[rd->pos + 1] == '\n')))
            {
              if (quoted && rd->data[rd->pos] != '\r')
                *bad_quote = TRUE;
              rd->pos++;
              continue;
            }
          g_string_append_len (cur, rd->data + rd->pos, 1);
          rd->pos++;
        }
      g_ptr_array_add (fields, g_string_free (cur, FALSE));
      (*n)++;
      cur = g_string_new (NULL);
      if (rd->pos < rd->len && rd->data[rd->pos] == ',')
        {
          rd->pos++;
          continue;
        }
      if (rd->pos < rd->len)
        rd->pos++; /* the '\n' */
      break;
    }
  g_string_free (cur, TRUE);
  return TRUE;
}

static gboolean fail (GError **error, guint line, const char *column, const char *fmt,
                      ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (GError **error, guint line, const char *column, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, ROOMS_ERROR, ROOMS_ERROR_INVALID, "line %u, column %s: %s", line,
               column, msg);
  return FALSE;
}

/* Why validate everything before touching the database: a rejected file must leave
 * the store byte-for-byte as it was, so the whole file is parsed and checked in
 * memory first and only a fully valid tree reaches SQLite. */
static gboolean
parse_rows (RoomsStore *store, const char *data, gsize len, GArray *rows,
            GHashTable *index, GError **error)
{
  Reader rd = { data, len, 0, 1 };
  g_autoptr (GPtrArray) f = g_ptr_array_new_with_free_func (g_free);
  guint n;
  gboolean bad_quote;

  /* A NUL byte inside the data hides the rest of a field from every string function below. */
  if (memchr (data, '\0', len) != NULL)
    {
      guint nl = 1;
      for (const char *p = data; *p; p++)
        nl += *p == '\n';
      return fail (error, nl, "code", "not valid UTF-8 (NUL byte)");
    }
  if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    rd.pos = 3; /* a UTF-8 byte order mark from spreadsheet exports */
  guint line = rd.line;
  if (!read_record (&rd, f, &n, &bad_quote))
    return fail (error, 1, "code", "empty file (expected the header %s)",
                 "code,name,tier,parent_code");
  if (n != 4 || bad_quote)
    return fail (error, line, n > 4 ? "parent_code" : columns[MIN (n, 4) - 1],
                 "wrong header: expected code,name,tier,parent_code");
  for (guint i = 0; i < 4; i++)
    if (strcmp (g_strstrip ((char *)f->pdata[i]), columns[i]) != 0)
      return fail (error, line, columns[i], "wrong header: expected '%s', found '%s'",
                   columns[i], (char *)f->pdata[i]);

  for (;;)
    {
      line = ++rd.line;
      if (!read_record (&rd, f, &n, &bad_quote))
        break;
      if (n == 1 && *(char *)f->pdata[0] == '\0')
        continue; /* a blank line (typically the last) */
      if (bad_quote)
        return fail (error, line, columns[MIN (n, 4) - 1], "unbalanced quote");
      for (guint i = 0; i < n && i < 4; i++)
        {
          const char *v = f->pdata[i];
          if (!g_utf8_validate (v, -1, NULL))
            return fail (error, line, columns[i], "not valid UTF-8");
        }
      if (n != 4)
        return fail (error, line, n > 4 ? "parent_code" : columns[n - 1],
                     "expected 4 columns, found %u", n);
      Row r = { { NULL }, line, -1, G_MAXUINT };
      for (guint i = 0; i < 4; i++)
        r.field[i] = g_strdup (g_strstrip ((char *)f->pdata[i]));
      g_array_append_val (rows, r);
      if (*r.field[0] == '\0')
        return fail (error, line, "code", "empty code");
      if (*r.field[1] == '\0')
        return fail (error, line, "name", "empty name for unit '%s'", r.field[0]);
      r.depth = rooms_store_tier_depth (store, r.field[2]);
      g_array_index (rows, Row, rows->len - 1).depth = r.depth;
      if (r.depth < 0)
        return fail (error, line, "tier", "unknown tier '%s'", r.field[2]);
      gpointer prev;
      if (g_hash_table_lookup_extended (index, r.field[0], NULL, &prev))
        return fail (error, line, "code", "duplicate code '%s' (first on line %u)",
                     r.field[0], g_array_index (rows, Row, GPOINTER_TO_UINT (prev)).line);
      g_hash_table_insert (index, r.field[0], GUINT_TO_POINTER (rows->len - 1));
    }
  return TRUE;
}

static gboolean
validate_tree (GArray *rows, GHashTable *index, GError **error)
{
  guint roots = 0;
  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = &g_array_index (rows, Row, i);
      const char *pc = r->field[3];
      if (*pc == '\0')
        {
          if (r->depth != 0)
            return fail (error, r->line, "parent_code",
                         "only the top tier may have no parent ('%s' is %s)", r->field[0],
                         r->field[2]);
          if (++roots > 1)
            return fail (error, r->line, "parent_code", "a second root '%s'",
                         r->field[0]);
          continue;
        }
      gpointer pi;
      if (!g_hash_table_lookup_extended (index, pc, NULL, &pi))
        return fail (error, r->line, "parent_code", "unknown parent '%s'", pc);
      r->parent = GPOINTER_TO_UINT (pi);
    }
  /* Cycles first, so a loop is reported as one rather than as a tier mismatch. */
  for (guint i = 0; i < rows->len; i++)
    {
      guint p = g_array_index (rows, Row, i).parent;
      for (guint steps = 0; p != G_MAXUINT; steps++)
        {
          if (p == i || steps > rows->len)
            {
              Row *r = &g_array_index (rows, Row, i);
              return fail (error, r->line, "parent_code",
                           "cycle: '%s' is its own ancestor through '%s'", r->field[0],
                           r->field[3]);
            }
          p = g_array_index (rows, Row, p).parent;
        }
    }
  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = &g_array_index (rows, Row, i);
      if (r->parent == G_MAXUINT)
        continue;
      Row *p = &g_array_index (rows, Row, r->parent);
      if (p->depth != r->depth - 1)
        return fail (error, r->line, "parent_code",
                     "parent '%s' is %s, not one tier above %s", p->field[0], p->field[2],
                     r->field[2]);
    }
  if (rows->len > 0 && roots == 0)
    return fail (error, g_array_index (rows, Row, 0).line, "parent_code",
                 "no root (a unit of the top tier with an empty parent_code)");
  return TRUE;
}

/* Why "not ended" rather than "starts in the future": a meeting that is live or
 * later today still needs its units; only occurrences that are over or cancelled
 * free them. */
static gboolean
check_removals_unused (RoomsStore *store, GPtrArray *removed, GError **error)
{
  if (removed->len == 0)
    return TRUE;
  g_autoptr (RoomsStmt) st = rooms_store_prepare (
      store,
      "SELECT DISTINCT m.id, m.title FROM meetings m JOIN occurrences o"
      " ON o.meeting_id = m.id WHERE o.state IN (0, 1, 2) AND o.end > ?1 AND"
      " (m.chair_code = ?2 OR EXISTS (SELECT 1 FROM meeting_sites ms JOIN sites s"
      " ON s.id = ms.site_id WHERE ms.meeting_id = m.id AND s.unit_code = ?2))"
      " ORDER BY m.id",
      error);
  if (!st)
    return FALSE;
  GString *msg = NULL;
  gint64 now = rooms_store_now (store);
  for (guint i = 0; i < removed->len; i++)
    {
      RoomsUnit *u = removed->pdata[i];
      sqlite3_reset (st);
      sqlite3_bind_int64 (st, 1, now);
      sqlite3_bind_text (st, 2, u->code, -1, SQLITE_STATIC);
      gboolean first = TRUE;
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          if (msg == NULL)
            msg = g_string_new ("cannot remove units that meetings still use:");
          if (first)
            g_string_append_printf (msg, " %s (%s) by", u->code, u->name);
          g_string_append_printf (msg, "%s meeting %" G_GINT64_FORMAT " \"%s\"",
                                  first ? "" : ",", (gint64)sqlite3_column_int64 (st, 0),
                                  (const char *)sqlite3_column_text (st, 1));
          first = FALSE;
        }
      if (!first)
        g_string_append_c (msg, ';');
    }
  if (msg)
    {
      g_set_error_literal (error, ROOMS_ERROR, ROOMS_ERROR_IN_USE, msg->str);
      g_string_free (msg, TRUE);
      return FALSE;
    }
  return TRUE;
}

static gboolean
step_done (RoomsStore *store, sqlite3_stmt *st, GError **error)
{
  int rc = sqlite3_step (st);
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    {
      rooms_store_set_sqlite_error (store, error, "import");
      return FALSE;
    }
  return TRUE;
}

static gboolean
apply_rows (RoomsStore *store, GArray *rows, GPtrArray *removed, RoomsImportReport *rep,
            GError **error)
{
  g_autoptr (RoomsStmt) upsert = rooms_store_prepare (
      store,
      "INSERT INTO units (code, name, tier, parent_code, removed) VALUES (?1, ?2, ?3, "
      "?4, 0)"
      " ON CONFLICT (code) DO UPDATE SET name = ?2, tier = ?3, parent_code = ?4,"
      " removed = 0",
      error);
  g_autoptr (RoomsStmt) site = rooms_store_prepare (
      store,
      "INSERT INTO sites (unit_code, name, enabled, is_default) SELECT ?1, ?2, 1, 1"
      " WHERE NOT EXISTS (SELECT 1 FROM sites WHERE unit_code = ?1 AND is_default = 1)",
      error);
  g_autoptr (RoomsStmt) del
      = rooms_store_prepare (store, "UPDATE units SET removed = 1 WHERE code = ?", error);
  if (!upsert || !site || !del)
    return FALSE;

  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = &g_array_index (rows, Row, i);
      RoomsUnit *old = rooms_store_get_unit (store, r->field[0]);
      const char *parent = *r->field[3] ? r->field[3] : NULL;
      if (old)
        {
          gboolean renamed = strcmp (old->name, r->field[1]) != 0;
          gboolean moved = g_strcmp0 (rooms_unit_get_parent_code (old), parent) != 0
                           || old->depth != r->depth;
          rep->renamed += renamed;
          rep->moved += moved;
          rep->unchanged += !renamed && !moved;
          if (!renamed && !moved)
            continue;
        }
      else
        rep->added++;
      sqlite3_bind_text (upsert, 1, r->field[0], -1, SQLITE_STATIC);
      sqlite3_bind_text (upsert, 2, r->field[1], -1, SQLITE_STATIC);
      sqlite3_bind_text (upsert, 3, r->field[2], -1, SQLITE_STATIC);
      rooms_bind_text (upsert, 4, parent);
      if (!step_done (store, upsert, error))
        return FALSE;
      if (old == NULL)
        {
          sqlite3_bind_text (site, 1, r->field[0], -1, SQLITE_STATIC);
          sqlite3_bind_text (site, 2, r->field[1], -1, SQLITE_STATIC);
          if (!step_done (store, site, error))
            return FALSE;
        }
    }
  for (guint i = 0; i < removed->len; i++)
    {
      sqlite3_bind_text (del, 1, ((RoomsUnit *)removed->pdata[i])->code, -1,
                         SQLITE_STATIC);
      if (!step_done (store, del, error))
        return FALSE;
    }
  rep->removed = removed->len;
  /* A node serving a removed unit would point outside the tree. */
  return rooms_store_exec (store,
                           "DELETE FROM nodes WHERE unit_code IN"
                           " (SELECT code FROM units WHERE removed = 1)",
                           error);
}

gboolean
rooms_store_import_csv (RoomsStore *store, const char *data, gsize len,
                        RoomsImportReport **report, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  g_autoptr (GArray) rows = g_array_new (FALSE, FALSE, sizeof (Row));
  g_array_set_clear_func (rows, (GDestroyNotify)row_clear);
  g_autoptr (GHashTable) index = g_hash_table_new (g_str_hash, g_str_equal);
  if (!parse_rows (store, data ? data : "", len, rows, index, error)
      || !validate_tree (rows, index, error))
    return FALSE;

  g_autoptr (GPtrArray) removed = g_ptr_array_new ();
  for (guint i = 0; i < store->units->len; i++)
    {
      RoomsUnit *u = store->units->pdata[i];
      if (!g_hash_table_contains (index, u->code))
        g_ptr_array_add (removed, u);
    }
  if (!check_removals_unused (store, removed, error))
    return FALSE;

  g_autofree RoomsImportReport *rep = g_new0 (RoomsImportReport, 1);
  rep->total = rows->len;
  if (!rooms_store_begin (store, error))
    return FALSE;
  if (!apply_rows (store, rows, removed, rep, error)
      || !rooms_store_commit (store, error))
    {
      rooms_store_rollback (store);
      return FALSE;
    }
  if (!rooms_store_load_tree (store, error) || !rooms_store_load_nodes (store, error))
    return FALSE;
  if (report)
    *report = g_steal_pointer (&rep);
  return TRUE;
}
