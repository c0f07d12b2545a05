import { isUtf8 } from 'node:buffer';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { SubmissionRequest } from '../../engine/submissions/types.js';
import { ErrorCodes, InvalidRequestError, RunnerError } from '../../errors.js';
import { ErrorBodySchema } from '../schemas/common.js';
import {
  GetSubmissionQuery, GetSubmissionsQuery, SubmissionListSchema, SubmissionRecordSchema, SubmitBodySchema, SubmitQuery, TokenParams, TokenSchema, type SubmissionBody,
} from '../schemas/submissions.js';
import { parseFields, selectFields } from '../submission-fields.js';
import type { Api, RouteDeps } from '../types.js';
import { toExecuteRequest } from './execute.js';

const errors = { '4xx': ErrorBodySchema, '5xx': ErrorBodySchema };
const tags = ['submissions'];

/** A submission is its API key's: another key's token does not exist for it (404). No keys: one owner. */
const ownerOf = (request: FastifyRequest): string | undefined => request.apiKeyId;

/** Judge0's base64 fields decoded (line breaks, which many encoders add, allowed); the text must be UTF-8. */
function decodeBase64(value: string, field: string): string {
  const compact = value.replace(/[\r\n]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) throw new InvalidRequestError(field, 'is not valid base64 (base64_encoded is true)');
  const bytes = Buffer.from(compact, 'base64');
  if (!isUtf8(bytes)) throw new InvalidRequestError(field, 'is not UTF-8 text once decoded (send binary input as files with encoding base64)');
  return bytes.toString('utf8');
}

/** One body as the engine's submission request; `prefix` is `[i].` in a batch. */
function toSubmissionRequest(body: SubmissionBody, base64: boolean, prefix: string): SubmissionRequest {
  const { expected_output, callback_url, base64_encoded: _flag, ...execute } = body;
  const decoded = base64
    ? {
        ...execute,
        ...(execute.code !== undefined ? { code: decodeBase64(execute.code, `${prefix}code`) } : {}),
        ...(execute.stdin !== undefined ? { stdin: decodeBase64(execute.stdin, `${prefix}stdin`) } : {}),
        ...(execute.files ? { files: execute.files.map((file) => ({ ...file, encoding: file.encoding ?? ('base64' as const) })) } : {}),
        output_encoding: 'base64' as const,
      }
    : execute;
  const request: SubmissionRequest = toExecuteRequest(decoded);
  if (expected_output !== undefined) request.expectedOutput = base64 ? decodeBase64(expected_output, `${prefix}expected_output`) : expected_output;
  if (callback_url !== undefined) request.callbackUrl = callback_url;
  if (body.backend !== undefined) request.backend = body.backend;
  return request;
}

/** A single submission's errors name its fields as they are in its body (`code`, not `[0].code`). */
function withoutIndex(err: unknown): unknown {
  if (!(err instanceof InvalidRequestError) || !err.field.startsWith('[0].')) return err;
  const field = err.field.slice('[0].'.length);
  return new InvalidRequestError(field, err.message.slice(err.field.length + 2), err.code);
}

const notFound = (token: string): RunnerError => new RunnerError(ErrorCodes.NOT_FOUND, `no submission '${token.slice(0, 64)}' (unknown, expired, or another API key's)`);

/** Asynchronous executions in Judge0's model (docs/api.md, "Submissions"). */
export async function submissionRoutes(app: Api, { submissions, config }: RouteDeps): Promise<void> {
  app.post(
    '/api/v1/submissions',
    {
      schema: {
        operationId: 'submit',
        summary: 'Queue executions; answers with tokens at once',
        description:
          'An object queues one submission (`201 {token}`); an array queues a batch (`201 [{token}, ...]`, in order, at most `max_batch`). Every submission is validated first: one bad one is a 400 naming `[i].field` and nothing is queued. ' +
          'GET the token for the status and, when done, the result.',
        tags,
        body: SubmitBodySchema,
        querystring: SubmitQuery,
        response: { 201: Type.Union([TokenSchema, Type.Array(TokenSchema)]), ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const batch = Array.isArray(body) ? body : [body];
      const base64 = (item: SubmissionBody): boolean => item.base64_encoded ?? request.query.base64_encoded === 'true';
      const options = { traceId: request.id, ...(ownerOf(request) !== undefined ? { owner: ownerOf(request)! } : {}) };
      try {
        if (batch.length > config.maxBatch) throw new InvalidRequestError('body', `at most ${config.maxBatch} submissions in one batch (max_batch)`);
        const requests = batch.map((item, i) => toSubmissionRequest(item, base64(item), `[${i}].`));
        const tokens = await submissions.submit(requests, options);
        reply.code(201);
        return Array.isArray(body) ? tokens.map((token) => ({ token })) : { token: tokens[0]! };
      } catch (err) {
        throw Array.isArray(body) ? err : withoutIndex(err);
      }
    },
  );

  app.get(
    '/api/v1/submissions/:token',
    {
      schema: {
        operationId: 'getSubmission',
        summary: 'A submission: its status and, when done, its result',
        description: '`wait=true` holds the answer until the submission has finished (at most `submission_max_wait_ms`). 404 for an unknown or expired token, or another API key\'s.',
        tags,
        params: TokenParams,
        querystring: GetSubmissionQuery,
        response: { 200: SubmissionRecordSchema, ...errors },
      },
    },
    async (request) => {
      const selection = parseFields(request.query.fields);
      const record = await submissions.get(request.params.token, {
        ...(ownerOf(request) !== undefined ? { owner: ownerOf(request)! } : {}),
        waitMs: request.query.wait === 'true' ? config.submissionMaxWaitMs : 0,
      });
      if (!record) throw notFound(request.params.token);
      return selectFields(record, selection);
    },
  );

  app.get(
    '/api/v1/submissions',
    {
      schema: {
        operationId: 'getSubmissions',
        summary: 'Several submissions at once (Judge0\'s batch GET)',
        tags,
        querystring: GetSubmissionsQuery,
        response: { 200: SubmissionListSchema, ...errors },
      },
    },
    async (request) => {
      const selection = parseFields(request.query.fields);
      const tokens = request.query.tokens.split(',').map((token) => token.trim()).filter(Boolean);
      if (tokens.length === 0) throw new InvalidRequestError('tokens', 'names no token');
      if (tokens.length > config.maxBatch) throw new InvalidRequestError('tokens', `at most ${config.maxBatch} tokens (max_batch)`);
      const owner = ownerOf(request);
      const waitMs = request.query.wait === 'true' ? config.submissionMaxWaitMs : 0;
      // The waits run side by side: the answer comes when the last has finished, within one wait bound.
      const records = await Promise.all(tokens.map((token) => submissions.get(token, { ...(owner !== undefined ? { owner } : {}), waitMs })));
      return { submissions: records.map((record) => (record ? selectFields(record, selection) : null)) };
    },
  );

  app.delete(
    '/api/v1/submissions/:token',
    {
      schema: {
        operationId: 'cancelSubmission',
        summary: 'Cancel a queued or running submission',
        description: 'It ends `failed` with `RC_ERR_CANCELLED` (a running one\'s sandbox is destroyed); answers with the record. A finished submission is left as it is.',
        tags,
        params: TokenParams,
        response: { 200: SubmissionRecordSchema, ...errors },
      },
    },
    async (request) => {
      const owner = ownerOf(request);
      const options = owner !== undefined ? { owner } : {};
      const outcome = await submissions.cancel(request.params.token, options);
      const record = outcome === 'unknown' ? undefined : await submissions.get(request.params.token, options);
      if (!record) throw notFound(request.params.token);
      return record;
    },
  );
}
