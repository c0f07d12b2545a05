import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { DataPaths } from '../../config/paths.js';
import { ErrorCodes, RunnerError } from '../../errors.js';
import { ImageStore } from '../../images/store.js';
import { readKernelManifest, requireKernelManifest } from '../../images/vm/kernel.js';
import { vmPaths } from '../../images/vm/paths.js';
import { jailerBinary } from '../../images/vm/vmm-binaries.js';
import type { LanguageSpec } from '../../languages/types.js';
import { chooseBackend, hostCapabilities } from '../availability.js';
import type { JailerMode } from '../backend-host.js';
import { openCgroupDriver } from '../cgroup/detect.js';
import { DEFAULT_HOST_ID_RANGE } from '../host-ids.js';
import type { Limits } from '../limits.js';
import { openBackend } from './open.js';
import { currentSnapshot, snapshotFiles, type SnapshotManifest } from './snapshot-manifest.js';

/*
 * The operator's snapshot tasks (`infra.operator snapshot create|list|rm`): the CLI parses and
 * prints, these do the work.
 */

export interface MadeSnapshot {
  manifest: SnapshotManifest;
  /** The snapshot's directory. */
  dir: string;
}

/** Where snapshots are made: a host that can run Firecracker. */
export interface SnapshotHost {
  /**
   * Boots the language's image under Firecracker (jailed or not as `jailer` says), waits until its
   * guest listens and snapshots it, for an execution under `limits` (its guest RAM is fixed by them).
   */
  create(language: LanguageSpec, limits: Limits, jailer?: JailerMode): Promise<MadeSnapshot>;
}

/** This host for making snapshots, or the error naming why Firecracker cannot run here (checked first, before any input). */
export function snapshotHost(paths: DataPaths): SnapshotHost {
  const capabilities = hostCapabilities(paths);
  chooseBackend('firecracker', capabilities);
  return {
    create: async (language, limits, jailer) => {
      const image = new ImageStore(paths.imagesDir).manifest(language.image);
      if (!image) throw new RunnerError(ErrorCodes.IMAGE_MISSING, `image '${language.image}' is not built`, { hint: `run \`infra.operator setup --vm --lang ${language.id}\`` });
      const vm = vmPaths(paths);
      const kernel = requireKernelManifest(vm);
      const backend = openBackend({ paths, cgroups: openCgroupDriver(), hostIds: DEFAULT_HOST_ID_RANGE, capabilities, firecrackerJailer: jailer });
      const manifest = await backend.snapshot(image, kernel.release, limits);
      return { manifest, dir: snapshotFiles(vm, manifest.image).dir };
    },
  };
}

/** One snapshot on disk, and whether executions here restore it. */
export interface SnapshotListing extends SnapshotManifest {
  /** Made from the image, kernel and initramfs as they are, and jailed if Firecracker runs jailed here. */
  current: boolean;
}

export function listSnapshots(paths: DataPaths): SnapshotListing[] {
  const vm = vmPaths(paths);
  const kernel = readKernelManifest(vm)?.release ?? '';
  const jailed = jailerBinary(vm) !== null;
  return new ImageStore(paths.imagesDir)
    .list()
    .filter((status) => existsSync(snapshotFiles(vm, status.id).manifest))
    .map((status) => {
      const made = JSON.parse(readFileSync(snapshotFiles(vm, status.id).manifest, 'utf8')) as SnapshotManifest;
      return { ...made, jailed: made.jailed ?? false, current: status.manifest !== null && currentSnapshot(vm, status.manifest, kernel, jailed) !== null };
    });
}

export function removeSnapshot(paths: DataPaths, image: string): Promise<void> {
  return rm(snapshotFiles(vmPaths(paths), image).dir, { recursive: true, force: true });
}
