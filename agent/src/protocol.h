/* Wire protocol constants. Must agree with docs/protocol.md and src/protocol/limits.ts
 * (a parity test parses the RC_ lines below; keep one #define per line). */
#ifndef RC_PROTOCOL_H
#define RC_PROTOCOL_H

/* The newest version the agent speaks (its ready frame); version 1 is the one-shot job. */
#define RC_PROTOCOL_VERSION 2
#define RC_JOB_PROTOCOL_VERSION 1
#define RC_MAX_JOB_FRAME 67108864
#define RC_MAX_RESULT_FRAME 33554432
#define RC_MAX_FILES 256
#define RC_MAX_PATH_BYTES 255
#define RC_MAX_STAGES 4
/* Version 2: execs in flight in one session, data bytes in one output frame, bytes one get may
 * return (its base64 fits a result frame), entries one list may return. */
#define RC_MAX_EXECS 64
#define RC_MAX_OUTPUT_CHUNK 65536
#define RC_MAX_GET_BYTES 24117248
#define RC_MAX_LIST_ENTRIES 100000
/* Version 1's collect: most files and bytes a result may carry. */
#define RC_MAX_COLLECT_FILES 1024
#define RC_MAX_COLLECT_BYTES 16777216

#define RC_AGENT_NAME "runner-agent"
#define RC_AGENT_VERSION "0.2.0"

#endif
