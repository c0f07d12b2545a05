import { Type, type Static } from 'typebox';
import { ExecutionResultSchema } from '../../engine/result-schema.js';
import { strict } from './common.js';
import { ExecuteBodySchema } from './execute.js';

const Flag = (description: string) => Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description }));
const BASE64_DESCRIPTION = "Judge0's flag: `code`, `stdin`, `expected_output` (and files without an `encoding`) are base64, and stdout/stderr come back base64";

/** One submission: the execute request plus what the asynchronous path adds. */
export const SubmissionBodySchema = Type.Object(
  {
    ...ExecuteBodySchema.properties,
    expected_output: Type.Optional(Type.String({ description: 'when given, the result carries `verdict` (docs/api.md: trailing whitespace of each line and trailing newlines are ignored)' })),
    callback_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'POSTed the record when the submission ends; its host must be on the server\'s `callback_allowlist`' })),
    base64_encoded: Type.Optional(Type.Boolean({ description: BASE64_DESCRIPTION })),
  },
  { ...strict, title: 'SubmissionRequest' },
);
export type SubmissionBody = Static<typeof SubmissionBodySchema>;

export const SubmitBodySchema = Type.Union([SubmissionBodySchema, Type.Array(SubmissionBodySchema, { minItems: 1, description: 'a batch: at most `max_batch` submissions, all validated before any is queued' })]);

export const SubmitQuery = Type.Object({ base64_encoded: Flag(BASE64_DESCRIPTION) }, strict);

export const TokenSchema = Type.Object({ token: Type.String({ format: 'uuid' }) }, { ...strict, title: 'SubmissionToken' });
export const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 64, description: 'the token POST returned' }) }, strict);

/** The result of a finished submission: the usual result plus the verdict. Every field may be left out by `fields`. */
export const SubmissionResultSchema = Type.Partial(
  Type.Object(
    {
      ...ExecutionResultSchema.properties,
      verdict: Type.Union([Type.Literal('accepted'), Type.Literal('wrong_answer')], { description: 'present when `expected_output` was given and the run ended normally (exit 0, no signal, no limit hit)' }),
    },
    strict,
  ),
  { title: 'SubmissionResult' },
);

export const Judge0StatusSchema = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 14 }), description: Type.String() },
  { ...strict, title: 'Judge0Status', description: "Judge0's status: 1 In Queue, 2 Processing, 3 Accepted, 4 Wrong Answer, 5 Time Limit Exceeded, 6 Compilation Error, 7-12 Runtime Error (SIGSEGV, SIGXFSZ, SIGFPE, SIGABRT, NZEC, Other), 13 Internal Error" },
);

/** A submission as GET returns it (and as a callback POSTs it). `fields` may leave any field out. */
export const SubmissionRecordSchema = Type.Partial(
  Type.Object(
    {
      token: Type.String(),
      status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')], { description: '`done`: `result` holds the result; `failed`: `error` says why (cancelled, shutting down, ...)' }),
      judge0_status: Judge0StatusSchema,
      created_at: Type.String({ format: 'date-time' }),
      started_at: Type.String({ format: 'date-time' }),
      finished_at: Type.String({ format: 'date-time' }),
      result: SubmissionResultSchema,
      error: Type.Object({ code: Type.String(), message: Type.String() }, strict),
    },
    strict,
  ),
  { title: 'Submission' },
);

const FIELDS_DESCRIPTION = 'comma-separated fields to return: top-level ones (`status`, `judge0_status`, `result`, ...) and `result.<field>` (e.g. `result.stdout`); `*` = all';

export const GetSubmissionQuery = Type.Object(
  {
    wait: Flag('`true`: answer when the submission has finished, or after the server\'s `submission_max_wait_ms`, whichever comes first'),
    fields: Type.Optional(Type.String({ maxLength: 1024, description: FIELDS_DESCRIPTION })),
    base64_encoded: Flag('accepted for Judge0 clients; outputs are in the encoding chosen when submitting'),
  },
  strict,
);

export const GetSubmissionsQuery = Type.Object(
  {
    tokens: Type.String({ minLength: 1, maxLength: 65_536, description: 'comma-separated tokens (at most `max_batch`)' }),
    wait: Flag('`true`: answer when every one has finished, or after the server\'s `submission_max_wait_ms`, whichever comes first'),
    fields: Type.Optional(Type.String({ maxLength: 1024, description: FIELDS_DESCRIPTION })),
    base64_encoded: Flag('accepted for Judge0 clients; outputs are in the encoding chosen when submitting'),
  },
  strict,
);

export const SubmissionListSchema = Type.Object(
  { submissions: Type.Array(Type.Union([SubmissionRecordSchema, Type.Null()]), { description: 'in the order of `tokens`; null for a token that is unknown, expired or another key\'s' }) },
  { ...strict, title: 'SubmissionList' },
);

/** The fields `fields=` may name: data from the schemas, not a second list. */
export const RECORD_FIELDS: readonly string[] = Object.keys(SubmissionRecordSchema.properties);
export const RESULT_FIELDS: readonly string[] = Object.keys(SubmissionResultSchema.properties);
