/* File requests of a session (put, get, list, delete) and version 1's collect of outputs. All of
 * them run in a child that became the program's uid and walks from the workdir's descriptor with
 * O_NOFOLLOW on every component, so nothing is touched with more rights than the program has and
 * no symlink is ever followed. */
#ifndef RC_FILE_OPS_H
#define RC_FILE_OPS_H

#include <jansson.h>
#include <stdbool.h>

#include "job.h"

/* Answers one file request (`type` is "put", "get", "list" or "delete") with the JSON text of one
 * frame: its result (ok, file, entries) or an error frame with the request's id. NULL only when
 * memory ran out. */
char *fileop_answer(int root, const char *type, json_t *req, json_int_t id);

/* Version 1's outputs: the regular files under root/c->dir, sorted by path, as
 * [{path, size, content_b64, truncated}] within c's caps; *truncated when something was cut. */
int fileop_collect(int root, const struct job_collect *c, json_t **outputs, bool *truncated, struct agent_error *err);

/* Maps an errno of openat/mkdirat/unlinkat on one component to a session error code (exported
 * for the tests). */
const char *fileop_errno_code(int errnum);

#endif
