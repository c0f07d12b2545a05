/* Starting the built runner-agent as a child with its frames on pipes, for the end-to-end suites. */
#ifndef RC_AGENT_PROC_H
#define RC_AGENT_PROC_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "protocol.h"

static __attribute__((unused)) double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One agent -> host frame as JSON, or NULL at the end of input. */
static __attribute__((unused)) json_t *read_json_frame(int fd) {
  char *buf = NULL;
  size_t len;
  struct agent_error err = {0};
  if (frame_read(fd, RC_MAX_RESULT_FRAME, &buf, &len, &err) < 0) return NULL;
  json_t *j = json_loadb(buf, len, 0, NULL);
  free(buf);
  return j;
}

/* OUT_DIR/runner-agent [--program-id ID] on pipes: *to is its stdin, *from its stdout. */
static __attribute__((unused)) pid_t spawn_agent_in(const char *out_dir, const char *program_id, int *to, int *from) {
  int in[2], out[2];
  if (pipe(in) < 0 || pipe(out) < 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    char path[4096];
    snprintf(path, sizeof path, "%s/runner-agent", out_dir);
    if (program_id) execl(path, path, "--program-id", program_id, (char *)NULL);
    else execl(path, path, (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  *to = in[1];
  *from = out[0];
  return pid;
}

#endif
