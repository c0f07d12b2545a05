/* Syscall policy for sandboxed user code, modelled on Docker's default seccomp profile, with every
 * allowed call reviewed for kernel-global resources (docs/security.md, "Kernel-global resources").
 * Networking syscalls are allowed: the network is cut off by an empty net namespace instead. */
#include "seccomp-policy.h"

#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#define FADV_DONTNEED 4 /* POSIX_FADV_DONTNEED on x86 */

#define LIST(array) {array, sizeof array / sizeof array[0]}
#define RULES(array) {array, sizeof array / sizeof array[0]}
/* The kernel reads int arguments from the low 32 bits of the register: compare those only. */
#define LOW32 0xffffffffULL

static const char *const allowed[] = {
    /* files and descriptors */
    "read", "write", "open", "openat", "openat2", "close", "close_range", "creat", "stat", "fstat", "lstat",
    "newfstatat", "statx", "statfs", "fstatfs", "lseek", "pread64", "pwrite64", "readv", "writev", "preadv",
    "pwritev", "preadv2", "pwritev2", "access", "faccessat", "faccessat2", "pipe", "pipe2", "dup", "dup2", "dup3",
    "fcntl", "flock", "truncate", "ftruncate", "getdents", "getdents64",
    "getcwd", "chdir", "fchdir", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "link", "linkat",
    "unlink", "unlinkat", "symlink", "symlinkat", "readlink", "readlinkat", "chmod", "fchmod", "fchmodat",
    "fchmodat2", "chown",
    "fchown", "lchown", "fchownat", "umask", "mknod", "mknodat", "ioctl", "sendfile", "copy_file_range", "splice",
    "tee", "vmsplice", "utime", "utimes", "utimensat", "futimesat", "fallocate", "readahead",
    "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    /* polling and events */
    "select", "pselect6", "poll", "ppoll", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
    "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
    /* POSIX timers (Ruby's timer thread, JVMs). Not Linux AIO (io_setup & co.): its pool, fs.aio-max-nr,
     * is host-wide, so those calls get ENOSYS, as on a kernel without CONFIG_AIO (libaio users fall back). */
    "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
    "signalfd", "signalfd4", "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    /* memory (mmap, msync, memfd_create, shmget: see the argument rules) */
    "mprotect", "munmap", "mremap", "madvise", "brk", "mincore", "mlock", "mlock2", "munlock",
    "mlockall", "munlockall", "membarrier", "get_mempolicy", "set_mempolicy", "mbind", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "map_shadow_stack", "mseal",
    /* signals */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo",
    "rt_tgsigqueueinfo", "rt_sigsuspend", "sigaltstack", "restart_syscall", "alarm", "pause", "getitimer",
    "setitimer", "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal",
    /* processes and threads */
    "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "futex", "futex_waitv",
    "set_robust_list", "set_tid_address", "arch_prctl", "prctl", "rseq", "getpid", "getppid",
    /* a program may only narrow its own filter further (browsers, some runtimes do) */
    "seccomp",
    "gettid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "getpgid",
    "setpgid",
    /* id changes need CAP_SETUID/CAP_SETGID, which sandboxed code lacks; no-op calls must work */
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid", "getpgrp", "setsid", "getsid", "capget", "sched_yield", "sched_getaffinity", "sched_setaffinity",
    "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_rr_get_interval", "sched_getattr", "getpriority",
    "setpriority", "ioprio_get", "ioprio_set",
    /* time, limits, system info (prlimit64: see the argument rules) */
    "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time", "times", "uname",
    "sysinfo", "getrlimit", "setrlimit", "getrusage", "getrandom", "getcpu",
    /* sockets (no network exists in the sandbox's namespace; socket itself: see the argument rules) */
    "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto", "recvfrom", "sendmsg",
    "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname", "getpeername", "setsockopt", "getsockopt",
    /* System V and POSIX IPC (private to the sandbox's IPC namespace) */
    "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget", "msgsnd", "msgrcv",
    "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
};
const struct seccomp_list seccomp_allowed = LIST(allowed);

/* Explicitly refused with EPERM (programs handle "not permitted" better than "not implemented"). */
static const char *const eperm[] = {
    "mount", "umount2", "unshare", "setns", "ptrace", "bpf", "keyctl", "add_key", "request_key",
    "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at", "name_to_handle_at",
    "process_vm_readv", "process_vm_writev", "pivot_root", "chroot", "reboot", "swapon", "swapoff", "syslog",
    "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm", "quotactl",
    "lookup_dcookie", "vhangup", "fanotify_init", "mount_setattr", "fsopen", "fsmount", "fsconfig", "fspick",
    "move_mount", "open_tree", "pidfd_getfd", "capset",
};
const struct seccomp_list seccomp_eperm = LIST(eperm);

/* SECURITY: writeback is host-wide (sync) or per host filesystem (syncfs, and fsync of a file of the
 * read-only image can still force a journal commit and a disk cache flush). Everything sandboxed
 * code can write lives in tmpfs, where these calls do nothing anyway, so the filter answers 0. */
static const char *const noop[] = {"sync", "syncfs", "fsync", "fdatasync", "sync_file_range"};
const struct seccomp_list seccomp_noop = LIST(noop);

/* clone(2) flags that would create namespaces. */
#define CLONE_NS                                                                                                 \
  ((scmp_datum_t)(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |      \
                  CLONE_NEWCGROUP | CLONE_NEWTIME))
#define CLONE_NS_BIT(bit) {"clone", SCMP_ACT_ERRNO(EPERM), {0, SCMP_CMP_MASKED_EQ, (bit), (bit)}}
#define POLICY_ALLOWED(policy) {"sched_setscheduler", SCMP_ACT_ALLOW, {1, SCMP_CMP_MASKED_EQ, LOW32 & ~SCHED_RESET_ON_FORK, (policy)}}
#define POLICY_REFUSED(policy) {"sched_setscheduler", SCMP_ACT_ERRNO(EPERM), {1, SCMP_CMP_MASKED_EQ, LOW32 & ~SCHED_RESET_ON_FORK, (policy)}}

static const struct seccomp_arg_rule arg_rules[] = {
    // SECURITY: clone may not create namespaces (user namespaces are the usual kernel attack surface).
    {"clone", SCMP_ACT_ALLOW, {0, SCMP_CMP_MASKED_EQ, CLONE_NS, 0}},
    CLONE_NS_BIT(CLONE_NEWNS), CLONE_NS_BIT(CLONE_NEWUTS), CLONE_NS_BIT(CLONE_NEWIPC), CLONE_NS_BIT(CLONE_NEWUSER),
    CLONE_NS_BIT(CLONE_NEWPID), CLONE_NS_BIT(CLONE_NEWNET), CLONE_NS_BIT(CLONE_NEWCGROUP), CLONE_NS_BIT(CLONE_NEWTIME),
    // SECURITY: personality only as a query (0xffffffff) or PER_LINUX (0); e.g. READ_IMPLIES_EXEC or
    // ADDR_NO_RANDOMIZE would weaken the process's own hardening.
    {"personality", SCMP_ACT_ALLOW, {0, SCMP_CMP_MASKED_EQ, LOW32, 0}},
    {"personality", SCMP_ACT_ALLOW, {0, SCMP_CMP_MASKED_EQ, LOW32, LOW32}},
    // SECURITY: limits of the caller only (pid 0, as glibc's getrlimit/setrlimit pass it): never of
    // the agent or another process. The whole register must be 0, so no pid hides in the high bits.
    {"prlimit64", SCMP_ACT_ALLOW, {0, SCMP_CMP_EQ, 0, 0}},
    {"prlimit64", SCMP_ACT_ERRNO(EPERM), {0, SCMP_CMP_NE, 0, 0}},
    // SECURITY: another process's robust-futex list head is a pointer into its memory; only
    // debuggers ask for it.
    {"get_robust_list", SCMP_ACT_ALLOW, {0, SCMP_CMP_EQ, 0, 0}},
    {"get_robust_list", SCMP_ACT_ERRNO(EPERM), {0, SCMP_CMP_NE, 0, 0}},
    // SECURITY: real-time policies would run outside the CPU quota; RLIMIT_RTPRIO 0 refuses them too.
    POLICY_ALLOWED(SCHED_OTHER), POLICY_ALLOWED(SCHED_BATCH), POLICY_ALLOWED(SCHED_IDLE),
    POLICY_REFUSED(SCHED_FIFO), POLICY_REFUSED(SCHED_RR), POLICY_REFUSED(SCHED_DEADLINE),
    // SECURITY: huge pages come from a host-wide pool (vm.nr_hugepages) that no cgroup limit here
    // bounds: refused as if the pool were empty. Transparent huge pages are ordinary charged memory.
    {"memfd_create", SCMP_ACT_ALLOW, {1, SCMP_CMP_MASKED_EQ, MFD_HUGETLB, 0}},
    {"memfd_create", SCMP_ACT_ERRNO(ENOMEM), {1, SCMP_CMP_MASKED_EQ, MFD_HUGETLB, MFD_HUGETLB}},
    {"shmget", SCMP_ACT_ALLOW, {2, SCMP_CMP_MASKED_EQ, SHM_HUGETLB, 0}},
    {"shmget", SCMP_ACT_ERRNO(ENOMEM), {2, SCMP_CMP_MASKED_EQ, SHM_HUGETLB, SHM_HUGETLB}},
    // SECURITY: msync(MS_SYNC) of a shared file mapping is an fsync (see noop); MS_ASYNC only checks
    // the range (libunwind probes addresses with it).
    {"msync", SCMP_ACT_ALLOW, {2, SCMP_CMP_MASKED_EQ, MS_SYNC, 0}},
    {"msync", SCMP_ACT_ERRNO(0), {2, SCMP_CMP_MASKED_EQ, MS_SYNC, MS_SYNC}},
    // SECURITY: AF_VSOCK ignores network namespaces: on a host that is itself a VM it reaches the
    // hypervisor's host. Families below it are the usual ones (unix, inet, inet6, netlink, ...);
    // the rarer ones above it (KCM, SMC, XDP, MCTP) get ENOSYS.
    {"socket", SCMP_ACT_ALLOW, {0, SCMP_CMP_LT, AF_VSOCK, 0}},
    {"socket", SCMP_ACT_ERRNO(EAFNOSUPPORT), {0, SCMP_CMP_MASKED_EQ, LOW32, AF_VSOCK}},
};
const struct seccomp_arg_rules seccomp_arg_rules = RULES(arg_rules);

#define ADVICE(advice, action) {"fadvise64", (action), {3, SCMP_CMP_MASKED_EQ, LOW32, (advice)}}
static const struct seccomp_arg_rule x86_64_arg_rules[] = {
    {"mmap", SCMP_ACT_ALLOW, {3, SCMP_CMP_MASKED_EQ, MAP_HUGETLB, 0}},
    {"mmap", SCMP_ACT_ERRNO(ENOMEM), {3, SCMP_CMP_MASKED_EQ, MAP_HUGETLB, MAP_HUGETLB}},
    // SECURITY: DONTNEED would evict the shared image's page cache for every sandbox (and it does
    // nothing in tmpfs): answered 0. NORMAL, RANDOM, SEQUENTIAL, WILLNEED, NOREUSE pass.
    ADVICE(0, SCMP_ACT_ALLOW), ADVICE(1, SCMP_ACT_ALLOW), ADVICE(2, SCMP_ACT_ALLOW), ADVICE(3, SCMP_ACT_ALLOW),
    ADVICE(FADV_DONTNEED, SCMP_ACT_ERRNO(0)), ADVICE(5, SCMP_ACT_ALLOW),
};
const struct seccomp_arg_rules seccomp_x86_64_arg_rules = RULES(x86_64_arg_rules);

/* The i386 names of the calls above (64-bit file offsets, 32-bit ids, old signal calls, time64).
 * Not: the old mmap and select that pass their arguments in memory, socketcall and ipc (the
 * multiplexers hide their arguments from the filter; the direct calls exist since Linux 4.3 and
 * 5.1), fadvise64/fadvise64_64 (split arguments), vm86, modify_ldt. */
static const char *const i386_allowed[] = {
    "_llseek", "_newselect", "stat64", "fstat64", "lstat64", "fstatat64", "statfs64", "fstatfs64", "fcntl64",
    "truncate64", "ftruncate64", "sendfile64", "chown32", "fchown32", "lchown32", "getuid32", "geteuid32",
    "getgid32", "getegid32", "getresuid32", "getresgid32", "getgroups32", "setuid32", "setgid32", "setreuid32",
    "setregid32", "setresuid32", "setresgid32", "setgroups32", "setfsuid32", "setfsgid32", "ugetrlimit",
    "waitpid", "nice", "sigaction", "sigprocmask", "sigreturn", "sigsuspend", "sigpending", "set_thread_area",
    "get_thread_area", "clock_gettime64", "clock_getres_time64", "clock_nanosleep_time64", "timer_gettime64",
    "timer_settime64", "timerfd_gettime64", "timerfd_settime64", "utimensat_time64", "pselect6_time64",
    "ppoll_time64", "recvmmsg_time64", "mq_timedsend_time64", "mq_timedreceive_time64", "semtimedop_time64",
    "rt_sigtimedwait_time64", "futex_time64", "sched_rr_get_interval_time64",
};
const struct seccomp_list seccomp_i386_allowed = LIST(i386_allowed);

static const char *const i386_eperm[] = {"umount", "stime", "clock_settime64", "clock_adjtime64"};
const struct seccomp_list seccomp_i386_eperm = LIST(i386_eperm);

static const struct seccomp_arg_rule i386_arg_rules[] = {
    {"mmap2", SCMP_ACT_ALLOW, {3, SCMP_CMP_MASKED_EQ, MAP_HUGETLB, 0}},
    {"mmap2", SCMP_ACT_ERRNO(ENOMEM), {3, SCMP_CMP_MASKED_EQ, MAP_HUGETLB, MAP_HUGETLB}},
};
const struct seccomp_arg_rules seccomp_i386_arg_rules = RULES(i386_arg_rules);
