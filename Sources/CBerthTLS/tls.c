#include "cberth_tls.h"
#include "socket_bio.h"
#include "ticket_keys.h"
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

/* A session whose app data is this offers h2 (before http/1.1). */
static const char cberth_h2_marker = 0;

static int cberth_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                              const unsigned char *in, unsigned int inlen, void *arg) {
    (void)arg;
    static const unsigned char h2h11[] = "\x02h2\x08http/1.1";
    static const unsigned char h11[] = "\x08http/1.1";
    int h2 = SSL_get_app_data(ssl) == &cberth_h2_marker;
    /* The server's list first: h2 is preferred when the client offers it. */
    if (SSL_select_next_proto((unsigned char **)out, outlen, h2 ? h2h11 : h11, h2 ? sizeof(h2h11) - 1 : sizeof(h11) - 1,
                              in, inlen) == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK; /* neither offered: go on without ALPN */
}

void cberth_tls_offer_h2(cberth_tls *tls) { SSL_set_app_data(tls, (void *)&cberth_h2_marker); }

int cberth_tls_alpn_is_h2(cberth_tls *tls) {
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(tls, &p, &n);
    return n == 2 && p[0] == 'h' && p[1] == '2';
}

static void cberth_ssl_error(char *error, int size, const char *what) {
    unsigned long e = ERR_get_error();
    char buf[256] = {0};
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(error, (size_t)size, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
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

int cberth_tls_is_challenge_context(const SSL_CTX *ctx); /* acme_alpn.c */

static int cberth_sni_callback(SSL *ssl, int *alert, void *arg) {
    (void)alert;
    struct cberth_sni *sni = arg;
    if (cberth_tls_is_challenge_context(SSL_get_SSL_CTX(ssl))) return SSL_TLSEXT_ERR_OK;
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
    BIO *bio = cberth_socket_bio_new(fd);
    if (!bio) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_bio(ssl, bio, bio); /* one BIO both ways: the SSL holds it once */
    SSL_set_accept_state(ssl);
    return ssl;
}

void cberth_tls_free(cberth_tls *tls) { SSL_free(tls); }

static int cberth_tls_code(SSL *ssl, int rc) {
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ: return CBERTH_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return CBERTH_TLS_WANT_WRITE;
    case SSL_ERROR_WANT_CLIENT_HELLO_CB: return CBERTH_TLS_WANT_CERTIFICATE;
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
