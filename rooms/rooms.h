/* rooms.h: the public interface of librooms, the domain of lienthong. */
#pragma once

#include "rooms-error.h"
#include "text.h"
