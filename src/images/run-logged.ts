import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ErrorCodes, ImageError } from '../errors.js';

/**
 * Runs a build command (argv, never a shell string), passing each output line to `onLine`.
 * Rejects with IMAGE_BUILD carrying the last lines of output when it fails.
 */
export function runLogged(argv: readonly string[], onLine: (line: string) => void, env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<string> {
  const [command, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'], env, ...(cwd === undefined ? {} : { cwd }) });
    const tail: string[] = [];
    const output: string[] = [];
    const take = (line: string): void => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      output.push(line);
      if (output.length > 2000) output.shift();
      onLine(line);
    };
    createInterface({ input: child.stdout }).on('line', take);
    createInterface({ input: child.stderr }).on('line', take);
    child.once('error', (err) => reject(new ImageError(ErrorCodes.IMAGE_BUILD, `cannot run ${command}: ${err.message}`, { cause: err })));
    child.once('close', (code, signal) => {
      if (code === 0) return resolve(output.join('\n'));
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      reject(new ImageError(ErrorCodes.IMAGE_BUILD, `${command} ${how}:\n${tail.join('\n')}`));
    });
  });
}
