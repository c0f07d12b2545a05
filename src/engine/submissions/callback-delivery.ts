import type { LookupFunction } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { CallbackRefusedError, resolveCallbackAddress } from './callback-address.js';
import { checkCallbackUrl, parseAllowlist } from './callback-allowlist.js';
import { CALLBACK_HEADERS, signCallback } from './callback-signature.js';
import { callbackBackoffMs, type CallbackSettings } from './submission-settings.js';
import type { SubmissionRecord } from './types.js';

/** Where delivery failures are reported (pino's shape: the API passes its logger). */
export interface CallbackLog {
  warn(details: object, message: string): void;
}

/** A lookup that answers every name with the one address already checked. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}

/**
 * One delivery attempt of `record` to `url`: the allowlist checked again (the configuration may have
 * changed since the submission), the host resolved now and every address checked, then a POST to
 * the checked address (the name is not resolved a second time: DNS rebinding cannot swap it). TLS
 * still verifies the certificate against the URL's host name. Redirects are not followed. Resolves
 * on a 2xx; throws otherwise (CallbackRefusedError when no retry can help).
 */
export async function deliverCallback(record: SubmissionRecord, url: string, settings: CallbackSettings, signal?: AbortSignal): Promise<void> {
  let target: URL;
  try {
    target = checkCallbackUrl(url, parseAllowlist(settings.allowlist));
  } catch (err) {
    throw new CallbackRefusedError((err as Error).message);
  }
  const { address, family } = await resolveCallbackAddress(target.hostname);
  const body = JSON.stringify(record);
  const timestamp = String(Math.floor(Date.now() / 1000));
  // SECURITY: the socket goes to the address checked above and nowhere else.
  const dispatcher = new Agent({ connect: { lookup: pinnedLookup(address, family), timeout: settings.timeoutMs }, headersTimeout: settings.timeoutMs, bodyTimeout: settings.timeoutMs });
  try {
    const answer = await request(target, {
      method: 'POST',
      dispatcher,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'runner-codes-callback',
        [CALLBACK_HEADERS.signature]: signCallback(body, timestamp, settings.secret),
        [CALLBACK_HEADERS.token]: record.token,
        [CALLBACK_HEADERS.timestamp]: timestamp,
      },
      signal: AbortSignal.any([AbortSignal.timeout(settings.timeoutMs), ...(signal ? [signal] : [])]),
    });
    await answer.body.dump();
    if (answer.statusCode < 200 || answer.statusCode > 299) throw new Error(`the receiver answered ${answer.statusCode}`);
  } finally {
    await dispatcher.close();
  }
}

/**
 * At-least-once delivery for the in-process mode: up to `settings.attempts` tries with exponential
 * backoff from `settings.backoffMs`, until a 2xx. Never throws: a delivery given up on is logged.
 * (The queue mode makes the same attempts as BullMQ retries of the callbacks job instead.)
 */
export async function deliverWithRetries(record: SubmissionRecord, url: string, settings: CallbackSettings, signal: AbortSignal, log?: CallbackLog): Promise<boolean> {
  for (let attempt = 1; attempt <= settings.attempts; attempt++) {
    if (attempt > 1) {
      try {
        await sleep(callbackBackoffMs(settings, attempt), undefined, { signal });
      } catch {
        return false;
      }
    }
    try {
      await deliverCallback(record, url, settings, signal);
      return true;
    } catch (err) {
      const last = attempt === settings.attempts || err instanceof CallbackRefusedError || signal.aborted;
      log?.warn({ token: record.token, attempt, error: (err as Error).message }, last ? 'callback delivery given up' : 'callback delivery failed; retrying');
      if (last) return false;
    }
  }
  return false;
}
