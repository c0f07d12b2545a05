/**
 * `npm run bench`: the same as `infra.operator bench` (see src/bench/). Arguments pass through,
 * e.g. `npm run bench -- --quick` or `npm run bench -- --soak 10000`.
 */
import { spawnSync } from 'node:child_process';
import { CLI_PATH } from '../src/bench/server-process.js';

const result = spawnSync(process.execPath, [CLI_PATH, 'bench', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
