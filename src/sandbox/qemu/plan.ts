/** What one QEMU microVM is started with. */
export interface QemuPlan {
  kernel: string;
  initramfs: string;
  /** The language image's ext4 disk, attached read-only (shared by every VM of that image). */
  disk: string;
  /** Unix socket QEMU listens on for the agent's virtio-serial port. */
  agentSocket: string;
  /** Guest RAM in MiB. */
  memoryMib: number;
  /** Size of the guest's /tmp and /work tmpfs mounts. */
  tmpfsBytes: number;
  accel: 'kvm' | 'tcg';
  /** TSC frequency and loops per jiffy of the host, passed to the guest so that it skips the
   *  calibration against the PIT that hangs a share of emulated boots. */
  tscKhz: number;
  lpj: number;
}

/** QEMU's socket for the agent's port, in the VM's private directory. */
export const AGENT_SOCKET = 'agent.sock';

/** Name of the virtio-serial port the guest's agent speaks on (runner-vminit's rc.port). */
export const AGENT_PORT_NAME = 'agent.0';

/**
 * The qemu-system-x86_64 argv: the minimal `microvm` machine, no default devices, no network
 * device at all, no reboot (the guest's panic on agent exit ends the process), the console on
 * stdout for diagnostics.
 */
export function qemuArgs(plan: QemuPlan): string[] {
  const append = [
    'console=ttyS0', 'quiet', 'panic=-1', 'reboot=t', 'rdinit=/init',
    `tsc_early_khz=${plan.tscKhz}`, `lpj=${plan.lpj}`,
    `rc.port=${AGENT_PORT_NAME}`, `rc.tmpfs=${plan.tmpfsBytes}`,
  ].join(' ');
  return [
    '-M', 'microvm', '-accel', plan.accel,
    '-m', String(plan.memoryMib), '-smp', '1',
    // SECURITY: nothing but what is listed here: no NIC, no USB, no display, no monitor.
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
    '-serial', 'stdio',
    '-kernel', plan.kernel, '-initrd', plan.initramfs, '-append', append,
    // SECURITY: the shared image disk is read-only for QEMU itself, not just for the guest.
    '-drive', `id=root,file=${plan.disk},format=raw,if=none,readonly=on`,
    '-device', 'virtio-blk-device,drive=root',
    '-chardev', `socket,id=agent,path=${plan.agentSocket},server=on,wait=off`,
    '-device', 'virtio-serial-device',
    '-device', `virtserialport,chardev=agent,name=${AGENT_PORT_NAME}`,
  ];
}
