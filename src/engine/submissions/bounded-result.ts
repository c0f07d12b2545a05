import type { OutputFile, StageResult } from '../result.js';
import type { SubmissionResult } from './types.js';

/** `text` cut to at most `maxBytes` bytes: whole UTF-8 characters of text, whole bytes of base64. */
function cut(text: string, maxBytes: number, encoding: 'utf8' | 'base64'): { text: string; cut: boolean } {
  const bytes = Buffer.from(text, encoding);
  if (bytes.length <= maxBytes) return { text, cut: false };
  if (encoding === 'base64') return { text: bytes.subarray(0, maxBytes).toString('base64'), cut: true };
  // Back off to the start of the character the cap falls in (continuation bytes are 10xxxxxx).
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString('utf8'), cut: true };
}

function boundStreams<T extends Pick<StageResult, 'stdout' | 'stderr' | 'truncated'>>(stage: T, maxBytes: number, encoding: 'utf8' | 'base64'): T {
  const stdout = cut(stage.stdout, maxBytes, encoding);
  const stderr = cut(stage.stderr, maxBytes, encoding);
  if (!stdout.cut && !stderr.cut) return stage;
  return {
    ...stage,
    stdout: stdout.text,
    stderr: stderr.text,
    truncated: { stdout: stage.truncated.stdout || stdout.cut, stderr: stage.truncated.stderr || stderr.cut },
  };
}

/** Output files within one budget of `maxBytes` decoded bytes, in path order; the rest are emptied and marked truncated. */
function boundFiles(files: OutputFile[], maxBytes: number): { files: OutputFile[]; cut: boolean } {
  let left = maxBytes;
  let anyCut = false;
  const bounded = files.map((file) => {
    const content = Buffer.from(file.content_b64, 'base64');
    if (content.length <= left) {
      left -= content.length;
      return file;
    }
    anyCut = true;
    const kept = content.subarray(0, left);
    left = 0;
    return { ...file, content_b64: kept.toString('base64'), truncated: true };
  });
  return { files: bounded, cut: anyCut };
}

/**
 * What a submission stores of a result: each output stream (stdout, stderr, and the compile stage's)
 * cut at `maxBytes` with its `truncated` flag set, and the output files within one budget of
 * `maxBytes`. Stored results live in memory or in Redis for their whole retention time: this is
 * what keeps one chatty program from filling either.
 */
export function boundedResult(result: SubmissionResult, maxBytes: number, encoding: 'utf8' | 'base64' = 'utf8'): SubmissionResult {
  const bounded = boundStreams(result, maxBytes, encoding);
  const files = boundFiles(result.outputs, maxBytes);
  return {
    ...bounded,
    ...(result.compile ? { compile: boundStreams(result.compile, maxBytes, encoding) } : {}),
    outputs: files.files,
    outputs_truncated: result.outputs_truncated || files.cut,
  };
}
