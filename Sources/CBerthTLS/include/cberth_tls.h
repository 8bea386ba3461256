#ifndef CBERTH_TLS_H
#define CBERTH_TLS_H

/* TLS termination through OpenSSL: server contexts with berth's defaults,
 * SNI, non-blocking sessions. */

typedef struct ssl_ctx_st cberth_tls_context;
typedef struct ssl_st cberth_tls;

/* OpenSSL's global state stays until the process is gone: no cleanup at
   exit() under threads still using it. Call before any other OpenSSL use; 1 on success. */
int cberth_tls_keep_state_through_exit(void);

/* A server context with berth's defaults: TLS 1.2+ (1.3+ when min_version is
   13), forward-secret AEAD ciphers only, server cipher preference, no
   compression, no renegotiation, session tickets, ALPN http/1.1. Loads the
   certificate chain and key and checks they match. NULL with `error` filled. */
cberth_tls_context *cberth_tls_context_new(const char *cert, const char *key, int min_version, char *error, int error_size);
void cberth_tls_context_free(cberth_tls_context *ctx);
/* SNI: `pick(name, arg)` returns the context for a server name, or NULL to keep the default. */
typedef cberth_tls_context *(*cberth_tls_sni_picker)(const char *name, void *arg);
void cberth_tls_context_set_sni(cberth_tls_context *ctx, cberth_tls_sni_picker pick, void *arg);

/* ACME TLS-ALPN-01 (RFC 8737). A context that serves only the challenge
   certificate for `name`: self-signed, a new P-256 key, subjectAltName
   dNSName `name`, the critical acmeIdentifier extension holding the 32-byte
   SHA-256 of the key authorization; it negotiates ALPN "acme-tls/1" alone. */
cberth_tls_context *cberth_tls_alpn_challenge_context(const char *name, const unsigned char *digest32, char *error, int error_size);
/* A context with no certificate (a `tls auto` listener before its first
   one): handshakes fail, except those the challenge picker switches. */
cberth_tls_context *cberth_tls_context_new_empty(int min_version);
/* Challenge handshakes: for a ClientHello offering ALPN "acme-tls/1",
   `pick(server_name, arg)` returns the challenge context to switch to (or NULL).
   Other ClientHellos with a server name go to `on_demand(name, arg, &ctx)`
   (when not NULL): 0 goes on as is, 1 switches to *ctx, 2 suspends the
   handshake (cberth_tls_handshake then returns CBERTH_TLS_WANT_CERTIFICATE
   until called again once a certificate may be there), 3 refuses it with an
   unrecognized_name alert (a name whose certificate is not issued yet). */
typedef int (*cberth_tls_on_demand)(const char *name, void *arg, cberth_tls_context **ctx);
void cberth_tls_context_set_challenge_picker(cberth_tls_context *ctx, cberth_tls_sni_picker pick,
                                             cberth_tls_on_demand on_demand, void *arg);

/* Results of the calls below: > 0 bytes moved; 0 clean close; then: */
#define CBERTH_TLS_WANT_READ (-1)
#define CBERTH_TLS_WANT_WRITE (-2)
#define CBERTH_TLS_ERROR (-3)
#define CBERTH_TLS_WANT_CERTIFICATE (-4)
cberth_tls *cberth_tls_new(cberth_tls_context *ctx, int fd);
void cberth_tls_free(cberth_tls *tls);
/* 1 when the handshake is complete, else a CBERTH_TLS_* code. */
int cberth_tls_handshake(cberth_tls *tls);
int cberth_tls_read(cberth_tls *tls, void *buf, int count);
int cberth_tls_write(cberth_tls *tls, const void *buf, int count);
/* Bytes already decrypted and waiting inside OpenSSL. */
int cberth_tls_pending(cberth_tls *tls);
void cberth_tls_shutdown(cberth_tls *tls);
/* This session's ALPN offers h2 before http/1.1 (call before the handshake). */
void cberth_tls_offer_h2(cberth_tls *tls);
/* 1 when the handshake settled on ALPN h2. */
int cberth_tls_alpn_is_h2(cberth_tls *tls);
/* "TLSv1.3" etc. */
const char *cberth_tls_version(cberth_tls *tls);

#endif
