import { dataPaths, type DataPaths } from '../config/paths.js';
import { ErrorCodes, RunnerError } from '../errors.js';
import { buildImages, type BuildEvent, type BuildReport } from '../images/builder.js';
import { runLogged } from '../images/run-logged.js';
import { ImageStore } from '../images/store.js';
import { getLanguage } from '../languages/lookup.js';
import { buildAgent } from './agent-build.js';
import { vmPaths } from '../images/vm/paths.js';
import { missingDependencies } from './dependencies.js';
import { firecrackerBinary } from '../images/vm/vmm-binaries.js';
import { registerFirecracker, registerJailer } from './firecracker-binary.js';
import { setupVm, type GuestKernelChoice, type VmSetupReport } from './vm-setup.js';

export interface SetupOptions {
  /** Languages whose images to build. */
  languages: readonly string[];
  paths?: DataPaths;
  mirror?: string;
  /** Also prepare the microVM guest: kernel, initramfs, a disk per language image. */
  vm?: boolean;
  /** A Firecracker binary to check (≥ 1.16.1) and use for the firecracker backend. */
  firecracker?: string;
  /** Firecracker's jailer (same release) to check and run Firecracker under. */
  jailer?: string;
  /** With vm: which guest kernel (default: keep what is there, else Debian's). */
  kernel?: GuestKernelChoice;
  onProgress?: (event: BuildEvent) => void;
}

export interface SetupReport {
  installedPackages: string[];
  images: BuildReport[];
  vm?: VmSetupReport;
}

/**
 * Prepares this host: apt packages, the agent and seccomp filter, the language images.
 * Idempotent: each step does nothing when its result is already there.
 */
export async function setupHost(options: SetupOptions): Promise<SetupReport> {
  if (process.getuid?.() !== 0) {
    throw new RunnerError(ErrorCodes.NEEDS_ROOT, 'setup needs root (apt, cgroups, image builds)', { hint: 'run `sudo infra.operator setup`' });
  }
  const paths = options.paths ?? dataPaths();
  const progress = options.onProgress ?? (() => undefined);
  const log = (image: string) => (line: string) => progress({ image, kind: 'log', message: line });
  const imageIds = [...new Set(options.languages.map((name) => getLanguage(name).image))];
  // Checked first: a wrong binary is a usage error, found before minutes of work.
  const vmDirs = vmPaths(paths);
  const firecracker = options.vm && options.firecracker !== undefined ? await registerFirecracker(vmDirs, options.firecracker) : undefined;
  if (firecracker) progress({ image: 'vm', kind: 'done', message: `firecracker: ${firecracker}` });
  const jailer = options.vm && options.jailer !== undefined ? await registerJailer(vmDirs, options.jailer, firecracker ?? firecrackerBinary(vmDirs)) : undefined;
  if (jailer) progress({ image: 'vm', kind: 'done', message: `jailer: ${jailer} (Firecracker runs jailed)` });

  const packages = [...new Set(missingDependencies(options.vm === true, options.vm === true && options.kernel === 'built').map((dep) => dep.aptPackage))];
  if (packages.length > 0) {
    progress({ image: 'host', kind: 'step', message: `apt-get install ${packages.join(' ')}` });
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await runLogged(['apt-get', 'update', '-q'], log('host'), env);
    await runLogged(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...packages], log('host'), env);
  } else {
    progress({ image: 'host', kind: 'skip', message: 'host packages present' });
  }

  progress({ image: 'agent', kind: 'step', message: `build runner-agent, runner-launch, runner-vminit, runner-reaper, seccomp filter into ${paths.binDir}` });
  await buildAgent(paths, log('agent'));

  const images = await buildImages(new ImageStore(paths.imagesDir), imageIds, {
    ...(options.mirror === undefined ? {} : { mirror: options.mirror }),
    onProgress: progress,
  });
  const store = new ImageStore(paths.imagesDir);
  const vm = options.vm ? { ...(await setupVm(paths, store, imageIds, progress, options.kernel)), ...(firecracker ? { firecracker } : {}), ...(jailer ? { jailer } : {}) } : undefined;
  return { installedPackages: packages, images, ...(vm ? { vm } : {}) };
}
