#define _GNU_SOURCE
#include "cberth.h"
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <pthread.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/xattr.h>
#include <sched.h>
#include <sys/prctl.h>
#include <curl/curl.h>
#include <string.h>
#include <stdlib.h>
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
void cberth_io_feed(struct ev_loop *loop, ev_io *w, int events) { ev_feed_event(loop, w, events); }

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

/* --- TLS --- */

static int cberth_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                              const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl; (void)arg;
    static const unsigned char h11[] = "\x08http/1.1";
    if (SSL_select_next_proto((unsigned char **)out, outlen, h11, sizeof(h11) - 1, in, inlen) == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK; /* no http/1.1 offered: go on without ALPN */
}

static void cberth_ssl_error(char *error, int size, const char *what) {
    unsigned long e = ERR_get_error();
    char buf[256] = {0};
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(error, (size_t)size, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
}

/* Session ticket keys, shared by every context: the current one encrypts new
   tickets; after CBERTH_TICKET_ROTATE seconds it becomes the previous one
   (still accepted, and its tickets renewed) and a fresh random key takes over. */
#define CBERTH_TICKET_ROTATE (12 * 3600)
struct cberth_ticket_key { unsigned char name[16], aes[32], hmac[32]; time_t created; };
static struct cberth_ticket_key cberth_ticket_keys[2];
static pthread_mutex_t cberth_ticket_lock = PTHREAD_MUTEX_INITIALIZER;

static void cberth_ticket_rotate(time_t now) {
    if (cberth_ticket_keys[0].created != 0 && now - cberth_ticket_keys[0].created < CBERTH_TICKET_ROTATE) return;
    cberth_ticket_keys[1] = cberth_ticket_keys[0];
    struct cberth_ticket_key k;
    RAND_bytes(k.name, sizeof k.name);
    RAND_bytes(k.aes, sizeof k.aes);
    RAND_bytes(k.hmac, sizeof k.hmac);
    k.created = now;
    cberth_ticket_keys[0] = k;
}

static int cberth_ticket_callback(SSL *ssl, unsigned char key_name[16], unsigned char *iv, EVP_CIPHER_CTX *cipher,
                                  EVP_MAC_CTX *mac, int encrypt) {
    (void)ssl;
    struct cberth_ticket_key k;
    int which = -1;
    pthread_mutex_lock(&cberth_ticket_lock);
    cberth_ticket_rotate(time(NULL));
    if (encrypt) {
        k = cberth_ticket_keys[0];
        which = 0;
    } else {
        for (int i = 0; i < 2; i++) {
            if (cberth_ticket_keys[i].created && memcmp(key_name, cberth_ticket_keys[i].name, 16) == 0) { k = cberth_ticket_keys[i]; which = i; }
        }
    }
    pthread_mutex_unlock(&cberth_ticket_lock);
    if (which < 0) return 0; /* unknown (expired) key: a full handshake */
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof k.hmac);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "sha256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (encrypt) {
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) <= 0) return -1;
        memcpy(key_name, k.name, 16);
        if (!EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, k.aes, iv) || !EVP_MAC_CTX_set_params(mac, params)) return -1;
        return 1;
    }
    if (!EVP_MAC_CTX_set_params(mac, params) || !EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, k.aes, iv)) return -1;
    return which == 0 ? 1 : 2; /* 2: valid, but issue a ticket under the current key */
}

cberth_tls_context *cberth_tls_context_new(const char *cert, const char *key, int min_version, char *error, int error_size) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) { cberth_ssl_error(error, error_size, "SSL_CTX_new"); return NULL; }
    SSL_CTX_set_min_proto_version(ctx, min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_alpn_select_cb(ctx, cberth_alpn_select, NULL);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, cberth_ticket_callback);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        cberth_ssl_error(error, error_size, "cannot load the certificate chain");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        cberth_ssl_error(error, error_size, "cannot load the private key");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        cberth_ssl_error(error, error_size, "the private key does not match the certificate");
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

void cberth_tls_context_free(cberth_tls_context *ctx) { SSL_CTX_free(ctx); }

struct cberth_sni { cberth_tls_sni_picker pick; void *arg; };

static int cberth_sni_callback(SSL *ssl, int *alert, void *arg) {
    (void)alert;
    struct cberth_sni *sni = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name) return SSL_TLSEXT_ERR_OK;
    SSL_CTX *ctx = sni->pick(name, sni->arg);
    if (ctx && ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, ctx);
    return SSL_TLSEXT_ERR_OK;
}

static int cberth_sni_index = -1;
static void cberth_sni_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    free(ptr);
}

void cberth_tls_context_set_sni(cberth_tls_context *ctx, cberth_tls_sni_picker pick, void *arg) {
    if (__atomic_load_n(&cberth_sni_index, __ATOMIC_ACQUIRE) < 0) {
        int i = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, cberth_sni_free);
        int expected = -1;
        __atomic_compare_exchange_n(&cberth_sni_index, &expected, i, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    }
    struct cberth_sni *sni = malloc(sizeof *sni);
    sni->pick = pick;
    sni->arg = arg;
    SSL_CTX_set_ex_data(ctx, cberth_sni_index, sni); /* freed with the context */
    SSL_CTX_set_tlsext_servername_callback(ctx, cberth_sni_callback);
    SSL_CTX_set_tlsext_servername_arg(ctx, sni);
}

cberth_tls *cberth_tls_new(cberth_tls_context *ctx, int fd) {
    SSL *ssl = SSL_new(ctx);
    if (!ssl) return NULL;
    SSL_set_fd(ssl, fd);
    SSL_set_accept_state(ssl);
    return ssl;
}

void cberth_tls_free(cberth_tls *tls) { SSL_free(tls); }

static int cberth_tls_code(SSL *ssl, int rc) {
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ: return CBERTH_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return CBERTH_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: ERR_clear_error(); return 0;
    default: ERR_clear_error(); return CBERTH_TLS_ERROR;
    }
}

int cberth_tls_handshake(cberth_tls *tls) {
    int rc = SSL_do_handshake(tls);
    return rc == 1 ? 1 : cberth_tls_code(tls, rc);
}

int cberth_tls_read(cberth_tls *tls, void *buf, int count) {
    int rc = SSL_read(tls, buf, count);
    return rc > 0 ? rc : cberth_tls_code(tls, rc);
}

int cberth_tls_write(cberth_tls *tls, const void *buf, int count) {
    int rc = SSL_write(tls, buf, count);
    return rc > 0 ? rc : cberth_tls_code(tls, rc);
}

int cberth_tls_pending(cberth_tls *tls) { return SSL_pending(tls); }

void cberth_tls_shutdown(cberth_tls *tls) {
    SSL_shutdown(tls); /* one close_notify; we do not wait for the peer's */
    ERR_clear_error();
}

const char *cberth_tls_version(cberth_tls *tls) { return SSL_get_version(tls); }
