/* runner-seccomp OUTFILE: writes the sandbox's seccomp filter as raw BPF (for bwrap --seccomp FD). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp-policy.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* clone(2) flags that would create namespaces. */
#define CLONE_NS_FLAGS                                                                                           \
  ((scmp_datum_t)(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |      \
                  CLONE_NEWCGROUP | CLONE_NEWTIME))

struct counts {
  int allowed, denied;
};

static void cleanup_ctx(scmp_filter_ctx *ctx) {
  if (*ctx != NULL) seccomp_release(*ctx);
}

/* Resolve a name; unknown on this arch → warning and -1 (skipped). */
static int resolve(const char *name) {
  int nr = seccomp_syscall_resolve_name(name); /* negative: unknown, or not a native x86_64 syscall */
  if (nr < 0) fprintf(stderr, "runner-seccomp: warning: unknown syscall %s, skipped\n", name);
  return nr < 0 ? -1 : nr;
}

static int add_list(scmp_filter_ctx ctx, const char *const *names, size_t n, uint32_t action, int *count) {
  for (size_t i = 0; i < n; i++) {
    int nr = resolve(names[i]);
    if (nr < 0) continue;
    int rc = seccomp_rule_add(ctx, action, nr, 0);
    if (rc < 0) return fprintf(stderr, "runner-seccomp: rule %s: %s\n", names[i], strerror(-rc)), -1;
    (*count)++;
  }
  return 0;
}

/* clone: allowed without namespace flags; each namespace flag bit gets its own EPERM rule (libseccomp
 * allows one comparison per argument per rule, and these rules are disjoint from the ALLOW rule). */
static int add_clone(scmp_filter_ctx ctx) {
  // SECURITY: clone may not create namespaces (user namespaces are the usual kernel attack surface).
  if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS, 0)) < 0)
    return -1;
  for (scmp_datum_t bit = 1; bit != 0 && bit <= CLONE_NS_FLAGS; bit <<= 1) {
    if (!(bit & CLONE_NS_FLAGS)) continue;
    if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, bit, bit)) < 0)
      return -1;
  }
  return 0;
}

static int add_special(scmp_filter_ctx ctx, struct counts *c) {
  if (add_clone(ctx) < 0) return -1;
  // SECURITY: clone3 passes flags in memory, which seccomp cannot inspect; ENOSYS makes glibc fall back
  // to clone, which is checked above. ENOSYS is also the default action, for which libseccomp refuses a
  // redundant rule (-EACCES): accept that.
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  if (rc < 0 && rc != -EACCES) return -1;
  // SECURITY: personality only as a query (0xffffffff) or PER_LINUX (0); e.g. READ_IMPLIES_EXEC or
  // ADDR_NO_RANDOMIZE would weaken the process's own hardening. Other values get the default (ENOSYS):
  // an EPERM catch-all rule would override these conditional ALLOW rules in libseccomp.
  if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffff, 0)) < 0 ||
      seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
                       SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffff, 0xffffffff)) < 0)
    return -1;
  c->allowed += 2; /* clone, personality (conditional) */
  c->denied += 2;  /* clone with namespace flags, clone3 */
  return 0;
}

static int build(scmp_filter_ctx ctx, struct counts *c) {
  // SECURITY: any syscall of a foreign ABI (i386 int 0x80, x32) kills the process: the filter only
  // speaks native x86_64 numbers.
  if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0) return -1;
  if (add_list(ctx, seccomp_allowed, seccomp_allowed_count, SCMP_ACT_ALLOW, &c->allowed) < 0) return -1;
  if (add_list(ctx, seccomp_eperm, seccomp_eperm_count, SCMP_ACT_ERRNO(EPERM), &c->denied) < 0) return -1;
  return add_special(ctx, c);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fputs("usage: runner-seccomp OUTFILE\n", stderr);
    return 2;
  }
  // SECURITY: default for everything not listed: fail with ENOSYS (unknown/new syscalls stay unusable).
  __attribute__((cleanup(cleanup_ctx))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
  struct counts c = {0, 0};
  if (ctx == NULL || build(ctx, &c) < 0) {
    fputs("runner-seccomp: building the filter failed\n", stderr);
    return 1;
  }
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fprintf(stderr, "runner-seccomp: open %s: %s\n", argv[1], strerror(errno)), 1;
  int rc = seccomp_export_bpf(ctx, fd);
  struct stat st;
  if (rc < 0 || fstat(fd, &st) < 0 || close(fd) < 0) {
    fprintf(stderr, "runner-seccomp: writing %s failed\n", argv[1]);
    return 1;
  }
  fprintf(stderr, "runner-seccomp: %d allowed, %d denied, %lld bytes\n", c.allowed, c.denied, (long long)st.st_size);
  return 0;
}
