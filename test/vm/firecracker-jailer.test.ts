import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dataPaths } from '../../src/config/paths.js';
import { removeStaleSandboxes } from '../../src/sandbox/stale-sandboxes.js';
import { Engine } from '../../src/engine/engine.js';
import { DEFAULT_LIMITS } from '../../src/engine/limits.js';
import { ImageStore } from '../../src/images/store.js';
import { vmPaths } from '../../src/images/vm/paths.js';
import { hostCapabilities } from '../../src/sandbox/availability.js';
import { openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import { FirecrackerBackend, type FirecrackerBackendOptions } from '../../src/sandbox/firecracker/backend.js';
import { currentSnapshot, snapshotFiles } from '../../src/sandbox/firecracker/snapshot-manifest.js';
import { NOTHING_LEFT, isSandboxUid, leftovers } from '../helpers/host.js';
import { vmHostOptions } from '../helpers/vm-host.js';
import { sandboxProcesses } from '../helpers/sandbox-procs.js';

/**
 * FirecrackerBackend in its production mode, under the jailer, with everything real but the
 * hypervisor and the chroot: `jailer` is test/helpers/fake-jailer.ts (the jailer's argument rules,
 * its cgroup writes and joins on the real cgroup tree, the chroot directory with its devices and
 * ownership, the uid drop, a real PID namespace, and its exit right after the fork), and
 * `firecracker` the spec-checking stand-in that boots the guest in QEMU and resolves every path it
 * is given inside the chroot. runner-reaper is the real one. Needs `setup --vm` (as the QEMU tests).
 */
const paths = dataPaths();
const qemu = hostCapabilities(paths).backends.qemu;
const skip = qemu.usable || process.env.CI === 'true' ? false : `needs the VM guest and QEMU: ${qemu.reason}`;
const helper = (name: string): string => fileURLToPath(new URL(`../helpers/${name}`, import.meta.url));

describe('Firecracker under the jailer (stand-ins for the jailer and Firecracker)', { skip }, () => {
  const vm = vmPaths(paths);
  const images = new ImageStore(paths.imagesDir);
  let dir: string;
  let requests: string;
  let jailings: string;
  let engine: Engine;
  let options: FirecrackerBackendOptions;
  const lines = (file: string): Record<string, unknown>[] => readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const jailsLeft = (): string[] => (existsSync(join(vm.jailDir, 'firecracker')) ? readdirSync(join(vm.jailDir, 'firecracker')) : []);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rc-jailer-'));
    chmodSync(dir, 0o755);
    requests = join(dir, 'requests.jsonl');
    jailings = join(dir, 'jailings.jsonl');
    for (const file of [requests, jailings]) {
      writeFileSync(file, '');
      chmodSync(file, 0o666);
    }
    // The jailer copies this into each chroot and runs the copy as the VM's uid; its name must say firecracker.
    const firecracker = join(dir, 'firecracker');
    writeFileSync(firecracker, `#!/bin/sh\nexec ${process.execPath} ${helper('fake-firecracker.js')} --record ${requests} "$@"\n`, { mode: 0o755 });
    const jailer = join(dir, 'jailer');
    writeFileSync(jailer, `#!/bin/sh\nexec ${process.execPath} ${helper('fake-jailer.js')} --record ${jailings} "$@"\n`, { mode: 0o755 });
    options = {
      ...vmHostOptions(paths),
      command: [firecracker],
      jailer: { jailerPath: jailer, chrootBase: vm.jailDir, reaperPath: paths.reaper },
    };
    engine = new Engine({ backend: new FirecrackerBackend(options), images });
  });

  after(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(snapshotFiles(vm, 'python').dir, { recursive: true, force: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(leftovers(), NOTHING_LEFT, 'jailed VMs left cgroups or processes behind');
    assert.deepEqual(jailsLeft(), [], 'no jail directory is left');
  });

  it('runs a job in a jailed Firecracker: in the VM cgroup, as the VM uid, in a PID namespace of its own, with chroot paths', async () => {
    const running = engine.execute({ language: 'python', code: 'import time\nprint(input())\ntime.sleep(1.5)\n', stdin: 'jailed\n' });
    let vmm: ReturnType<typeof sandboxProcesses>[number] | undefined;
    for (let i = 0; i < 600 && !vmm; i++) {
      vmm = sandboxProcesses().find((p) => p.cmdline.includes('fake-firecracker') && p.cmdline.includes('--jail-root'));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(vmm, 'the jailed Firecracker runs in a sandbox cgroup');
    assert.ok(isSandboxUid(vmm.uids[0]!) && vmm.uids.every((uid) => uid === vmm.uids[0]), `runs as the VM's own uid (${vmm.uids})`);
    assert.deepEqual(vmm.groups, [], 'no supplementary groups');
    assert.notEqual(vmm.ns.pid, readlinkSync('/proc/self/ns/pid'), 'a PID namespace of its own');
    const stat = readFileSync(`/proc/${vmm.pid}/stat`, 'utf8');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    assert.equal(readFileSync(`/proc/${parent}/comm`, 'utf8').trim(), 'runner-reaper', 'orphaned by the jailer, adopted by runner-reaper');
    const root = join(vm.jailDir, 'firecracker', vmm.sandbox, 'root');
    assert.equal(readlinkSync(`/proc/${vmm.pid}/cwd`), root, 'it works in its chroot');
    assert.equal(statSync(root).uid, vmm.uids[0], 'the jailer handed the chroot to the VM uid');
    for (const input of ['vmlinux', 'initramfs', 'rootfs.ext4']) {
      const linked = statSync(join(root, input));
      assert.equal(linked.uid, 0, `${input} stays root's`);
      assert.ok(linked.nlink >= 2, `${input} is hard-linked in, not copied`);
    }
    assert.ok(statSync(join(root, 'dev', 'kvm')).isCharacterDevice(), '/dev/kvm is made in the chroot');

    const result = await running;
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    assert.equal(result.stdout, 'jailed\n');
    const api = lines(requests);
    assert.deepEqual(
      api.map((r) => `${r.method} ${r.path}`),
      ['PUT /boot-source', 'PUT /drives/root', 'PUT /machine-config', 'PUT /vsock', 'PUT /actions'],
    );
    assert.deepEqual(api.flatMap((r) => r.violations as string[]), [], 'every request matches the spec and names files inside the chroot');
    const [jailing] = lines(jailings) as { argv: string[]; cgroups: string[] }[];
    assert.ok(jailing!.argv.includes('--new-pid-ns'));
    assert.deepEqual(jailing!.argv.slice(jailing!.argv.indexOf('--') + 1), ['--api-sock', '/api.sock'], 'Firecracker gets a chroot-relative API socket');
    assert.equal(jailing!.cgroups.length, openCgroupDriver().version === 1 ? 4 : 3, 'the jailer joined every hierarchy of the VM cgroup');
    assert.ok(jailing!.cgroups.every((location) => location.endsWith(`/runner-codes/${vmm!.sandbox}`)), 'and only the VM cgroup the host made');
    assert.deepEqual(jailsLeft(), [], 'the jail is removed with the VM');
  });

  it('snapshots under the jailer and restores jailed; a snapshot made unjailed is not used', async () => {
    const image = images.manifest('python')!;
    const kernel = (JSON.parse(readFileSync(vm.kernelManifest, 'utf8')) as { release: string }).release;
    const made = await new FirecrackerBackend(options).snapshot(image, kernel, DEFAULT_LIMITS);
    assert.equal(made.jailed, true);
    assert.equal(currentSnapshot(vm, image, kernel, true)?.created_at, made.created_at);
    assert.equal(currentSnapshot(vm, image, kernel, false), null, 'a jailed snapshot names chroot paths: not for an unjailed Firecracker');
    assert.equal(statSync(snapshotFiles(vm, 'python').memory).uid, 0, 'the snapshot files belong to root');

    writeFileSync(requests, '');
    const restoring = new Engine({
      backend: new FirecrackerBackend({ ...options, snapshotFor: (id) => (currentSnapshot(vm, images.manifest(id)!, kernel, true) ? snapshotFiles(vm, id) : null) }),
      images,
    });
    try {
      const result = await restoring.execute({ language: 'python', code: 'print("restored", input())\n', stdin: 'in jail\n' });
      assert.equal(result.status, 'success', JSON.stringify(result.error));
      assert.equal(result.stdout, 'restored in jail\n');
      assert.deepEqual(lines(requests).map((r) => `${r.method} ${r.path}`), ['PUT /snapshot/load'], 'restored, not booted');
      assert.deepEqual(lines(requests).flatMap((r) => r.violations as string[]), [], 'the snapshot and memory are found inside the chroot');
    } finally {
      await restoring.close();
    }
  });

  it('kills the jailed VM when its host process dies, and the next start removes its jail and cgroup', async () => {
    // A host process that starts one jailed VM, says which, and is then killed without any teardown.
    const dist = (file: string): string => pathToFileURL(fileURLToPath(new URL(`../../src/${file}`, import.meta.url))).href;
    const program = `
      const { FirecrackerBackend } = await import(${JSON.stringify(dist('sandbox/firecracker/backend.js'))});
      const { openCgroupDriver } = await import(${JSON.stringify(dist('sandbox/cgroup/detect.js'))});
      const { DEFAULT_LIMITS } = await import(${JSON.stringify(dist('engine/limits.js'))});
      const options = ${JSON.stringify({ ...options, cgroups: undefined })};
      const backend = new FirecrackerBackend({ ...options, cgroups: openCgroupDriver() });
      const sandbox = await backend.start({ image: 'python', rootfs: '', limits: DEFAULT_LIMITS, traceId: 'crash-test' });
      await sandbox.ready();
      console.log(sandbox.id);
      setInterval(() => {}, 1000);
    `;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    owner.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const name = await new Promise<string>((resolve, reject) => {
      owner.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      owner.once('exit', (code) => reject(new Error(`the owner exited (${code}) before its VM was ready: ${stderr}`)));
    }).finally(() => removeStaleSandboxes(openCgroupDriver()));
    const vmProcesses = (): number => sandboxProcesses(true).filter((p) => p.sandbox === name).length;
    assert.ok(vmProcesses() > 0, 'the VM runs');
    owner.kill('SIGKILL');
    await new Promise((resolve) => owner.once('exit', resolve));
    for (let i = 0; i < 50 && vmProcesses() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(vmProcesses(), 0, 'runner-reaper killed every process of the VM when its owner died');
    assert.ok(jailsLeft().includes(name), 'the crash left the jail directory');

    const cgroups = openCgroupDriver();
    assert.ok(cgroups.list().includes(name), 'and the cgroup');
    await removeStaleSandboxes(cgroups);
    new FirecrackerBackend(options);
    assert.ok(!cgroups.list().includes(name), 'the next start removes the stale cgroup');
    assert.ok(!jailsLeft().includes(name), 'and the stale jail');
  });
});
