#include "sandbox-dev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stddef.h>
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

static int fill(int dir, const char **what) {
  for (size_t i = 0; i < sizeof NODES / sizeof NODES[0]; i++) {
    *what = NODES[i].name;
    if (mknodat(dir, NODES[i].name, S_IFCHR | 0666, makedev(NODES[i].major, NODES[i].minor)) < 0) return -1;
    // Whatever the umask took.
    if (fchmodat(dir, NODES[i].name, 0666, 0) < 0) return -1;
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

int make_sandbox_dev(const char **what) {
  // The host's /dev and what is mounted below it leave this namespace only (a slave copy).
  while (umount2("/dev", MNT_DETACH) == 0) {
  }
  *what = "mount tmpfs on /dev";
  // No nodev: the nodes must open. nosuid like bwrap's own mounts.
  if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, MODE_OPTIONS) < 0) return -1;
  *what = "open /dev";
  int dir = open("/dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) return -1;
  int rc = fill(dir, what);
  int saved = errno;
  close(dir);
  if (rc < 0) {
    errno = saved;
    return -1;
  }
  // SECURITY: read-only, the filesystem itself (no one, host root in this namespace aside, can
  // make it writable again: the sandboxes' user namespaces do not own it) and the mount (whose
  // read-only flag bwrap's copy locks into each sandbox's namespace).
  *what = "remount /dev read-only";
  if (mount(NULL, "/dev", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID, MODE_OPTIONS) < 0) return -1;
  if (mount(NULL, "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL) < 0) return -1;
  return 0;
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
