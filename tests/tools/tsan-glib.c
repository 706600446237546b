/* tsan-glib.c: lets ThreadSanitizer see GLib's mutexes; linked into every program of
 * a -Db_sanitize=thread build as a shared library listed before libglib
 * (meson.build), never into any other build.
 *
 * Why: GLib on Linux implements GMutex and GCond with atomics and futex system calls
 * inside libglib, which is not instrumented (GRecMutex and GRWLock are pthread
 * locks, which TSan intercepts by itself). TSan sees none of
 * those synchronisations, so every access our code makes under a GMutex would be
 * reported as a race with the same access on another thread under the same mutex.
 * The functions below take the place of GLib's (a library loaded before libglib
 * wins for every caller that goes through the dynamic linker: our code, GStreamer,
 * libnice, libsoup), call the real ones and tell TSan what happened with
 * its mutex annotations, which also gives lock-order (deadlock) reports.
 *
 * GThreadPool's hand-over (below) is made visible the same way. What this cannot
 * reach: the calls GLib makes to its own mutexes inside libglib (GMainContext,
 * GAsyncQueue), bound at GLib's link time. TSAN_OPTIONS (tests/meson.build) has
 * ignore_noninstrumented_modules=1, so the allocations and copies that uninstrumented
 * libraries make among themselves are not checked; every access our instrumented
 * code makes still is. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <glib.h>
#include <sanitizer/tsan_interface.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The real function, GLib's own definition (asked of libglib itself, whatever the
 * load order), resolved on first use: libraries lock mutexes in their constructors,
 * before any of ours could run. The pointer is read and written atomically; two
 * threads may both resolve it, to the same value. */
static void *
real_symbol (void **slot, const char *name)
{
  void *fn = __atomic_load_n (slot, __ATOMIC_ACQUIRE);
  if (G_LIKELY (fn != NULL))
    return fn;
  void *glib = dlopen ("libglib-2.0.so.0", RTLD_LAZY | RTLD_NOLOAD);
  fn = glib ? dlsym (glib, name) : NULL;
  if (fn == NULL || fn == (void *)real_symbol)
    {
      fprintf (stderr, "tsan-glib: no %s in libglib-2.0.so.0\n", name);
      abort ();
    }
  __atomic_store_n (slot, fn, __ATOMIC_RELEASE);
  return fn;
}

#define REAL(ret, name, ...)       \
  static void *slot_##name;        \
  ret (*real_##name) (__VA_ARGS__) \
      = (ret (*) (__VA_ARGS__))real_symbol (&slot_##name, #name)

/* Every wrapper below is exported under GLib's own name on purpose. */
void g_mutex_lock (GMutex *mutex);
void g_mutex_unlock (GMutex *mutex);
gboolean g_mutex_trylock (GMutex *mutex);
void g_cond_wait (GCond *cond, GMutex *mutex);
gboolean g_cond_wait_until (GCond *cond, GMutex *mutex, gint64 end_time);
gboolean (g_once_init_enter) (volatile void *location);
void (g_once_init_leave) (volatile void *location, gsize result);

void
g_mutex_lock (GMutex *mutex)
{
  REAL (void, g_mutex_lock, GMutex *);
  __tsan_mutex_pre_lock (mutex, 0);
  real_g_mutex_lock (mutex);
  __tsan_mutex_post_lock (mutex, 0, 0);
}

void
g_mutex_unlock (GMutex *mutex)
{
  REAL (void, g_mutex_unlock, GMutex *);
  __tsan_mutex_pre_unlock (mutex, 0);
  real_g_mutex_unlock (mutex);
  __tsan_mutex_post_unlock (mutex, 0);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  REAL (gboolean, g_mutex_trylock, GMutex *);
  __tsan_mutex_pre_lock (mutex, __tsan_mutex_try_lock);
  gboolean ok = real_g_mutex_trylock (mutex);
  __tsan_mutex_post_lock (
      mutex, __tsan_mutex_try_lock | (ok ? 0 : __tsan_mutex_try_lock_failed), 0);
  return ok;
}

/* The real wait releases @mutex and takes it back inside libglib. */
void
g_cond_wait (GCond *cond, GMutex *mutex)
{
  REAL (void, g_cond_wait, GCond *, GMutex *);
  __tsan_mutex_pre_unlock (mutex, 0);
  __tsan_mutex_post_unlock (mutex, 0);
  real_g_cond_wait (cond, mutex);
  __tsan_mutex_pre_lock (mutex, 0);
  __tsan_mutex_post_lock (mutex, 0, 0);
}

gboolean
g_cond_wait_until (GCond *cond, GMutex *mutex, gint64 end_time)
{
  REAL (gboolean, g_cond_wait_until, GCond *, GMutex *, gint64);
  __tsan_mutex_pre_unlock (mutex, 0);
  __tsan_mutex_post_unlock (mutex, 0);
  gboolean signalled = real_g_cond_wait_until (cond, mutex, end_time);
  __tsan_mutex_pre_lock (mutex, 0);
  __tsan_mutex_post_lock (mutex, 0, 0);
  return signalled;
}

/* g_once_init_enter()'s fast path is an atomic load in the caller, which TSan sees
 * as an acquire of @location; the store that ends the initialisation happens in
 * libglib, so it is announced here as the matching release. */
gboolean (g_once_init_enter) (volatile void *location)
{
  REAL (gboolean, g_once_init_enter, volatile void *);
  gboolean first = real_g_once_init_enter (location);
  if (!first)
    __tsan_acquire ((void *)location);
  return first;
}

void (g_once_init_leave) (volatile void *location, gsize result)
{
  REAL (void, g_once_init_leave, volatile void *, gsize);
  __tsan_release ((void *)location);
  real_g_once_init_leave (location, result);
}

/* GThreadPool hands work to its threads through a GAsyncQueue inside libglib, so TSan
 * sees no order between g_thread_pool_push() and the pool function that runs the
 * item (GStreamer starts every streaming thread this way, GIO every GTask thread).
 * The pool function is wrapped so the push releases and the run acquires. */
typedef struct
{
  GFunc func;
  gpointer user_data;
} PoolFunc;

static void
pool_trampoline (gpointer data, gpointer user_data)
{
  PoolFunc *pf = user_data;
  __tsan_acquire (pf);
  pf->func (data, pf->user_data);
}

GThreadPool *g_thread_pool_new (GFunc func, gpointer user_data, gint max_threads,
                                gboolean exclusive, GError **error);
GThreadPool *g_thread_pool_new_full (GFunc func, gpointer user_data,
                                     GDestroyNotify item_free_func, gint max_threads,
                                     gboolean exclusive, GError **error);
gboolean g_thread_pool_push (GThreadPool *pool, gpointer data, GError **error);

/* The PoolFunc lives as long as the process: pools are few and long-lived, and GLib
 * gives no hook at g_thread_pool_free() to release it. */
static PoolFunc *
pool_func_new (GFunc func, gpointer user_data)
{
  PoolFunc *pf = malloc (sizeof *pf);
  if (pf == NULL)
    abort ();
  pf->func = func;
  pf->user_data = user_data;
  return pf;
}

GThreadPool *
g_thread_pool_new (GFunc func, gpointer user_data, gint max_threads, gboolean exclusive,
                   GError **error)
{
  REAL (GThreadPool *, g_thread_pool_new, GFunc, gpointer, gint, gboolean, GError **);
  PoolFunc *pf = pool_func_new (func, user_data);
  /* GLib's threads call pool->func (item, pool->user_data): those public fields now
   * name the trampoline and its PoolFunc, which nobody reads back */
  return real_g_thread_pool_new (pool_trampoline, pf, max_threads, exclusive, error);
}

GThreadPool *
g_thread_pool_new_full (GFunc func, gpointer user_data, GDestroyNotify item_free_func,
                        gint max_threads, gboolean exclusive, GError **error)
{
  REAL (GThreadPool *, g_thread_pool_new_full, GFunc, gpointer, GDestroyNotify, gint,
        gboolean, GError **);
  PoolFunc *pf = pool_func_new (func, user_data);
  return real_g_thread_pool_new_full (pool_trampoline, pf, item_free_func, max_threads,
                                      exclusive, error);
}

gboolean
g_thread_pool_push (GThreadPool *pool, gpointer data, GError **error)
{
  REAL (gboolean, g_thread_pool_push, GThreadPool *, gpointer, GError **);
  /* the pool's function and user_data are the trampoline's and its PoolFunc */
  __tsan_release (pool->user_data);
  return real_g_thread_pool_push (pool, data, error);
}
