import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dataDir } from '../config/paths.js';
import { ErrorCodes, RunnerError } from '../errors.js';
import { exposureWarning, type ApiConfig } from './config.js';
import { openServerService } from './engine-options.js';
import { serveService } from './engine-ipc.js';
import type { SupervisorMessage, WorkerStatus } from './worker.js';

export interface SeparatedServer {
  url: string;
  /** The HTTP side's pid (it runs as `config.apiUid`). */
  workerPid: number;
  /** Resolves when the HTTP side has exited on its own (a crash): the server is down. */
  workerExited: Promise<void>;
  close(): Promise<void>;
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

/**
 * Privilege separation for a server started as root: this process keeps root and the execution
 * service (its queue, cgroups, sandbox launches) and never parses a byte of HTTP; a child process
 * running as `config.apiUid` serves the API and forwards every call to that service over IPC
 * (engine-ipc.ts).
 */
export async function startSeparatedServer(config: ApiConfig): Promise<SeparatedServer> {
  const service = await openServerService(config);
  const warning = exposureWarning(config);
  if (warning) process.stderr.write(`\n${'!'.repeat(78)}\n${warning}\n${'!'.repeat(78)}\n\n`);
  const worker = spawn(process.execPath, [WORKER], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    uid: config.apiUid,
    gid: config.apiUid,
    // SECURITY: nothing of this process's environment but what the worker needs (its data dir
    // would otherwise follow its own uid's HOME).
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', RUNNER_CODES_HOME: dataDir() },
  });
  const workerExited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  serveService(service, worker);
  worker.send({ type: 'start', config, backendNames: [...service.backendNames] } satisfies SupervisorMessage);
  const status = await new Promise<WorkerStatus | null>((resolve) => {
    worker.once('message', (message: WorkerStatus) => resolve(message));
    void workerExited.then(() => resolve(null));
  });
  if (status?.type !== 'listening') {
    await service.close();
    const why = status?.type === 'failed' ? status.message : 'it exited';
    throw new RunnerError(ErrorCodes.CONFIG, `the HTTP side (uid ${config.apiUid}) could not start: ${why}`, {
      hint: 'ports below 1024 need root: use a higher --port, or --api-uid 0 for one process',
    });
  }
  let closing: Promise<void> | undefined;
  return {
    url: status.url,
    workerPid: worker.pid!,
    workerExited,
    close() {
      closing ??= (async () => {
        if (worker.connected) worker.send({ type: 'shutdown' } satisfies SupervisorMessage);
        // The worker drains for the grace period, then cancels; it gets a little longer to exit.
        const kill = setTimeout(() => worker.kill('SIGKILL'), config.shutdownGraceMs + 5_000);
        await workerExited;
        clearTimeout(kill);
        await service.close();
      })();
      return closing;
    },
  };
}
