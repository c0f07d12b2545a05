import { ErrorCodes, ImageError } from '../../errors.js';
import type { FetchedNpmPackage } from '../npm-fetch.js';
import { canonicalJson } from './canonical-json.js';
import { digestOf, isDigest, type Digest } from './digest.js';

/**
 * The config blob of an image: everything that identifies it. Its canonical JSON's sha256 is the
 * image digest, so the digest covers the layers (by diff_id, parent first), the recipe, the
 * versions probed and the build date.
 */
export interface ImageConfig {
  schema_version: 1;
  /** The image id in the catalog (`python`), also the directory name it is known by on a host. */
  id: string;
  /** The parent image's digest and id (null for a base image). */
  parent: Digest | null;
  parent_id: string | null;
  /** diff_id of every layer, the base's first: the content identity of the tree. */
  diff_ids: Digest[];
  recipe: { hash: string; packages: string[]; npm: FetchedNpmPackage[] };
  versions: Record<string, string | null>;
  built_at: string;
  /** Apparent size of the whole tree. */
  bytes: number;
  /** Language definitions a custom image brings (catalog extensions), kept as given. */
  languages?: unknown[];
}

/** Image ids name directories: a strict shape keeps a config from naming any other path. */
export const IMAGE_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function encodeConfig(config: ImageConfig): Buffer {
  return Buffer.from(canonicalJson(config), 'utf8');
}

export function configDigest(config: ImageConfig): Digest {
  return digestOf(encodeConfig(config));
}

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

function invalid(field: string, why: string): never {
  throw new ImageError(ErrorCodes.IMAGE_IMPORT, `image config: ${field} ${why}`);
}

const isStringRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Parses and checks a config blob from anywhere (a registry, a file); throws naming the field. */
export function parseConfig(bytes: Buffer): ImageConfig {
  if (bytes.length > MAX_CONFIG_BYTES) invalid('', `is larger than ${MAX_CONFIG_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    invalid('', 'is not JSON');
  }
  if (!isStringRecord(value)) invalid('', 'is not an object');
  const c = value as Record<string, unknown>;
  if (c.schema_version !== 1) invalid('schema_version', 'must be 1');
  if (typeof c.id !== 'string' || !IMAGE_ID.test(c.id)) invalid('id', `must match ${IMAGE_ID}`);
  if (c.parent !== null && !isDigest(c.parent)) invalid('parent', 'must be a sha256 digest or null');
  if (c.parent_id !== null && (typeof c.parent_id !== 'string' || !IMAGE_ID.test(c.parent_id))) invalid('parent_id', `must match ${IMAGE_ID} or be null`);
  if ((c.parent === null) !== (c.parent_id === null)) invalid('parent_id', 'must be given exactly when parent is');
  if (!Array.isArray(c.diff_ids) || c.diff_ids.length === 0 || c.diff_ids.length > 64 || !c.diff_ids.every(isDigest)) invalid('diff_ids', 'must be 1 to 64 sha256 digests');
  if (!isStringRecord(c.recipe) || typeof c.recipe.hash !== 'string' || !Array.isArray(c.recipe.packages) || !Array.isArray(c.recipe.npm)) invalid('recipe', 'must be { hash, packages, npm }');
  if (!isStringRecord(c.versions) || !Object.values(c.versions).every((v) => v === null || typeof v === 'string')) invalid('versions', 'must map language ids to strings or null');
  if (typeof c.built_at !== 'string' || Number.isNaN(Date.parse(c.built_at))) invalid('built_at', 'must be a date');
  if (typeof c.bytes !== 'number' || !Number.isSafeInteger(c.bytes) || c.bytes < 0) invalid('bytes', 'must be a non-negative integer');
  if (c.languages !== undefined && !Array.isArray(c.languages)) invalid('languages', 'must be an array');
  return c as unknown as ImageConfig;
}
