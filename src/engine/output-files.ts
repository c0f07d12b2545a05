import { MAX_COLLECT_BYTES, MAX_COLLECT_FILES } from '../protocol/limits.js';
import type { CollectedFile, JobCollect } from '../protocol/messages.js';
import { guessMime } from './mime-types.js';
import type { OutputFile } from './result.js';

/**
 * One-shot artifacts: the files a program leaves under `outputs/` in its working directory come
 * back in the result's `outputs[]` (docs/api.md, "Output files"). Always on: a program that writes
 * nothing there costs nothing but one directory walk in the agent; the server caps how many files
 * and bytes come back (`--max-output-files`, `--max-output-files-bytes`), and a cut is flagged.
 */
export const OUTPUTS_DIR = 'outputs';

export interface OutputFileCaps {
  /** Most files returned (0: none are collected). */
  maxFiles: number;
  /** Most content bytes of all of them together. */
  maxBytes: number;
}

export const DEFAULT_OUTPUT_FILE_CAPS: OutputFileCaps = { maxFiles: 64, maxBytes: 10 * 1024 * 1024 };

/** A relative path below `dir`, without `.`, `..` or empty components or NUL (the agent's word is not taken). */
function underDir(path: string, dir: string): boolean {
  const parts = path.split('/');
  return path.startsWith(`${dir}/`) && !path.includes('\0') && parts.every((part) => part !== '' && part !== '.' && part !== '..');
}

/** The job's collect field for these caps (none when they allow no file). */
export function collectFor(caps: OutputFileCaps): JobCollect | undefined {
  if (caps.maxFiles <= 0) return undefined;
  // The agent's hard limits (protocol.h) bound whatever the server was configured with.
  return { dir: OUTPUTS_DIR, max_files: Math.min(caps.maxFiles, MAX_COLLECT_FILES), max_bytes: Math.min(caps.maxBytes, MAX_COLLECT_BYTES) };
}

/**
 * The caller's view of what the agent collected. SECURITY: the host re-checks what it can: only
 * plain paths under outputs/, no more files or bytes than asked for (a lying agent's extra is
 * dropped and flagged), so a caller may safely write them below a directory of its own.
 */
export function outputFilesOf(
  collected: { files: readonly CollectedFile[]; truncated: boolean } | undefined,
  collect: JobCollect | undefined,
): { files: OutputFile[]; truncated: boolean } {
  if (!collect || !collected) return { files: [], truncated: false };
  const files: OutputFile[] = [];
  let bytes = 0;
  let truncated = collected.truncated;
  for (const file of collected.files) {
    const content = Buffer.from(file.content_b64, 'base64');
    if (!underDir(file.path, collect.dir) || files.length >= collect.max_files || bytes + content.length > collect.max_bytes) {
      truncated = true;
      continue;
    }
    bytes += content.length;
    truncated ||= file.truncated;
    files.push({ path: file.path, size: file.size, mime: guessMime(file.path), content_b64: file.content_b64, truncated: file.truncated });
  }
  return { files, truncated };
}
