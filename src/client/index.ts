/**
 * `runner-codes/client`: the HTTP API's client (docs/sdk.md). It imports no server code and no Node
 * module, only the server's schemas as types (test/unit/layers.test.ts checks both).
 */
export { RunnerCodes, type GetSubmissionOptions } from './runner-codes.js';
export { Session, SessionFiles, type FileContent } from './session.js';
export type { RunnerCodesOptions, RequestOptions } from './transport.js';
export {
  RunnerCodesError, BadRequestError, AuthenticationError, NotFoundError, RateLimitError, UnavailableError, ServerError, ConnectionError, BadResponseError,
  ClientErrorCodes, type ClientErrorCode, type RunnerCodesErrorDetails,
} from './errors.js';
export type { ErrorCode } from '../errors.js';
export type * from './types.js';
