/* runner-vminit: PID 1 of a microVM guest, from the initramfs. It loads the virtio modules the
 * kernel has as modules, mounts the language image (the read-only virtio disk) with tmpfs scratch
 * space, keeps only the capabilities the agent needs and becomes runner-agent, which speaks the same
 * frames as in a container over the virtio-serial port (or vsock) and runs the user's code as the
 * sandbox user (uid 1000), never as its own uid. When the agent exits, the kernel panics
 * ("attempted to kill init") and, booted with panic=-1 and QEMU's -no-reboot, the VM is gone.
 *
 * Before anything else on the channel the host sends one line, `RC-HELLO <seconds>.<nanoseconds>
 * <64 hex digits>`: the guest's clock is set to the host's time and the 32 bytes are mixed into the
 * kernel's entropy pool, which is then reseeded. A fresh boot needs it little; a VM restored from a
 * snapshot needs it badly: its clock is the snapshot's and its RNG state that of every other clone.
 *
 * The initramfs holds: /init (this), /runner-agent, /modules/<name>.ko and /modules/order (one
 * module file name per line, in load order). Kernel command line options it reads:
 *   rc.port=NAME   the virtio-serial port the agent speaks on (default agent.0); its device node
 *                  is found through sysfs, since its number depends on the order of the devices
 *   rc.vsock=PORT  speak on vsock instead (Firecracker): listen on PORT, take the host's one
 *                  connection (host-initiated, `CONNECT PORT` on the VMM's side)
 *   rc.tmpfs=N     size of /tmp and /work in bytes (default 64 MiB)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <linux/random.h>
#include <linux/vm_sockets.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "die.h"

#define NEWROOT "/newroot"
#define ROOT_DEVICE "/dev/vda"
#define SANDBOX_UID 1000
#define SANDBOX_GID 1000
#define WAIT_DEVICE_MS 10000

/* PID 1 exiting panics the kernel, which ends the VM: the host sees the agent never answer. */
#define fail(...) die("runner-vminit", 1, __VA_ARGS__)

static void mount_or_fail(const char *src, const char *target, const char *type, unsigned long flags, const char *data) {
  if (mkdir(target, 0755) < 0 && errno != EEXIST) fail("mkdir %s: %s", target, strerror(errno));
  if (mount(src, target, type, flags, data) < 0) fail("mount %s on %s: %s", type, target, strerror(errno));
}

/* Loads the modules named in /modules/order, in that order; one that is already built in or
 * loaded (EEXIST) is fine. */
static void load_modules(void) {
  FILE *order = fopen("/modules/order", "re");
  if (order == NULL) return; /* a kernel with virtio built in needs none */
  char name[256], path[300];
  while (fgets(name, sizeof name, order) != NULL) {
    name[strcspn(name, "\n")] = '\0';
    if (name[0] == '\0') continue;
    snprintf(path, sizeof path, "/modules/%s", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open %s: %s", path, strerror(errno));
    if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST) fail("load %s: %s", name, strerror(errno));
    close(fd);
  }
  fclose(order);
}

/* Devices appear in devtmpfs once their driver has probed them, which may be after the module
 * load returned. */
static void wait_for(const char *path) {
  struct timespec step = {0, 5 * 1000 * 1000};
  for (int waited = 0; access(path, F_OK) != 0; waited += 5) {
    if (waited >= WAIT_DEVICE_MS) fail("%s did not appear", path);
    nanosleep(&step, NULL);
  }
}

/* Finds /dev/vportNpM of the virtio-serial port called `name` (its sysfs `name` attribute),
 * waiting for the driver to create it. */
static void find_port(const char *name, char *dev, size_t size) {
  struct timespec step = {0, 5 * 1000 * 1000};
  for (int waited = 0; waited < WAIT_DEVICE_MS; waited += 5) {
    DIR *dir = opendir("/sys/class/virtio-ports");
    struct dirent *entry;
    while (dir != NULL && (entry = readdir(dir)) != NULL) {
      if (entry->d_name[0] == '.') continue;
      char path[512], found[128] = "";
      snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", entry->d_name);
      FILE *f = fopen(path, "re");
      if (f == NULL) continue;
      if (fgets(found, sizeof found, f) != NULL) found[strcspn(found, "\n")] = '\0';
      fclose(f);
      if (strcmp(found, name) == 0) {
        snprintf(dev, size, "/dev/%s", entry->d_name);
        closedir(dir);
        wait_for(dev);
        return;
      }
    }
    if (dir != NULL) closedir(dir);
    nanosleep(&step, NULL);
  }
  fail("virtio-serial port '%s' did not appear", name);
}

/* Listens on vsock `port` and returns the first connection: the host's, once it connects. */
static int accept_vsock(const char *port) {
  char *end;
  long n = strtol(port, &end, 10);
  if (*end != '\0' || n <= 0 || n > 65535) fail("rc.vsock=%s is not a port", port);
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("vsock socket: %s", strerror(errno));
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = (unsigned)n};
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1) < 0) fail("vsock listen on %ld: %s", n, strerror(errno));
  int conn = accept4(fd, NULL, NULL, 0); /* inherited by the agent: no CLOEXEC */
  if (conn < 0) fail("vsock accept: %s", strerror(errno));
  close(fd);
  return conn;
}

/* Reads the host's hello line (byte by byte: nothing after it may be consumed, it is the agent's)
 * and applies its clock and entropy. Runs as root, before the drop. */
static void take_hello(int fd) {
  char line[160];
  size_t n = 0;
  while (n < sizeof line - 1) {
    ssize_t r = read(fd, &line[n], 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) fail("the host closed the channel before its hello");
    if (line[n] == '\n') break;
    n++;
  }
  line[n] = '\0';
  long long sec, nsec;
  char hex[65];
  if (sscanf(line, "RC-HELLO %lld.%9lld %64[0-9a-f]", &sec, &nsec, hex) != 3 || strlen(hex) != 64) fail("bad hello from the host");
  struct timespec now = {.tv_sec = (time_t)sec, .tv_nsec = (long)nsec};
  if (clock_settime(CLOCK_REALTIME, &now) < 0) fail("clock_settime: %s", strerror(errno));
  struct {
    struct rand_pool_info info;
    unsigned char bytes[32];
  } pool = {.info = {.entropy_count = 256, .buf_size = 32}};
  for (int i = 0; i < 32; i++) sscanf(&hex[2 * i], "%2hhx", &pool.bytes[i]);
  int rnd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (rnd < 0 || ioctl(rnd, RNDADDENTROPY, &pool) < 0 || ioctl(rnd, RNDRESEEDCRNG) < 0) fail("reseeding the RNG: %s", strerror(errno));
  close(rnd);
}

/* Value of `key=` on the kernel command line, or `fallback`. */
static const char *cmdline_value(const char *cmdline, const char *key, const char *fallback, char *buf, size_t size) {
  size_t klen = strlen(key);
  for (const char *p = cmdline; (p = strstr(p, key)) != NULL; p += klen) {
    if ((p == cmdline || p[-1] == ' ') && p[klen] == '=') {
      const char *v = p + klen + 1;
      size_t n = strcspn(v, " \n");
      if (n >= size) n = size - 1;
      memcpy(buf, v, n);
      buf[n] = '\0';
      return buf;
    }
  }
  return fallback;
}

static void mount_scratch(const char *tmpfs_bytes) {
  char opts[64];
  snprintf(opts, sizeof opts, "size=%s,mode=1777", tmpfs_bytes);
  mount_or_fail("tmpfs", NEWROOT "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opts);
  mount_or_fail("tmpfs", NEWROOT "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, opts);
  snprintf(opts, sizeof opts, "size=%s,mode=0755,uid=%d,gid=%d", tmpfs_bytes, SANDBOX_UID, SANDBOX_GID);
  mount_or_fail("tmpfs", NEWROOT "/work", "tmpfs", MS_NOSUID | MS_NODEV, opts);
}

static bool agent_needs(int cap) {
  return cap == CAP_SETUID || cap == CAP_SETGID || cap == CAP_KILL || cap == CAP_CHOWN;
}

/* SECURITY: the agent stays uid 0, so that the user's code (uid 1000, which the agent's stage
 * children become before exec) cannot signal, trace, read or limit it; but it keeps only what it
 * needs for that: CAP_SETUID and CAP_SETGID (to become uid 1000), CAP_KILL (to kill what a stage
 * leaves behind), CAP_CHOWN (to give the program its workdir). Dropped from the bounding set, every
 * other capability is gone for good after the exec; no_new_privs keeps setuid files from giving
 * any back. The guest kernel is the isolation boundary. */
static void limit_privileges(void) {
  if (setgroups(0, NULL) < 0) fail("setgroups: %s", strerror(errno));
  for (int cap = 0; cap <= 63; cap++) {
    if (agent_needs(cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) fail("dropping capability %d: %s", cap, strerror(errno));
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("no_new_privs: %s", strerror(errno));
}

int main(void) {
  mount_or_fail("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  mount_or_fail("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_or_fail("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
  /* Messages go to the console, where the host keeps the last lines for failure reports. */
  int console = open("/dev/console", O_RDWR | O_CLOEXEC);
  if (console >= 0) {
    dup2(console, STDERR_FILENO);
    close(console);
  }

  char cmdline[4096] = "", port_buf[64], vsock_buf[16], io[300], tmpfs_buf[32];
  int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, cmdline, sizeof cmdline - 1);
    cmdline[n > 0 ? n : 0] = '\0';
    close(fd);
  }
  const char *port = cmdline_value(cmdline, "rc.port", "agent.0", port_buf, sizeof port_buf);
  const char *vsock_port = cmdline_value(cmdline, "rc.vsock", NULL, vsock_buf, sizeof vsock_buf);
  const char *tmpfs_bytes = cmdline_value(cmdline, "rc.tmpfs", "67108864", tmpfs_buf, sizeof tmpfs_buf);

  load_modules();
  wait_for(ROOT_DEVICE);
  mount_or_fail(ROOT_DEVICE, NEWROOT, "ext4", MS_RDONLY | MS_NODEV, "noload");
  mount_or_fail("devtmpfs", NEWROOT "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  mount_or_fail("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_scratch(tmpfs_bytes);
  /* The image's /.runner/runner-agent is an empty mount point: the agent comes from the initramfs. */
  mount_or_fail("/runner-agent", NEWROOT "/.runner/runner-agent", NULL, MS_BIND, NULL);
  if (mount(NULL, NEWROOT "/.runner/runner-agent", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) fail("remount agent read-only: %s", strerror(errno));
  if (vsock_port == NULL) find_port(port, io, sizeof io); /* the initramfs' /dev is the new root's devtmpfs too */

  if (chdir(NEWROOT) < 0 || chroot(".") < 0 || chdir("/work") < 0) fail("chroot: %s", strerror(errno));
  sethostname("sandbox", 7);
  /* Opened as root and inherited: the device node stays root-only, so sandboxed code cannot open
   * the port and talk to the host in the agent's place (and the vsock connection is taken before
   * any of it runs). */
  /* The host snapshots a VM at this point (nothing of any execution has happened yet). */
  fprintf(stderr, "runner-vminit: waiting for the host on %s%s\n", vsock_port != NULL ? "vsock port " : "", vsock_port != NULL ? vsock_port : io);
  int port_fd = vsock_port != NULL ? accept_vsock(vsock_port) : open(io, O_RDWR | O_NOCTTY);
  if (port_fd < 0) fail("open %s: %s", io, strerror(errno));
  take_hello(port_fd);
  char fd_arg[16];
  snprintf(fd_arg, sizeof fd_arg, "%d", port_fd);
  limit_privileges();
  char program_id[16];
  snprintf(program_id, sizeof program_id, "%d", SANDBOX_UID);
  char *argv[] = {"runner-agent", "--guest", "--io-fd", fd_arg, "--program-id", program_id, NULL};
  char *envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", NULL};
  execve("/.runner/runner-agent", argv, envp);
  fail("exec runner-agent: %s", strerror(errno));
}
