import { Type } from 'typebox';
import type { ExecuteRequest } from '../../engine/request.js';
import type { ExecutionResult } from '../../engine/result.js';
import { ErrorCodes, RunnerError } from '../../errors.js';
import { disconnectSignal } from '../disconnect.js';
import { throwIfFailed } from '../http-errors.js';
import { RunBodySchema, RunErrorSchema, RunResultSchema, type RunResult } from '../schemas/run.js';
import type { Api, RouteDeps } from '../types.js';

/** Why a run counts as failed, in the original project's words. */
function exceptionOf(result: ExecutionResult): string | null {
  if (result.error) return result.error.code === ErrorCodes.AGENT_TIMEOUT ? 'E001 operation timed out' : result.error.message;
  if (result.timed_out) return 'E001 operation timed out';
  if (result.oom_killed) return 'memory limit exceeded';
  if (result.compile && result.compile.exit_code !== 0) return `compilation failed with exit code ${result.compile.exit_code}`;
  if (result.signal) return `killed by ${result.signal}`;
  if (result.exit_code !== 0) return `exited with code ${result.exit_code}`;
  return null;
}

function toRunResult(result: ExecutionResult): RunResult {
  const exception = exceptionOf(result);
  return {
    status: exception === null ? 'success' : 'failed',
    stdout: result.stdout,
    stderr: result.stderr === '' ? null : result.stderr,
    exception,
    executionTime: Math.round(result.timings.compile_ms + result.timings.exec_ms),
  };
}

export async function runRoutes(app: Api, { service, config }: RouteDeps): Promise<void> {
  app.post(
    '/api/v1/run',
    {
      config: { errorFormat: 'run' },
      schema: {
        operationId: 'run',
        summary: "Run a program: the original project's shape",
        description: 'An array `stdin` runs the program once per element, each in a fresh sandbox, in parallel up to the concurrency limit, and returns an array in the same order, each echoing its `stdin`.',
        tags: ['execute'],
        body: RunBodySchema,
        response: { 200: Type.Union([RunResultSchema, Type.Array(RunResultSchema)]), '4xx': RunErrorSchema, '5xx': RunErrorSchema },
      },
    },
    async (request, reply) => {
      const { language, files, stdin, args } = request.body;
      const base: ExecuteRequest = { language, files, ...(args ? { args } : {}) };
      const signal = disconnectSignal(reply);
      const one = (input: string | undefined): Promise<ExecutionResult> =>
        service.execute({ ...base, ...(input === undefined ? {} : { stdin: input }) }, { traceId: request.id, signal });
      if (!Array.isArray(stdin)) {
        const result = await one(stdin);
        // A failure of the service itself is an HTTP error here; in a batch it is reported per element.
        throwIfFailed(result);
        return toRunResult(result);
      }
      if (stdin.length > config.maxBatch) {
        throw new RunnerError(ErrorCodes.INVALID_REQUEST, `stdin: at most ${config.maxBatch} elements`);
      }
      if (!(await service.canAccept(stdin.length))) {
        throw new RunnerError(ErrorCodes.QUEUE_FULL, `no room for ${stdin.length} executions: the queue is full`);
      }
      return Promise.all(stdin.map(async (input) => ({ ...toRunResult(await one(input)), stdin: input })));
    },
  );
}
