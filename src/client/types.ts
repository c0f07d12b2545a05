import type { Static } from 'typebox';
import type { ErrorBodySchema } from '../api/schemas/common.js';
import type { ErrorEventSchema, OutputEventSchema, StageEventSchema } from '../api/schemas/execution-events.js';
import type { ExecuteBodySchema } from '../api/schemas/execute.js';
import type { LanguageSchema } from '../api/schemas/languages.js';
import type {
  CellBodySchema, CellResultSchema, FileEntrySchema, FileListSchema, FileWrittenSchema, SessionCreateBodySchema, SessionExecBodySchema, SessionSchema,
} from '../api/schemas/sessions.js';
import type { SubmissionBodySchema, SubmissionRecordSchema } from '../api/schemas/submissions.js';
import type { ExecutionResultSchema, OutputFileSchema, StageResultSchema } from '../engine/result-schema.js';

// The client's types are the server's schemas, read as types (`Static<>`): the same definitions the
// server validates and documents with, imported as types only, so no server code ships to a browser.

/** The body of POST /api/v1/execute. */
export type ExecuteRequest = Static<typeof ExecuteBodySchema>;
/** What an execution did (the same object from /api/v1/execute and a session's execute). */
export type ExecutionResult = Static<typeof ExecutionResultSchema>;
export type StageResult = Static<typeof StageResultSchema>;
export type OutputFile = Static<typeof OutputFileSchema>;
export type Language = Static<typeof LanguageSchema>;
export type ErrorBody = Static<typeof ErrorBodySchema>;

export type SessionCreateRequest = Static<typeof SessionCreateBodySchema>;
/** A session as the server describes it (GET /api/v1/sessions/{id}). */
export type SessionInfo = Static<typeof SessionSchema>;
export type SessionExecuteRequest = Static<typeof SessionExecBodySchema>;
export type FileEntry = Static<typeof FileEntrySchema>;
export type FileList = Static<typeof FileListSchema>;
export type FileWritten = Static<typeof FileWrittenSchema>;

/** The body of POST /api/v1/submissions (one submission; a batch is an array of them). */
export type SubmissionRequest = Static<typeof SubmissionBodySchema>;
/** A submission's record (GET /api/v1/submissions/{token}): every field may be left out by `fields`. */
export type Submission = Static<typeof SubmissionRecordSchema>;

export type RunCodeRequest = Static<typeof CellBodySchema>;
export type CellResult = Static<typeof CellResultSchema>;
/** One rich output of a cell: MIME type → content (`image/png` base64, `application/json` JSON text). */
export type MimeBundle = CellResult['outputs'][number];

/** One Server-Sent Event of a streamed execution, by its event name. */
export type ExecutionEvent =
  | ({ type: 'stage' } & Static<typeof StageEventSchema>)
  | ({ type: 'stdout' | 'stderr' } & Static<typeof OutputEventSchema>)
  | { type: 'result'; result: ExecutionResult };
/** The `error` event's payload (the stream's iterator throws it as a RunnerCodesError). */
export type ErrorEvent = Static<typeof ErrorEventSchema>;
