#ifndef CBERTH_SOCKET_BIO_H
#define CBERTH_SOCKET_BIO_H
#include <openssl/bio.h>

/* A BIO on socket `fd` (not closed when the BIO is freed) that moves bytes
   with recv(2) and send(2); NULL when OpenSSL cannot make one. */
BIO *cberth_socket_bio_new(int fd);

#endif
