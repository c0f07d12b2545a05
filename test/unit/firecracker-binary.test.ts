import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFirecrackerVersion, registerFirecracker, registerJailer } from '../../src/host/firecracker-binary.js';
import { firecrackerBinary, jailerBinary } from '../../src/images/vm/vmm-binaries.js';
import { vmPaths } from '../../src/images/vm/paths.js';

/** `setup --vm --firecracker PATH`: the binary must say it is Firecracker ≥ 1.16.1 (real binaries run here). */
describe('the user-provided Firecracker binary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-fc-bin-'));
  const vm = vmPaths({ root: join(dir, 'data') } as never);
  after(() => rmSync(dir, { recursive: true, force: true }));
  const fakeBinary = (name: string, versionLine: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\necho '${versionLine}'\n`);
    chmodSync(path, 0o755);
    return path;
  };

  it('reads the version Firecracker prints', () => {
    assert.deepEqual(parseFirecrackerVersion('Firecracker v1.16.1\n\nSupported snapshot data format versions: v8.0.0\n'), [1, 16, 1]);
    assert.equal(parseFirecrackerVersion('qemu-system-x86_64 7.2.0'), null);
  });

  it('refuses an older Firecracker, or something else, naming the flag and changing nothing', async () => {
    await assert.rejects(registerFirecracker(vm, fakeBinary('old', 'Firecracker v1.15.9')), /--firecracker: .* is Firecracker v1\.15\.9; v1\.16\.1 or newer is needed/);
    await assert.rejects(registerFirecracker(vm, fakeBinary('other', 'cloud-hypervisor v40.0')), /does not say it is Firecracker/);
    await assert.rejects(registerFirecracker(vm, join(dir, 'missing')), /does not exist/);
    assert.equal(existsSync(vm.firecracker), false);
  });

  it('links an accepted binary, which the backend then uses unless RUNNER_CODES_FIRECRACKER says otherwise', async () => {
    const good = fakeBinary('good', 'Firecracker v1.16.1');
    assert.equal(await registerFirecracker(vm, good), good);
    assert.equal(readlinkSync(vm.firecracker), good);
    assert.equal(firecrackerBinary(vm, {}), vm.firecracker);
    assert.equal(firecrackerBinary(vm, { RUNNER_CODES_FIRECRACKER: '/bin/true' }), '/bin/true');
    // A newer release replaces the link.
    const newer = fakeBinary('newer', 'Firecracker v1.17.0');
    await registerFirecracker(vm, newer);
    assert.equal(readlinkSync(vm.firecracker), newer);
  });

  it('takes a jailer only of the same release as Firecracker, and only for a binary named firecracker', async () => {
    const firecracker = fakeBinary('firecracker-v1.16.1-x86_64', 'Firecracker v1.16.1');
    assert.deepEqual(parseFirecrackerVersion('Jailer v1.16.1\n', 'Jailer'), [1, 16, 1]);
    await assert.rejects(registerJailer(vm, fakeBinary('jailer-old', 'Jailer v1.15.0'), firecracker), /--jailer: .* is Jailer v1\.15\.0; v1\.16\.1 or newer is needed/);
    await assert.rejects(registerJailer(vm, fakeBinary('jailer-next', 'Jailer v1.17.0'), firecracker), /--jailer: .* is Jailer v1\.17\.0 but Firecracker is v1\.16\.1: use both from the same release/);
    await assert.rejects(registerJailer(vm, fakeBinary('not-a-jailer', 'Firecracker v1.16.1'), firecracker), /does not say it is Jailer/);
    const jailer = fakeBinary('jailer-v1.16.1-x86_64', 'Jailer v1.16.1');
    await assert.rejects(registerJailer(vm, jailer, null), /--jailer: the jailer needs a Firecracker binary: give --firecracker PATH too/);
    await assert.rejects(registerJailer(vm, jailer, fakeBinary('fc', 'Firecracker v1.16.1')), /runs only a binary whose file name contains 'firecracker'/);
    assert.equal(existsSync(vm.jailer), false, 'a refused jailer is not linked');

    assert.equal(await registerJailer(vm, jailer, firecracker), jailer);
    assert.equal(readlinkSync(vm.jailer), jailer);
    assert.equal(jailerBinary(vm, {}), vm.jailer);
    assert.equal(jailerBinary(vm, { RUNNER_CODES_JAILER: '/bin/true' }), '/bin/true');
  });
});
