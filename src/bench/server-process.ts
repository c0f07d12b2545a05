import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { packageRoot } from '../config/paths.js';

export const CLI_PATH = join(packageRoot, 'dist', 'src', 'cli', 'index.js');

export interface ServerProcess {
  url: string;
  pid: number;
  stop(): Promise<number | null>;
}

/** Starts `infra.operator api` as its own process (so the load generator does not share its event loop). */
export async function startServerProcess(args: string[]): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [CLI_PATH, 'api', '--port', '0', '--log-level', 'info', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    void exited.then(() => reject(new Error('the API server exited before it listened')));
  });
  child.stdout!.resume();
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Waits until the server's pool holds at least `idle` warm sandboxes. */
export async function waitForPool(url: string, idle: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const stats = (await (await fetch(`${url}/api/v1/pool`)).json()) as { idle_total: number };
    if (stats.idle_total >= idle) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`pool did not reach ${idle} idle sandboxes`);
}
