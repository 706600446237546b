#include "rooms-error.h"

G_DEFINE_QUARK (lienthong - rooms - error - quark, rooms_error)
