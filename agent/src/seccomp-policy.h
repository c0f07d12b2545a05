#ifndef RC_SECCOMP_POLICY_H
#define RC_SECCOMP_POLICY_H

#include <stddef.h>

/* The sandbox syscall policy as data (see seccomp-policy.c). Special cases handled in seccomp-gen.c:
 * clone (no namespace flags), clone3 (ENOSYS so runtimes fall back to clone), personality (query
 * and PER_LINUX only). Everything else: ENOSYS. */
extern const char *const seccomp_allowed[];
extern const size_t seccomp_allowed_count;
extern const char *const seccomp_eperm[];
extern const size_t seccomp_eperm_count;

#endif
