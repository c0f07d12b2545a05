/* The sandbox's /dev, made once in the fork server's launch mount namespace (make_sandbox_dev)
 * and bound whole into each bwrap sandbox (bwrap/plan.ts, launchNamespaceDev), instead of a tmpfs,
 * six device binds, four symlinks and a remount per sandbox. */
#ifndef RC_SANDBOX_DEV_H
#define RC_SANDBOX_DEV_H

/* Size of the /dev tmpfs (bwrap/plan.ts DEV_TMPFS_BYTES): it holds only nodes, links and a mount point. */
#define SANDBOX_DEV_BYTES 65536

/* In the launch mount namespace (with /sys detached: its mount point is where /dev is filled):
 * replaces /dev with the sandbox's (bwrap/plan.ts DEV_NODES and DEV_LINKS, and /dev/shm's mount
 * point), read-only; nodes it may not make are the host's, bound in. 0, or -1 with errno and what
 * failed in *what. */
int make_sandbox_dev(const char **what);

/* 1 if /dev here is a read-only, nosuid tmpfs of SANDBOX_DEV_BYTES (what make_sandbox_dev leaves),
 * 0 if not (the host's /dev, or an older fork server's launch namespace), -1 on error. */
int is_sandbox_dev(void);

#endif
