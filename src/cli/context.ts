/** Shared by the commands: they report an exit code here; only src/cli/index.ts exits. */
export interface CliContext {
  exitCode: number;
}

/** Wraps a command action so that its returned number becomes the process's exit code. */
export function exitWith<A extends unknown[]>(ctx: CliContext, action: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    ctx.exitCode = await action(...args);
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
