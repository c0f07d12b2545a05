import { StringDecoder } from 'node:string_decoder';
import { ErrorCodes, InvalidRequestError, RunnerError } from '../errors.js';
import { getLanguage } from '../languages/lookup.js';
import type { JobStage, StageReport } from '../protocol/messages.js';
import type { AgentSession, RunningExec } from '../sandbox/agent-session.js';
import { WORKDIR } from '../sandbox/workdir.js';
import { kernelArgv, kernelSpec } from './kernel-program.js';
import type { Limits } from './limits.js';

export { kernelLanguages } from './kernel-program.js';
export { DEFAULT_KERNEL_LANGUAGE } from '../languages/catalog.js';

/** One rich output: MIME type → content ('image/png' base64, 'application/json' JSON text). */
export interface MimeBundle {
  [mime: string]: string;
}

export interface CellError {
  name: string;
  message: string;
  traceback: string;
}

export interface CellResult {
  stdout: string;
  stderr: string;
  /** Either stream passed the session's output limit during this cell and was cut there. */
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  error: CellError | null;
  /** Displayed figures and values in order; the last expression's value last. */
  outputs: MimeBundle[];
  /** The cell was interrupted at its timeout; the kernel lives on (restarted if SIGINT did not stop it). */
  timed_out: boolean;
  duration_ms: number;
}

export interface CellHandlers {
  onStdout?(text: string): void;
  onStderr?(text: string): void;
}

export interface KernelOptions {
  /** The kernel's environment (NAME=VALUE), as a session's programs get it. */
  env: string[];
  limits: Limits;
  /** How long the kernel may take to start and say it is ready. */
  timeoutMs: number;
}

/** After SIGINT at a cell's timeout, how long the kernel has to answer before it is killed and restarted. */
export const INTERRUPT_GRACE_MS = 2_000;
/** The kernel's stage timeout: the agent's largest; a session's own lifetime ends it much sooner. */
const KERNEL_STAGE_TIMEOUT_MS = 86_400_000;
/** Largest control line accepted from a kernel (a cell's outputs with their images). */
const MAX_CONTROL_LINE = 64 * 1024 * 1024;
const SIGINT = 2;
const SIGKILL = 9;

interface RunningCell {
  id: number;
  result: CellResult;
  /** Bytes of result.stdout and result.stderr so far. */
  bytes: { stdout: number; stderr: number };
  handlers: CellHandlers;
  /** Settles the cell: with the kernel's reply, or null when the kernel went away. */
  settle(reply: KernelReply | null): void;
}

interface KernelReply {
  cell: number;
  error: CellError | null;
  outputs: MimeBundle[];
  stdout_truncated: boolean;
  stderr_truncated: boolean;
}

/**
 * A language's interpreter kernel running in a session (docs/kernels.md): one exec with a control
 * channel that lives across cells, so variables, imports and functions persist. Cells run one at a
 * time, in the order `run` was called. A cell that outlives its timeout gets SIGINT (KeyboardInterrupt
 * in Python); a kernel that does not answer within INTERRUPT_GRACE_MS, or that dies, is restarted, and
 * the cell reports it, so the session stays usable (with that kernel's state lost).
 */
export class Kernel {
  readonly language: string;
  private readonly session: AgentSession;
  private readonly options: KernelOptions;
  private exec: RunningExec | null = null;
  private cell: RunningCell | null = null;
  private nextCell = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private line: Buffer[] = [];
  private lineBytes = 0;
  private onReady: ((version: string) => void) | null = null;
  /** The kernel exited between cells (a thread of an earlier cell ended it): the next cell says so. */
  private diedIdle = false;
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  /** The kernel's version string, as it reported it when ready. */
  version = '';

  private constructor(session: AgentSession, language: string, options: KernelOptions) {
    this.session = session;
    this.language = language;
    this.options = options;
  }

  /** Starts the language's kernel in the session (an exec with control:true) and waits until it is ready. */
  static async start(session: AgentSession, language: string, options: KernelOptions): Promise<Kernel> {
    const id = getLanguage(language).id;
    kernelSpec(id);
    const kernel = new Kernel(session, id, options);
    await kernel.launch();
    return kernel;
  }

  /** False once closed, or when the kernel died and could not be started again. */
  get alive(): boolean {
    return this.exec !== null && !this.closed;
  }

  /** Runs one cell; stdout/stderr can be streamed through handlers as they come. */
  run(code: string, timeoutMs: number, handlers: CellHandlers = {}): Promise<CellResult> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) return Promise.reject(new InvalidRequestError('timeout', `must be a positive integer of milliseconds, not ${timeoutMs}`));
    const result = this.queue.then(() => this.runNow(code, timeoutMs, handlers));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
  }

  private async launch(): Promise<void> {
    const { limits } = this.options;
    const stage: JobStage = {
      name: 'kernel',
      argv: kernelArgv(this.language),
      env: this.options.env,
      cwd: WORKDIR,
      stdin_b64: '',
      timeout_ms: KERNEL_STAGE_TIMEOUT_MS,
      // Caps what child processes of the cells write to the real fds over the kernel's life; what
      // cells print comes on the control channel and is capped per cell (outputBytes).
      output_limit: limits.outputBytes,
      rlimits: { cpu_s: KERNEL_STAGE_TIMEOUT_MS / 1000, nofile: limits.nofile, fsize_bytes: limits.fileSizeBytes, stack_bytes: limits.stackBytes, core_bytes: 0 },
    };
    this.line = [];
    this.lineBytes = 0;
    this.decoders.stdout = new StringDecoder('utf8');
    this.decoders.stderr = new StringDecoder('utf8');
    const ready = new Promise<string>((resolve) => (this.onReady = resolve));
    // interactive:false: a cell that reads stdin gets EOF at once rather than hanging to its timeout.
    const exec = this.session.exec([stage], { stream: true, interactive: false, control: true }, {
      onOutput: (stream, data) => this.onOutput(exec, stream, data),
      onControl: (data) => this.onControl(exec, data),
    });
    this.exec = exec;
    const ended = exec.done.then(
      (stages) => ({ stages }),
      (error: unknown) => ({ error }),
    );
    void ended.then(() => this.onExit(exec));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.timeoutMs)));
    const first = await Promise.race([ready, ended, timedOut]);
    clearTimeout(timer);
    this.onReady = null;
    if (typeof first === 'string' && first !== 'timeout') {
      this.version = first;
      return;
    }
    if (this.exec === exec) this.exec = null;
    exec.signal(SIGKILL);
    const why = first === 'timeout' ? `did not start within ${this.options.timeoutMs} ms` : `exited at start${describeExit(first)}`;
    throw new RunnerError(ErrorCodes.INTERNAL, `the ${this.language} kernel ${why}`);
  }

  private async runNow(code: string, timeoutMs: number, handlers: CellHandlers): Promise<CellResult> {
    if (this.closed) throw new RunnerError(ErrorCodes.INVALID_REQUEST, 'the kernel is closed');
    const restarted = this.diedIdle;
    this.diedIdle = false;
    if (this.exec === null) await this.launch();
    const exec = this.exec!;
    const started = performance.now();
    const result: CellResult = { stdout: '', stderr: '', stdout_truncated: false, stderr_truncated: false, error: null, outputs: [], timed_out: false, duration_ms: 0 };
    let settle!: (reply: KernelReply | null) => void;
    const settled = new Promise<KernelReply | null>((resolve) => (settle = resolve));
    const cell: RunningCell = { id: this.nextCell++, result, bytes: { stdout: 0, stderr: 0 }, handlers, settle };
    this.cell = cell;
    if (restarted) this.append(cell, 'stderr', 'the kernel had exited after the previous cell and was started again: its state is lost\n');
    exec.control(Buffer.from(JSON.stringify({ cell: cell.id, code, output_limit: this.options.limits.outputBytes }) + '\n'));

    let graceTimer: NodeJS.Timeout | undefined;
    const timeoutTimer = setTimeout(() => {
      result.timed_out = true;
      exec.signal(SIGINT);
      graceTimer = setTimeout(() => exec.signal(SIGKILL), INTERRUPT_GRACE_MS);
    }, timeoutMs);
    const reply = await settled;
    clearTimeout(timeoutTimer);
    clearTimeout(graceTimer);
    this.cell = null;
    result.duration_ms = Math.round((performance.now() - started) * 10) / 10;
    if (reply !== null) {
      result.error = reply.error;
      result.outputs = reply.outputs;
      result.stdout_truncated ||= reply.stdout_truncated;
      result.stderr_truncated ||= reply.stderr_truncated;
      return result;
    }
    if (this.closed) {
      result.error = { name: 'KernelClosed', message: 'the session ended during the cell', traceback: '' };
      return result;
    }
    // The kernel is gone: killed past the grace, or it died (os._exit, a crash, the memory limit).
    result.error = result.timed_out
      ? { name: 'TimeoutError', message: `the cell ran past its ${timeoutMs} ms timeout and did not stop on SIGINT; the kernel was restarted and its state is lost`, traceback: '' }
      : { name: 'KernelDied', message: 'the kernel exited during the cell; it was restarted and its state is lost', traceback: '' };
    try {
      await this.launch();
    } catch (error) {
      result.error.message = `${result.error.message.replace(/; it was restarted.*$/, '')}; restarting it failed: ${(error as Error).message}`;
    }
    return result;
  }

  /** Output on the real fds: what child processes of the cell wrote (the agent streams it). */
  private onOutput(exec: RunningExec, stream: 'stdout' | 'stderr', data: Buffer): void {
    if (exec !== this.exec || this.cell === null) return;
    this.append(this.cell, stream, this.decoders[stream].write(data));
  }

  // SECURITY: the control channel is written by the kernel, which runs the cell's code in its own
  // process: every line is untrusted data, parsed as JSON and checked field by field, never evaluated.
  private onControl(exec: RunningExec, data: Buffer): void {
    if (exec !== this.exec) return;
    let start = 0;
    for (let newline = data.indexOf(10); newline >= 0; newline = data.indexOf(10, start)) {
      this.line.push(data.subarray(start, newline));
      const line = Buffer.concat(this.line).toString('utf8');
      this.line = [];
      this.lineBytes = 0;
      start = newline + 1;
      this.onMessage(line);
    }
    if (start < data.length) {
      this.line.push(data.subarray(start));
      this.lineBytes += data.length - start;
      // A kernel that never ends a line is broken (or its cell wrote to fd 3): start it afresh.
      if (this.lineBytes > MAX_CONTROL_LINE) exec.signal(SIGKILL);
    }
  }

  private onMessage(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return; // not the kernel's: a cell that wrote to fd 3 itself
    }
    if (!isObject(message)) return;
    if (message.ready === true && this.onReady) {
      this.onReady(typeof message.version === 'string' ? message.version : '');
      return;
    }
    const cell = this.cell;
    if (cell === null || message.cell !== cell.id) return;
    if ((message.stream === 'stdout' || message.stream === 'stderr') && typeof message.text === 'string') {
      this.append(cell, message.stream, message.text);
      return;
    }
    if (message.status === 'ok' || message.status === 'error') {
      cell.settle({
        cell: cell.id,
        error: message.status === 'error' ? cellError(message.error) : null,
        outputs: Array.isArray(message.outputs) ? message.outputs.filter(isObject).map(mimeBundle) : [],
        stdout_truncated: message.stdout_truncated === true,
        stderr_truncated: message.stderr_truncated === true,
      });
    }
  }

  /** Adds text to the cell's stream within the output limit, and hands it to the stream's handler. */
  private append(cell: RunningCell, stream: 'stdout' | 'stderr', text: string): void {
    if (text === '') return;
    const { result } = cell;
    const room = this.options.limits.outputBytes - cell.bytes[stream];
    let size = Buffer.byteLength(text);
    if (size > room) {
      result[`${stream}_truncated`] = true;
      text = Buffer.from(text).subarray(0, Math.max(room, 0)).toString('utf8').replace(/\uFFFD$/, '');
      size = Buffer.byteLength(text);
      if (text === '') return;
    }
    cell.bytes[stream] += size;
    result[stream] += text;
    if (stream === 'stdout') cell.handlers.onStdout?.(text);
    else cell.handlers.onStderr?.(text);
  }

  private onExit(exec: RunningExec): void {
    if (exec !== this.exec) return;
    this.exec = null;
    if (this.cell !== null) this.cell.settle(null);
    else if (!this.closed) this.diedIdle = true;
  }

  private async stop(): Promise<void> {
    const exec = this.exec;
    if (exec === null) return;
    exec.signal(SIGKILL);
    await exec.done.catch(() => undefined);
  }
}

function describeExit(ended: { stages?: StageReport[]; error?: unknown }): string {
  if (ended.error !== undefined) return `: ${(ended.error as Error).message ?? String(ended.error)}`;
  const report = ended.stages?.[0];
  if (report === undefined) return '';
  const stderr = Buffer.from(report.stderr_b64, 'base64').toString('utf8').trim().split('\n').slice(-3).join('\n');
  return ` (exit code ${report.exit_code}${report.signal ? `, signal ${report.signal}` : ''})${stderr ? `: ${stderr}` : ''}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function cellError(value: unknown): CellError {
  const error = isObject(value) ? value : {};
  const text = (field: unknown): string => (typeof field === 'string' ? field : '');
  return { name: text(error.name) || 'Error', message: text(error.message), traceback: text(error.traceback) };
}

/** Only string contents survive: a bundle is data for the caller, never anything the host interprets. */
function mimeBundle(value: Record<string, unknown>): MimeBundle {
  const bundle: MimeBundle = {};
  for (const [mime, content] of Object.entries(value)) if (typeof content === 'string') bundle[mime] = content;
  return bundle;
}
