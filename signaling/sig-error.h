/* sig-error.h: the error domain of signaling, and the one place where errors of
 * every module become HTTP statuses and JSON error bodies. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SIG_ERROR (sig_error_quark ())

typedef enum
{
  SIG_ERROR_BAD_REQUEST,     /* malformed JSON/CSV, unknown field, wrong type: 400 */
  SIG_ERROR_UNAUTHORIZED,    /* missing, wrong or expired token: 401 */
  SIG_ERROR_FORBIDDEN,       /* outside the token's role or scope: 403 */
  SIG_ERROR_NOT_FOUND,       /* 404 */
  SIG_ERROR_TOO_LARGE,       /* body over the limit: 413 */
  SIG_ERROR_TOO_MANY,        /* authentication failures rate-limited: 429 */
  SIG_ERROR_UNAVAILABLE,     /* draining on shutdown: 503 */
  SIG_ERROR_INTERNAL,        /* 500 */
  SIG_ERROR_METHOD,          /* a known path with a method it does not serve: 405 */
  SIG_ERROR_UNSUPPORTED,     /* a body of a content type the route does not take: 415 */
  SIG_ERROR_NOT_ACCEPTABLE,  /* an Accept the route cannot answer: 406 */
  SIG_ERROR_LENGTH_REQUIRED, /* a chunked body, whose size is unknown up front: 411 */
  SIG_ERROR_RANGE,           /* a Range no part of the file satisfies: 416 */
} SigError;

GQuark sig_error_quark (void);

/**
 * sig_error_http_status:
 * @error: (transfer none): an error of any lienthong domain
 *
 * Returns: the HTTP status that answers @error; 500 for domains it does not know.
 */
guint sig_error_http_status (const GError *error);

/**
 * sig_error_code_name:
 * @error: (transfer none): an error of any lienthong domain
 *
 * Returns: (transfer none): the stable machine-readable code of the JSON error body,
 * such as "conflict" or "bad_request".
 */
const char *sig_error_code_name (const GError *error);

/**
 * sig_error_to_json:
 * @error: (transfer none): an error of any lienthong domain
 * @field: (transfer none) (nullable): the request field at fault, if any
 * @extra: (transfer full) (nullable): more members for the error object (such as the
 *   "conflicts" list of a 409), a JSON object node, or %NULL
 *
 * Writes the one error body of the API:
 * `{"error":{"code":..,"message":..,"field":..}}` ("field" only when given).
 *
 * Returns: (transfer full): the JSON text
 */
char *sig_error_to_json (const GError *error, const char *field, JsonNode *extra);

G_END_DECLS
