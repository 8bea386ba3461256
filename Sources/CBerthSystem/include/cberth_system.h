#ifndef CBERTH_SYSTEM_H
#define CBERTH_SYSTEM_H

/* System calls Swift's Glibc module does not reach (glibc hides them behind
 * _GNU_SOURCE, or they are only syscall(2) numbers). One call each, no logic. */

#include <stddef.h>
#include <sys/types.h>

/* accept4(2) with SOCK_NONBLOCK|SOCK_CLOEXEC. */
struct sockaddr;
int cberth_accept_nonblocking(int fd, struct sockaddr *addr, unsigned int *len);

/* setns(2) into a network namespace (fd from /proc/PID/ns/net); 0 on success. */
int cberth_setns_net(int fd);

/* prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants (a container whose
   runc died) are reparented to this process instead of init; 0 on success. */
int cberth_become_subreaper(void);

/* lgetxattr(2). */
long cberth_lgetxattr(const char *path, const char *name, void *value, size_t size);
/* lsetxattr(2); 0 on success. */
int cberth_lsetxattr(const char *path, const char *name, const void *value, size_t size);

/* pidfd_open(2): a descriptor that keeps naming this process even after its
   pid is reused; -1 with errno when it is gone. */
int cberth_pidfd_open(pid_t pid);
/* pidfd_send_signal(2) of `sig` carrying `value` (as sigqueue(3) would); 0 on success. */
int cberth_pidfd_send_queued(int pidfd, int sig, int value);

/* pipe2(2) with O_NONBLOCK|O_CLOEXEC, then F_SETPIPE_SZ to `size` (as far
   as the kernel allows); fds[0] reads, fds[1] writes. The pipe's capacity
   in bytes, or -1 (errno). */
int cberth_pipe_nonblocking(int fds[2], int size);
/* splice(2) of up to `count` bytes from `from` to `to` (one of them a pipe),
   SPLICE_F_NONBLOCK|SPLICE_F_MOVE: bytes moved, 0 at end of input, -1 (errno). */
long cberth_splice(int from, int to, size_t count);

/* malloc_trim(0): give freed heap memory back to the system; 1 if some was. */
int cberth_malloc_trim(void);

/* Starts `path` with `argv` (NULL-terminated) as a process of its own: forked
   twice, so it is nobody's child here (init or the nearest subreaper reaps
   it), in a new session, with `in`/`out`/`err` as its fds 0-2, `pass` (when
   >= 0) as its fd 3, and nothing else open. Only async-signal-safe calls run
   between fork and exec. 0 once the middle process has exited, -1 (errno)
   when a fork failed. An exec that fails exits the new process with 127. */
int cberth_spawn_detached(const char *path, char *const argv[], int in, int out, int err, int pass);

/* sendmsg(2) of `len` bytes with `nfds` descriptors as SCM_RIGHTS; bytes sent or -1. */
long cberth_send_fds(int sock, const void *data, size_t len, const int *fds, int nfds);
/* recvmsg(2) of up to `cap` bytes and up to `maxfds` SCM_RIGHTS descriptors
   (made close-on-exec); `*nfds` gets how many came. Bytes read, 0 at EOF, -1 on error. */
long cberth_recv_fds(int sock, void *buf, size_t cap, int *fds, int maxfds, int *nfds);

#endif
