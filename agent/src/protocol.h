/* Wire protocol constants. Must agree with docs/protocol.md and src/protocol/limits.ts
 * (a parity test parses the RC_ lines below; keep one #define per line). */
#ifndef RC_PROTOCOL_H
#define RC_PROTOCOL_H

#define RC_PROTOCOL_VERSION 1
#define RC_MAX_JOB_FRAME 67108864
#define RC_MAX_RESULT_FRAME 33554432
#define RC_MAX_FILES 256
#define RC_MAX_PATH_BYTES 255
#define RC_MAX_STAGES 4

#define RC_AGENT_NAME "runner-agent"
#define RC_AGENT_VERSION "0.1.0"

#endif
