#ifndef CBERTH_H
#define CBERTH_H

/* One-line wrappers around libev's macro API and the few OpenSSL calls berth
 * needs. No logic lives here: each function is the macro or call it names. */

#include <ev.h>
#include <stddef.h>
#include <archive.h>
#include <archive_entry.h>

typedef void (*cberth_io_cb)(struct ev_loop *loop, ev_io *w, int revents);
typedef void (*cberth_timer_cb)(struct ev_loop *loop, ev_timer *w, int revents);
typedef void (*cberth_async_cb)(struct ev_loop *loop, ev_async *w, int revents);
typedef void (*cberth_prepare_cb)(struct ev_loop *loop, ev_prepare *w, int revents);

enum {
    CBERTH_EV_READ = EV_READ,
    CBERTH_EV_WRITE = EV_WRITE,
};

struct ev_loop *cberth_loop_new(void);
void cberth_loop_destroy(struct ev_loop *loop);
void cberth_loop_run(struct ev_loop *loop);
void cberth_loop_break(struct ev_loop *loop);
double cberth_loop_now(struct ev_loop *loop);
void cberth_loop_update_now(struct ev_loop *loop);

void cberth_io_init(ev_io *w, cberth_io_cb cb, int fd, int events);
void cberth_io_set_events(ev_io *w, int events);
void cberth_io_start(struct ev_loop *loop, ev_io *w);
void cberth_io_stop(struct ev_loop *loop, ev_io *w);
int cberth_io_is_active(const ev_io *w);
/* Fakes readiness (bytes already decrypted inside OpenSSL wake no poll). */
void cberth_io_feed(struct ev_loop *loop, ev_io *w, int events);

void cberth_timer_init(ev_timer *w, cberth_timer_cb cb, double after, double repeat);
void cberth_timer_start(struct ev_loop *loop, ev_timer *w);
void cberth_timer_stop(struct ev_loop *loop, ev_timer *w);

void cberth_async_init(ev_async *w, cberth_async_cb cb);
void cberth_async_start(struct ev_loop *loop, ev_async *w);
void cberth_async_stop(struct ev_loop *loop, ev_async *w);
void cberth_async_send(struct ev_loop *loop, ev_async *w);

void cberth_prepare_init(ev_prepare *w, cberth_prepare_cb cb);
void cberth_prepare_start(struct ev_loop *loop, ev_prepare *w);
void cberth_prepare_stop(struct ev_loop *loop, ev_prepare *w);

/* accept4(2) with SOCK_NONBLOCK|SOCK_CLOEXEC (glibc hides it behind _GNU_SOURCE). */
struct sockaddr;
int cberth_accept_nonblocking(int fd, struct sockaddr *addr, unsigned int *len);

/* OpenSSL's CSPRNG; returns 1 on success. */
int cberth_random_bytes(unsigned char *buf, int count);

/* setns(2) into a network namespace (fd from /proc/PID/ns/net); 0 on success. */
int cberth_setns_net(int fd);

/* prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants (a container whose
   runc died) are reparented to this process instead of init; 0 on success. */
int cberth_become_subreaper(void);

/* lgetxattr(2) (not exported by Swift's Glibc module). */
long cberth_lgetxattr(const char *path, const char *name, void *value, size_t size);
/* lsetxattr(2); 0 on success. */
int cberth_lsetxattr(const char *path, const char *name, const void *value, size_t size);

/* SHA-256 through OpenSSL's EVP interface (content addressing). */
typedef struct cberth_sha256 cberth_sha256;
cberth_sha256 *cberth_sha256_new(void);
void cberth_sha256_update(cberth_sha256 *h, const void *data, size_t count);
/* Writes 32 bytes and frees the context. */
void cberth_sha256_finish(cberth_sha256 *h, unsigned char *out32);

/* One HTTP request through libcurl (registry pulls). `headers` are full
   "Name: value" lines. Body bytes go to `body` (return the count taken to go
   on, anything else aborts), each response header line to `header`. Follows
   redirects (custom Authorization headers stay with the first host). Returns
   the final HTTP status, or -1 with `error` (at least 256 bytes) filled. */
typedef size_t (*cberth_http_sink)(const char *data, size_t count, void *context);
long cberth_http_get(const char *url, const char *const *headers, int header_count, long timeout_seconds,
                     cberth_http_sink body, cberth_http_sink header, void *context, char *error);

/* --- TLS (OpenSSL) --- */
typedef struct ssl_ctx_st cberth_tls_context;
typedef struct ssl_st cberth_tls;

/* A server context with berth's defaults: TLS 1.2+ (1.3+ when min_version is
   13), forward-secret AEAD ciphers only, server cipher preference, no
   compression, no renegotiation, session tickets, ALPN http/1.1. Loads the
   certificate chain and key and checks they match. NULL with `error` filled. */
cberth_tls_context *cberth_tls_context_new(const char *cert, const char *key, int min_version, char *error, int error_size);
void cberth_tls_context_free(cberth_tls_context *ctx);
/* SNI: `pick(name, arg)` returns the context for a server name, or NULL to keep the default. */
typedef cberth_tls_context *(*cberth_tls_sni_picker)(const char *name, void *arg);
void cberth_tls_context_set_sni(cberth_tls_context *ctx, cberth_tls_sni_picker pick, void *arg);

/* Results of the calls below: > 0 bytes moved; 0 clean close; then: */
#define CBERTH_TLS_WANT_READ (-1)
#define CBERTH_TLS_WANT_WRITE (-2)
#define CBERTH_TLS_ERROR (-3)
cberth_tls *cberth_tls_new(cberth_tls_context *ctx, int fd);
void cberth_tls_free(cberth_tls *tls);
/* 1 when the handshake is complete, else a CBERTH_TLS_* code. */
int cberth_tls_handshake(cberth_tls *tls);
int cberth_tls_read(cberth_tls *tls, void *buf, int count);
int cberth_tls_write(cberth_tls *tls, const void *buf, int count);
/* Bytes already decrypted and waiting inside OpenSSL. */
int cberth_tls_pending(cberth_tls *tls);
void cberth_tls_shutdown(cberth_tls *tls);
/* "TLSv1.3" etc. */
const char *cberth_tls_version(cberth_tls *tls);

#endif
