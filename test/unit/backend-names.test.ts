import { it } from 'node:test';
import assert from 'node:assert/strict';
import { API_OPTIONS } from '../../src/api/config.js';
import { ExecuteBodySchema } from '../../src/api/schemas/execute.js';
import { cliProgram } from '../../src/cli/program.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { BACKEND_CHOICES, BACKEND_NAMES } from '../../src/sandbox/backend-names.js';

// The backend names are listed once (src/sandbox/backend-names.ts); every place a user meets them
// takes them from there. (Each Backend class's `name` is a BackendName, checked by the compiler.)

it('the HTTP schema, the API options and `run --backend` offer exactly the listed backends', async () => {
  assert.deepEqual(ExecuteBodySchema.properties.backend.enum, [...BACKEND_NAMES]);
  assert.deepEqual(API_OPTIONS.find((o) => o.key === 'backend')?.choices, BACKEND_CHOICES);
  assert.deepEqual(API_OPTIONS.find((o) => o.key === 'allowedBackends')?.choices, BACKEND_NAMES);
  const run = (await cliProgram({ exitCode: EXIT.OK })).commands.find((c) => c.name() === 'run');
  const help = run?.options.find((o) => o.long === '--backend')?.description ?? '';
  for (const name of BACKEND_CHOICES) assert.match(help, new RegExp(`\\b${name}\\b`));
  assert.deepEqual(BACKEND_CHOICES, ['auto', ...BACKEND_NAMES]);
});
