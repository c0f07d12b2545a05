import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataPaths } from '../../src/config/paths.js';
import { DEFAULT_LIMITS } from '../../src/engine/limits.js';
import { openEngine } from '../../src/compose/open-engine.js';
import { DEFAULT_HOST_ID_RANGE } from '../../src/sandbox/host-ids.js';
import { requireKernelManifest } from '../../src/images/vm/kernel.js';
import { vmPaths } from '../../src/images/vm/paths.js';
import { ImageStore } from '../../src/images/store.js';
import { hostCapabilities } from '../../src/sandbox/availability.js';
import type { Backend } from '../../src/sandbox/backend.js';
import { FirecrackerBackend } from '../../src/sandbox/firecracker/backend.js';
import { deviceAccess, kvmDeviceFacts } from '../../src/sandbox/kvm.js';
import { QemuBackend } from '../../src/sandbox/qemu/backend.js';
import { guestClock } from '../../src/sandbox/qemu/guest-clock.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { vmHostOptions } from '../helpers/vm-host.js';
import { sandboxProcesses } from '../helpers/sandbox-procs.js';

/**
 * MicroVM hosts as they are: KVM detection on this machine (PVM: only TCG boots guests), the
 * /dev/kvm group a VMM gets on a stock Debian host (0660 root:kvm), and warm VMs whose RAM was
 * fixed at boot. Real QEMU under TCG, the real runner-launch and the spec-checking Firecracker
 * stand-in; needs `setup --vm --lang python`.
 */
const paths = dataPaths();
const capabilities = hostCapabilities(paths);
const skip = capabilities.backends.qemu.usable || process.env.CI === 'true' ? false : `the qemu backend is not usable here: ${capabilities.backends.qemu.reason}`;
const vm = vmPaths(paths);
const cli = fileURLToPath(new URL('../../src/cli/index.js', import.meta.url));
const fakeFirecracker = fileURLToPath(new URL('../helpers/fake-firecracker.js', import.meta.url));
/** Just below the sandbox uid block: no account has it. */
const KVM_LIKE_GID = DEFAULT_HOST_ID_RANGE.first - 256;
const MiB = 1024 * 1024;

/** MemTotal of the guest, in MiB, as the program in it reads it. */
const MEMTOTAL = 'print(int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]) // 1024)\n';

/** The processes of the one VM `backend` starts, as the host's /proc shows them, while it is up. */
async function vmProcesses(backend: Backend): Promise<ReturnType<typeof sandboxProcesses>> {
  const rootfs = new ImageStore(paths.imagesDir).rootfs('python');
  const sandbox = await backend.start({ image: 'python', rootfs, limits: DEFAULT_LIMITS, traceId: 'vm-hosts' });
  try {
    await sandbox.ready();
    return sandboxProcesses().filter((p) => p.sandbox === sandbox.id);
  } finally {
    await sandbox.destroy();
  }
}

const onPvm = existsSync('/sys/module/kvm_pvm') ? false : 'this host\'s /dev/kvm is not PVM';

describe('KVM on this host (PVM)', { skip: skip || onPvm }, () => {
  it('doctor --json reports KVM as PVM, not usable, and why', () => {
    const out = execFileSync(process.execPath, [cli, 'doctor', '--json'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const report = JSON.parse(out) as { kvm: { usable: boolean; reason: string; kind: string; module: string | null }; backends: Record<string, { usable: boolean; reason: string }> };
    assert.equal(report.kvm.kind, 'pvm');
    assert.equal(report.kvm.module, 'kvm_pvm');
    assert.equal(report.kvm.usable, false);
    assert.match(report.kvm.reason, /PVM \(module kvm_pvm\).*CONFIG_PVM_GUEST=y.*guest kernel is not one/);
    assert.match(report.backends.qemu!.reason, /under emulation \(TCG\)/);
    assert.match(report.backends.firecracker!.reason, /needs KVM \(KVM here is PVM/);
    // The human-readable report says the same.
    const text = spawnSync(process.execPath, [cli, 'doctor'], { encoding: 'utf8' }).stdout;
    assert.match(text, /^no\s+kvm\s+KVM here is PVM \(module kvm_pvm\)/m);
  });

  it('auto picks bwrap, and the qemu backend runs QEMU with -accel tcg, never kvm', async () => {
    const auto = await openEngine();
    try {
      assert.equal(auto.backend.name, 'bwrap');
    } finally {
      await auto.close();
    }
    assert.equal(capabilities.qemuAccel, 'tcg');
    const engine = await openEngine({ backend: 'qemu' });
    try {
      const [vmm, ...others] = await vmProcesses(engine.backend);
      assert.deepEqual(others, [], 'one VMM process');
      const argv = vmm!.cmdline.split(' ');
      assert.equal(argv[argv.indexOf('-accel') + 1], 'tcg', vmm!.cmdline);
    } finally {
      await engine.close();
    }
  });
});

describe('/dev/kvm open only to its group (Debian: 0660 root:kvm)', { skip }, () => {
  let dir: string;
  let node: string;
  before(() => {
    // A device node like Debian's /dev/kvm (10,232), group a kvm-like gid: only stat'ed, never opened.
    dir = mkdtempSync(join(tmpdir(), 'rc-kvm-node-'));
    node = join(dir, 'kvm');
    execFileSync('mknod', ['-m', '0660', node, 'c', '10', '232']);
    execFileSync('chown', [`0:${KVM_LIKE_GID}`, node]);
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(leftovers(), NOTHING_LEFT, 'VMs left cgroups or processes behind');
    assert.deepEqual(readdirSync(vm.runDir), [], 'no VM directory is left');
  });

  it('a VMM that uses KVM gets the device\'s group as its one supplementary group', async () => {
    const access = deviceAccess(kvmDeviceFacts(node)!);
    assert.deepEqual(access, { group: KVM_LIKE_GID, problem: null });
    // Unjailed Firecracker always uses KVM; the stand-in boots the guest in QEMU as the VM's uid.
    const backend = new FirecrackerBackend({ ...vmHostOptions(paths), command: [process.execPath, fakeFirecracker], kvmGroup: access.group! });
    const processes = await vmProcesses(backend);
    assert.ok(processes.length >= 2, `the stand-in and its QEMU: ${processes.map((p) => p.cmdline).join(' | ')}`);
    for (const p of processes) {
      assert.deepEqual(p.groups, [KVM_LIKE_GID], `${p.comm}: exactly the device's group`);
      assert.ok(p.uids.every((uid) => uid === p.uids[0] && uid >= DEFAULT_HOST_ID_RANGE.first), `${p.comm} runs as the VM's own uid`);
    }
  });

  it('runner-launch gives exactly the group asked for, and never group 0', () => {
    const launch = (...args: string[]) => spawnSync(paths.launcher, [...args, '--uid', String(DEFAULT_HOST_ID_RANGE.first), '--gid', String(DEFAULT_HOST_ID_RANGE.first), '--', 'grep', '^Groups:', '/proc/self/status'], { encoding: 'utf8' });
    assert.deepEqual(launch('--supplementary-group', String(KVM_LIKE_GID)).stdout.split(/\s+/).filter(Boolean), ['Groups:', String(KVM_LIKE_GID)]);
    assert.deepEqual(launch().stdout.split(/\s+/).filter(Boolean), ['Groups:'], 'none unless asked');
    const root = launch('--supplementary-group', '0');
    assert.equal(root.status, 125);
    assert.match(root.stderr, /refusing supplementary group 0/);
  });

  it('QEMU under TCG opens no /dev/kvm and gets no group at all', async () => {
    const backend = new QemuBackend({
      ...vmHostOptions(paths),
      qemuPath: 'qemu-system-x86_64',
      accel: 'tcg',
      clock: guestClock(requireKernelManifest(vm).hz),
      kvmGroup: KVM_LIKE_GID,
    });
    const [qemu, ...others] = await vmProcesses(backend);
    assert.deepEqual(others, []);
    assert.deepEqual(qemu!.groups, [], 'no supplementary group');
  });
});

describe('warm VMs and boot-time limits', { skip }, () => {
  it('a request for more memory than the pool booted with gets a VM with that memory; a matching one takes the pool\'s', async () => {
    const engine = await openEngine({
      backend: 'qemu',
      pool: { defaultSize: 1, warm: ['python'], maxIdle: 3, idleTtlMs: 600_000, shrinkAfterMs: 600_000 },
    });
    const stats = (): { idle: number; hits: number; misses: number } => engine.pool!.stats().images.find((p) => p.image === 'python') ?? { idle: 0, hits: 0, misses: 0 };
    const untilIdle = async (idle: number): Promise<void> => {
      for (const deadline = Date.now() + 90_000; stats().idle < idle; await new Promise((resolve) => setTimeout(resolve, 100))) {
        assert.ok(Date.now() < deadline, `the pool booted ${idle} VM(s)`);
      }
    };
    try {
      await untilIdle(1);
      const pooledMib = DEFAULT_LIMITS.memoryBytes / MiB;
      const big = await engine.execute({ language: 'python', code: MEMTOTAL, limits: { memoryMb: 700 } });
      assert.equal(big.status, 'success', JSON.stringify(big.error));
      assert.ok(Number(big.stdout) > 650, `guest MemTotal ${big.stdout.trim()} MiB for a 700 MiB request (the pool boots ${pooledMib} MiB)`);
      assert.deepEqual({ hits: stats().hits, misses: stats().misses }, { hits: 0, misses: 1 }, 'booted cold: the warm VM is too small');

      const usual = await engine.execute({ language: 'python', code: MEMTOTAL });
      assert.equal(usual.status, 'success', JSON.stringify(usual.error));
      assert.ok(Number(usual.stdout) < pooledMib + 64, `the warm VM: MemTotal ${usual.stdout.trim()} MiB`);
      assert.equal(stats().hits, 1, 'a request the warm VM fits takes it');

      // The 700 MiB request warmed a VM of its own kind: the next one like it is a hit too.
      await untilIdle(2);
      const again = await engine.execute({ language: 'python', code: MEMTOTAL, limits: { memoryMb: 700 } });
      assert.ok(Number(again.stdout) > 650, again.stdout);
      assert.equal(stats().hits, 2);
    } finally {
      await engine.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });
});
