#include "sandbox-dev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* SECURITY: the only devices a sandbox has (bwrap/plan.ts DEV_NODES), with the numbers the
 * kernel's documentation fixes (Documentation/admin-guide/devices.txt) and the host's modes. No
 * /dev/pts or /dev/ptmx: every devpts instance draws on the host-wide kernel.pty.max pool. */
static const struct {
  const char *name;
  unsigned major, minor;
} NODES[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
static const char *const LINKS[][2] = {
    {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
#define STRING(x) #x
#define DECIMAL(x) STRING(x)
#define MODE_OPTIONS "mode=0755,size=" DECIMAL(SANDBOX_DEV_BYTES)

/* Where the new /dev is filled before it moves to /dev: /sys's mount point, free in the launch
 * namespace (forkserver.c detaches /sys first), so that the host's /dev is still there to bind
 * nodes from. */
#define STAGING "/sys"

/* One node: made, or where this process may not make devices (no CAP_MKNOD, a device cgroup or
 * policy), the host's own bound onto an empty file, as bwrap's --dev-bind would. */
static int make_node(int dir, size_t i, int host_node) {
  const char *name = NODES[i].name;
  if (mknodat(dir, name, S_IFCHR | 0666, makedev(NODES[i].major, NODES[i].minor)) == 0) {
    // Whatever the umask took.
    return fchmodat(dir, name, 0666, 0);
  }
  if (errno != EPERM || host_node < 0) return -1;
  char source[64], target[64];
  snprintf(source, sizeof source, "/proc/self/fd/%d", host_node);
  snprintf(target, sizeof target, STAGING "/%s", name);
  int file = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (file < 0) return -1;
  close(file);
  if (mount(source, target, NULL, MS_BIND, NULL) < 0) return -1;
  return mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID, NULL);
}

static int fill(int dir, const int *host_nodes, const char **what) {
  for (size_t i = 0; i < sizeof NODES / sizeof NODES[0]; i++) {
    *what = NODES[i].name;
    if (make_node(dir, i, host_nodes[i]) < 0) return -1;
  }
  for (size_t i = 0; i < sizeof LINKS / sizeof LINKS[0]; i++) {
    *what = LINKS[i][1];
    if (symlinkat(LINKS[i][0], dir, LINKS[i][1]) < 0) return -1;
  }
  *what = "shm";
  // bwrap mounts each sandbox's /dev/shm tmpfs here.
  if (mkdirat(dir, "shm", 0755) < 0 || fchmodat(dir, "shm", 0755, 0) < 0) return -1;
  return 0;
}

static int fill_staging(const int *host_nodes, const char **what) {
  *what = "mount tmpfs on " STAGING;
  // No nodev: the nodes must open. nosuid like bwrap's own mounts.
  if (mount("tmpfs", STAGING, "tmpfs", MS_NOSUID, MODE_OPTIONS) < 0) return -1;
  *what = "open " STAGING;
  int dir = open(STAGING, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) return -1;
  int rc = fill(dir, host_nodes, what);
  int saved = errno;
  close(dir);
  errno = saved;
  if (rc < 0) return -1;
  // SECURITY: read-only, the filesystem itself (no one, host root in this namespace aside, can
  // make it writable again: the sandboxes' user namespaces do not own it) and the mount (whose
  // read-only flag bwrap's copy locks into each sandbox's namespace).
  *what = "remount read-only";
  if (mount(NULL, STAGING, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID, MODE_OPTIONS) < 0) return -1;
  return mount(NULL, STAGING, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL);
}

int make_sandbox_dev(const char **what) {
  enum { N = sizeof NODES / sizeof NODES[0] };
  int host_nodes[N];
  for (size_t i = 0; i < N; i++) {
    char path[64];
    snprintf(path, sizeof path, "/dev/%s", NODES[i].name);
    host_nodes[i] = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  }
  int rc = fill_staging(host_nodes, what);
  int saved = errno;
  for (size_t i = 0; i < N; i++)
    if (host_nodes[i] >= 0) close(host_nodes[i]);
  if (rc == 0) {
    // The host's /dev and what is mounted below it leave this namespace only (a slave copy).
    while (umount2("/dev", MNT_DETACH) == 0) {
    }
    *what = "move " STAGING " to /dev";
    rc = mount(STAGING, "/dev", NULL, MS_MOVE, NULL);
    saved = errno;
  }
  errno = saved;
  return rc;
}

int is_sandbox_dev(void) {
  struct statfs fs;
  struct statvfs vfs;
  if (statfs("/dev", &fs) < 0 || statvfs("/dev", &vfs) < 0) return -1;
  if (fs.f_type != TMPFS_MAGIC) return 0;
  if ((vfs.f_flag & (ST_RDONLY | ST_NOSUID)) != (ST_RDONLY | ST_NOSUID)) return 0;
  // The host's devtmpfs is a tmpfs too, but rw and as large as half the RAM.
  return (unsigned long long)fs.f_blocks * (unsigned long long)fs.f_bsize == SANDBOX_DEV_BYTES;
}
