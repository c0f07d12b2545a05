import { ErrorCodes, InvalidRequestError, RunnerError } from '../../errors.js';
import type { ImageStore } from '../../images/store.js';
import { getLanguage } from '../../languages/lookup.js';
import { DEFAULT_LIMITS, resolveLimits } from '../limits.js';
import { engineMaxima, type MaximaSettings } from '../maxima.js';
import { normalizeRequest } from '../request.js';
import { checkCallbackUrl, type AllowedHost } from './callback-allowlist.js';
import type { SubmissionRequest } from './types.js';

/** What a submission is checked against before anything is queued. */
export interface SubmissionRules {
  maxima: MaximaSettings;
  /** Backends a request may name (undefined: not checked here, e.g. the queue routes by capability). */
  backends?: readonly string[];
  allowlist: readonly AllowedHost[];
  /** The images of this host (undefined: not checked here). */
  images?: ImageStore;
  /** Most requests in one submit. */
  maxBatch: number;
}

/** Checks one request the way the engine will, so that a bad one fails now and not after it was queued. */
function validateOne(request: SubmissionRequest, rules: SubmissionRules, inputs: ReturnType<typeof engineMaxima>): void {
  let language;
  try {
    language = getLanguage(request.language);
  } catch (err) {
    throw new InvalidRequestError('language', (err as RunnerError).message, ErrorCodes.UNKNOWN_LANGUAGE);
  }
  normalizeRequest(request, language, inputs.inputMaxima);
  resolveLimits(language, request.limits, DEFAULT_LIMITS, inputs.maxima);
  if (request.backend !== undefined && rules.backends && !rules.backends.includes(request.backend)) {
    throw new InvalidRequestError('backend', `'${request.backend}' is not offered by this server (offered: ${rules.backends.join(', ')})`);
  }
  if (request.expectedOutput !== undefined && Buffer.byteLength(request.expectedOutput) > inputs.inputMaxima.stdinBytes) {
    throw new InvalidRequestError('expected_output', `must be at most ${inputs.inputMaxima.stdinBytes} bytes (the stdin maximum)`);
  }
  if (request.callbackUrl !== undefined) checkCallbackUrl(request.callbackUrl, rules.allowlist);
  rules.images?.require(language.image, language.id);
}

/**
 * Validates every request of a submit, all or nothing: the first bad one throws InvalidRequestError
 * naming `[i].field` (its own code kept: unknown language, stdin too large, ...), and nothing is queued.
 */
export function validateSubmissions(requests: readonly SubmissionRequest[], rules: SubmissionRules): void {
  if (requests.length === 0) throw new InvalidRequestError('body', 'must hold at least one submission');
  if (requests.length > rules.maxBatch) throw new InvalidRequestError('body', `at most ${rules.maxBatch} submissions in one batch (max_batch)`);
  const inputs = engineMaxima(rules.maxima);
  requests.forEach((request, i) => {
    try {
      validateOne(request, rules, inputs);
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      throw new InvalidRequestError(`[${i}].${err.field}`, err.message.slice(err.field.length + 2), err.code);
    }
  });
}
