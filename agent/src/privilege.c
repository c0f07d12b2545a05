#include "privilege.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool separated;
static uid_t program_id;

int privilege_not_dumpable(void) {
  // SECURITY: without this, code of the same uid could open /proc/1/mem and rewrite the agent's
  // reply; with a separate uid it is already refused, this keeps it refused if the uids ever meet.
  return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* The effective capability set (low 32 bits hold every capability checked here). */
static int effective_caps(unsigned *caps) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {{0}};
  if (syscall(SYS_capget, &hdr, data) < 0) return -1;
  *caps = data[0].effective;
  return 0;
}

int privilege_separate(uid_t id, struct agent_error *err) {
  static const struct {
    int cap;
    const char *name, *why;
  } needed[] = {
      {CAP_SETUID, "CAP_SETUID", "run the program as its own uid"},
      {CAP_SETGID, "CAP_SETGID", "run the program as its own gid"},
      {CAP_KILL, "CAP_KILL", "kill what a stage leaves behind"},
      {CAP_CHOWN, "CAP_CHOWN", "give the program its working directory"},
  };
  unsigned caps;
  if (id == 0) return agent_err(err, ERR_INTERNAL, "the program id must not be 0");
  if (getuid() == id) return agent_err(err, ERR_INTERNAL, "the agent already runs as the program id %u", (unsigned)id);
  if (effective_caps(&caps) < 0) return agent_err_errno(err, ERR_INTERNAL, "capget");
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
    if (!(caps & (1u << needed[i].cap)))
      return agent_err(err, ERR_INTERNAL, "the agent lacks %s (needed to %s)", needed[i].name, needed[i].why);
  separated = true;
  program_id = id;
  return 0;
}

bool privilege_separated(void) { return separated; }

uid_t privilege_program_id(void) { return program_id; }

int privilege_give_to_program(int fd) {
  if (!separated) return 0;
  return fchown(fd, program_id, (gid_t)program_id);
}

int privilege_drop_to_program(void) {
  if (!separated) return 0;
  gid_t gid = (gid_t)program_id;
  // SECURITY: groups, then gid, then uid (after the uid change no other change is possible); all
  // three ids each, so nothing can switch back. Leaving uid 0 clears every capability, including
  // ambient ones (bwrap raises the agent's as ambient); clear those explicitly too.
  if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(program_id, program_id, program_id) < 0) return -1;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return -1;
  uid_t r, e, s;
  gid_t rg, eg, sg;
  unsigned caps;
  // SECURITY: verify rather than trust the return codes.
  if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0 || effective_caps(&caps) < 0) return -1;
  if (r != program_id || e != program_id || s != program_id || rg != gid || eg != gid || sg != gid || caps != 0) {
    errno = EPERM;
    return -1;
  }
  return 0;
}
