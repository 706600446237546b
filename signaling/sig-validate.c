/* sig-validate.c: the strict JSON scanner and parameter-table validation of requests. */
#include "sig-validate.h"

#include "sig-error.h"

#include <string.h>

G_STATIC_ASSERT (SIG_JSON_MAX_DEPTH <= 64); /* the open containers fit one guint64 */

/* A bounds-checked reader over the raw bytes: every access goes through peek(),
 * which answers -1 past the end, so no rule below can read beyond @len. */
typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
  const char *why; /* the fault, a static string */
} JsonScan;

static inline int
peek (const JsonScan *s)
{
  return s->pos < s->len ? s->data[s->pos] : -1;
}

static inline gboolean
fault (JsonScan *s, const char *why)
{
  s->why = why;
  return FALSE;
}

static void
skip_ws (JsonScan *s)
{
  for (int c = peek (s); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek (s))
    s->pos++;
}

static int
hex_value (int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Reads the four hex digits of a \u escape (after the 'u'). Returns -1 if bad. */
static gint32
scan_hex4 (JsonScan *s)
{
  gint32 v = 0;
  for (int i = 0; i < 4; i++)
    {
      int h = hex_value (peek (s));
      if (h < 0)
        return -1;
      v = v * 16 + h;
      s->pos++;
    }
  return v;
}

/* One UTF-8 sequence starting at a byte >= 0x80 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static gboolean
scan_utf8 (JsonScan *s)
{
  int c = peek (s);
  int n;
  int lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
  if (c >= 0xC2 && c <= 0xDF)
    n = 1;
  else if (c >= 0xE0 && c <= 0xEF)
    {
      n = 2;
      if (c == 0xE0)
        lo = 0xA0; /* overlong */
      else if (c == 0xED)
        hi = 0x9F; /* surrogates */
    }
  else if (c >= 0xF0 && c <= 0xF4)
    {
      n = 3;
      if (c == 0xF0)
        lo = 0x90; /* overlong */
      else if (c == 0xF4)
        hi = 0x8F; /* above U+10FFFF */
    }
  else
    return fault (s, "invalid UTF-8");
  s->pos++;
  for (int i = 0; i < n; i++)
    {
      int b = peek (s);
      if (b < (i == 0 ? lo : 0x80) || b > (i == 0 ? hi : 0xBF))
        return fault (s, "invalid UTF-8");
      s->pos++;
    }
  return TRUE;
}

/* A string, at its opening quote. */
static gboolean
scan_string (JsonScan *s)
{
  s->pos++;
  for (;;)
    {
      int c = peek (s);
      if (c < 0)
        return fault (s, "unterminated string");
      if (c == '"')
        {
          s->pos++;
          return TRUE;
        }
      if (c < 0x20)
        return fault (s, "control character in a string");
      if (c >= 0x80)
        {
          if (!scan_utf8 (s))
            return FALSE;
          continue;
        }
      s->pos++;
      if (c != '\\')
        continue;
      c = peek (s);
      if (c <= 0 || strchr ("\"\\/bfnrtu", c) == NULL) /* c = 0 would match the NUL */
        return fault (s, "bad escape in a string");
      s->pos++;
      if (c != 'u')
        continue;
      gint32 u = scan_hex4 (s);
      if (u < 0)
        return fault (s, "bad \\u escape");
      if (u == 0)
        return fault (s, "NUL in a string");
      if (u >= 0xDC00 && u <= 0xDFFF)
        return fault (s, "unpaired surrogate escape");
      if (u >= 0xD800 && u <= 0xDBFF)
        {
          /* a high surrogate must be followed by the escape of a low one */
          if (peek (s) != '\\')
            return fault (s, "unpaired surrogate escape");
          s->pos++;
          if (peek (s) != 'u')
            return fault (s, "unpaired surrogate escape");
          s->pos++;
          gint32 low = scan_hex4 (s);
          if (low < 0xDC00 || low > 0xDFFF)
            return fault (s, "unpaired surrogate escape");
        }
    }
}

static gboolean
scan_digits (JsonScan *s)
{
  int c = peek (s);
  if (c < '0' || c > '9')
    return FALSE;
  while ((c = peek (s)) >= '0' && c <= '9')
    s->pos++;
  return TRUE;
}

/* -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static gboolean
scan_number (JsonScan *s)
{
  if (peek (s) == '-')
    s->pos++;
  if (peek (s) == '0')
    s->pos++;
  else if (!scan_digits (s))
    return fault (s, "bad number");
  if (peek (s) == '.')
    {
      s->pos++;
      if (!scan_digits (s))
        return fault (s, "bad number");
    }
  if (peek (s) == 'e' || peek (s) == 'E')
    {
      s->pos++;
      if (peek (s) == '+' || peek (s) == '-')
        s->pos++;
      if (!scan_digits (s))
        return fault (s, "bad number");
    }
  return TRUE;
}

static gboolean
scan_literal (JsonScan *s)
{
  static const char *const words[] = { "true", "false", "null" };
  for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
    {
      gsize n = strlen (words[i]);
      if (s->len - s->pos >= n && memcmp (s->data + s->pos, words[i], n) == 0)
        {
          s->pos += n;
          return TRUE;
        }
    }
  return fault (s, "unexpected character");
}

/* Why a loop with a bit stack rather than a recursive descent: the nesting of a
 * hostile body must cost no stack. Bit d of @objects says whether the container
 * open at depth d+1 is an object (1) or an array (0). */
static gboolean
scan_text (JsonScan *s)
{
  guint depth = 0;
  guint64 objects = 0;
  enum
  {
    VALUE,
    MEMBER,
    AFTER
  } want
      = VALUE;

  skip_ws (s);
  for (;;)
    {
      skip_ws (s);
      int c = peek (s);
      if (want == MEMBER)
        {
          /* a member name, its colon, then a value */
          if (c != '"')
            return fault (s, "expected a member name in double quotes");
          if (!scan_string (s))
            return FALSE;
          skip_ws (s);
          if (peek (s) != ':')
            return fault (s, "expected ':'");
          s->pos++;
          want = VALUE;
          continue;
        }
      if (want == AFTER)
        {
          if (depth == 0)
            return c < 0 ? TRUE : fault (s, "trailing bytes after the JSON text");
          gboolean in_object = (objects >> (depth - 1)) & 1;
          if (c == ',')
            {
              s->pos++;
              want = in_object ? MEMBER : VALUE;
            }
          else if (c == (in_object ? '}' : ']'))
            {
              s->pos++;
              depth--;
            }
          else
            return fault (s, in_object ? "expected ',' or '}'" : "expected ',' or ']'");
          continue;
        }
      /* want == VALUE */
      if (c == '{' || c == '[')
        {
          if (depth >= SIG_JSON_MAX_DEPTH)
            return fault (s, "nested too deep");
          gboolean obj = c == '{';
          objects
              = (objects & ~(G_GUINT64_CONSTANT (1) << depth)) | ((guint64)obj << depth);
          depth++;
          s->pos++;
          skip_ws (s);
          if (peek (s) == (obj ? '}' : ']'))
            {
              s->pos++;
              depth--;
              want = AFTER;
            }
          else
            want = obj ? MEMBER : VALUE;
          continue;
        }
      gboolean ok;
      if (c == '"')
        ok = scan_string (s);
      else if (c == '-' || (c >= '0' && c <= '9'))
        ok = scan_number (s);
      else if (c < 0)
        ok = fault (s, "unexpected end of the JSON text");
      else
        ok = scan_literal (s);
      if (!ok)
        return FALSE;
      want = AFTER;
    }
}

gboolean
sig_json_check (const guint8 *data, gsize len, gsize *offset, GError **error)
{
  JsonScan s = { data, data != NULL ? len : 0, 0, NULL };
  if (scan_text (&s))
    return TRUE;
  if (offset != NULL)
    *offset = s.pos;
  if (g_str_equal (s.why, "nested too deep"))
    g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                 "JSON nested deeper than %d levels (at byte %" G_GSIZE_FORMAT ")",
                 SIG_JSON_MAX_DEPTH, s.pos);
  else
    g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                 "malformed JSON at byte %" G_GSIZE_FORMAT ": %s", s.pos, s.why);
  return FALSE;
}

JsonNode *
sig_json_parse_object (const guint8 *data, gsize len, GError **error)
{
  if (len == 0)
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "the request needs a JSON object body");
      return NULL;
    }
  if (!sig_json_check (data, len, NULL, error))
    return NULL;
  /* the scanner accepted exactly one value; an object must start with '{' */
  gsize i = 0;
  while (i < len
         && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
    i++;
  if (data[i] != '{')
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "the body must be a JSON object");
      return NULL;
    }

  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  if (!json_parser_load_from_data (parser, (const char *)data, (gssize)len, &local))
    {
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "malformed JSON: %s",
                   local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "the body must be a JSON object");
      return NULL;
    }
  return json_node_copy (root);
}

gboolean
sig_parse_time (const char *text, gint64 *out)
{
  /* g_date_time_new_from_iso8601 also takes week dates and times without an offset
   * (read in a default zone); the API insists on a full date, a 'T' and an offset so
   * a booking never depends on the server's zone. */
  gsize n = strlen (text);
  if (n < 20 || n > 40 || text[4] != '-' || text[7] != '-' || text[10] != 'T')
    return FALSE;
  char last = text[n - 1];
  if (last != 'Z' && !(n >= 6 && (text[n - 6] == '+' || text[n - 6] == '-')))
    return FALSE;
  g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (text, NULL);
  if (dt == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

char *
sig_format_time (gint64 t)
{
  g_autoptr (GTimeZone) tz = g_time_zone_new_offset (7 * 3600);
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (t);
  if (utc == NULL)
    return g_strdup ("");
  g_autoptr (GDateTime) local = g_date_time_to_timezone (utc, tz);
  return g_date_time_format (local, "%Y-%m-%dT%H:%M:%S%:z");
}

static const SigParam *
find_param (const SigParam *params, const char *name)
{
  for (const SigParam *p = params; p->name != NULL; p++)
    if (g_strcmp0 (p->name, name) == 0)
      return p;
  return NULL;
}

static const char *
param_type_name (SigParamType t)
{
  switch (t)
    {
    case SIG_PARAM_STRING:
      return "a string";
    case SIG_PARAM_INT:
      return "an integer";
    case SIG_PARAM_BOOLEAN:
      return "a boolean";
    case SIG_PARAM_TIME:
      return "an RFC 3339 time with offset";
    case SIG_PARAM_OBJECTS:
      return "an array of objects";
    case SIG_PARAM_TIMES:
      return "an array of RFC 3339 times";
    }
  return "?";
}

static gboolean validate_value (JsonNode *value, const SigParam *p, const char *path,
                                char **field, GError **error);

/* Why a separate function: arrays of objects recurse into sig_validate_object with a
 * path prefix, so the field of an error points at the element ("participants[2].unit"). */
static gboolean
validate_array (JsonNode *value, const SigParam *p, const char *path, char **field,
                GError **error)
{
  JsonArray *a = json_node_get_array (value);
  guint n = json_array_get_length (a);
  if ((gint64)n < p->min || (gint64)n > p->max)
    {
      *field = g_strdup (path);
      g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                   "%s must have %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " elements",
                   path, p->min, p->max);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      JsonNode *el = json_array_get_element (a, i);
      g_autofree char *elpath = g_strdup_printf ("%s[%u]", path, i);
      if (p->type == SIG_PARAM_OBJECTS)
        {
          if (!JSON_NODE_HOLDS_OBJECT (el))
            {
              *field = g_steal_pointer (&elpath);
              g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                           "%s must be an object", *field);
              return FALSE;
            }
          JsonObject *o = json_node_get_object (el);
          JsonObjectIter it;
          const char *name;
          JsonNode *member;
          json_object_iter_init (&it, o);
          while (json_object_iter_next (&it, &name, &member))
            {
              g_autofree char *mpath = g_strdup_printf ("%s.%s", elpath, name);
              const SigParam *ip = find_param (p->items, name);
              if (ip == NULL)
                {
                  *field = g_steal_pointer (&mpath);
                  g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                               "unknown field %s", *field);
                  return FALSE;
                }
              if (!validate_value (member, ip, mpath, field, error))
                return FALSE;
            }
          for (const SigParam *ip = p->items; ip->name != NULL; ip++)
            if (ip->required && !json_object_has_member (o, ip->name))
              {
                *field = g_strdup_printf ("%s.%s", elpath, ip->name);
                g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                             "missing required field %s", *field);
                return FALSE;
              }
        }
      else
        {
          SigParam tp = { p->name, SIG_PARAM_TIME, FALSE, 0, 0, FALSE, NULL };
          if (!validate_value (el, &tp, elpath, field, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
validate_value (JsonNode *value, const SigParam *p, const char *path, char **field,
                GError **error)
{
  if (JSON_NODE_HOLDS_NULL (value))
    {
      if (p->nullable && !p->required)
        return TRUE;
      goto wrong_type;
    }
  switch (p->type)
    {
    case SIG_PARAM_STRING:
      {
        if (!JSON_NODE_HOLDS_VALUE (value)
            || json_node_get_value_type (value) != G_TYPE_STRING)
          goto wrong_type;
        gsize n = strlen (json_node_get_string (value));
        if ((gint64)n < p->min || (gint64)n > p->max)
          {
            *field = g_strdup (path);
            g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                         "%s must be %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                         " bytes long",
                         path, p->min, p->max);
            return FALSE;
          }
        return TRUE;
      }
    case SIG_PARAM_INT:
      {
        if (!JSON_NODE_HOLDS_VALUE (value)
            || json_node_get_value_type (value) != G_TYPE_INT64)
          goto wrong_type;
        gint64 v = json_node_get_int (value);
        if (v < p->min || v > p->max)
          {
            *field = g_strdup (path);
            g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST,
                         "%s must be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
                         path, p->min, p->max);
            return FALSE;
          }
        return TRUE;
      }
    case SIG_PARAM_BOOLEAN:
      if (!JSON_NODE_HOLDS_VALUE (value)
          || json_node_get_value_type (value) != G_TYPE_BOOLEAN)
        goto wrong_type;
      return TRUE;
    case SIG_PARAM_TIME:
      {
        gint64 t;
        if (!JSON_NODE_HOLDS_VALUE (value)
            || json_node_get_value_type (value) != G_TYPE_STRING
            || !sig_parse_time (json_node_get_string (value), &t))
          goto wrong_type;
        return TRUE;
      }
    case SIG_PARAM_OBJECTS:
    case SIG_PARAM_TIMES:
      if (!JSON_NODE_HOLDS_ARRAY (value))
        goto wrong_type;
      return validate_array (value, p, path, field, error);
    }
wrong_type:
  *field = g_strdup (path);
  g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "%s must be %s", path,
               param_type_name (p->type));
  return FALSE;
}

gboolean
sig_validate_object (JsonObject *object, const SigParam *params, char **field,
                     GError **error)
{
  g_autofree char *local_field = NULL;
  JsonObjectIter it;
  const char *name;
  JsonNode *member;

  json_object_iter_init (&it, object);
  while (json_object_iter_next (&it, &name, &member))
    {
      const SigParam *p = find_param (params, name);
      if (p == NULL)
        {
          local_field = g_strdup (name);
          g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "unknown field %s", name);
          goto fail;
        }
      if (!validate_value (member, p, name, &local_field, error))
        goto fail;
    }
  for (const SigParam *p = params; p->name != NULL; p++)
    if (p->required && !json_object_has_member (object, p->name))
      {
        local_field = g_strdup (p->name);
        g_set_error (error, SIG_ERROR, SIG_ERROR_BAD_REQUEST, "missing required field %s",
                     p->name);
        goto fail;
      }
  return TRUE;

fail:
  if (field != NULL)
    *field = g_steal_pointer (&local_field);
  return FALSE;
}

const char *
sig_json_string (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

gint64
sig_json_int (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_INT64)
    return -1;
  gint64 v = json_node_get_int (n);
  return v >= 0 ? v : -1;
}
