/* sig-server-private.h: what the route files of signald share with sig-server.c. */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "rooms.h"
#include "sig-auth.h"
#include "sig-config.h"
#include "sig-error.h"
#include "sig-policy.h"
#include "sig-server.h"
#include "sig-runtime.h"
#include "sig-links.h"
#include "sig-validate.h"
#include "sig-attendance.h"

G_BEGIN_DECLS

/* 1 MiB: the largest request body, a national unit CSV (about 600 KiB) included. */
#define SIG_MAX_BODY (1024 * 1024)

typedef struct _SigRequest SigRequest;
typedef struct _SigRoute SigRoute;
typedef struct _SigWs SigWs;

/* A handler answers through sig_reply_*(), or returns %FALSE with @error set (and
 * optionally req->error_field / req->error_extra) for the one error writer. */
typedef gboolean (*SigHandler) (SigServer *srv, SigRequest *req, GError **error);

typedef enum
{
  SIG_ROUTE_JSON_BODY = 1 << 0,       /* the body is a JSON object checked by @params */
  SIG_ROUTE_REFUSE_DRAINING = 1 << 1, /* 503 while draining (bookings, joins) */
  SIG_ROUTE_CSV_BODY = 1 << 2,        /* the body is text/csv */
  SIG_ROUTE_NO_CHANGE = 1 << 3,       /* not a GET, yet changes nothing (no audit) */
} SigRouteFlags;

/* What a principal whose role a route admits may reach through it, besides the role:
 * each route states one, and the dispatcher enforces the first six itself (asking
 * sig-policy.h) before the body is read, so a refused caller learns nothing from the
 * body's errors. The test suite signaling-abuse derives its role x route matrix from
 * these; a route left at SIG_ACCESS_UNSET is refused (500) and fails that suite. */
typedef enum
{
  SIG_ACCESS_UNSET = 0,
  SIG_ACCESS_ROLE,            /* the role decides alone */
  SIG_ACCESS_UNIT_CALENDAR,   /* {code}: sig_policy_may_read_unit_calendar, else 403 */
  SIG_ACCESS_MEETING_READ,    /* {id} a meeting it may read, else 404 */
  SIG_ACCESS_MEETING_EDIT,    /* ... that it may also edit, else 403 */
  SIG_ACCESS_OCCURRENCE_READ, /* {id} an occurrence of a meeting it may read, else 404 */
  SIG_ACCESS_OCCURRENCE_CONTROL, /* ... that it may also control, else 403 */
  SIG_ACCESS_RECORDING_READ,     /* {id} a recording of a meeting it may read, else 404 */
  /* decided by the handler: */
  SIG_ACCESS_FILTERED, /* a list holding only what it may read */
  SIG_ACCESS_BOOKING,  /* the body's chair and units must lie in a secretary's scope */
  SIG_ACCESS_LEG_READ, /* {leg} a leg of a meeting it may read, else 404 */
} SigAccess;

struct _SigRoute
{
  const char *method;
  const char *pattern; /* "/api/v1/meetings/{id}.ics": {name} with an optional suffix */
  guint roles;         /* SigRole bits that may call it */
  SigAccess access;    /* what those roles may reach through it */
  SigRouteFlags flags;
  const SigParam *params; /* for SIG_ROUTE_JSON_BODY */
  SigHandler handler;
  /* the audit action an accepted request writes, in the transaction of its change
   * (sig-audit.c); every route but GET and SIG_ROUTE_NO_CHANGE ones names one */
  const char *audit;
};

struct _SigRequest
{
  SoupServerMessage *msg;
  const SigRoute *route;
  GHashTable *path_params; /* name -> value */
  GHashTable *query;       /* (nullable) */
  SigPrincipal *principal; /* (nullable) for public routes */
  JsonObject *body;        /* (nullable) validated JSON body */
  const guint8 *raw;       /* the raw body */
  gsize raw_len;
  char *error_field;     /* (nullable) set by a handler failing on a field */
  char *audit_actor;     /* (nullable) who, for a route without a principal (sign-in) */
  char *audit_label;     /* (nullable) */
  char *audit_detail;    /* (nullable) what the audit entry adds (a single sign-on) */
  gint64 audit_meeting;  /* a meeting the handler made (a booking), else 0 */
  JsonNode *error_extra; /* (nullable) an object merged into the error body */
};

struct _SigServer
{
  SigConfig *config;
  RoomsStore *store;
  SoupServer *soup;
  char *address;
  char *state_dir;
  SigAuthLimiter *limiter;
  SigBackoff *account_backoff; /* wrong sign-ins per folded user name */
  SigBackoff *client_backoff;  /* wrong sign-ins per client address */
  guint audit_prune_source;
  guint recordings_source; /* expiry of recordings */
  gboolean draining;
  guint drain_source;
  GCallback drain_done;
  gpointer drain_data;
  GHashTable *requests;    /* "route\tmethod\tstatus" -> guint64* */
  GHashTable *transitions; /* "open"/"live"/"ended" -> guint64* */
  guint lifecycle_source;
  SigRuntime *rt; /* nodes, running sessions, link quality: what the routes call */
  SigWs *ws;      /* the WebSocket transport, the runtime's sink */
  /* batched roll call writes (sig-attendance.c) */
  SigAttendance *attendance;
  gint64 started_us;
};

/* Returns: the current time (UTC unix seconds), pinned in tests by [testing] now. */
gint64 sig_server_now (SigServer *srv);
/* Seconds on the clock of waits (the sign-in back-off): monotonic, or the pinned
 * clock of the test daemon. */
gint64 sig_server_clock (SigServer *srv);
/**
 * sig_server_vouched_user:
 * The user name the [auth] trusted-header carries, but only when single sign-on is
 * on and @msg comes straight from one of [server] trusted-proxies; from anywhere
 * else the header means nothing.
 *
 * Returns: (transfer none) (nullable): the header's value
 */
const char *sig_server_vouched_user (SigServer *srv, SoupServerMessage *msg);
/* Wrong sign-ins one client address makes, across user names, before it waits. */
#define SIG_CLIENT_FREE_FAILURES 10

/**
 * sig_server_client_address:
 * The address a request comes from, for the limit on failed authentications: the
 * peer's, or, when the peer is one of `[server] trusted-proxies`, the nearest address
 * in its X-Forwarded-For that is not a trusted proxy.
 * Returns: (transfer full): the address as text
 */
char *sig_server_client_address (SigServer *srv, SoupServerMessage *msg);

/**
 * sig_auth_limit_failure:
 * @presented: whether the request carried a credential (only those count)
 * @error: SIG_ERROR_TOO_MANY when the client's address is blocked
 *
 * Called for a request whose authentication failed, never for one that succeeded (a
 * valid credential passes from a blocked address too): notes the failure against
 * the client's address, or reports that the address is blocked.
 *
 * Returns: %TRUE when the address is blocked (@error set: answer 429)
 */
gboolean sig_auth_limit_failure (SigServer *srv, SoupServerMessage *msg,
                                 gboolean presented, GError **error);

/**
 * sig_server_origin_allowed:
 * @require: whether a request without Origin is refused
 *
 * Returns: %TRUE when the request's Origin is the daemon's own (its Host) or one of
 *   `[server] allowed-origins`
 */
gboolean sig_server_origin_allowed (SigServer *srv, SoupServerMessage *msg,
                                    gboolean require);

/* Returns: %TRUE when the request's peer is one of `[server] trusted-proxies`. */
gboolean sig_server_from_trusted_proxy (SigServer *srv, SoupServerMessage *msg);

/**
 * sig_server_authenticate:
 * @presented: (out): whether the request carried a credential
 *
 * The one gate of bearer tokens and session cookies (a bearer token wins when both
 * are sent), for the routes and the WebSocket handshakes alike.
 *
 * Returns: (transfer full) (nullable): the principal; SIG_ERROR_UNAUTHORIZED
 */
SigPrincipal *sig_server_authenticate (SigServer *srv, SoupServerMessage *msg,
                                       const char *authorization, gboolean *presented,
                                       GError **error);

/* Answers with a JSON document. @node: (transfer full) */
void sig_reply_json (SigRequest *req, guint status, JsonNode *node);
/* Answers with text of @content_type. @text: (transfer full) */
void sig_reply_text (SigRequest *req, guint status, const char *content_type, char *text);
/* Writes the one error body for @error to @msg. @extra: (transfer full) */
void sig_reply_error (SoupServerMessage *msg, const GError *error, const char *field,
                      JsonNode *extra);

/* Returns: (transfer none) (nullable): a path parameter. */
const char *sig_request_param (SigRequest *req, const char *name);
/* Returns: (transfer none) (nullable): a query parameter. */
const char *sig_request_query (SigRequest *req, const char *name);
/* Parses a positive id path parameter; SIG_ERROR_NOT_FOUND otherwise. */
gboolean sig_request_id (SigRequest *req, const char *name, gint64 *out, GError **error);

/* The route table, in match order (first match wins). */
const SigRoute *sig_routes_get (guint *n);

/* Authenticates a WebSocket handshake and checks its Origin before libsoup accepts
 * it (sig-ws.c). Returns %TRUE when @path is a WebSocket path (handled here). */
gboolean sig_ws_early (SigWs *ws, SoupServerMessage *msg, const char *path,
                       GHashTable *query);

/* Meeting lifecycle (sig-routes-meetings.c). */
void sig_lifecycle_run (SigServer *srv);

/* Route handlers, by file. */
gboolean sig_route_units_list (SigServer *, SigRequest *, GError **);
gboolean sig_route_units_get (SigServer *, SigRequest *, GError **);
gboolean sig_route_units_search (SigServer *, SigRequest *, GError **);
gboolean sig_route_units_import (SigServer *, SigRequest *, GError **);
gboolean sig_route_units_calendar (SigServer *, SigRequest *, GError **);
gboolean sig_route_meetings_list (SigServer *, SigRequest *, GError **);
gboolean sig_route_meetings_book (SigServer *, SigRequest *, GError **);
gboolean sig_route_meetings_check (SigServer *, SigRequest *, GError **);
/* sig-links.c: pins (or unpins, "auto") the level of @site_id from the request's
 * "level" and answers {"occurrence_id","site_id","level","pinned"};
 * SIG_ERROR_BAD_REQUEST for an unknown level or an occurrence that is not running. */
gboolean sig_links_pin_level (SigServer *srv, SigRequest *req, gint64 occ_id,
                              gint64 site_id, GError **error);
/* sig-routes-links.c */
gboolean sig_route_alarms (SigServer *, SigRequest *, GError **);
gboolean sig_route_meeting_links (SigServer *, SigRequest *, GError **);
gboolean sig_route_link_history (SigServer *, SigRequest *, GError **);
extern const SigParam sig_params_site_level[];
gboolean sig_route_meetings_get (SigServer *, SigRequest *, GError **);
gboolean sig_route_meetings_patch (SigServer *, SigRequest *, GError **);
gboolean sig_route_meetings_delete (SigServer *, SigRequest *, GError **);
gboolean sig_route_occurrence_floor (SigServer *, SigRequest *, GError **);
gboolean sig_route_occurrence_content_give (SigServer *, SigRequest *, GError **);
gboolean sig_route_occurrence_content_take (SigServer *, SigRequest *, GError **);
gboolean sig_route_occurrence_mute (SigServer *, SigRequest *, GError **);
gboolean sig_route_occurrence_level (SigServer *, SigRequest *, GError **);
gboolean sig_route_occurrence_site_level (SigServer *, SigRequest *, GError **);
gboolean sig_route_occurrence_media (SigServer *, SigRequest *, GError **);
/* recordings (sig-routes-recordings.c, issue 17) */
extern const SigParam sig_params_recording[];
gboolean sig_route_occurrence_recording_get (SigServer *, SigRequest *, GError **);
gboolean sig_route_occurrence_recording_control (SigServer *, SigRequest *, GError **);
gboolean sig_route_recordings_list (SigServer *, SigRequest *, GError **);
gboolean sig_route_recordings_get (SigServer *, SigRequest *, GError **);
gboolean sig_route_recordings_file (SigServer *, SigRequest *, GError **);
gboolean sig_route_meetings_ics (SigServer *, SigRequest *, GError **);
gboolean sig_route_meetings_attendance (SigServer *, SigRequest *, GError **);
gboolean sig_route_tokens_create (SigServer *, SigRequest *, GError **);
gboolean sig_route_tokens_list (SigServer *, SigRequest *, GError **);
gboolean sig_route_tokens_delete (SigServer *, SigRequest *, GError **);
gboolean sig_route_nodes_list (SigServer *, SigRequest *, GError **);
gboolean sig_route_nodes_retire (SigServer *, SigRequest *, GError **);
gboolean sig_route_healthz (SigServer *, SigRequest *, GError **);
/* sig-routes.c: checks @scope (and a node's @unit) against what @role takes: none
 * for admin and it, an existing unit code for a secretary, a site id for a site, a
 * node id for a node (tokens and accounts follow the one rule).
 * SIG_ERROR_BAD_REQUEST, ROOMS_ERROR_CONFLICT */
gboolean sig_check_scope (SigServer *srv, SigRole role, const char *scope,
                          const char *unit, GError **error);
/* sig-audit.c: writes the audit entry of @req (accepted with @status) into the open
 * audited transaction. */
gboolean sig_audit_request (SigServer *srv, SigRequest *req, GError **error);
/* Writes the entry of a refused sign-in (outside any transaction). */
void sig_audit_failed_sign_in (SigServer *srv, SigRequest *req);
/* Deletes entries older than `[audit] retention-days` and audits that it did. */
void sig_audit_prune (SigServer *srv);
/* Audits (and logs) what signald did by itself: actor "system"/"signald". */
void sig_audit_system (SigServer *srv, const char *action, const char *target,
                       const char *detail);
/* Expires recordings kept over [recordings] keep-days, with an audit entry each. */
void sig_recordings_expire (SigServer *srv);
gboolean sig_route_audit (SigServer *, SigRequest *, GError **);
/* sig-routes-accounts.c */
gboolean sig_route_session_create (SigServer *, SigRequest *, GError **);
gboolean sig_route_session_get (SigServer *, SigRequest *, GError **);
gboolean sig_route_session_options (SigServer *, SigRequest *, GError **);
gboolean sig_route_session_delete (SigServer *, SigRequest *, GError **);
gboolean sig_route_session_password (SigServer *, SigRequest *, GError **);
gboolean sig_route_users_list (SigServer *, SigRequest *, GError **);
gboolean sig_route_users_create (SigServer *, SigRequest *, GError **);
gboolean sig_route_users_disable (SigServer *, SigRequest *, GError **);
gboolean sig_route_users_enable (SigServer *, SigRequest *, GError **);
gboolean sig_route_users_reset (SigServer *, SigRequest *, GError **);
extern const SigParam sig_params_session[];
extern const SigParam sig_params_password[];
extern const SigParam sig_params_user[];
extern const SigParam sig_params_reset[];
gboolean sig_route_metrics (SigServer *, SigRequest *, GError **);
gboolean sig_route_openapi (SigServer *, SigRequest *, GError **);

/* Parameter tables shared by the route table and the tests' view of it. */
extern const SigParam sig_params_book[];
extern const SigParam sig_params_patch[];
extern const SigParam sig_params_token[];
extern const SigParam sig_params_floor[];
extern const SigParam sig_params_content[];
extern const SigParam sig_params_mute[];
extern const SigParam sig_params_level[];

G_END_DECLS
