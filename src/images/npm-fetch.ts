import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCodes, ImageError } from '../errors.js';
import type { NpmPackage } from '../languages/types.js';

const run = promisify(execFile);

/** One npm package fetched for a layer, as recorded in the image manifest. */
export interface FetchedNpmPackage {
  spec: string;
  /** Subresource integrity the registry published for the tarball (npm verifies it on download). */
  integrity: string;
}

interface PackResult {
  filename: string;
  name: string;
  integrity: string;
}

/**
 * Downloads the layer's npm packages with the host's `npm pack` (the npm registry client, which
 * checks each tarball against the registry's integrity hash) into `inputDir/npm/`, and writes
 * `inputDir/npm.tsv` (tarball, package name) and `inputDir/bin.tsv` (command, path in the image)
 * for build-layer.sh. Nothing of the package runs on the host: no install scripts, no `npm install`.
 */
export async function fetchNpmPackages(packages: readonly NpmPackage[], inputDir: string): Promise<FetchedNpmPackage[]> {
  const tarballs = join(inputDir, 'npm');
  await mkdir(tarballs, { recursive: true });
  const unpackRows: string[] = [];
  const binRows: string[] = [];
  const fetched: FetchedNpmPackage[] = [];
  for (const pkg of packages) {
    const packed = await npmPack(pkg.spec, tarballs);
    unpackRows.push(`${packed.filename}\t${packed.name}`);
    for (const [command, path] of Object.entries(pkg.bin ?? {})) binRows.push(`${command}\t${NPM_TREE}/${packed.name}/${path}`);
    fetched.push({ spec: pkg.spec, integrity: packed.integrity });
  }
  await writeFile(join(inputDir, 'npm.tsv'), unpackRows.map((row) => row + '\n').join(''));
  await writeFile(join(inputDir, 'bin.tsv'), binRows.map((row) => row + '\n').join(''));
  return fetched;
}

/** The node_modules tree every npm package of an image is unpacked into. */
export const NPM_TREE = '/opt/runner-codes/npm/node_modules';

async function npmPack(spec: string, destination: string): Promise<PackResult> {
  try {
    const { stdout } = await run('npm', ['pack', spec, '--json', '--silent', '--ignore-scripts', '--pack-destination', destination], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const [result] = JSON.parse(stdout) as PackResult[];
    if (!result?.filename || !result.name) throw new Error('npm pack printed no tarball');
    return result;
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new ImageError(ErrorCodes.IMAGE_BUILD, `cannot fetch npm package ${spec}: ${detail}`, {
      hint: 'the host needs npm and access to the npm registry',
      cause: err,
    });
  }
}
