/* Tries one system call a container's seccomp profile decides on and prints
 * "<name> ok" or "<name> <errno name>". Built static by the tests. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static int report(const char *name, long r) {
    if (r < 0) {
        printf("%s %s\n", name, errno == EPERM ? "EPERM" : strerror(errno));
        return 1;
    }
    printf("%s ok\n", name);
    return 0;
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "unshare") == 0) return report("unshare", unshare(CLONE_NEWUSER));
    if (strcmp(what, "keyctl") == 0) return report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 1));
    if (strcmp(what, "mount") == 0) {
        /* The mount system call itself, with the capability it needs: in a
         * user and mount namespace of its own when that is allowed. */
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
            long r = mount("none", "/mnt", "tmpfs", 0, 0);
            return report("mount", r);
        }
        return report("mount", mount("none", "/mnt", "tmpfs", 0, 0));
    }
    fprintf(stderr, "usage: syscall-probe unshare|keyctl|mount\n");
    return 2;
}
