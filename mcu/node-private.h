/* node-private.h: McuNode's insides, shared by node.c and node-control.c. */
#pragma once

#include "audio-mixer.h"
#include "cert.h"
#include "endpoint.h"
#include "node.h"

#include <libsoup/soup.h>

typedef struct _McuNodeControl McuNodeControl;

struct _McuNode
{
  GMainContext *context;
  McuCert *cert;
  McuEndpointConfig ep_config;
  McuAudioMixerConfig audio_config; /* of every leg's mixer */
  gboolean no_retransmission;       /* of every leg */
  GStrv addresses;
  char *stun, *turn, *turn_user, *turn_pass, *node_id, *unit;
  char *recordings_dir; /* (nullable): no recording without it */
  guint capacity;
  GHashTable *echoes; /* key (owned string) -> McuEcho* (owned) */
  guint next_echo;
  SoupServer *http;
  GHashTable *legs;        /* occurrence id (string) -> McuLeg* (owned) */
  McuNodeControl *control; /* the channel to signald, or NULL */
};

/* Frees the control channel (node-control.c). */
void mcu_node_control_free (McuNodeControl *control);
