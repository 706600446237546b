#include "sig-error.h"

#include "rooms.h"

G_DEFINE_QUARK (lienthong - signaling - error - quark, sig_error)

typedef struct
{
  int code;
  guint status;
  const char *name;
} SigErrorMap;

static const SigErrorMap sig_map[] = {
  { SIG_ERROR_BAD_REQUEST, 400, "bad_request" },
  { SIG_ERROR_UNAUTHORIZED, 401, "unauthorized" },
  { SIG_ERROR_FORBIDDEN, 403, "forbidden" },
  { SIG_ERROR_NOT_FOUND, 404, "not_found" },
  { SIG_ERROR_TOO_LARGE, 413, "too_large" },
  { SIG_ERROR_TOO_MANY, 429, "too_many_requests" },
  { SIG_ERROR_UNAVAILABLE, 503, "unavailable" },
  { SIG_ERROR_INTERNAL, 500, "internal" },
};

static const SigErrorMap rooms_map[] = {
  { ROOMS_ERROR_INVALID, 400, "invalid" },
  { ROOMS_ERROR_NOT_FOUND, 404, "not_found" },
  { ROOMS_ERROR_CONFLICT, 409, "conflict" },
  { ROOMS_ERROR_CAPACITY, 409, "capacity" },
  { ROOMS_ERROR_PERMISSION, 403, "forbidden" },
  { ROOMS_ERROR_ILLEGAL_STATE, 409, "illegal_state" },
  { ROOMS_ERROR_IN_USE, 409, "in_use" },
  { ROOMS_ERROR_STORE, 500, "store" },
};

static const SigErrorMap *
sig_error_lookup (const GError *error)
{
  const SigErrorMap *map = NULL;
  gsize n = 0;

  if (error->domain == SIG_ERROR)
    map = sig_map, n = G_N_ELEMENTS (sig_map);
  else if (error->domain == ROOMS_ERROR)
    map = rooms_map, n = G_N_ELEMENTS (rooms_map);

  for (gsize i = 0; i < n; i++)
    if (map[i].code == error->code)
      return &map[i];
  return NULL;
}

guint
sig_error_http_status (const GError *error)
{
  g_return_val_if_fail (error != NULL, 500);
  const SigErrorMap *m = sig_error_lookup (error);
  return m ? m->status : 500;
}

const char *
sig_error_code_name (const GError *error)
{
  g_return_val_if_fail (error != NULL, "internal");
  const SigErrorMap *m = sig_error_lookup (error);
  return m ? m->name : "internal";
}
