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
 * Run without --api-sock (as `node --test` does with every file under test/) it does nothing.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { guestClock } from '../../src/sandbox/qemu/guest-clock.js';
import { AGENT_PORT_NAME, qemuArgs } from '../../src/sandbox/qemu/plan.js';
import type { BootSource, Drive, MachineConfiguration, Vsock } from '../../src/sandbox/firecracker/api-types.js';
import { startFakeFirecracker, type RecordedRequest } from './firecracker-fake-api.js';

const argValue = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
};

const apiSocket = argValue('--api-sock');
if (apiSocket !== undefined) await serve(apiSocket, argValue('--record'));

async function serve(socketPath: string, recordFile: string | undefined): Promise<void> {
  const config: { boot?: BootSource; drives: Drive[]; machine?: MachineConfiguration; vsock?: Vsock } = { drives: [] };
  // Every request, accepted or refused, so a test can check the sequence and that nothing broke the spec.
  function record(): void {
    if (!recordFile) return;
    for (const r of fake.requests.splice(0)) appendFileSync(recordFile, JSON.stringify({ method: r.method, path: r.path, violations: r.violations }) + '\n');
  }
  const fake = await startFakeFirecracker({
    socketPath,
    onAccepted: (request: RecordedRequest) => {
      // Written at once: the backend may kill this process as soon as it has its answer.
      record();
      const body = request.body as never;
      if (request.operationId === 'putGuestBootSource') config.boot = body;
      if (request.operationId === 'putGuestDriveByID') config.drives.push(body);
      if (request.operationId === 'putMachineConfiguration') config.machine = body;
      if (request.operationId === 'putGuestVsock') config.vsock = body;
      if (request.operationId === 'createSyncAction' && (body as { action_type: string }).action_type === 'InstanceStart') boot();
      // Snapshots stand in too: the "snapshot" is the configuration, and a restore boots it afresh
      // (QEMU cannot load Firecracker's state); what is checked is the API traffic and the guest's
      // side of a restore (it waits for the host, then takes its hello).
      if (request.operationId === 'createSnapshot') {
        const { snapshot_path, mem_file_path } = body as { snapshot_path: string; mem_file_path: string };
        writeFileSync(snapshot_path, JSON.stringify(config));
        writeFileSync(mem_file_path, 'guest memory of a stand-in\n');
      }
      if (request.operationId === 'loadSnapshot') {
        const { snapshot_path, vsock_override } = body as { snapshot_path: string; vsock_override?: { uds_path: string } };
        Object.assign(config, JSON.parse(readFileSync(snapshot_path, 'utf8')));
        if (vsock_override) config.vsock = { ...config.vsock!, uds_path: vsock_override.uds_path };
        boot();
      }
    },
  });
  setInterval(record, 20).unref();

  function boot(): void {
    const { boot: source, machine, vsock } = config;
    const root = config.drives.find((d) => d.is_root_device);
    if (!source?.initrd_path || !machine || !vsock || !root) throw new Error('InstanceStart accepted without a complete configuration');
    const serial = join(dirname(socketPath), 'serial.sock');
    const kernelConfig = join(dirname(source.kernel_image_path), 'config');
    const hz = existsSync(kernelConfig) ? Number(/^CONFIG_HZ=(\d+)$/m.exec(readFileSync(kernelConfig, 'utf8'))?.[1] ?? 250) : 250;
    const clock = guestClock(hz);
    const args = qemuArgs({
      kernel: source.kernel_image_path,
      initramfs: source.initrd_path,
      disk: root.path_on_host,
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
    bridgeVsock(vsock.uds_path, serial);
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
