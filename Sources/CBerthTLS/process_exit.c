#include "cberth_tls.h"
#include <openssl/crypto.h>

/* OpenSSL 3 frees its global state in an atexit handler (OPENSSL_cleanup).
   serve calls exit() while threads it does not join may be inside OpenSSL
   (the certificate manager's libcurl requests to the CA): the handler then
   frees what they are using, and serve dies of SIGSEGV on its way out.
   Asked before anything else initialises OpenSSL, this leaves its state
   alone at exit (the kernel takes the memory back). */
int cberth_tls_keep_state_through_exit(void) {
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}
