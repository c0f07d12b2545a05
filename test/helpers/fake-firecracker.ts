/**
 * A stand-in for the `firecracker` binary, for hosts without KVM (ours): `node fake-firecracker.js
 * --api-sock PATH [--record FILE]`. It serves Firecracker's API on PATH, checking every request
 * against the real v1.16.1 spec (firecracker-fake-api.ts) and recording it (one JSON line each in
 * FILE), and on InstanceStart boots what was configured — the same vmlinux, initramfs and disk —
 * in QEMU under emulation. The guest's agent channel is QEMU's virtio-serial port (there is no
 * vhost-vsock here), offered on the configured vsock `uds_path` with Firecracker's host-initiated
 * handshake (`CONNECT <port>\n` → `OK <n>\n`). So FirecrackerBackend runs end to end for real,
 * except for the hypervisor itself.
 *
 * Started by the stand-in jailer (fake-jailer.ts) it gets `--jail-root <chroot>` and the jailer's
 * own arguments; it then resolves every path it is given inside that chroot, as a jailed Firecracker
 * would, and refuses one that leads out of it. Like Firecracker it opens the kernel, initramfs, disk
 * and snapshot files when they are configured (as its uid: a file it may not read is refused), and
 * refuses arguments Firecracker does not know.
 *
 * Run without --api-sock (as `node --test` does with every file under test/) it does nothing.
 */
import { spawn } from 'node:child_process';
import { accessSync, appendFileSync, constants, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { guestClock } from '../../src/sandbox/qemu/guest-clock.js';
import { AGENT_PORT_NAME, qemuArgs } from '../../src/sandbox/qemu/plan.js';
import type { BootSource, Drive, MachineConfiguration, Vsock } from '../../src/sandbox/firecracker/api-types.js';
import { startFakeFirecracker, type RecordedRequest } from './firecracker-fake-api.js';

/** Firecracker v1.16.1's valued arguments (and the stand-in's own --record and --jail-root). */
const VALUED = new Set(['--api-sock', '--id', '--start-time-us', '--start-time-cpu-us', '--parent-cpu-time-us', '--config-file', '--log-path', '--level', '--metrics-path', '--seccomp-filter', '--http-api-max-payload-size', '--mmds-size-limit', '--metadata', '--record', '--jail-root']);
const FLAGS = new Set(['--no-api', '--no-seccomp', '--boot-timer', '--show-level', '--show-log-origin', '--enable-pci']);

function parseArgs(argv: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (FLAGS.has(arg)) continue;
    const value = argv[i + 1];
    if (!VALUED.has(arg) || value === undefined) throw new Error(`firecracker: unexpected argument '${arg}'`);
    values.set(arg, value);
    i++;
  }
  return values;
}

if (process.argv.includes('--api-sock')) {
  const args = parseArgs(process.argv.slice(2));
  const jail = jailOf(args.get('--jail-root'));
  await serve(jail(args.get('--api-sock')!), args.get('--record'), jail);
}

/** Maps the paths Firecracker is given to host paths: as they are, or inside the jailer's chroot. */
function jailOf(root: string | undefined): (path: string) => string {
  if (root === undefined) return (path) => path;
  return (path) => {
    const inside = resolve(root, `./${path}`);
    // Outside, or through a symlink that leads outside: a chrooted process cannot reach it.
    const real = existsSync(inside) ? realpathSync(inside) : inside;
    if (real !== root && !real.startsWith(`${root}/`)) throw new Error(`${path} leads out of the jail`);
    return inside;
  };
}

/** The files a request makes Firecracker open (it opens them when configured, as its own uid). */
function filesOf(operationId: string | undefined, body: Record<string, unknown>): string[] {
  if (operationId === 'putGuestBootSource') return [body.kernel_image_path, body.initrd_path].filter((p): p is string => typeof p === 'string');
  if (operationId === 'putGuestDriveByID') return [body.path_on_host as string];
  if (operationId === 'loadSnapshot') return [body.snapshot_path as string, (body.mem_backend as { backend_path: string }).backend_path];
  return [];
}

async function serve(socketPath: string, recordFile: string | undefined, jail: (path: string) => string): Promise<void> {
  const config: { boot?: BootSource; drives: Drive[]; machine?: MachineConfiguration; vsock?: Vsock } = { drives: [] };
  // Every request, accepted or refused, so a test can check the sequence and that nothing broke the spec.
  function record(): void {
    if (!recordFile) return;
    for (const r of fake.requests.splice(0)) appendFileSync(recordFile, JSON.stringify({ method: r.method, path: r.path, violations: r.violations }) + '\n');
  }
  const fake = await startFakeFirecracker({
    socketPath,
    override: (request) => {
      if (request.violations.length > 0) return undefined;
      try {
        for (const file of filesOf(request.operationId, (request.body ?? {}) as Record<string, unknown>)) accessSync(jail(file), constants.R_OK);
        return undefined;
      } catch (err) {
        request.violations.push(`firecracker cannot open what it was given: ${(err as Error).message}`);
        return { status: 400, body: JSON.stringify({ fault_message: request.violations.join('; ') }) };
      }
    },
    onAccepted: (request: RecordedRequest) => {
      // Written at once: the backend may kill this process as soon as it has its answer.
      record();
      const body = request.body as never;
      if (request.operationId === 'putGuestBootSource') config.boot = body;
      if (request.operationId === 'putGuestDriveByID') config.drives.push(body);
      if (request.operationId === 'putMachineConfiguration') config.machine = body;
      if (request.operationId === 'putGuestVsock') config.vsock = body;
      if (request.operationId === 'createSyncAction' && (body as { action_type: string }).action_type === 'InstanceStart') boot();
      // Snapshots stand in too: the "VM state" is the configuration, the "guest memory" holds the
      // booted kernel and initramfs (as a real one does: a restore needs no kernel file), and a
      // restore boots them afresh (QEMU cannot load Firecracker's state). What is checked is the
      // API traffic, the files' paths, and the guest's side of a restore (it waits for the host,
      // then takes its hello).
      if (request.operationId === 'createSnapshot') {
        const { snapshot_path, mem_file_path } = body as { snapshot_path: string; mem_file_path: string };
        writeFileSync(jail(snapshot_path), JSON.stringify(config));
        const kernel = readFileSync(jail(config.boot!.kernel_image_path));
        const initrd = readFileSync(jail(config.boot!.initrd_path!));
        writeFileSync(jail(mem_file_path), Buffer.concat([Buffer.from(`${JSON.stringify({ kernel: kernel.length, hz: kernelHz(config.boot!) })}\n`), kernel, initrd]));
      }
      if (request.operationId === 'loadSnapshot') {
        const { snapshot_path, mem_backend, vsock_override } = body as { snapshot_path: string; mem_backend: { backend_path: string }; vsock_override?: { uds_path: string } };
        Object.assign(config, JSON.parse(readFileSync(jail(snapshot_path), 'utf8')));
        if (vsock_override) config.vsock = { ...config.vsock!, uds_path: vsock_override.uds_path };
        const memory = readFileSync(jail(mem_backend.backend_path));
        const header = memory.indexOf(10);
        const { kernel, hz } = JSON.parse(memory.subarray(0, header).toString()) as { kernel: number; hz: number };
        // Unpacked into this VMM's own directory (the chroot, when jailed), which goes with it.
        const own = (name: string): string => join(dirname(socketPath), name);
        writeFileSync(own('restored-vmlinux'), memory.subarray(header + 1, header + 1 + kernel));
        writeFileSync(own('restored-initramfs'), memory.subarray(header + 1 + kernel));
        boot({ kernel: own('restored-vmlinux'), initramfs: own('restored-initramfs'), hz });
      }
    },
  });
  setInterval(record, 20).unref();

  /** The kernel's HZ from its config beside it; in a jail only the kernel is linked in: Debian's, 250. */
  function kernelHz(source: BootSource): number {
    const kernelConfig = join(dirname(jail(source.kernel_image_path)), 'config');
    return existsSync(kernelConfig) ? Number(/^CONFIG_HZ=(\d+)$/m.exec(readFileSync(kernelConfig, 'utf8'))?.[1] ?? 250) : 250;
  }

  /** Boots the configuration (host paths of a restored kernel and initramfs, when restoring). */
  function boot(restored?: { kernel: string; initramfs: string; hz: number }): void {
    const { boot: source, machine, vsock } = config;
    const root = config.drives.find((d) => d.is_root_device);
    if (!source?.initrd_path || !machine || !vsock || !root) throw new Error('InstanceStart accepted without a complete configuration');
    const serial = join(dirname(socketPath), 'serial.sock');
    const clock = guestClock(restored?.hz ?? kernelHz(source));
    const args = qemuArgs({
      kernel: restored?.kernel ?? jail(source.kernel_image_path),
      initramfs: restored?.initramfs ?? jail(source.initrd_path),
      disk: jail(root.path_on_host),
      agentSocket: serial,
      memoryMib: machine.mem_size_mib,
      tmpfsBytes: 0, // the command line below replaces the plan's
      accel: 'tcg',
      ...clock,
    });
    // The guest gets Firecracker's command line, with the agent moved from vsock to the serial
    // port and a reset QEMU's microvm honours (Firecracker's i8042 reset is `reboot=k`).
    const bootArgs = (source.boot_args ?? '')
      .split(' ')
      .map((arg) => (arg.startsWith('rc.vsock=') ? `rc.port=${AGENT_PORT_NAME}` : arg === 'reboot=k' ? 'reboot=t' : arg))
      .concat([`tsc_early_khz=${clock.tscKhz}`, `lpj=${clock.lpj}`])
      .join(' ');
    args[args.indexOf('-append') + 1] = bootArgs;
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'inherit', 'inherit'] });
    qemu.once('exit', () => {
      record();
      process.exit(0); // Firecracker exits when its guest resets
    });
    bridgeVsock(jail(vsock.uds_path), serial);
  }
}

/** Offers the guest's serial channel on `udsPath` behind Firecracker's CONNECT/OK handshake. */
function bridgeVsock(udsPath: string, serialPath: string): void {
  let guest: Socket | undefined;
  const early: Buffer[] = [];
  const attach = (): void => {
    const socket = connect(serialPath);
    socket.once('connect', () => {
      guest = socket;
      socket.on('data', (chunk: Buffer) => early.push(chunk));
    });
    socket.once('error', () => setTimeout(attach, 20));
  };
  attach();
  createServer((host) => {
    let line = '';
    const onData = (chunk: Buffer): void => {
      line += chunk.toString('latin1');
      if (!line.includes('\n')) return;
      host.off('data', onData);
      // As Firecracker: a connection nobody in the guest accepts (yet) is closed.
      if (!/^CONNECT \d+\n$/.test(line) || !guest) return void host.destroy();
      host.write('OK 1073741824\n');
      guest.removeAllListeners('data');
      for (const chunk of early.splice(0)) host.write(chunk);
      guest.pipe(host);
      host.pipe(guest);
    };
    host.on('data', onData);
    host.on('error', () => undefined);
  }).listen(udsPath);
}
