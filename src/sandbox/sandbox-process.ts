import type { Readable, Writable } from 'node:stream';

/**
 * The host process a sandbox is, as its backend sees it: a ChildProcess that Node spawned, or one
 * the fork server started (fork-server.ts). `close` comes once the process has exited and its
 * streams have ended, as ChildProcess has it.
 */
export interface SandboxProcess {
  readonly pid?: number | undefined;
  /** What was run (error messages quote it). */
  readonly spawnfile: string;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Set once it has exited: its status, or the signal that killed it. */
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'close' | 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
}
