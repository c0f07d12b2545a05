/**
 * Protocol constants. They mirror agent/src/protocol.h; test/unit/protocol-parity.test.ts
 * fails when the two disagree.
 */
export const PROTOCOL_VERSION = 1;
/** Largest host → agent frame (64 MiB). */
export const MAX_JOB_FRAME = 67108864;
/** Largest agent → host frame (32 MiB). */
export const MAX_RESULT_FRAME = 33554432;
export const MAX_FILES = 256;
export const MAX_PATH_BYTES = 255;
export const MAX_STAGES = 4;
