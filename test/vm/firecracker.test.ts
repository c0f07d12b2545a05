import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataPaths } from '../../src/config/paths.js';
import { Engine } from '../../src/engine/engine.js';
import { ImageStore } from '../../src/images/store.js';
import { readKernelManifest } from '../../src/images/vm/kernel.js';
import { vmPaths } from '../../src/images/vm/paths.js';
import { hostCapabilities } from '../../src/sandbox/availability.js';
import { FirecrackerBackend } from '../../src/sandbox/firecracker/backend.js';
import { currentSnapshot, snapshotFiles } from '../../src/sandbox/firecracker/snapshot-manifest.js';
import { DEFAULT_LIMITS } from '../../src/engine/limits.js';
import type { JobStage } from '../../src/protocol/messages.js';
import { WORKDIR } from '../../src/sandbox/workdir.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { vmHostOptions } from '../helpers/vm-host.js';

/**
 * FirecrackerBackend end to end, with everything real but the hypervisor: Firecracker needs KVM,
 * which our machines lack, so `firecracker` is test/helpers/fake-firecracker.ts — it checks every
 * API request against Firecracker's v1.16.1 spec and boots the configured vmlinux, initramfs and
 * disk under QEMU, behind Firecracker's vsock handshake. Needs `setup --vm` (as the QEMU tests).
 */
const paths = dataPaths();
const qemu = hostCapabilities(paths).backends.qemu;
const skip = qemu.usable || process.env.CI === 'true' ? false : `needs the VM guest and QEMU: ${qemu.reason}`;
const fakeFirecracker = fileURLToPath(new URL('../helpers/fake-firecracker.js', import.meta.url));

function pythonStage(code: string): JobStage {
  return {
    name: 'run', argv: ['python3', '-c', code], env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/tmp'], cwd: WORKDIR,
    stdin_b64: '', timeout_ms: 30_000, output_limit: 1 << 20,
    rlimits: { cpu_s: 30, nofile: 256, fsize_bytes: 64 << 20, stack_bytes: 8 << 20, core_bytes: 0 },
  };
}

describe('Firecracker backend (against a spec-checking stand-in for Firecracker)', { skip }, () => {
  let engine: Engine;
  let records: string;
  let recordDir: string;
  const vm = vmPaths(paths);
  const images = new ImageStore(paths.imagesDir);
  const backendOptions = () => ({
    ...vmHostOptions(paths),
    command: [process.execPath, fakeFirecracker, '--record', records],
  });
  const recorded = (): { method: string; path: string; violations: string[] }[] =>
    readFileSync(records, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
  before(() => {
    // The stand-in runs as the VM's unprivileged uid: it may append to this file, nothing more.
    recordDir = mkdtempSync(join(tmpdir(), 'rc-fc-record-'));
    chmodSync(recordDir, 0o755);
    records = join(recordDir, 'requests.jsonl');
    writeFileSync(records, '');
    chmodSync(records, 0o666);
    engine = new Engine({ backend: new FirecrackerBackend(backendOptions()), images });
  });
  after(async () => {
    await engine?.close();
    rmSync(recordDir, { recursive: true, force: true });
    rmSync(snapshotFiles(vm, 'python').dir, { recursive: true, force: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(leftovers(), NOTHING_LEFT, 'VMs left cgroups or processes behind');
    assert.deepEqual(readdirSync(vmPaths(paths).runDir), [], 'no VM directory (API or vsock socket) is left');
  });

  it('boots through the API in the documented order, every request valid, and runs the job over vsock', async () => {
    const result = await engine.execute({ language: 'python', code: 'import platform\nprint(input(), platform.release())\n', stdin: 'vsock\n' });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    assert.equal(result.stdout, `vsock ${readKernelManifest(vm)!.release}\n`, 'the guest runs the prepared kernel');
    const requests = recorded();
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.path}`),
      ['PUT /boot-source', 'PUT /drives/root', 'PUT /machine-config', 'PUT /vsock', 'PUT /actions'],
    );
    assert.deepEqual(requests.flatMap((r) => r.violations), [], 'every request matches the v1.16.1 spec');
  });

  it('serves a protocol-2 session over vsock: execs, streamed output, files, a refused symlink', async () => {
    writeFileSync(records, '');
    const backend = new FirecrackerBackend(backendOptions());
    const sandbox = await backend.start({ image: 'python', rootfs: images.rootfs('python'), limits: DEFAULT_LIMITS, traceId: 'fc-session' });
    try {
      const session = await sandbox.openSession();
      await session.put('in/n.txt', Buffer.from('41\n'));
      const streamed: string[] = [];
      const run = session.exec([pythonStage('print(int(open("in/n.txt").read()) + 1); open("out.txt", "w").write("kept")')], { stream: true }, {
        onOutput: (_stream, data) => streamed.push(data.toString()),
      });
      const [report] = await run.done;
      assert.equal(Buffer.from(report!.stdout_b64, 'base64').toString(), '42\n');
      assert.equal(streamed.join(''), '42\n', 'streamed over vsock as it ran');
      assert.equal((await session.get('out.txt', 100)).content.toString(), 'kept', 'a file written by one exec is there for the next request');
      await session.exec([pythonStage('import os; os.symlink("/etc", "etc")')]).done;
      await assert.rejects(session.get('etc/passwd', 1000), (err: Error & { detail?: { agentCode: string } }) => err.detail?.agentCode === 'symlink');
      assert.deepEqual((await session.list('', { recursive: true })).entries.map((e) => e.path), ['etc', 'in', 'in/n.txt', 'out.txt'], 'the symlink listed, never followed');
    } finally {
      await sandbox.destroy();
    }
    assert.deepEqual(recorded().flatMap((r) => r.violations), [], 'every request matches the v1.16.1 spec');
  });

  it('tears a VM down on a timeout and leaves nothing', async () => {
    const result = await engine.execute({ language: 'bash', code: 'sleep 300 &\nsleep 300\n', limits: { timeoutMs: 1000 } });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    assert.equal(result.timed_out, true);
  });

  it('snapshots an image while its guest waits for the host, and executions restore that snapshot', async () => {
    const image = images.manifest('python')!;
    const kernel = (JSON.parse(readFileSync(vm.kernelManifest, 'utf8')) as { release: string }).release;
    writeFileSync(records, '');
    const made = await new FirecrackerBackend(backendOptions()).snapshot(image, kernel, DEFAULT_LIMITS);
    assert.deepEqual(
      recorded().map((r) => `${r.method} ${r.path}`),
      ['PUT /boot-source', 'PUT /drives/root', 'PUT /machine-config', 'PUT /vsock', 'PUT /actions', 'PATCH /vm', 'PUT /snapshot/create'],
    );
    assert.deepEqual(recorded().flatMap((r) => r.violations), [], 'pause and snapshot requests match the spec');
    assert.equal(currentSnapshot(vm, image, kernel, false)?.created_at, made.created_at, 'the snapshot is current for this image, kernel and initramfs');
    assert.equal(statSync(snapshotFiles(vm, 'python').memory).uid, 0, 'the snapshot files belong to root, not to the VM that wrote them');

    writeFileSync(records, '');
    const restoring = new Engine({
      backend: new FirecrackerBackend({ ...backendOptions(), snapshotFor: (id) => (currentSnapshot(vm, images.manifest(id)!, kernel, false) ? snapshotFiles(vm, id) : null) }),
      images,
    });
    try {
      const result = await restoring.execute({ language: 'python', code: 'print("restored", input())\n', stdin: 'clone\n' });
      assert.equal(result.status, 'success', JSON.stringify(result.error));
      assert.equal(result.stdout, 'restored clone\n');
      assert.deepEqual(recorded().map((r) => `${r.method} ${r.path}`), ['PUT /snapshot/load'], 'restored, not booted');
      assert.deepEqual(recorded().flatMap((r) => r.violations), []);
    } finally {
      await restoring.close();
    }
  });
});
