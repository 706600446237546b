/* mcu.h: the public interface of libmcu, the media plane. */
#pragma once

#include "mcu-error.h"
#include "demux.h"
#include "srtp.h"
#include "rtp.h"
#include "rtcp.h"
#include "twcc.h"
#include "audio-level.h"
#include "bwe.h"
#include "sdp.h"
#include "cert.h"
#include "ice.h"
#include "dtls.h"
#include "endpoint.h"
