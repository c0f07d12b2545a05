import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, InvalidRequestError, RunnerError, SandboxError } from '../errors.js';
import type { ResolvedImage } from '../images/content/resolve.js';
import type { ImageStore } from '../images/store.js';
import { getLanguage } from '../languages/lookup.js';
import type { LanguageSpec } from '../languages/types.js';
import { printable } from '../safe-text.js';
import type { Backend, Sandbox } from '../sandbox/backend.js';
import type { SandboxPool } from './pool.js';
import { buildJob } from './job.js';
import type { StreamHandlers } from './exec-events.js';
import type { ExecInput } from './exec-input.js';
import { runObserved } from './host-observed.js';
import { DEFAULT_LIMITS, DEFAULT_MAXIMA, resolveLimits, type LimitRequest, type Limits } from './limits.js';
import { DEFAULT_INPUT_MAXIMA, normalizeRequest, type ExecuteRequest, type InputMaxima } from './request.js';
import { DEFAULT_OUTPUT_FILE_CAPS, outputFilesOf, type OutputFileCaps } from './output-files.js';
import { failedResult, successResult, type ExecutionResult, type ResultContext } from './result.js';

export interface EngineOptions {
  backend: Backend;
  images: ImageStore;
  /** Warm pool to take sandboxes from; without one every execution starts its sandbox cold. */
  pool?: SandboxPool;
  /**
   * Return results before the used sandbox is destroyed (destruction goes on in the background and
   * close() waits for it). Servers want this for latency; the CLI and tests do not.
   */
  deferDestroy?: boolean;
  defaults?: Limits;
  maxima?: Limits;
  inputMaxima?: InputMaxima;
  /** How many files (and bytes) under outputs/ come back in a result (default DEFAULT_OUTPUT_FILE_CAPS). */
  outputFiles?: OutputFileCaps;
}

export interface ExecuteOptions {
  /** Aborting destroys the sandbox at once; the result is `failed` with RC_ERR_CANCELLED. */
  signal?: AbortSignal;
  /** Trace id to use (the API passes its request id); a random UUID otherwise. */
  traceId?: string;
  /** Stream output and stage starts while the execution runs (the result is the same). */
  stream?: StreamHandlers;
  /** Interactive: the run stage's stdin stays open for this input, which also carries signals. */
  input?: ExecInput;
}

/**
 * The execution engine: a library the CLI, the HTTP API and a queue worker all call the same way.
 * `execute` validates the request (throwing RunnerError for bad input, before anything starts),
 * runs it in a fresh sandbox that is destroyed afterwards, and returns the result. Failures of
 * the infrastructure after validation come back as a `failed` result, never as a throw.
 */
export class Engine {
  readonly backend: Backend;
  readonly images: ImageStore;
  readonly #defaults: Limits;
  readonly #maxima: Limits;
  readonly #inputMaxima: InputMaxima;
  readonly #outputFiles: OutputFileCaps;
  readonly #pool: SandboxPool | undefined;
  readonly #deferDestroy: boolean;
  readonly #destroying = new Set<Promise<void>>();
  #prestartedRuns = 0;

  constructor(options: EngineOptions) {
    this.backend = options.backend;
    this.images = options.images;
    this.#defaults = options.defaults ?? DEFAULT_LIMITS;
    this.#maxima = options.maxima ?? DEFAULT_MAXIMA;
    this.#inputMaxima = options.inputMaxima ?? DEFAULT_INPUT_MAXIMA;
    this.#outputFiles = options.outputFiles ?? DEFAULT_OUTPUT_FILE_CAPS;
    this.#pool = options.pool;
    this.#deferDestroy = options.deferDestroy ?? false;
    this.#pool?.warm((image) => this.images.rootfs(image));
  }

  get pool(): SandboxPool | undefined {
    return this.#pool;
  }

  /** Executions whose run stage ran in a pre-started interpreter (docs/prestart.md), since the engine opened. */
  get prestartedRuns(): number {
    return this.#prestartedRuns;
  }

  /** The input sizes this engine accepts (sessions validate their executions against the same). */
  get inputMaxima(): InputMaxima {
    return this.#inputMaxima;
  }

  /** A request's limits for `language` under this engine's defaults and maxima (throws naming the field). */
  limitsFor(language: LanguageSpec, request: LimitRequest = {}): Limits {
    return resolveLimits(language, request, this.#defaults, this.#maxima);
  }

  /**
   * A ready sandbox of `language`'s image with these limits: from the warm pool when it has one
   * started with the same fixedAtStart values, else started cold. The caller owns it (destroy()).
   */
  async acquire(language: LanguageSpec, limits: Limits, traceId: string): Promise<Sandbox> {
    const rootfs = this.images.rootfs(language.image);
    const pooled = this.#pool?.take(language.image, rootfs, limits);
    if (pooled) {
      pooled.applyLimits(limits);
      return pooled;
    }
    const sandbox = await this.backend.start({ image: language.image, rootfs, limits, traceId });
    try {
      await sandbox.ready();
    } catch (err) {
      await sandbox.destroy();
      throw err;
    }
    return sandbox;
  }

  /** Destroys the warm pool and waits for every sandbox still being destroyed. */
  async close(): Promise<void> {
    await this.#pool?.close();
    await Promise.all(this.#destroying);
    await this.backend.close?.();
  }

  async execute(request: ExecuteRequest, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    const started = performance.now();
    const language = getLanguage(request.language);
    const normalized = normalizeRequest(request, language, this.#inputMaxima);
    const limits = resolveLimits(language, request.limits, this.#defaults, this.#maxima);
    const pinned = request.image === undefined ? undefined : await this.#pinnedImage(language, request.image);
    const manifest = pinned?.manifest ?? this.images.require(language.image, language.id);
    const job = buildJob(language, normalized, limits, this.#outputFiles);

    const ctx: ResultContext = {
      traceId: options.traceId ?? randomUUID(),
      language: language.id,
      version: manifest.versions[language.id] ?? null,
      loadMs: 0,
      totalMs: 0,
    };
    let sandbox: Sandbox | undefined;
    // A sandbox still starting is destroyed once it is up (the check after ready()): destroying one
    // mid-start races its processes joining their cgroup, and one could be left running.
    let up = false;
    const onAbort = (): void => void (up ? sandbox?.destroy() : undefined);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (options.signal?.aborted) throw cancelled();
      const rootfs = pinned?.rootfs ?? this.images.rootfs(language.image);
      // The warm pool holds sandboxes of the current image only.
      sandbox = pinned && !pinned.active ? undefined : this.#pool?.take(language.image, rootfs, limits);
      if (sandbox) {
        sandbox.applyLimits(limits);
      } else {
        sandbox = await this.backend.start({ image: language.image, rootfs, limits, traceId: ctx.traceId });
        await sandbox.ready();
      }
      up = true;
      // Cancelled while the sandbox started: destroyed now (finally).
      if (options.signal?.aborted) throw cancelled();
      ctx.loadMs = performance.now() - started;
      // Streamed or interactive: one exec in a protocol-2 session on the same kind of sandbox,
      // still one execution per sandbox; otherwise the one-job protocol 1.
      const streamed = options.stream !== undefined || options.input !== undefined;
      // (Loaded on first use: a one-shot run, the CLI's cold start, does not pay for it.)
      const { stages, oomKills, outputs } = streamed
        ? await (await import('./streamed-run.js')).runStreamed(sandbox, job, { handlers: options.stream ?? {}, ...(options.input ? { input: options.input } : {}), maxStdinBytes: this.#inputMaxima.stdinBytes })
        : await runObserved(sandbox, job);
      ctx.totalMs = performance.now() - started;
      if (stages[stages.length - 1]?.prestarted) this.#prestartedRuns++;
      return successResult(ctx, stages, normalized.outputEncoding, oomKills, outputFilesOf(outputs, job.collect));
    } catch (err) {
      ctx.totalMs = performance.now() - started;
      const error = options.signal?.aborted ? cancelled() : asRunnerError(err);
      return failedResult(ctx, error);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      options.input?.detach();
      if (sandbox) await this.#dispose(sandbox);
    }
  }

  /**
   * The image a request pins (`image`: a digest or name:tag), which must be one of the language's
   * image. A VM boots the disk made from the current image, so only bwrap runs other images.
   */
  async #pinnedImage(language: LanguageSpec, ref: string): Promise<ResolvedImage> {
    const image = await this.images.resolve(ref, { imageId: language.image, compute: true });
    if (image.id !== language.image) {
      throw new InvalidRequestError('image', `'${printable(ref)}' is an image of '${image.id}', not of ${language.id}'s image '${language.image}'`);
    }
    if (!image.active && this.backend.name !== 'bwrap') {
      throw new InvalidRequestError('image', `the ${this.backend.name} backend boots the VM disk of the current '${language.image}' image only; run a pinned older image on bwrap`);
    }
    return image;
  }

  async #dispose(sandbox: Sandbox): Promise<void> {
    if (!this.#deferDestroy) return sandbox.destroy();
    // The teardown starts once the result is on its way (the cgroup's freeze and kill are
    // synchronous writes): the sandbox has run its one job and is never handed out again.
    // A cgroup slow to empty is removed in the background and close() waits for it; other failures
    // surface in the leak checks and the next start's stale clean-up, not in this result.
    const destroying = new Promise<void>((resolve) => setImmediate(resolve)).then(() => sandbox.destroy());
    const tracked: Promise<void> = destroying.catch(() => undefined).finally(() => this.#destroying.delete(tracked));
    this.#destroying.add(tracked);
  }
}

function cancelled(): RunnerError {
  return new RunnerError(ErrorCodes.CANCELLED, 'execution cancelled');
}

function asRunnerError(err: unknown): RunnerError {
  if (err instanceof RunnerError) return err;
  return new SandboxError(ErrorCodes.SANDBOX_START, (err as Error)?.message ?? String(err), { cause: err });
}
