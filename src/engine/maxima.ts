import { DEFAULT_MAXIMA, type Limits } from './limits.js';
import { DEFAULT_INPUT_MAXIMA, type InputMaxima } from './request.js';
import type { MaximumSetting } from './above-maximum.js';
import { MAX_COLLECT_BYTES, MAX_COLLECT_FILES } from '../protocol/limits.js';
import { DEFAULT_OUTPUT_FILE_CAPS, type OutputFileCaps } from './output-files.js';

export type { MaximumSetting } from './above-maximum.js';

const MiB = 1024 * 1024;

/**
 * The settings that bound what one request may ask for. Every edge offers the same ones: the API
 * as options (flag, environment, config file), the CLI's `run` as flags.
 */
export type MaximaSettings = Record<MaximumSetting, number>;

/** One row of the maxima table: its name at each edge, its floor and its default. */
export interface MaximumOption {
  key: MaximumSetting;
  /** Flag in commander syntax (`infra.operator api` and `infra.operator run`). */
  flag: string;
  env: string;
  file: string;
  kind: 'int';
  min: number;
  default: number;
  description: string;
}

export const MAXIMA_OPTIONS: readonly MaximumOption[] = [
  { key: 'maxStdinBytes', flag: '--max-stdin <bytes>', env: 'RUNNER_CODES_MAX_STDIN', file: 'max_stdin_bytes', kind: 'int', min: 0, default: DEFAULT_INPUT_MAXIMA.stdinBytes, description: 'largest stdin (E005 beyond)' },
  { key: 'maxCodeBytes', flag: '--max-code <bytes>', env: 'RUNNER_CODES_MAX_CODE', file: 'max_code_bytes', kind: 'int', min: 1, default: 4 * MiB, description: 'largest total size of submitted files' },
  { key: 'maxTimeoutMs', flag: '--max-timeout <ms>', env: 'RUNNER_CODES_MAX_TIMEOUT', file: 'max_timeout_ms', kind: 'int', min: 1, default: DEFAULT_MAXIMA.runTimeoutMs, description: 'largest run/compile timeout a request may ask for' },
  { key: 'maxMemoryMb', flag: '--max-memory <MB>', env: 'RUNNER_CODES_MAX_MEMORY', file: 'max_memory_mb', kind: 'int', min: 16, default: DEFAULT_MAXIMA.memoryBytes / MiB, description: 'largest memory limit a request may ask for' },
  { key: 'maxPids', flag: '--max-pids <n>', env: 'RUNNER_CODES_MAX_PIDS', file: 'max_pids', kind: 'int', min: 4, default: DEFAULT_MAXIMA.pids, description: 'largest process/thread limit a request may ask for' },
  { key: 'maxOutputBytes', flag: '--max-output <bytes>', env: 'RUNNER_CODES_MAX_OUTPUT', file: 'max_output_bytes', kind: 'int', min: 0, default: DEFAULT_MAXIMA.outputBytes, description: 'largest per-stream output cap a request may ask for' },
  { key: 'maxOutputFiles', flag: '--max-output-files <n>', env: 'RUNNER_CODES_MAX_OUTPUT_FILES', file: 'max_output_files', kind: 'int', min: 0, default: DEFAULT_OUTPUT_FILE_CAPS.maxFiles, description: `most files under outputs/ a result returns (0: none; at most ${MAX_COLLECT_FILES})` },
  { key: 'maxOutputFilesBytes', flag: '--max-output-files-bytes <bytes>', env: 'RUNNER_CODES_MAX_OUTPUT_FILES_BYTES', file: 'max_output_files_bytes', kind: 'int', min: 0, default: DEFAULT_OUTPUT_FILE_CAPS.maxBytes, description: `most bytes of those files a result returns (at most ${MAX_COLLECT_BYTES})` },
];

export function defaultMaximaSettings(): MaximaSettings {
  return Object.fromEntries(MAXIMA_OPTIONS.map((o) => [o.key, o.default])) as unknown as MaximaSettings;
}

/** The engine's maxima for these settings (what `openEngine` takes as `maxima` and `inputMaxima`). */
export function engineMaxima(settings: MaximaSettings): { maxima: Limits; inputMaxima: InputMaxima; outputFiles: OutputFileCaps } {
  return {
    outputFiles: { maxFiles: settings.maxOutputFiles, maxBytes: settings.maxOutputFilesBytes },
    maxima: {
      ...DEFAULT_MAXIMA,
      runTimeoutMs: settings.maxTimeoutMs,
      // Compilers are slow: the compile stage may always take the built-in maximum.
      compileTimeoutMs: Math.max(settings.maxTimeoutMs, DEFAULT_MAXIMA.compileTimeoutMs),
      memoryBytes: settings.maxMemoryMb * MiB,
      pids: settings.maxPids,
      outputBytes: settings.maxOutputBytes,
    },
    inputMaxima: { ...DEFAULT_INPUT_MAXIMA, stdinBytes: settings.maxStdinBytes, filesBytes: settings.maxCodeBytes },
  };
}
