/* rooms-error.h: the error domain of librooms.
 *
 * Every recoverable failure in librooms is reported as a GError in ROOMS_ERROR
 * with one of these codes; signaling maps each code to one HTTP status.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ROOMS_ERROR (rooms_error_quark ())

typedef enum
{
  ROOMS_ERROR_INVALID,       /* malformed input: CSV, a time, a selection */
  ROOMS_ERROR_NOT_FOUND,     /* a unit, site, meeting or node that does not exist */
  ROOMS_ERROR_CONFLICT,      /* a site booked twice at the same time */
  ROOMS_ERROR_CAPACITY,      /* a node would host more sites than it can */
  ROOMS_ERROR_PERMISSION,    /* a scope may not do this */
  ROOMS_ERROR_ILLEGAL_STATE, /* a lifecycle move that is not allowed */
  ROOMS_ERROR_IN_USE,        /* removing something a future meeting still needs */
  ROOMS_ERROR_STORE,         /* the database failed or is damaged */
} RoomsError;

GQuark rooms_error_quark (void);

G_END_DECLS
