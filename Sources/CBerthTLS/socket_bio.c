#include "socket_bio.h"
#include <pthread.h>
#include <errno.h>
#include <sys/socket.h>

/* OpenSSL's socket BIO reads and writes with read(2) and write(2), which on
   Linux pass through the VFS (vfs_read, the file position lock, the access
   checks) before they reach the socket: under HTTP/2 load that was 3 % of
   the worker's CPU. recv(2) and send(2) go to the socket directly, as
   HAProxy's own BIO does. Everything else (creation, control, EOF and retry
   flags) is the socket BIO's. */

static BIO_METHOD *cberth_socket_method;
static pthread_once_t cberth_socket_method_once = PTHREAD_ONCE_INIT;

static int cberth_socket_read(BIO *b, char *out, int outl) {
    if (out == NULL) return 0;
    int fd = (int)BIO_get_fd(b, NULL);
    errno = 0; /* recv's EOF sets none: an old EAGAIN would read as "retry" (libssl clears it too) */
    int n = (int)recv(fd, out, (size_t)outl, 0);
    BIO_clear_retry_flags(b);
    if (n <= 0) {
        if (BIO_sock_should_retry(n)) BIO_set_retry_read(b);
        else if (n == 0) BIO_set_flags(b, BIO_FLAGS_IN_EOF);
    }
    return n;
}

static int cberth_socket_write(BIO *b, const char *in, int inl) {
    int fd = (int)BIO_get_fd(b, NULL);
    errno = 0;
    int n = (int)send(fd, in, (size_t)inl, MSG_NOSIGNAL);
    BIO_clear_retry_flags(b);
    if (n <= 0 && BIO_sock_should_retry(n)) BIO_set_retry_write(b);
    return n;
}

static void cberth_socket_method_make(void) {
    const BIO_METHOD *socket = BIO_s_socket();
    BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOCKET, "berth socket");
    if (!m) return;
    if (!BIO_meth_set_read(m, cberth_socket_read) || !BIO_meth_set_write(m, cberth_socket_write) ||
        !BIO_meth_set_puts(m, BIO_meth_get_puts(socket)) || !BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(socket)) ||
        !BIO_meth_set_create(m, BIO_meth_get_create(socket)) || !BIO_meth_set_destroy(m, BIO_meth_get_destroy(socket))) {
        BIO_meth_free(m);
        return;
    }
    cberth_socket_method = m;
}

BIO *cberth_socket_bio_new(int fd) {
    pthread_once(&cberth_socket_method_once, cberth_socket_method_make);
    if (!cberth_socket_method) return NULL;
    BIO *bio = BIO_new(cberth_socket_method);
    if (bio) BIO_set_fd(bio, fd, BIO_NOCLOSE);
    return bio;
}
