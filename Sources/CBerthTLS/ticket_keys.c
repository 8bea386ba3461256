/* Session-ticket keys shared by every TLS context, rotated every 12 hours.
 *
 * Why this is C and not Swift: OpenSSL calls this from inside SSL_do_handshake
 * with its own EVP_CIPHER_CTX and EVP_MAC_CTX to initialise in place, through
 * OSSL_PARAM arrays built from macros (OSSL_MAC_PARAM_KEY); a Swift version
 * would be the same calls through unsafe pointers to opaque OpenSSL types,
 * spread over a @convention(c) closure. Here the keys never leave C memory.
 * The rotation policy is the one thing decided here: the current key
 * encrypts new tickets; after CBERTH_TICKET_ROTATE seconds it becomes the
 * previous one (still accepted, and its tickets renewed). */
#include "ticket_keys.h"
#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

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

int cberth_ticket_callback(SSL *ssl, unsigned char key_name[16], unsigned char *iv, EVP_CIPHER_CTX *cipher,
                                  EVP_MAC_CTX *mac, int encrypt) {
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
    /* 2: valid, and issue a new ticket. Under a previous key, so the next
       one is under the current key. Always in TLS 1.3: there, 1 means no
       ticket on the resumed connection (OpenSSL's own keys always renew).
       Clients use a TLS 1.3 ticket once (RFC 8446 C.4), so every other
       connection would be a full handshake. */
    return which == 0 && SSL_version(ssl) < TLS1_3_VERSION ? 1 : 2;
}
