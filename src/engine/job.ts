import type { ArgvTemplate, LanguageSpec } from '../languages/types.js';
import { leadingText, programForm } from '../languages/unit-names.js';
import { JOB_PROTOCOL_VERSION } from '../protocol/limits.js';
import type { JobMessage, JobStage } from '../protocol/messages.js';
import { stagesBudgetMs } from '../protocol/observed-stages.js';
import { WORKDIR } from '../sandbox/workdir.js';
import type { Limits } from './limits.js';
import { DEFAULT_OUTPUT_FILE_CAPS, collectFor, type OutputFileCaps } from './output-files.js';
import type { NormalizedRequest } from './request.js';

/** The environment every stage starts from; never anything of the host's. */
const BASE_ENV: readonly [string, string][] = [
  ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  ['HOME', '/tmp'],
  ['TMPDIR', '/tmp'],
  ['LANG', 'C.UTF-8'],
  ['LC_ALL', 'C.UTF-8'],
  ['USER', 'runner'],
];

/** Expands `{file}`, `{stem}`, `{noext}`, `{sources}` and `{args}` in an argv template. */
export function expandArgv(template: ArgvTemplate, language: LanguageSpec, request: NormalizedRequest): string[] {
  const sources = request.files
    .map((file) => file.path)
    .filter((path) => language.extensions.some((ext) => path.endsWith(ext)));
  return template.flatMap((part) => {
    if (part === '{args}') return request.args;
    if (part === '{sources}') return sources.length > 0 ? sources : [request.entry];
    const noext = request.entry.replace(/\.[^./]*$/, '');
    const stem = noext.replace(/^.*\//, '');
    return [part.replaceAll('{file}', request.entry).replaceAll('{stem}', stem).replaceAll('{noext}', noext)];
  });
}

export function stageEnv(language: LanguageSpec, request: Pick<NormalizedRequest, 'env'>): string[] {
  const env = new Map<string, string>(BASE_ENV);
  for (const [name, value] of Object.entries(language.env ?? {})) env.set(name, value);
  for (const [name, value] of request.env) env.set(name, value);
  return [...env].map(([name, value]) => `${name}=${value}`);
}

function stage(name: string, argv: string[], env: string[], stdin: Buffer, timeoutMs: number, limits: Limits): JobStage {
  return {
    name,
    argv,
    env,
    cwd: WORKDIR,
    stdin_b64: stdin.toString('base64'),
    timeout_ms: timeoutMs,
    output_limit: limits.outputBytes,
    rlimits: {
      // CPU seconds: a backstop behind the wall-clock timeout, which is what users set.
      cpu_s: Math.ceil(timeoutMs / 1000) + 1,
      nofile: limits.nofile,
      fsize_bytes: limits.fileSizeBytes,
      stack_bytes: limits.stackBytes,
      core_bytes: 0,
    },
  };
}

/** Turns a validated request into the agent's job frame: plain data, no I/O. */
export function buildJob(language: LanguageSpec, request: NormalizedRequest, limits: Limits, outputFiles: OutputFileCaps = DEFAULT_OUTPUT_FILE_CAPS): JobMessage {
  const env = stageEnv(language, request);
  // The entry's source may choose another form of the language (Erlang's escript form).
  const form = programForm(language, leadingText(request.files.find((file) => file.path === request.entry)!));
  const stages: JobStage[] = [];
  if (form.compile) {
    stages.push(stage('compile', expandArgv(form.compile, language, request), env, Buffer.alloc(0), limits.compileTimeoutMs, limits));
  }
  stages.push(stage('run', expandArgv(form.run, language, request), env, request.stdin, limits.runTimeoutMs, limits));
  const collect = collectFor(outputFiles);
  return {
    type: 'job',
    protocol: JOB_PROTOCOL_VERSION,
    workdir: WORKDIR,
    files: request.files.map((file) => ({ path: file.path, content_b64: file.content.toString('base64'), executable: file.executable })),
    stages,
    ...(collect ? { collect } : {}),
  };
}

/**
 * A session's `command`: one run stage executing `argv` as given (no shell), in the environment a
 * program of the session's language gets. The agent resolves argv[0] on the stage's PATH.
 */
export function commandStage(language: LanguageSpec, argv: string[], request: Pick<NormalizedRequest, 'env' | 'stdin'>, limits: Limits): JobStage {
  return stage('run', argv, stageEnv(language, request), request.stdin, limits.runTimeoutMs, limits);
}

/**
 * The stage a pre-started interpreter starts with (prestart.ts): a run stage of `language` with no
 * request of its own (its default environment), under `limits` — what a job's run stage must equal
 * at the process level to run in it.
 */
export function prestartStage(language: LanguageSpec, argv: string[], limits: Limits, readyTimeoutMs: number): JobStage {
  return { ...stage('run', argv, stageEnv(language, { env: [] }), Buffer.alloc(0), limits.runTimeoutMs, limits), timeout_ms: readyTimeoutMs };
}

/** Wall-clock budget for the whole job on the host side: every stage's timeout plus grace for start and teardown. */
export function jobBudgetMs(job: JobMessage): number {
  return stagesBudgetMs(job.stages);
}
