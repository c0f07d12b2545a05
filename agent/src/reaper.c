/* runner-reaper: keeps hold of what a privileged launcher leaves behind. Firecracker's jailer, with
 * --new-pid-ns, forks Firecracker into a new PID namespace and exits at once; without this program
 * the VMM would be reparented to init, outlive a crashed host, and report its end to nobody.
 *
 *   runner-reaper -- PROG [ARGS...]
 *
 * It makes its own process group, becomes a child subreaper (so PROG's orphans stay its children),
 * runs PROG with its own credentials, reaps every child, and exits with the status of the last one,
 * so the host sees one process for the whole VM. If its parent dies, or it gets SIGTERM or SIGHUP,
 * it kills every descendant and exits. Failure before PROG runs: "runner-reaper: ..." and exit
 * status 125. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "die.h"

#define EXIT_LAUNCH 125

#define fail(...) die("runner-reaper", EXIT_LAUNCH, __VA_ARGS__)

/* The parent pid in /proc/PID/stat: the field after the state, which follows the last ')'. */
static pid_t parent_of(const char *pid) {
  char path[300], buf[512];
  snprintf(path, sizeof path, "/proc/%s/stat", pid);
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *end = strrchr(buf, ')');
  int ppid;
  return end && sscanf(end + 1, " %*c %d", &ppid) == 1 ? (pid_t)ppid : -1;
}

/* SIGKILLs this process's children; returns how many. A child's pid cannot be reused before this
 * process reaps it, so the kill cannot hit a stranger. (/proc/PID/task/TID/children would be
 * simpler but needs CONFIG_PROC_CHILDREN, which some hosts lack.) */
static int kill_children(void) {
  DIR *proc = opendir("/proc");
  if (!proc) return 0;
  pid_t self = getpid();
  int killed = 0;
  struct dirent *e;
  while ((e = readdir(proc)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9' || parent_of(e->d_name) != self) continue;
    if (kill((pid_t)atoi(e->d_name), SIGKILL) == 0) killed++;
  }
  closedir(proc);
  return killed;
}

/* Kills every descendant: each killed child's own children are reparented here (subreaper), so
 * kill, reap, and look again until none is left. Even a process that left the process group
 * (setsid) is found this way. */
static void __attribute__((noreturn)) kill_all_and_exit(void) {
  for (;;) {
    int killed = kill_children();
    for (int i = 0; i < killed; i++) waitpid(-1, NULL, 0);
    if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD) break;
  }
  exit(128 + SIGKILL);
}

static pid_t start(char **prog, const sigset_t *mask) {
  pid_t pid = fork();
  if (pid < 0) fail("fork: %s", strerror(errno));
  if (pid > 0) return pid;
  sigprocmask(SIG_SETMASK, mask, NULL);
  execvp(prog[0], prog);
  fail("exec %s: %s", prog[0], strerror(errno));
}

/* Exit status as a shell reports it: the code, or 128 + the signal. */
static int shell_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return EXIT_LAUNCH;
}

int main(int argc, char **argv) {
  if (argc < 3 || strcmp(argv[1], "--") != 0) fail("usage: runner-reaper -- PROG [ARGS...]");
  pid_t parent = getppid();
  // Its own process group: a terminal's Ctrl-C meant for the host process does not reach the VM
  // (the host tears VMs down in order).
  if (setpgid(0, 0) < 0) fail("setpgid: %s", strerror(errno));
  // Signals are taken synchronously (sigwaitinfo), so none can slip in between two checks.
  sigset_t wanted, original;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGCHLD);
  sigaddset(&wanted, SIGTERM);
  sigaddset(&wanted, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &wanted, &original) < 0) fail("sigprocmask: %s", strerror(errno));
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
  // This process keeps its credentials, so the death signal is never cleared; the getppid()
  // check closes the race where the parent died before the prctl.
  if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0) fail("PR_SET_PDEATHSIG: %s", strerror(errno));
  if (getppid() != parent) fail("parent exited during launch");
  start(&argv[2], &original);
  int last = 0;
  for (;;) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) last = status;
    if (pid < 0 && errno == ECHILD) break;
    int sig = sigwaitinfo(&wanted, NULL);
    if (sig == SIGTERM || sig == SIGHUP) kill_all_and_exit();
  }
  return shell_status(last);
}
