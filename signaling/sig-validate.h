/* sig-validate.h: request validation for the HTTP API and the WebSockets.
 *
 * Every JSON body or message is checked twice before a handler sees it: a strict
 * RFC 8259 scanner reads the raw bytes first, without recursion and with bounds
 * checks (so a hostile 1 MiB of "[[[[" never reaches json-glib's recursive parser, nor
 * does nesting hidden behind the comments and single-quoted strings json-glib would
 * otherwise accept), then the parsed object is walked against the route's parameter
 * table (one table per route, Janus-style): unknown members, wrong types, missing
 * required members and values out of limits are refused with the name of the field. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The deepest nesting of arrays and objects a request may have. */
#define SIG_JSON_MAX_DEPTH 32

typedef enum
{
  SIG_PARAM_STRING,  /* a JSON string; min/max bound its length in bytes */
  SIG_PARAM_INT,     /* a JSON integer; min/max bound its value */
  SIG_PARAM_BOOLEAN, /* true or false */
  SIG_PARAM_TIME,    /* an RFC 3339 string with an offset ("2026-12-01T08:00:00+07:00") */
  SIG_PARAM_OBJECTS, /* an array of objects, each checked against @items; min/max bound
                        the number of elements */
  SIG_PARAM_TIMES,   /* an array of RFC 3339 strings; min/max bound the count */
} SigParamType;

typedef struct _SigParam SigParam;

/* One member of a request object. A table ends with an entry whose @name is %NULL. */
struct _SigParam
{
  const char *name;
  SigParamType type;
  gboolean required;
  gint64 min;
  gint64 max;
  gboolean nullable;     /* JSON null accepted (means "unset") */
  const SigParam *items; /* for SIG_PARAM_OBJECTS */
};

/**
 * sig_json_check:
 * @data: (array length=len): raw bytes
 * @offset: (out) (optional): on failure, the byte offset of the fault
 * @error: SIG_ERROR_BAD_REQUEST naming the fault and its offset
 *
 * Checks that @data is exactly one JSON text of RFC 8259 and nothing else: no
 * comments, no single-quoted strings, no bare words, no trailing bytes, no byte
 * order mark, valid UTF-8 (strings included: no overlong forms, no surrogates), no
 * control characters or NUL (not even as \u0000) in strings, no unpaired \u
 * surrogates, and arrays and objects nested at most %SIG_JSON_MAX_DEPTH deep. One
 * pass, no recursion, no allocation.
 *
 * Returns: %TRUE when @data is such a text
 */
gboolean sig_json_check (const guint8 *data, gsize len, gsize *offset, GError **error);

/**
 * sig_json_parse_object:
 * @data: (array length=len): the request body
 * @error: SIG_ERROR_BAD_REQUEST (empty, refused by sig_json_check(), not an object)
 *
 * The one way signald parses JSON from the network (HTTP bodies and WebSocket
 * messages): sig_json_check() first, json-glib only on bytes it accepted.
 *
 * Returns: (transfer full) (nullable): the parsed root node, an object
 */
JsonNode *sig_json_parse_object (const guint8 *data, gsize len, GError **error);

/**
 * sig_validate_object:
 * @object: (transfer none): the parsed request
 * @params: (transfer none): the route's table, ended by a %NULL name
 * @field: (out) (transfer full) (optional): on failure, the path of the member at
 *   fault ("participants[1].down_to")
 * @error: SIG_ERROR_BAD_REQUEST naming the problem
 *
 * Returns: %TRUE when @object satisfies @params
 */
gboolean sig_validate_object (JsonObject *object, const SigParam *params, char **field,
                              GError **error);

/* Returns: (transfer none) (nullable): member @name of @o when it is a JSON string,
 * else NULL (missing, null, a number, an object...). Never logs: for messages whose
 * members nobody has checked yet. */
const char *sig_json_string (JsonObject *o, const char *name);

/* Returns: member @name of @o when it is a JSON integer from 0 to G_MAXINT64, else -1
 * (a float, however large, a string, missing...). */
gint64 sig_json_int (JsonObject *o, const char *name);

/**
 * sig_parse_time:
 * @text: (transfer none): an RFC 3339 date-time with an explicit offset or Z
 * @out: (out): UTC unix seconds
 *
 * Returns: %TRUE when @text is such a time
 */
gboolean sig_parse_time (const char *text, gint64 *out);

/**
 * sig_format_time:
 *
 * Returns: (transfer full): @t (UTC unix seconds) as RFC 3339 in Asia/Ho_Chi_Minh
 *   (+07:00), the time users of the API read
 */
char *sig_format_time (gint64 t);

G_END_DECLS
