import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { ErrorCodes, SandboxError } from '../errors.js';
import type { SandboxProcess } from './sandbox-process.js';

/** What the fork server answers (agent/src/forkserver.c); descriptors arrive as Node's own handles. */
type ForkServerMessage =
  | { type: 'launched'; id: number; pid: number; stream: 'stderr' | 'agent' }
  | { type: 'exit'; id: number; code: number | null; signal: number | null }
  | { type: 'error'; id: number; message: string };

const signalName = (signal: number | null): NodeJS.Signals | null =>
  signal === null ? null : ((Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] as NodeJS.Signals | undefined) ?? null);

/**
 * A process the fork server started: its agent socket as stdin and stdout, its stderr, its exit.
 * 'close' comes once it has exited and both sockets have ended, like a ChildProcess's.
 */
class ForkedProcess extends EventEmitter implements SandboxProcess {
  readonly spawnfile: string;
  pid: number | undefined;
  stdin: Socket | null = null;
  stdout: Socket | null = null;
  stderr: Socket | null = null;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly #kill: (signal: number) => void;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #open = 2;
  #closeEmitted = false;

  constructor(spawnfile: string, kill: (signal: number) => void) {
    super();
    this.spawnfile = spawnfile;
    this.#kill = kill;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.#exit) return false;
    this.#kill(constants.signals[signal]);
    return true;
  }

  /** A descriptor the server sent; the agent one comes last, and with it the process is started. */
  adopt(stream: 'stderr' | 'agent', socket: Socket, pid: number): boolean {
    socket.once('close', () => this.#closed());
    if (stream === 'stderr') {
      this.stderr = socket;
      return false;
    }
    this.pid = pid;
    this.stdin = this.stdout = socket;
    return true;
  }

  /**
   * Closes this end of its sockets. SECURITY: what outlived a dead fork server (a bwrap child it
   * could no longer kill, docs/security.md, "Killing a sandbox") reads EOF: an agent exits on it,
   * and the sandbox, closed here too, is never sent a job.
   */
  abandon(): void {
    for (const socket of new Set([this.stdin, this.stdout, this.stderr])) socket?.destroy();
  }

  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#exit) return;
    this.#exit = { code, signal };
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
    this.#maybeClose();
  }

  #closed(): void {
    this.#open--;
    this.#maybeClose();
  }

  #maybeClose(): void {
    if (!this.#exit || this.#open > 0 || this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.emit('close', this.#exit.code, this.#exit.signal);
  }
}

/**
 * The engine's client of runner-forkserver (agent/src/forkserver.c): one small C process, started
 * once, that forks the launcher for each sandbox, so that a start does not fork this (large) Node
 * process. It runs only the launcher it was started with; requests carry that launcher's
 * arguments and which of its files becomes fd 3. It dies with this process.
 */
export class ForkServer {
  readonly #server: ChildProcess;
  readonly #launcher: string;
  readonly #processes = new Map<number, ForkedProcess>();
  readonly #starting = new Map<number, (err?: Error) => void>();
  #nextId = 0;
  #gone: Error | undefined;

  private constructor(server: ChildProcess, launcher: string) {
    this.#server = server;
    this.#launcher = launcher;
    server.on('message', (message: ForkServerMessage, handle?: Socket) => this.#receive(message, handle));
    server.once('exit', (code, signal) => this.#lost(new SandboxError(ErrorCodes.SANDBOX_START, `the fork server exited (${signal ?? code})`)));
    server.once('error', (err) => this.#lost(new SandboxError(ErrorCodes.SANDBOX_START, `the fork server failed: ${err.message}`, { cause: err })));
    // It keeps this process alive only while it has sandboxes of ours (#hold).
    server.unref();
    this.#hold();
  }

  /** The channel holds the event loop open while a launch or an exit report is still due, and only then. */
  #hold(): void {
    const channel = this.#server.channel as unknown as { ref(): void; unref(): void } | undefined;
    if (this.#processes.size > 0) channel?.ref();
    else channel?.unref();
  }

  /** Starts the server: `fdFiles` are the files a launch may ask for as its fd 3 (the seccomp filters). */
  static async start(serverPath: string, launcherPath: string, fdFiles: readonly string[]): Promise<ForkServer> {
    // SECURITY: an empty environment (it holds no secret), stdin and stdout closed; fd 3 is the channel.
    // --launch-mount-ns: runner-launch enters a mount namespace without the host mounts no sandbox
    // is made from, so that each bwrap copies and reads a short mount table (forkserver.c).
    const server = spawn(serverPath, ['--launcher', launcherPath, ...fdFiles.flatMap((file) => ['--fd-file', file]), '--launch-mount-ns'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: {} });
    await once(server, 'spawn');
    return new ForkServer(server, launcherPath);
  }

  /** False once the server has exited (or was closed): a new one must be started. */
  get alive(): boolean {
    return this.#gone === undefined;
  }

  /** Runs the launcher with `args` (fd 3: the `fdFile`-th file, or none); resolves once its descriptors are here. */
  async launch(args: readonly string[], fdFile: number): Promise<SandboxProcess> {
    if (this.#gone) throw this.#gone;
    const id = this.#nextId++;
    const process = new ForkedProcess(this.#launcher, (signal) => this.#send({ type: 'kill', id, signal }));
    this.#processes.set(id, process);
    this.#hold();
    const started = new Promise<void>((resolve, reject) => this.#starting.set(id, (err) => (err ? reject(err) : resolve())));
    this.#send({ type: 'launch', id, args, fd_file: fdFile });
    try {
      await started;
    } catch (err) {
      this.#processes.delete(id);
      this.#hold();
      throw err;
    }
    return process;
  }

  /** Stops the server (what it started dies with it); sandboxes are destroyed before this. */
  close(): void {
    this.#gone ??= new SandboxError(ErrorCodes.SHUTTING_DOWN, 'the fork server is closed');
    this.#server.disconnect?.();
  }

  #send(message: object): void {
    if (this.#server.connected) this.#server.send(message);
  }

  #receive(message: ForkServerMessage, handle: Socket | undefined): void {
    const process = this.#processes.get(message.id);
    if (!process) {
      handle?.destroy();
      return;
    }
    if (message.type === 'launched' && handle) {
      if (process.adopt(message.stream, handle, message.pid)) this.#settle(message.id);
    } else if (message.type === 'exit') {
      this.#processes.delete(message.id);
      // (Every sandbox's exit comes here; only one still starting has anyone to tell why.)
      if (this.#starting.has(message.id)) this.#settle(message.id, new SandboxError(ErrorCodes.SANDBOX_START, 'the launcher exited before it started'));
      process.exited(message.code, signalName(message.signal));
    } else if (message.type === 'error') {
      this.#processes.delete(message.id);
      this.#settle(message.id, new SandboxError(ErrorCodes.SANDBOX_START, `the fork server could not start the sandbox: ${message.message}`));
    }
    this.#hold();
  }

  #settle(id: number, err?: Error): void {
    this.#starting.get(id)?.(err);
    this.#starting.delete(id);
  }

  /** The server gone: nothing it started survives it (PR_SET_PDEATHSIG, bwrap --die-with-parent). */
  #lost(err: Error): void {
    this.#gone ??= err;
    for (const id of this.#starting.keys()) this.#settle(id, err);
    for (const process of this.#processes.values()) {
      process.exited(null, 'SIGKILL');
      process.abandon();
    }
    this.#processes.clear();
  }
}
