import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firecrackerBinary, parseFirecrackerVersion, registerFirecracker } from '../../src/host/firecracker-binary.js';
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
});
