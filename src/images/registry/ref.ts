import { isIP } from 'node:net';
import { InvalidRequestError } from '../../errors.js';
import { isDigest, type Digest } from '../content/digest.js';

/** Where `rootfs push`/`pull` send or fetch an image: an OCI registry repository or an S3 prefix. */
export type RemoteRef = OciRef | S3Ref;

export interface OciRef {
  kind: 'oci';
  /** `host` or `host:port`, as written (the registry's authority). */
  registry: string;
  /** Lower-case path components, e.g. `team/python`. */
  repository: string;
  /** The tag, when the reference names one (`latest` when it names neither tag nor digest). */
  tag: string;
  /** A pinned manifest digest (`…@sha256:<hex>`): pull refuses any other manifest. */
  digest?: Sha256Digest;
  /** `http` only for loopback registries: credentials and images never cross a network in clear. */
  scheme: 'http' | 'https';
}

export interface S3Ref {
  kind: 's3';
  bucket: string;
  /** Key prefix without leading or trailing `/` (may be empty). */
  prefix: string;
  /** The repository and tag inside the prefix: `<prefix>/manifests/<repository>/<tag>`. */
  repository: string;
  tag: string;
  digest?: Sha256Digest;
}

export type Sha256Digest = Digest;

// The distribution spec's grammar (distribution/reference): path components and tags.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
// S3's bucket naming rules (lower case, digits, dots, hyphens; 3-63 characters).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const EXAMPLES = 'e.g. 127.0.0.1:5000/runner/python:3.11, registry.example.com/team/lua@sha256:<64 hex>, or s3://bucket/prefix/python:3.11';

/** Whether a host name or address is this machine's loopback (the only place plain HTTP is allowed). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/**
 * Parses `host[:port]/repo[/more]:tag`, `host[:port]/repo@sha256:<hex>` (tag and digest may both be
 * given) or `s3://bucket[/prefix]/repo:tag`. The registry host is always explicit (no Docker Hub
 * default: an image never goes somewhere the caller did not name). Errors name the fix.
 */
export function parseRemoteRef(input: string, field = 'ref'): RemoteRef {
  const fail = (why: string): never => {
    throw new InvalidRequestError(field, `'${input}' is not an image reference: ${why} (${EXAMPLES})`);
  };
  if (input.length === 0 || input.length > 1024) fail('give 1 to 1024 characters');
  if (/\s/.test(input)) fail('it contains white space');
  if (input.startsWith('s3://')) return parseS3(input.slice('s3://'.length), fail);
  if (/^[a-z]+:\/\//i.test(input)) fail('write the registry without a scheme (http is used for loopback registries only, https otherwise)');

  const { name, tag, digest } = splitTagAndDigest(input, fail);
  const slash = name.indexOf('/');
  if (slash < 0) fail('name the registry host first, e.g. 127.0.0.1:5000/<repository>:<tag>');
  const registry = name.slice(0, slash);
  const repository = name.slice(slash + 1);
  const host = parseAuthority(registry, fail);
  checkRepository(repository, fail);
  return {
    kind: 'oci',
    registry,
    repository,
    tag: tag ?? 'latest',
    ...(digest ? { digest } : {}),
    scheme: isLoopbackHost(host) ? 'http' : 'https',
  };
}

function parseS3(rest: string, fail: (why: string) => never): S3Ref {
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (!BUCKET.test(bucket) || bucket.includes('..')) fail(`'${bucket}' is not an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)`);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  if (path === '') fail('name the image after the bucket: s3://bucket/[prefix/]<repository>:<tag>');
  const { name, tag, digest } = splitTagAndDigest(path, fail);
  // The last path component is the repository; what comes before it is the key prefix.
  const parts = name.split('/');
  const repository = parts.pop() ?? '';
  const prefix = parts.join('/');
  for (const part of parts) if (part === '' || part === '.' || part === '..') fail(`the key prefix '${prefix}' has an empty, '.' or '..' component`);
  checkRepository(repository, fail);
  return { kind: 's3', bucket, prefix, repository, tag: tag ?? 'latest', ...(digest ? { digest } : {}) };
}

function splitTagAndDigest(input: string, fail: (why: string) => never): { name: string; tag?: string; digest?: Sha256Digest } {
  let name = input;
  let digest: Sha256Digest | undefined;
  const at = name.indexOf('@');
  if (at >= 0) {
    const value = name.slice(at + 1);
    if (!isDigest(value)) fail(`'${value}' is not a digest: write sha256: and 64 lower-case hex digits`);
    digest = value as Sha256Digest;
    name = name.slice(0, at);
  }
  let tag: string | undefined;
  const colon = name.lastIndexOf(':');
  // A colon before the last slash is the registry's port, not a tag.
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG.test(tag)) fail(`'${tag}' is not a tag: up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'`);
  }
  return { name, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

function parseAuthority(registry: string, fail: (why: string) => never): string {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(registry);
  const host = match?.[1];
  if (!match || host === undefined) return fail(`'${registry}' is not a registry host[:port]`);
  const bracketed = host.startsWith('[');
  if (bracketed ? isIP(host.slice(1, -1)) !== 6 : !HOST.test(host) && isIP(host) === 0) fail(`'${host}' is not a host name or address`);
  if (match[2] !== undefined) {
    const port = Number(match[2]);
    if (port < 1 || port > 65535) fail(`port ${match[2]} is out of range (1-65535)`);
  }
  return host;
}

function checkRepository(repository: string, fail: (why: string) => never): void {
  if (repository === '') fail('name a repository after the registry host');
  if (repository.length > 255) fail('the repository name is longer than 255 characters');
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) fail(`'${component}' is not a repository name component: lower-case letters and digits, separated by '.', '_', '__' or '-'`);
  }
}

/** The reference written back (for messages and --json): `host/repo:tag@digest`, `s3://bucket/prefix/repo:tag`. */
export function formatRemoteRef(ref: RemoteRef): string {
  const suffix = `:${ref.tag}${ref.digest ? `@${ref.digest}` : ''}`;
  if (ref.kind === 'oci') return `${ref.registry}/${ref.repository}${suffix}`;
  return `s3://${ref.bucket}/${ref.prefix ? `${ref.prefix}/` : ''}${ref.repository}${suffix}`;
}
