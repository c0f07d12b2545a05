import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client as AwsS3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { ErrorCodes, ImageError, isRunnerError } from '../../errors.js';
import { digestOf } from '../content/digest.js';
import { downloadVerified, type BlobDownload } from './download.js';
import { isLoopbackHost, type S3Ref, type Sha256Digest } from './ref.js';
import type { BlobTransport, RemoteManifest, UploadBlob } from './transport.js';

/** Layers above this go up as a multipart upload (lib-storage), in parts of this size. */
export const S3_PART_SIZE = 8 * 1024 * 1024;

export interface S3Options {
  /** An S3-compatible endpoint (`RUNNER_CODES_S3_ENDPOINT`, else `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`); absent: AWS. */
  endpoint?: string;
  partSize?: number;
}

/**
 * Images in an S3 bucket, laid out like a registry: `<prefix>/blobs/sha256/<hex>` and
 * `<prefix>/manifests/<repository>/<tag>` (and `…/<digest>`, for pinned pulls), the same manifest JSON.
 * Credentials and region come from the AWS SDK's usual sources (`AWS_ACCESS_KEY_ID`, …, `AWS_REGION`).
 * Uploads carry S3 checksums (SHA-256, which for a single-part blob is its digest itself; per part for
 * multipart); downloads are verified against the digest here, whatever the store did.
 */
export class S3Client implements BlobTransport {
  readonly #ref: S3Ref;
  readonly #s3: AwsS3Client;
  readonly #partSize: number;

  constructor(ref: S3Ref, options: S3Options = {}, env: NodeJS.ProcessEnv = process.env) {
    this.#ref = ref;
    this.#partSize = Math.max(5 * 1024 * 1024, options.partSize ?? S3_PART_SIZE);
    const endpoint = options.endpoint ?? env.RUNNER_CODES_S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    const config: S3ClientConfig = { region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1' };
    // Keys given in `env` are used as given; without them, the SDK's own chain (profile files, roles).
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      config.credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
    }
    if (endpoint) {
      let url: URL;
      try {
        url = new URL(endpoint);
      } catch {
        throw new ImageError(ErrorCodes.INVALID_REQUEST, `RUNNER_CODES_S3_ENDPOINT: '${endpoint}' is not a URL (e.g. https://s3.example.com or http://127.0.0.1:9000)`);
      }
      // SECURITY: keys and images cross a network only over TLS; plain HTTP is for loopback endpoints.
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
        throw new ImageError(ErrorCodes.INVALID_REQUEST, `RUNNER_CODES_S3_ENDPOINT: ${url.origin} must be https (plain http is allowed on loopback only)`);
      }
      // S3-compatible servers address buckets by path, not by a virtual host name.
      Object.assign(config, { endpoint: url.toString(), forcePathStyle: true });
    }
    this.#s3 = new AwsS3Client(config);
  }

  get description(): string {
    return `s3://${this.#ref.bucket}${this.#ref.prefix ? `/${this.#ref.prefix}` : ''}`;
  }

  #key(...parts: string[]): string {
    return [this.#ref.prefix, ...parts].filter((p) => p !== '').join('/');
  }

  #blobKey(digest: Sha256Digest): string {
    return this.#key('blobs', 'sha256', digest.slice('sha256:'.length));
  }

  async blobSize(digest: Sha256Digest): Promise<number | null> {
    try {
      const head = await this.#s3.send(new HeadObjectCommand({ Bucket: this.#ref.bucket, Key: this.#blobKey(digest) }));
      return head.ContentLength ?? null;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw this.#failure(err, `blob ${digest}`);
    }
  }

  async uploadBlob(blob: UploadBlob, onBytes: (bytes: number) => void): Promise<'exists' | 'uploaded'> {
    if ((await this.blobSize(blob.digest)) === blob.size) return 'exists';
    const Key = this.#blobKey(blob.digest);
    try {
      if (blob.size <= this.#partSize) {
        // One PutObject whose SHA-256 checksum is the digest: the store refuses bytes that do not match.
        await this.#s3.send(
          new PutObjectCommand({
            Bucket: this.#ref.bucket,
            Key,
            Body: createReadStream(blob.path),
            ContentLength: blob.size,
            ContentType: 'application/octet-stream',
            ChecksumSHA256: Buffer.from(blob.digest.slice('sha256:'.length), 'hex').toString('base64'),
          }),
        );
        onBytes(blob.size);
      } else {
        const upload = new Upload({
          client: this.#s3,
          params: { Bucket: this.#ref.bucket, Key, Body: createReadStream(blob.path), ContentType: 'application/octet-stream', ChecksumAlgorithm: 'SHA256' },
          partSize: this.#partSize,
          queueSize: 2,
          leavePartsOnError: false,
        });
        let sent = 0;
        upload.on('httpUploadProgress', (progress) => {
          const loaded = progress.loaded ?? sent;
          onBytes(loaded - sent);
          sent = loaded;
        });
        await upload.done();
      }
    } catch (err) {
      throw this.#failure(err, `blob ${blob.digest}`);
    }
    return 'uploaded';
  }

  async downloadBlob(download: BlobDownload, onBytes: (bytes: number) => void): Promise<void> {
    await downloadVerified(download, onBytes, async (offset) => {
      try {
        const object = await this.#s3.send(
          new GetObjectCommand({ Bucket: this.#ref.bucket, Key: this.#blobKey(download.digest), ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) }),
        );
        return { statusCode: object.$metadata.httpStatusCode ?? 200, body: object.Body as Readable };
      } catch (err) {
        if (statusOf(err) === 416) {
          const { Readable: ReadableStream } = await import('node:stream');
          return { statusCode: 416, body: ReadableStream.from([]) };
        }
        throw this.#failure(err, `blob ${download.digest}`);
      }
    });
  }

  async putManifest(reference: string, body: Buffer, mediaType: string): Promise<Sha256Digest> {
    const digest = digestOf(body);
    // Under its digest too, so that a pinned pull (`…@sha256:`) finds it without trusting a tag.
    for (const name of new Set([reference, digest])) {
      try {
        await this.#s3.send(
          new PutObjectCommand({
            Bucket: this.#ref.bucket,
            Key: this.#key('manifests', this.#ref.repository, name),
            Body: body,
            ContentType: mediaType,
            ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
          }),
        );
      } catch (err) {
        throw this.#failure(err, `manifest ${name}`);
      }
    }
    return digest;
  }

  async getManifest(reference: string): Promise<RemoteManifest> {
    try {
      const object = await this.#s3.send(new GetObjectCommand({ Bucket: this.#ref.bucket, Key: this.#key('manifests', this.#ref.repository, reference) }));
      if ((object.ContentLength ?? 0) > 4 * 1024 * 1024) throw new ImageError(ErrorCodes.IMAGE_IMPORT, `manifest ${reference} in ${this.description} is larger than 4 MiB: not a Runner Codes image`);
      const body = Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      return { body, mediaType: object.ContentType ?? '' };
    } catch (err) {
      if (isRunnerError(err)) throw err;
      throw this.#failure(err, `manifest ${this.#ref.repository}/${reference}`);
    }
  }

  /** An SDK error as ours: 403 and bad keys as REGISTRY_AUTH, no such key/bucket as REGISTRY, network errors transient. */
  #failure(err: unknown, what: string): ImageError {
    if (isRunnerError(err)) return err as ImageError;
    const name = (err as { name?: string }).name ?? '';
    const status = statusOf(err);
    const message = (err as Error).message;
    if (status === 401 || status === 403 || /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|CredentialsProviderError/.test(name)) {
      return new ImageError(ErrorCodes.REGISTRY_AUTH, `${this.description} refused ${what} (${name || status}): ${message}`, {
        hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_REGION) for the bucket',
      });
    }
    if (status === 404 || name === 'NoSuchKey' || name === 'NoSuchBucket' || name === 'NotFound') {
      return new ImageError(ErrorCodes.REGISTRY, `${this.description} has no ${what} (${name || 404})`, {
        hint: name === 'NoSuchBucket' ? `create bucket ${this.#ref.bucket} first` : 'check the prefix, repository and tag (`rootfs push` puts them there)',
      });
    }
    if (status === undefined) {
      // No HTTP answer at all: the endpoint is down or unreachable (worth a retry; cause kept).
      return new ImageError(ErrorCodes.REGISTRY, `${this.description} is unreachable for ${what}: ${message}`, { cause: err, hint: 'check the S3 endpoint (RUNNER_CODES_S3_ENDPOINT) is up' });
    }
    return new ImageError(ErrorCodes.REGISTRY, `${this.description} answered HTTP ${status} for ${what} (${name}): ${message}`);
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
