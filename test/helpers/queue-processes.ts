import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { freePort } from './redis-server.js';

const CLI = fileURLToPath(new URL('../../src/cli/index.js', import.meta.url));

/**
 * A real `infra.operator api --queue` or `infra.operator worker` process on loopback, with its
 * output kept for messages; killed (SIGKILL) after the file's tests if still running.
 */
export class QueueProcess {
  readonly child: ChildProcess;
  log = '';
  readonly exited: Promise<number | null>;

  private constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    after(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Runs the CLI to its end: exit code and everything it printed. */
  static async run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
    const p = new QueueProcess(args, env);
    const code = await p.exited;
    return { code, output: p.log };
  }

  /** A worker on `redisUrl`; resolves once it registered (its start line), with its id and queue. */
  static async worker(redisUrl: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<QueueProcess & { id: string; queue: string }> {
    const p = new QueueProcess(['worker', '--queue', redisUrl, '--backend', 'bwrap', ...args], env);
    const [, id, queue] = await p.waitFor(/^worker (\S+): queue (\S+)/m, 60_000);
    return Object.assign(p, { id: id!, queue: queue! });
  }

  /** An API in queue mode on a free loopback port; resolves once it listens, with its base URL. */
  static async api(redisUrl: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<QueueProcess & { base: string }> {
    const port = await freePort();
    const p = new QueueProcess(['api', '--queue', redisUrl, '--port', String(port), '--host', '127.0.0.1', '--api-uid', '0', ...args], env);
    await p.waitFor(/Server listening at/, 60_000);
    return Object.assign(p, { base: `http://127.0.0.1:${port}` });
  }

  /** Waits until the output matches (or the process exits, or the timeout passes: then throws with the output). */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.log);
      if (match) return match;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`the process exited (${this.child.exitCode ?? this.child.signalCode}) before printing ${pattern}:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
