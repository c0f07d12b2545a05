/**
 * Boot to agent-ready of QEMU microVMs with two guest kernels, side by side: `node
 * dist/bench/vm-kernels.js HOME_A HOME_B [rounds]`, where each HOME is a data dir (RUNNER_CODES_HOME)
 * prepared by `setup --vm` — say one with Debian's kernel and one with `--build-kernel`. Rounds
 * alternate A and B so that the noise of a shared machine falls on both; it prints each kernel's
 * median and the ratio. Needs root (cgroups), as every backend.
 */
import { hostname } from 'node:os';
import { dataPaths } from '../src/config/paths.js';
import { DEFAULT_LIMITS } from '../src/engine/limits.js';
import { which } from '../src/config/which.js';
import { ImageStore } from '../src/images/store.js';
import { requireKernelManifest } from '../src/images/vm/kernel.js';
import { vmPaths } from '../src/images/vm/paths.js';
import { hostCapabilities } from '../src/sandbox/availability.js';
import { openCgroupDriver } from '../src/sandbox/cgroup/detect.js';
import { DEFAULT_HOST_ID_RANGE } from '../src/sandbox/host-ids.js';
import { QemuBackend } from '../src/sandbox/qemu/backend.js';
import { guestClock } from '../src/sandbox/qemu/guest-clock.js';

const [homeA, homeB, roundsArg] = process.argv.slice(2);
if (!homeA || !homeB) {
  process.stderr.write('usage: node dist/bench/vm-kernels.js HOME_A HOME_B [rounds]\n');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 5);
const cgroups = openCgroupDriver();

function backendFor(home: string): { backend: QemuBackend; release: string; home: string } {
  const paths = dataPaths(home);
  const vm = vmPaths(paths);
  const kernel = requireKernelManifest(vm);
  const backend = new QemuBackend({
    qemuPath: which('qemu-system-x86_64')!,
    launcherPath: paths.launcher,
    vm,
    cgroups,
    hostIds: DEFAULT_HOST_ID_RANGE,
    accel: hostCapabilities(paths).qemuAccel,
    clock: guestClock(kernel.hz),
    runDir: vm.runDir,
  });
  return { backend, release: `${kernel.release} (${kernel.source ?? 'debian'})`, home };
}

async function bootMs(backend: QemuBackend, home: string): Promise<number> {
  const started = performance.now();
  const sandbox = await backend.start({ image: 'python', rootfs: new ImageStore(dataPaths(home).imagesDir).rootfs('python'), limits: DEFAULT_LIMITS, traceId: 'bench-vm-kernels' });
  try {
    await sandbox.ready();
    return performance.now() - started;
  } finally {
    await sandbox.destroy();
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const kernels = [backendFor(homeA), backendFor(homeB)];
const times: number[][] = [[], []];
for (let round = 0; round < rounds; round++) {
  for (const [i, { backend, home }] of kernels.entries()) times[i]!.push(await bootMs(backend, home));
}
const [a, b] = times.map(median) as [number, number];
process.stdout.write(`boot to agent-ready, python image, ${rounds} alternating rounds on ${hostname()}\n`);
for (const [i, { release }] of kernels.entries()) {
  process.stdout.write(`  ${release.padEnd(36)} median ${Math.round(median(times[i]!))} ms  (${times[i]!.map(Math.round).join(', ')})\n`);
}
process.stdout.write(`  B / A = ${(b / a).toFixed(2)}\n`);
