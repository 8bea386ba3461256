#ifndef CBERTH_TICKET_KEYS_H
#define CBERTH_TICKET_KEYS_H
#include <openssl/evp.h>
#include <openssl/ssl.h>

/* The session-ticket key callback every context installs (ticket_keys.c). */
int cberth_ticket_callback(SSL *ssl, unsigned char key_name[16], unsigned char *iv, EVP_CIPHER_CTX *cipher,
                           EVP_MAC_CTX *mac, int encrypt);

#endif
