/**
 * Protocol constants. They mirror agent/src/protocol.h; test/unit/protocol-parity.test.ts
 * fails when the two disagree.
 */
/** The newest protocol the agent speaks (its ready frame): 2, sessions. */
export const PROTOCOL_VERSION = 2;
/** The version of a one-shot `job` frame (and its result). */
export const JOB_PROTOCOL_VERSION = 1;
/** Largest host → agent frame (64 MiB). */
export const MAX_JOB_FRAME = 67108864;
/** Largest agent → host frame (32 MiB). */
export const MAX_RESULT_FRAME = 33554432;
export const MAX_FILES = 256;
export const MAX_PATH_BYTES = 255;
export const MAX_STAGES = 4;
/** Execs one session runs at once. */
export const MAX_EXECS = 64;
/** Data bytes in one output or control frame. */
export const MAX_OUTPUT_CHUNK = 65536;
/** Bytes one `get` may return (23 MiB: its base64 fits a result frame). */
export const MAX_GET_BYTES = 24117248;
/** Entries one `list` may return. */
export const MAX_LIST_ENTRIES = 100000;
/** Files and bytes a job's `collect` may bring back. */
export const MAX_COLLECT_FILES = 1024;
export const MAX_COLLECT_BYTES = 16777216;
