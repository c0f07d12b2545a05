/* Separation of the agent from the code it runs. In a sandbox the agent is uid 0 of the sandbox's
 * own user namespace (an unprivileged host uid of its own) with CAP_SETUID, CAP_SETGID, CAP_KILL
 * and CAP_CHOWN there; the program runs as another uid (another host uid), so it cannot signal,
 * trace, read (/proc/1/mem, fd, environ) or limit (prlimit) the agent, Yama or not. */
#ifndef RC_PRIVILEGE_H
#define RC_PRIVILEGE_H

#include <stdbool.h>
#include <sys/types.h>

#include "util.h"

/* Makes the agent non-dumpable: its /proc/<pid> files belong to root and ptrace-style access
 * (mem, maps, fd, environ) needs CAP_SYS_PTRACE. Returns -1 (errno set) on failure. */
int privilege_not_dumpable(void);

/* Runs files and stages as `id` (uid and gid) from now on; checks that the agent holds the
 * capabilities it needs for that. Returns -1 and fills *err when it does not. */
int privilege_separate(uid_t id, struct agent_error *err);

/* Whether privilege_separate was called (the program then runs as another uid). */
bool privilege_separated(void);
uid_t privilege_program_id(void);

/* Makes an object the agent created for the program (a stdio pipe) the program's: a pipe belongs
 * to its creator with mode 0600, so the program could not reopen its own stdin through /dev/stdin
 * (/proc/self/fd/0) otherwise. A no-op when not separated. Returns -1 (errno set) on failure. */
int privilege_give_to_program(int fd);

/* In a child of the agent, before it touches anything on the program's behalf: becomes the
 * program's uid and gid for good, with no supplementary groups and no capabilities. A no-op when
 * not separated. Returns -1 (errno set) on failure; the child must then exit. */
int privilege_drop_to_program(void);

#endif
