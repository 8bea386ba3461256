#define _GNU_SOURCE
#include "cberth_system.h"
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <malloc.h>
#include <fcntl.h>

int cberth_accept_nonblocking(int fd, struct sockaddr *addr, unsigned int *len) { return accept4(fd, addr, (socklen_t *)len, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int cberth_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }
int cberth_become_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

long cberth_lgetxattr(const char *path, const char *name, void *value, size_t size) { return lgetxattr(path, name, value, size); }
int cberth_lsetxattr(const char *path, const char *name, const void *value, size_t size) { return lsetxattr(path, name, value, size, 0); }

int cberth_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int cberth_pidfd_send_queued(int pidfd, int sig, int value) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = sig;
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    info.si_value.sival_int = value;
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, &info, 0);
}

int cberth_malloc_trim(void) { return malloc_trim(0); }

int cberth_pipe_nonblocking(int fds[2], int size) {
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return -1;
    (void)fcntl(fds[1], F_SETPIPE_SZ, size); /* a smaller pipe still works */
    int capacity = fcntl(fds[1], F_GETPIPE_SZ);
    return capacity > 0 ? capacity : 65536;
}
long cberth_splice(int from, int to, size_t count) { return (long)splice(from, NULL, to, NULL, count, SPLICE_F_NONBLOCK | SPLICE_F_MOVE); }
