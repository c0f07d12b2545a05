/* Fatal errors of every program here (runner-agent before its ready frame, runner-launch,
 * runner-reaper, runner-vminit): "PROGRAM: message" on stderr, then exit with STATUS. Each program wraps it as its own fail(). */
#ifndef RC_DIE_H
#define RC_DIE_H

__attribute__((noreturn, format(printf, 3, 4))) void die(const char *program, int status, const char *fmt, ...);

#endif
