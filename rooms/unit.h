/* unit.h: the administrative unit tree: units, lookups, subtree resolution, name
 * search and the CSV import.
 *
 * Units live in the store's memory (loaded at open, changed only by an import), so
 * every RoomsUnit pointer here is (transfer none) and stays valid until the next
 * successful rooms_store_import_csv() or rooms_store_free().
 */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

typedef struct _RoomsUnit RoomsUnit;

const char *rooms_unit_get_code (const RoomsUnit *unit);
/* The official name, exactly as imported (UTF-8). */
const char *rooms_unit_get_name (const RoomsUnit *unit);
/* The name through rooms_text_fold(): lower case, without diacritics. */
const char *rooms_unit_get_folded_name (const RoomsUnit *unit);
const char *rooms_unit_get_tier (const RoomsUnit *unit);
/* 0 for the top tier. */
int rooms_unit_get_depth (const RoomsUnit *unit);
/* (nullable): %NULL for the root. */
const char *rooms_unit_get_parent_code (const RoomsUnit *unit);
/* (transfer none) (nullable) */
RoomsUnit *rooms_unit_get_parent (const RoomsUnit *unit);
guint rooms_unit_get_n_children (const RoomsUnit *unit);

/**
 * rooms_store_get_unit:
 * @code: (transfer none): a unit code ("08", "VN")
 *
 * Returns: (transfer none) (nullable): the unit, or %NULL when there is none
 */
RoomsUnit *rooms_store_get_unit (RoomsStore *store, const char *code);

/* Returns: (transfer none) (nullable): the root unit, %NULL while the tree is empty. */
RoomsUnit *rooms_store_get_root (RoomsStore *store);

/* Returns: the number of units in the tree. */
guint rooms_store_count_units (RoomsStore *store);

/* Returns: the number of units of @tier (0 for an unknown tier). */
guint rooms_store_count_tier (RoomsStore *store, const char *tier);

/**
 * rooms_store_get_children:
 *
 * Returns: (transfer container) (element-type RoomsUnit) (nullable): the children of
 *   @code ordered by code; %NULL with ROOMS_ERROR_NOT_FOUND for an unknown code
 */
GPtrArray *rooms_store_get_children (RoomsStore *store, const char *code, GError **error);

/**
 * rooms_store_get_ancestors:
 *
 * Returns: (transfer container) (element-type RoomsUnit) (nullable): the ancestors of
 *   @code, root first, without @code itself; %NULL with ROOMS_ERROR_NOT_FOUND
 */
GPtrArray *rooms_store_get_ancestors (RoomsStore *store, const char *code,
                                      GError **error);

/**
 * rooms_store_resolve_subtree:
 * @code: (transfer none): the top unit of the selection
 * @down_to: (transfer none) (nullable): the lowest tier included ("commune"), or
 *   %NULL for @code alone
 *
 * Resolves "CODE down to TIER": @code and every descendant whose tier depth is at most
 * that of @down_to, in depth-first pre-order (children by code). A @down_to above
 * @code's own tier yields just @code.
 *
 * Returns: (transfer container) (element-type RoomsUnit) (nullable): the units;
 *   %NULL with ROOMS_ERROR_NOT_FOUND (unknown code) or ROOMS_ERROR_INVALID (unknown
 *   tier)
 */
GPtrArray *rooms_store_resolve_subtree (RoomsStore *store, const char *code,
                                        const char *down_to, GError **error);

/**
 * rooms_unit_is_within:
 *
 * Returns: %TRUE when @unit is @ancestor or lies in its subtree
 */
gboolean rooms_unit_is_within (const RoomsUnit *unit, const RoomsUnit *ancestor);

/**
 * rooms_store_search_units:
 * @query: (transfer none): what the user typed, with or without diacritics
 * @limit: the most results wanted (0 means 20)
 *
 * Ranked name search, insensitive to case and diacritics (through rooms_text_fold).
 * Rank, best first: the name without its type prefix ("Huyện", "Tỉnh", ...), the full
 * name or the unit code equals the query; the name starts with the query; a word of
 * the name starts with the query; the query occurs anywhere. Ties go to higher tiers, then shorter names, then
 * code. Uses an in-memory index; no database access.
 *
 * Returns: (transfer container) (element-type RoomsUnit): the matches (maybe empty)
 */
GPtrArray *rooms_store_search_units (RoomsStore *store, const char *query, guint limit);

typedef struct _RoomsImportReport RoomsImportReport;

guint rooms_import_report_get_total (const RoomsImportReport *report);
guint rooms_import_report_get_added (const RoomsImportReport *report);
guint rooms_import_report_get_renamed (const RoomsImportReport *report);
/* Units whose parent changed (the tier is fixed by the code's history). */
guint rooms_import_report_get_moved (const RoomsImportReport *report);
guint rooms_import_report_get_removed (const RoomsImportReport *report);
guint rooms_import_report_get_unchanged (const RoomsImportReport *report);
void rooms_import_report_free (RoomsImportReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RoomsImportReport, rooms_import_report_free)

/**
 * rooms_store_import_csv:
 * @data: (array length=len): CSV bytes, header `code,name,tier,parent_code`, UTF-8,
 *   LF or CRLF line endings, RFC 4180 quoting allowed
 * @report: (out) (optional) (transfer full): what changed
 * @error: ROOMS_ERROR_INVALID with "line N, column C: ..." for malformed input
 *   (bad UTF-8, wrong header, wrong column count, empty code, duplicate code, unknown
 *   tier, unknown parent, parent not exactly one tier up, cycle, not exactly one root);
 *   ROOMS_ERROR_IN_USE naming the meetings when a removed unit is still used by a
 *   meeting that has not ended; ROOMS_ERROR_STORE
 *
 * Replaces the tree with the file's: adds new units (each with one default site named
 * after the unit), renames and re-parents changed ones, and removes units absent from
 * the file (their rows are kept, marked removed, so past meetings stay readable). One
 * transaction: on any error nothing changes, in memory or on disk.
 *
 * Returns: %TRUE on success
 */
gboolean rooms_store_import_csv (RoomsStore *store, const char *data, gsize len,
                                 RoomsImportReport **report, GError **error);

G_END_DECLS
