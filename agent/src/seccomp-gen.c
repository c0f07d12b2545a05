/* runner-seccomp [--with-i386] OUTFILE: writes the sandbox's seccomp filter as raw BPF (for bwrap
 * --seccomp FD). With --with-i386 the filter also admits the i386 ABI (int 0x80) with the same
 * policy; only languages that declare it get that filter (nasm's 32-bit programs). */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp-policy.h"

struct counts {
  int allowed, denied, noop;
};

static void cleanup_ctx(scmp_filter_ctx *ctx) {
  if (*ctx != NULL) seccomp_release(*ctx);
}

/* The number to give seccomp_rule_add (libseccomp translates it to each architecture of the
 * context by name), or -1 when `arch` has no such call. A name unknown on x86_64 is a typo or a
 * call newer than libseccomp: warned about, skipped. */
static int resolve(uint32_t arch, const char *name) {
  if (seccomp_syscall_resolve_name_arch(arch, name) < 0) {
    if (arch == SCMP_ARCH_X86_64 && seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, name) < 0)
      fprintf(stderr, "runner-seccomp: warning: unknown syscall %s, skipped\n", name);
    return -1;
  }
  return seccomp_syscall_resolve_name(name);
}

static int add_list(scmp_filter_ctx ctx, uint32_t arch, struct seccomp_list list, uint32_t action, int *count) {
  for (size_t i = 0; i < list.count; i++) {
    int nr = resolve(arch, list.names[i]);
    if (nr == -1) continue;
    int rc = seccomp_rule_add(ctx, action, nr, 0);
    if (rc < 0) return fprintf(stderr, "runner-seccomp: rule %s: %s\n", list.names[i], strerror(-rc)), -1;
    (*count)++;
  }
  return 0;
}

static int add_arg_rules(scmp_filter_ctx ctx, uint32_t arch, struct seccomp_arg_rules rules, struct counts *c) {
  for (size_t i = 0; i < rules.count; i++) {
    const struct seccomp_arg_rule *r = &rules.rules[i];
    int nr = resolve(arch, r->syscall);
    if (nr == -1) continue;
    int rc = seccomp_rule_add_array(ctx, r->action, nr, 1, &r->cmp);
    if (rc < 0) return fprintf(stderr, "runner-seccomp: rule %s (argument %u): %s\n", r->syscall, r->cmp.arg, strerror(-rc)), -1;
    if (r->action == SCMP_ACT_ALLOW) c->allowed++;
    else c->denied++;
  }
  return 0;
}

/* The whole policy for one architecture, into a context that holds only that architecture. */
static int build_arch(scmp_filter_ctx ctx, uint32_t arch, struct counts *c) {
  // SECURITY: any syscall of another ABI (x32, or i386 where not asked for) kills the process.
  if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0) return -1;
  bool i386 = arch == SCMP_ARCH_X86;
  if (add_list(ctx, arch, seccomp_allowed, SCMP_ACT_ALLOW, &c->allowed) < 0 ||
      add_list(ctx, arch, seccomp_eperm, SCMP_ACT_ERRNO(EPERM), &c->denied) < 0 ||
      add_list(ctx, arch, seccomp_noop, SCMP_ACT_ERRNO(0), &c->noop) < 0 ||
      add_arg_rules(ctx, arch, seccomp_arg_rules, c) < 0 ||
      add_arg_rules(ctx, arch, i386 ? seccomp_i386_arg_rules : seccomp_x86_64_arg_rules, c) < 0)
    return -1;
  if (i386 && (add_list(ctx, arch, seccomp_i386_allowed, SCMP_ACT_ALLOW, &c->allowed) < 0 ||
               add_list(ctx, arch, seccomp_i386_eperm, SCMP_ACT_ERRNO(EPERM), &c->denied) < 0))
    return -1;
  // SECURITY: clone3 passes flags in memory, which seccomp cannot inspect; ENOSYS makes glibc fall back
  // to clone, which is checked. ENOSYS is also the default action, for which libseccomp refuses a
  // redundant rule (-EACCES): accept that.
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  return rc < 0 && rc != -EACCES ? -1 : 0;
}

/* A context for `arch` alone. Default for everything not listed: ENOSYS (new calls stay unusable). */
static scmp_filter_ctx arch_ctx(uint32_t arch) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
  if (ctx == NULL || arch == SCMP_ARCH_X86_64) return ctx;
  if (seccomp_arch_add(ctx, arch) < 0 || seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE) < 0) {
    seccomp_release(ctx);
    return NULL;
  }
  return ctx;
}

static int build(scmp_filter_ctx ctx, bool with_i386, struct counts *c) {
  if (build_arch(ctx, SCMP_ARCH_X86_64, c) < 0) return -1;
  if (!with_i386) return 0;
  scmp_filter_ctx i386 = arch_ctx(SCMP_ARCH_X86);
  if (i386 == NULL || build_arch(i386, SCMP_ARCH_X86, c) < 0) {
    if (i386 != NULL) seccomp_release(i386);
    return -1;
  }
  if (seccomp_merge(ctx, i386) < 0) { /* on success the merged context is consumed */
    seccomp_release(i386);
    return -1;
  }
  return 0;
}

static int write_filter(scmp_filter_ctx ctx, const char *path, off_t *size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fprintf(stderr, "runner-seccomp: open %s: %s\n", path, strerror(errno)), -1;
  int rc = seccomp_export_bpf(ctx, fd);
  struct stat st;
  if (rc < 0 || fstat(fd, &st) < 0 || close(fd) < 0) return fprintf(stderr, "runner-seccomp: writing %s failed\n", path), -1;
  *size = st.st_size;
  return 0;
}

int main(int argc, char **argv) {
  bool with_i386 = argc == 3 && strcmp(argv[1], "--with-i386") == 0;
  if (argc != 2 && !with_i386) {
    fputs("usage: runner-seccomp [--with-i386] OUTFILE\n", stderr);
    return 2;
  }
  const char *out = argv[argc - 1];
  __attribute__((cleanup(cleanup_ctx))) scmp_filter_ctx ctx = arch_ctx(SCMP_ARCH_X86_64);
  struct counts c = {0, 0, 0};
  off_t size = 0;
  if (ctx == NULL || build(ctx, with_i386, &c) < 0) {
    fputs("runner-seccomp: building the filter failed\n", stderr);
    return 1;
  }
  if (write_filter(ctx, out, &size) < 0) return 1;
  fprintf(stderr, "runner-seccomp: %s%d allowed, %d denied, %d answered 0, %lld bytes\n", with_i386 ? "x86_64+i386: " : "",
          c.allowed, c.denied, c.noop, (long long)size);
  return 0;
}
