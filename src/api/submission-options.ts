import { DEFAULT_CALLBACK_SETTINGS, type SubmissionSettings } from '../engine/submissions/submission-settings.js';
import type { ApiConfig } from './config.js';

/** The submissions' retention, bounds and callbacks of a configuration (both modes: in-process and queue). */
export function submissionSettingsFor(config: ApiConfig): SubmissionSettings {
  return {
    ttlMs: config.submissionTtlS * 1000,
    maxOutputBytes: config.submissionMaxOutputBytes,
    maxStored: config.submissionMaxStored,
    maxWaitMs: config.submissionMaxWaitMs,
    callbacks: { ...DEFAULT_CALLBACK_SETTINGS, allowlist: config.callbackAllowlist, secret: config.callbackSecret, attempts: config.callbackAttempts },
  };
}
