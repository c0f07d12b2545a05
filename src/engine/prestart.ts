import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/paths.js';
import { PRESTARTS } from '../languages/catalog.js';
import { getLanguage } from '../languages/lookup.js';
import { JOB_PROTOCOL_VERSION } from '../protocol/limits.js';
import type { PrestartMessage } from '../protocol/messages.js';
import { prestartStage } from './job.js';
import type { Limits } from './limits.js';

/** Where the pre-start programs live in the package (src/images/prestart/). */
export const PRESTART_DIR = join(packageRoot, 'src', 'images', 'prestart');

/** How long an interpreter may take to become ready (a TCG VM is slow); past it the job starts cold. */
export const PRESTART_READY_TIMEOUT_MS = 30_000;

const programs = new Map<string, string>();

function programText(file: string): string {
  let text = programs.get(file);
  if (text === undefined) {
    text = readFileSync(join(PRESTART_DIR, file), 'utf8');
    programs.set(file, text);
  }
  return text;
}

/**
 * The prestart frame for `language`'s pooled sandboxes started with `limits`, or undefined when the
 * language has no pre-start recipe. Plain data, no I/O beyond reading the program once.
 */
export function prestartFrame(language: string, limits: Limits): PrestartMessage | undefined {
  const spec = PRESTARTS.find((entry) => entry.language === language);
  if (!spec) return undefined;
  const program = programText(spec.program);
  const argv = spec.argv.map((part) => (part === '{program}' ? program : part === '{boot}' ? spec.boot! : part));
  return {
    type: 'prestart',
    protocol: JOB_PROTOCOL_VERSION,
    stages: [prestartStage(getLanguage(language), argv, limits, PRESTART_READY_TIMEOUT_MS)],
    ...(spec.boot ? { boot: { path: spec.boot, content_b64: Buffer.from(program).toString('base64') } } : {}),
  };
}
