#ifndef RC_RESULT_H
#define RC_RESULT_H

#include <stddef.h>

#include "stage.h"

/* Serialized frames (malloc'd JSON text, compact). NULL on allocation failure. */
char *result_ready_json(void);
char *result_error_json(const struct agent_error *err);
/* Result frame; -1 (internal) on allocation failure. */
int result_json(const struct stage_result *stages, size_t n, char **out, struct agent_error *err);

#endif
