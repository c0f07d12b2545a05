/* Syscall policy for sandboxed user code, modelled on Docker's default seccomp profile.
 * Networking syscalls are allowed: the network is cut off by an empty net namespace instead. */
#include "seccomp-policy.h"

const char *const seccomp_allowed[] = {
    /* files and descriptors */
    "read", "write", "open", "openat", "openat2", "close", "close_range", "creat", "stat", "fstat", "lstat",
    "newfstatat", "statx", "statfs", "fstatfs", "lseek", "pread64", "pwrite64", "readv", "writev", "preadv",
    "pwritev", "preadv2", "pwritev2", "access", "faccessat", "faccessat2", "pipe", "pipe2", "dup", "dup2", "dup3",
    "fcntl", "flock", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "truncate", "ftruncate", "getdents", "getdents64",
    "getcwd", "chdir", "fchdir", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "link", "linkat",
    "unlink", "unlinkat", "symlink", "symlinkat", "readlink", "readlinkat", "chmod", "fchmod", "fchmodat",
    "fchmodat2", "chown",
    "fchown", "lchown", "fchownat", "umask", "mknod", "mknodat", "ioctl", "sendfile", "copy_file_range", "splice",
    "tee", "vmsplice", "utime", "utimes", "utimensat", "futimesat", "fadvise64", "fallocate", "readahead",
    "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "memfd_create",
    /* polling and events */
    "select", "pselect6", "poll", "ppoll", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
    "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
    /* POSIX timers (Ruby's timer thread, JVMs) and Linux AIO */
    "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete", "io_setup", "io_destroy",
    "io_getevents", "io_pgetevents", "io_submit", "io_cancel",
    "signalfd", "signalfd4", "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    /* memory */
    "mmap", "mprotect", "munmap", "mremap", "madvise", "brk", "mincore", "msync", "mlock", "mlock2", "munlock",
    "mlockall", "munlockall", "membarrier", "get_mempolicy", "set_mempolicy", "mbind", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "map_shadow_stack", "mseal", "cachestat",
    /* signals */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo",
    "rt_tgsigqueueinfo", "rt_sigsuspend", "sigaltstack", "restart_syscall", "alarm", "pause", "getitimer",
    "setitimer", "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal",
    /* processes and threads */
    "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "futex", "futex_waitv",
    "set_robust_list", "get_robust_list", "set_tid_address", "arch_prctl", "prctl", "rseq", "getpid", "getppid",
    /* a program may only narrow its own filter further (browsers, some runtimes do) */
    "seccomp",
    "gettid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "getpgid",
    "setpgid",
    /* id changes need CAP_SETUID/CAP_SETGID, which sandboxed code lacks; no-op calls must work */
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid", "getpgrp", "setsid", "getsid", "capget", "sched_yield", "sched_getaffinity", "sched_setaffinity",
    "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_rr_get_interval", "sched_getattr", "sched_setattr", "getpriority",
    "setpriority", "ioprio_get", "ioprio_set",
    /* time, limits, system info */
    "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time", "times", "uname",
    "sysinfo", "getrlimit", "setrlimit", "prlimit64", "getrusage", "getrandom", "getcpu",
    /* sockets (no network exists in the sandbox's namespace) */
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto", "recvfrom", "sendmsg",
    "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname", "getpeername", "setsockopt", "getsockopt",
    /* System V and POSIX IPC (private to the sandbox's IPC namespace) */
    "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget", "msgsnd", "msgrcv",
    "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
};
const size_t seccomp_allowed_count = sizeof seccomp_allowed / sizeof seccomp_allowed[0];

/* Explicitly refused with EPERM (programs handle "not permitted" better than "not implemented"). */
const char *const seccomp_eperm[] = {
    "mount", "umount2", "unshare", "setns", "ptrace", "bpf", "keyctl", "add_key", "request_key",
    "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at", "name_to_handle_at",
    "process_vm_readv", "process_vm_writev", "pivot_root", "chroot", "reboot", "swapon", "swapoff", "syslog",
    "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm", "quotactl",
    "lookup_dcookie", "vhangup", "fanotify_init", "mount_setattr", "fsopen", "fsmount", "fsconfig", "fspick",
    "move_mount", "open_tree", "pidfd_getfd", "capset",
};
const size_t seccomp_eperm_count = sizeof seccomp_eperm / sizeof seccomp_eperm[0];
