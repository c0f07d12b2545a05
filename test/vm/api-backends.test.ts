import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { loadApiConfig } from '../../src/api/config.js';
import { dataPaths } from '../../src/config/paths.js';
import { readKernelManifest } from '../../src/images/vm/kernel.js';
import { vmPaths } from '../../src/images/vm/paths.js';
import { hostCapabilities } from '../../src/sandbox/availability.js';
import { post, testServer } from '../helpers/server.js';

/**
 * A request picks its backend (`backend` in the body) among those the server offers: here bwrap by
 * default and QEMU microVMs on request, both real. Needs `setup --vm` (as the other VM tests).
 */
const qemu = hostCapabilities(dataPaths()).backends.qemu;
const skip = qemu.usable || process.env.CI === 'true' ? false : `needs the QEMU backend: ${qemu.reason}`;
const RELEASE = { language: 'python', code: 'import platform\nprint(platform.release())\n' };

describe('choosing the backend per request', { skip }, async () => {
  const server = await testServer({ allowedBackends: ['qemu'] });

  it('runs on the server\'s default backend unless the request names another one it offers', async () => {
    const host = await post(server.base, '/api/v1/execute', RELEASE);
    assert.equal(host.status, 200, JSON.stringify(host.body));
    const guest = readKernelManifest(vmPaths(dataPaths()))!.release;
    assert.equal(host.body.stdout, `${release()}\n`, 'bwrap shares the host kernel');
    const vm = await post(server.base, '/api/v1/execute', { ...RELEASE, backend: 'qemu' });
    assert.equal(vm.status, 200, JSON.stringify(vm.body));
    assert.equal(vm.body.stdout, `${guest}\n`, 'the guest kernel of a QEMU microVM');
  });

  it('refuses a backend the server does not offer, naming the field', async () => {
    const reply = await post(server.base, '/api/v1/execute', { ...RELEASE, backend: 'firecracker' });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.field, 'backend');
    assert.match(reply.body.error.message, /'firecracker' is not offered by this server \(offered: bwrap, qemu\)/);
    const unknown = await post(server.base, '/api/v1/execute', { ...RELEASE, backend: 'docker' });
    assert.equal(unknown.status, 400, 'the schema knows the backends');
  });

  it('checks allowed_backends when the configuration is loaded', () => {
    assert.deepEqual(loadApiConfig({}, { RUNNER_CODES_ALLOWED_BACKENDS: 'qemu,firecracker' }).allowedBackends, ['qemu', 'firecracker']);
    assert.throws(() => loadApiConfig({}, { RUNNER_CODES_ALLOWED_BACKENDS: 'qemu,docker' }), /RUNNER_CODES_ALLOWED_BACKENDS: 'docker' is not one of bwrap, qemu, firecracker/);
  });
});
