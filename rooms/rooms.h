/* rooms.h: the public interface of librooms, the domain of lienthong. */
#pragma once

#include "rooms-error.h"
#include "text.h"
#include "store.h"
#include "unit.h"
#include "site.h"
#include "cascade.h"
#include "meeting.h"
#include "attendance.h"
#include "scope.h"
#include "token.h"
#include "account.h"
#include "audit.h"
#include "alarm.h"
#include "recording.h"
