import { open } from 'node:fs/promises';
import { request, type Dispatcher } from 'undici';
import { ErrorCodes, ImageError } from '../../errors.js';
import { digestOf } from '../content/digest.js';
import { OCI_MANIFEST_MEDIA_TYPE } from './artifact.js';
import { downloadVerified, type BlobDownload } from './download.js';
import { answerChallenge, parseChallenge, type Credentials } from './oci-auth.js';
import { isLoopbackHost, type OciRef, type Sha256Digest } from './ref.js';
import type { BlobTransport, RemoteManifest, UploadBlob } from './transport.js';

/** The largest manifest we read: ours are a few KiB; a registry sending megabytes is not one of ours. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;

type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT';
interface Sent {
  method: Method;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer;
  /** What the request is about, for error messages ("blob sha256:…", "manifest python:3.11"). */
  what: string;
}

/**
 * A client of one repository of an OCI registry (the distribution spec v2) over undici: blob HEAD,
 * chunked uploads (POST, PATCH with Content-Range, PUT ?digest), cross-repository mounts, manifest
 * PUT/GET by tag or digest, ranged blob GETs for resuming. Authentication follows the registry's
 * `WWW-Authenticate` challenge (Basic, or Bearer from its token endpoint), retried once per request.
 * Every request body is a Buffer, so a request answered 401 can be sent again after the challenge.
 */
export class OciClient implements BlobTransport {
  readonly #ref: OciRef;
  readonly #base: URL;
  readonly #credentials: Credentials | undefined;
  readonly #scope: string;
  readonly #chunkSize: number;
  #authorization: string | undefined;

  constructor(ref: OciRef, options: { credentials?: Credentials; push?: boolean; chunkSize?: number } = {}) {
    this.#ref = ref;
    // SECURITY: parseRemoteRef picks http only for loopback hosts; check again rather than trust the caller.
    if (ref.scheme === 'http' && !isLoopbackHost(ref.registry.replace(/:\d+$/, ''))) {
      throw new ImageError(ErrorCodes.REGISTRY, `registry ${ref.registry} is not on loopback: plain HTTP is refused, use https`);
    }
    this.#base = new URL(`${ref.scheme}://${ref.registry}/v2/${ref.repository}/`);
    this.#credentials = options.credentials;
    this.#scope = `repository:${ref.repository}:${options.push ? 'pull,push' : 'pull'}`;
    this.#chunkSize = options.chunkSize ?? 8 * 1024 * 1024;
  }

  get description(): string {
    return `${this.#ref.registry}/${this.#ref.repository}`;
  }

  async blobSize(digest: Sha256Digest): Promise<number | null> {
    const response = await this.#send({ method: 'HEAD', url: this.#url(`blobs/${digest}`), what: `blob ${digest}` }, [200, 404]);
    await response.body.dump();
    if (response.statusCode === 404) return null;
    return Number(response.headers['content-length'] ?? -1);
  }

  /**
   * Uploads one blob unless the repository has it: a mount from `mountFrom` (another repository of the
   * same registry) when given, else chunks of `chunkSize` bytes. Returns what happened.
   */
  async uploadBlob(blob: UploadBlob, onBytes: (bytes: number) => void, options: { mountFrom?: string } = {}): Promise<'exists' | 'mounted' | 'uploaded'> {
    if ((await this.blobSize(blob.digest)) === blob.size) return 'exists';
    const start = this.#url('blobs/uploads/');
    if (options.mountFrom) {
      start.searchParams.set('mount', blob.digest);
      start.searchParams.set('from', options.mountFrom);
    }
    const what = `blob ${blob.digest}`;
    const started = await this.#send({ method: 'POST', url: start, headers: { 'content-length': '0' }, what }, [201, 202]);
    await started.body.dump();
    if (started.statusCode === 201) return 'mounted';
    let location = this.#location(started, what);
    const file = await open(blob.path, 'r');
    try {
      let offset = 0;
      while (offset < blob.size) {
        const chunk = Buffer.alloc(Math.min(this.#chunkSize, blob.size - offset));
        const { bytesRead } = await file.read(chunk, 0, chunk.length, offset);
        if (bytesRead !== chunk.length) throw new ImageError(ErrorCodes.IMAGE_DIGEST, `local blob ${blob.path} is shorter than its ${blob.size} bytes`);
        const patched = await this.#send(
          {
            method: 'PATCH',
            url: location,
            headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}`, 'content-length': String(chunk.length) },
            body: chunk,
            what,
          },
          [202],
        );
        await patched.body.dump();
        location = this.#location(patched, what);
        offset += chunk.length;
        onBytes(chunk.length);
      }
    } finally {
      await file.close();
    }
    location.searchParams.set('digest', blob.digest);
    const done = await this.#send({ method: 'PUT', url: location, headers: { 'content-length': '0' }, what }, [201]);
    await done.body.dump();
    const stored = done.headers['docker-content-digest'];
    if (typeof stored === 'string' && stored !== blob.digest) {
      throw new ImageError(ErrorCodes.IMAGE_DIGEST, `registry ${this.description} stored ${what} as ${stored}`);
    }
    return 'uploaded';
  }

  async downloadBlob(download: BlobDownload, onBytes: (bytes: number) => void): Promise<void> {
    await downloadVerified(download, onBytes, async (offset) => {
      const response = await this.#get(this.#url(`blobs/${download.digest}`), `blob ${download.digest}`, offset > 0 ? { range: `bytes=${offset}-` } : {});
      return { statusCode: response.statusCode, body: response.body };
    });
  }

  async putManifest(reference: string, body: Buffer, mediaType: string): Promise<Sha256Digest> {
    const response = await this.#send(
      { method: 'PUT', url: this.#url(`manifests/${reference}`), headers: { 'content-type': mediaType }, body, what: `manifest ${reference}` },
      [201],
    );
    await response.body.dump();
    const digest = digestOf(body);
    const stored = response.headers['docker-content-digest'];
    if (typeof stored === 'string' && stored !== digest) throw new ImageError(ErrorCodes.IMAGE_DIGEST, `registry ${this.description} stored manifest ${reference} as ${stored}, not ${digest}`);
    return digest;
  }

  async getManifest(reference: string): Promise<RemoteManifest> {
    // Named as the user wrote it: `manifest lua:1` or `manifest lua@sha256:…`.
    const what = `manifest ${this.#ref.repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
    const response = await this.#get(this.#url(`manifests/${reference}`), what, { accept: OCI_MANIFEST_MEDIA_TYPE });
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > MAX_MANIFEST_BYTES) {
        response.body.destroy();
        throw new ImageError(ErrorCodes.IMAGE_IMPORT, `${what} in ${this.description} is larger than ${MAX_MANIFEST_BYTES} bytes: not a Runner Codes image`);
      }
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks);
    const type = response.headers['content-type'];
    return { body, mediaType: typeof type === 'string' ? type.split(';')[0]!.trim() : '' };
  }

  #url(path: string): URL {
    return new URL(path, this.#base);
  }

  /** A 202's `Location` (relative or absolute), held to the same scheme rule as the registry itself. */
  #location(response: Dispatcher.ResponseData, what: string): URL {
    const header = response.headers.location;
    if (typeof header !== 'string') throw new ImageError(ErrorCodes.REGISTRY, `registry ${this.description} sent no upload location for ${what}`);
    return this.#checkedUrl(new URL(header, this.#base), what);
  }

  #checkedUrl(url: URL, what: string): URL {
    // SECURITY: a registry may send us elsewhere (uploads, blob storage), but never over plain HTTP off loopback.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      throw new ImageError(ErrorCodes.REGISTRY, `registry ${this.description} sent ${what} to ${url.origin}: only https (or http on loopback) is followed`);
    }
    return url;
  }

  /** A GET that follows redirects (blob storage behind a registry); credentials only to the registry's own origin. */
  async #get(url: URL, what: string, headers: Record<string, string>): Promise<Dispatcher.ResponseData> {
    let target = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sameOrigin = target.origin === this.#base.origin;
      const response = sameOrigin
        ? await this.#send({ method: 'GET', url: target, headers, what }, [200, 206, 301, 302, 303, 307, 308, 416])
        : await this.#raw({ method: 'GET', url: target, headers, what });
      const status = response.statusCode;
      if (status >= 300 && status < 400) {
        await response.body.dump();
        target = this.#location(response, what);
        continue;
      }
      // Only a foreign origin's errors get here: #send turned the registry's own into errors already.
      if (status >= 400 && status !== 416) throw await this.#failure(response, what);
      return response;
    }
    throw new ImageError(ErrorCodes.REGISTRY, `registry ${this.description} redirected ${what} more than ${MAX_REDIRECTS} times`);
  }

  /** Sends a request to the registry, answering one authentication challenge; a status not in `ok` is an error. */
  async #send(sent: Sent, ok: number[]): Promise<Dispatcher.ResponseData> {
    let response = await this.#raw(sent, this.#authorization);
    if (response.statusCode === 401 && !ok.includes(401)) {
      const challenge = parseChallenge(String(response.headers['www-authenticate'] ?? ''));
      await response.body.dump();
      if (!challenge) throw new ImageError(ErrorCodes.REGISTRY_AUTH, `registry ${this.description} refused ${sent.what} (HTTP 401) without saying how to authenticate`);
      this.#authorization = await answerChallenge(challenge, this.#scope, this.#credentials, this.#ref.registry);
      response = await this.#raw(sent, this.#authorization);
    }
    if (!ok.includes(response.statusCode)) throw await this.#failure(response, sent.what);
    return response;
  }

  async #raw(sent: Sent, authorization?: string): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { ...sent.headers };
    if (authorization) headers.authorization = authorization;
    try {
      return await request(sent.url, { method: sent.method, headers, ...(sent.body ? { body: sent.body } : {}) });
    } catch (err) {
      const reason = (err as { code?: string }).code ?? (err as Error).message;
      throw new ImageError(ErrorCodes.REGISTRY, `registry ${this.description} is unreachable (${reason}) for ${sent.what}`, {
        cause: err,
        hint: `check that ${sent.url.origin} is up (loopback registries speak http, others https)`,
      });
    }
  }

  /** The registry's answer as an error: its `errors[].code` and message, 401/403 as REGISTRY_AUTH. */
  async #failure(response: Dispatcher.ResponseData, what: string): Promise<ImageError> {
    let detail = '';
    try {
      const text = (await response.body.text()).slice(0, 4096);
      const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      const first = parsed.errors?.[0];
      if (first) detail = `: ${first.code ?? ''} ${first.message ?? ''}`.trimEnd();
    } catch {
      // Not the spec's error body (a proxy's HTML page): the status says enough.
    }
    const status = response.statusCode;
    if (status === 401 || status === 403) {
      return new ImageError(ErrorCodes.REGISTRY_AUTH, `registry ${this.description} refused ${what} (HTTP ${status}${detail})`, {
        hint: this.#credentials ? `check the credentials of user '${this.#credentials.username}' and its rights on ${this.#ref.repository}` : 'set RUNNER_CODES_REGISTRY_USERNAME and RUNNER_CODES_REGISTRY_PASSWORD',
      });
    }
    if (status === 404) return new ImageError(ErrorCodes.REGISTRY, `registry ${this.description} has no ${what} (HTTP 404${detail})`, { hint: 'check the repository and tag (`rootfs push` puts them there)' });
    return new ImageError(ErrorCodes.REGISTRY, `registry ${this.description} answered HTTP ${status} for ${what}${detail}`);
  }
}
