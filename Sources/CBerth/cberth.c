#define _GNU_SOURCE
#include "cberth.h"
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <sys/xattr.h>
#include <sched.h>
#include <sys/prctl.h>
#include <curl/curl.h>
#include <string.h>
#include <stdio.h>

struct ev_loop *cberth_loop_new(void) { return ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV); }
void cberth_loop_destroy(struct ev_loop *loop) { ev_loop_destroy(loop); }
void cberth_loop_run(struct ev_loop *loop) { ev_run(loop, 0); }
void cberth_loop_break(struct ev_loop *loop) { ev_break(loop, EVBREAK_ALL); }
double cberth_loop_now(struct ev_loop *loop) { return ev_now(loop); }
void cberth_loop_update_now(struct ev_loop *loop) { ev_now_update(loop); }

void cberth_io_init(ev_io *w, cberth_io_cb cb, int fd, int events) { ev_io_init(w, cb, fd, events); }
void cberth_io_set_events(ev_io *w, int events) { ev_io_modify(w, events); }
void cberth_io_start(struct ev_loop *loop, ev_io *w) { ev_io_start(loop, w); }
void cberth_io_stop(struct ev_loop *loop, ev_io *w) { ev_io_stop(loop, w); }
int cberth_io_is_active(const ev_io *w) { return ev_is_active(w); }

void cberth_timer_init(ev_timer *w, cberth_timer_cb cb, double after, double repeat) { ev_timer_init(w, cb, after, repeat); }
void cberth_timer_start(struct ev_loop *loop, ev_timer *w) { ev_timer_start(loop, w); }
void cberth_timer_stop(struct ev_loop *loop, ev_timer *w) { ev_timer_stop(loop, w); }

void cberth_async_init(ev_async *w, cberth_async_cb cb) { ev_async_init(w, cb); }
void cberth_async_start(struct ev_loop *loop, ev_async *w) { ev_async_start(loop, w); }
void cberth_async_stop(struct ev_loop *loop, ev_async *w) { ev_async_stop(loop, w); }
void cberth_async_send(struct ev_loop *loop, ev_async *w) { ev_async_send(loop, w); }

void cberth_prepare_init(ev_prepare *w, cberth_prepare_cb cb) { ev_prepare_init(w, cb); }
void cberth_prepare_start(struct ev_loop *loop, ev_prepare *w) { ev_prepare_start(loop, w); }
void cberth_prepare_stop(struct ev_loop *loop, ev_prepare *w) { ev_prepare_stop(loop, w); }

int cberth_random_bytes(unsigned char *buf, int count) { return RAND_bytes(buf, count); }

int cberth_accept_nonblocking(int fd, struct sockaddr *addr, unsigned int *len) { return accept4(fd, addr, (socklen_t *)len, SOCK_NONBLOCK | SOCK_CLOEXEC); }

struct cberth_sha256 { EVP_MD_CTX *ctx; };
cberth_sha256 *cberth_sha256_new(void) {
    cberth_sha256 *h = (cberth_sha256 *)OPENSSL_malloc(sizeof *h);
    h->ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
    return h;
}
void cberth_sha256_update(cberth_sha256 *h, const void *data, size_t count) { EVP_DigestUpdate(h->ctx, data, count); }
void cberth_sha256_finish(cberth_sha256 *h, unsigned char *out32) {
    unsigned int n = 32;
    EVP_DigestFinal_ex(h->ctx, out32, &n);
    EVP_MD_CTX_free(h->ctx);
    OPENSSL_free(h);
}

long cberth_lgetxattr(const char *path, const char *name, void *value, size_t size) { return lgetxattr(path, name, value, size); }
int cberth_lsetxattr(const char *path, const char *name, const void *value, size_t size) { return lsetxattr(path, name, value, size, 0); }

int cberth_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }
int cberth_become_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

struct cberth_http_call { cberth_http_sink body, header; void *context; };

static size_t cberth_http_body(char *data, size_t size, size_t count, void *p) {
    struct cberth_http_call *c = p;
    return c->body(data, size * count, c->context);
}

static size_t cberth_http_header(char *data, size_t size, size_t count, void *p) {
    struct cberth_http_call *c = p;
    return c->header(data, size * count, c->context);
}

long cberth_http_get(const char *url, const char *const *headers, int header_count, long timeout_seconds,
                     cberth_http_sink body, cberth_http_sink header, void *context, char *error) {
    static int initialized = 0;
    if (!__atomic_exchange_n(&initialized, 1, __ATOMIC_SEQ_CST)) curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    if (!curl) { snprintf(error, 256, "curl_easy_init failed"); return -1; }
    struct curl_slist *list = NULL;
    for (int i = 0; i < header_count; i++) list = curl_slist_append(list, headers[i]);
    struct cberth_http_call call = { body, header, context };
    char buf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
    /* A stalled transfer (under 1 byte/s for the timeout) fails; a slow big one does not. */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "berth");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cberth_http_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &call);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, cberth_http_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &call);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, buf);
    CURLcode rc = curl_easy_perform(curl);
    long status = -1;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    } else {
        snprintf(error, 256, "%s", buf[0] ? buf : curl_easy_strerror(rc));
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return status;
}
