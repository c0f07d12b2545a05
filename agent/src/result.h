#ifndef RC_RESULT_H
#define RC_RESULT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "stage.h"

/* Serialized frames (malloc'd JSON text, compact). NULL on allocation failure. */
char *result_ready_json(void);
char *result_error_json(const struct agent_error *err);
/* Result frame (with outputs and outputs_truncated when outputs is not NULL; not stolen); -1
 * (internal) on allocation failure. */
int result_json(const struct stage_result *stages, size_t n, json_t *outputs, bool outputs_truncated, char **out,
                struct agent_error *err);
/* One stage report, and an array of them (NULL on allocation failure). */
json_t *result_stage_json(const struct stage_result *r);
json_t *result_stages_json(const struct stage_result *stages, size_t n);
/* Serializes and writes one frame; steals `frame` (NULL counts as out of memory). */
int result_send(int fd, json_t *frame, struct agent_error *err);

#endif
