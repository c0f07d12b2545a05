/* Protocol version 2's session mode: after an "open" frame the agent serves requests (exec, put,
 * get, list, delete, stdin, signal, control, close) from one poll loop until close or the end of
 * the host's channel, then kills everything it started. */
#ifndef RC_SESSION_H
#define RC_SESSION_H

#include <jansson.h>

/* Serves a session opened by `open_req` (the host's first frame). Returns the agent's exit status:
 * 0 after close or the host's end of input, 1 after a fatal error (sent as an error frame without
 * id). */
int session_serve(int in, int out, int sigfd, json_t *open_req);

#endif
