#ifndef RC_SECCOMP_POLICY_H
#define RC_SECCOMP_POLICY_H

#include <seccomp.h>
#include <stddef.h>

/* The sandbox syscall policy as data (see seccomp-policy.c; the review of every allowed call for
 * kernel-global resources is in docs/security.md). Everything not listed: ENOSYS. */

struct seccomp_list {
  const char *const *names;
  size_t count;
};

/* One rule that depends on an argument: `action` when `cmp` holds. The rules of one syscall are
 * disjoint (libseccomp lets an unconditional rule override conditional ones), and what none of
 * them matches gets the default, ENOSYS. */
struct seccomp_arg_rule {
  const char *syscall;
  uint32_t action;
  struct scmp_arg_cmp cmp;
};

struct seccomp_arg_rules {
  const struct seccomp_arg_rule *rules;
  size_t count;
};

/* Both ABIs (names resolve per architecture; a name an ABI lacks is skipped for it). */
extern const struct seccomp_list seccomp_allowed;
extern const struct seccomp_list seccomp_eperm;
/* Answered with 0 by the filter itself, without entering the kernel. */
extern const struct seccomp_list seccomp_noop;
extern const struct seccomp_arg_rules seccomp_arg_rules;

/* x86_64 only. */
extern const struct seccomp_arg_rules seccomp_x86_64_arg_rules;

/* The i386 ABI (int 0x80), only in the filter of languages that ask for it (nasm's 32-bit programs). */
extern const struct seccomp_list seccomp_i386_allowed;
extern const struct seccomp_list seccomp_i386_eperm;
extern const struct seccomp_arg_rules seccomp_i386_arg_rules;

#endif
