/* sig-error.h: the error domain of signaling, and the one place where errors of
 * every module become HTTP statuses and JSON error bodies. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SIG_ERROR (sig_error_quark ())

typedef enum
{
  SIG_ERROR_BAD_REQUEST,  /* malformed JSON/CSV, unknown field, wrong type: 400 */
  SIG_ERROR_UNAUTHORIZED, /* missing, wrong or expired token: 401 */
  SIG_ERROR_FORBIDDEN,    /* outside the token's role or scope: 403 */
  SIG_ERROR_NOT_FOUND,    /* 404 */
  SIG_ERROR_TOO_LARGE,    /* body over the limit: 413 */
  SIG_ERROR_TOO_MANY,     /* authentication failures rate-limited: 429 */
  SIG_ERROR_UNAVAILABLE,  /* draining on shutdown: 503 */
  SIG_ERROR_INTERNAL,     /* 500 */
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

G_END_DECLS
