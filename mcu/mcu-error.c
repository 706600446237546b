#include "mcu-error.h"

G_DEFINE_QUARK (lienthong - mcu - error - quark, mcu_error)
