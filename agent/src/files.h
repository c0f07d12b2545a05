#ifndef RC_FILES_H
#define RC_FILES_H

#include "job.h"

/* The agent's message when whatever was to write the files ended without a report. */
#define FILES_CHILD_DIED "the file-writing child died"

/* Creates the workdir if missing, opens it (never through a symlink) and, when separated, gives it
 * to the program's uid. Returns the descriptor or -1 (file_write). */
int files_open_workdir(const char *workdir, struct agent_error *err);
/* Writes files[0..n) below root in the calling process, with its ids (file_write errors). */
int files_write_at(int root, const struct job_file *files, size_t n, struct agent_error *err);
/* The job's files below root, written by a child of the program's ids that the caller waits for
 * (the agent itself when not separated). Used where no stage child is about to run as the program
 * anyway: before the hand-over to a pre-started interpreter. */
int files_write_as_program(int root, const struct job *job, struct agent_error *err);

/* The job's files as the first stage's child writes them, after it became the program's uid and
 * before it execs (a cold job: stage.c); the agent forks no writer of its own and does not wait. */
struct stage_files {
  int root; /* the workdir (files_open_workdir) */
  const struct job_file *files;
  size_t n;
  int report; /* the write end of the agent's pipe: one struct files_report */
};

/* What the child sends (less than PIPE_BUF bytes, so it arrives whole or not at all): the error
 * (code NULL when every file was written; code points into this binary, which both share), and
 * the wall and CPU time the writing took, which the agent keeps out of the stage's figures. */
struct files_report {
  struct agent_error err;
  int64_t write_ns, cpu_ns;
};

/* In the stage's child, as the program's uid: writes the files and reports; returns on success,
 * _exit(1) after reporting a failure. Closes root and report either way. */
void files_write_in_stage(const struct stage_files *f);
/* In the stage's child: reports a failure before the writing (the drop to the program's uid). */
void files_report_error(const struct stage_files *f, const struct agent_error *err);

#endif
