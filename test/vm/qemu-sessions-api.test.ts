import { it } from 'node:test';
import assert from 'node:assert/strict';
import { dataPaths } from '../../src/config/paths.js';
import { readKernelManifest } from '../../src/images/vm/kernel.js';
import { vmPaths } from '../../src/images/vm/paths.js';
import { hostCapabilities } from '../../src/sandbox/availability.js';
import { testServer } from '../helpers/server.js';
import { SessionApi } from '../helpers/sessions.js';

/** A session on a real QEMU microVM, picked with `backend` like an execution: state, files and the end. Needs `setup --vm`. */
const qemu = hostCapabilities(dataPaths()).backends.qemu;
const skip = qemu.usable || process.env.CI === 'true' ? false : `needs the QEMU backend: ${qemu.reason}`;

it('a session on QEMU keeps state and files in its VM between calls', { skip }, async () => {
  const server = await testServer({ allowedBackends: ['qemu'], poolSize: 0 });
  const api = new SessionApi(server.base);
  const id = await api.create({ language: 'python', backend: 'qemu' });
  assert.equal((await api.get(id)).body.backend, 'qemu');
  const kernel = await api.run(id, { code: 'import platform\nopen("k.txt", "w").write(platform.release())' });
  assert.equal(kernel.exit_code, 0, JSON.stringify(kernel));
  assert.equal((await api.file(id, 'k.txt')).bytes.toString(), readKernelManifest(vmPaths(dataPaths()))!.release, "the guest's kernel wrote it");
  assert.equal((await api.put(id, 'in.txt', Buffer.from('from the host'))).status, 200);
  assert.equal((await api.run(id, { command: ['cat', 'in.txt'] })).stdout, 'from the host');
  const link = await api.run(id, { command: ['ln', '-s', '/etc/passwd', 'p'] });
  assert.equal(link.exit_code, 0);
  assert.equal((await api.file(id, 'p')).body.error.field, 'path', 'a planted link is refused in a VM too');
  assert.equal((await api.remove(id)).status, 204);
});
