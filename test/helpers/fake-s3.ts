import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error s3rver ships no type declarations.
import S3rver from 's3rver';
import { freePort } from './redis-server.js';

/**
 * A FAKE S3 server: s3rver from npm (files on disk behind the S3 REST API, signatures checked with
 * its fixed keys S3RVER/S3RVER). No real S3-compatible server is packaged for Debian 12 here, so the
 * S3 tests prove our client speaks the S3 API as the AWS SDK does it, not that every store accepts it.
 * On a free loopback port; `close()` stops it and removes its directory.
 */
export class FakeS3 {
  readonly port: number;
  readonly dir: string;
  readonly bucket: string;
  #server: { run(): Promise<unknown>; close(): Promise<void> };

  private constructor(port: number, dir: string, bucket: string) {
    this.port = port;
    this.dir = dir;
    this.bucket = bucket;
    this.#server = new S3rver({ address: '127.0.0.1', port, silent: true, directory: dir, vhostBuckets: false, configureBuckets: [{ name: bucket, configs: [] }] });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the AWS SDK reads: the fake's keys, a region, and no other credential source (no instance metadata lookups). */
  get env(): Record<string, string> {
    return { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', RUNNER_CODES_S3_ENDPOINT: this.endpoint, AWS_EC2_METADATA_DISABLED: 'true' };
  }

  static async start(bucket = 'rc-images'): Promise<FakeS3> {
    const s3 = new FakeS3(await freePort(), mkdtempSync(join(tmpdir(), 'rc-fake-s3-')), bucket);
    await s3.#server.run();
    return s3;
  }

  /** Stops the server and removes its directory: call from the suite's `after`. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async stop(): Promise<void> {
    await this.#server.close().catch(() => undefined);
  }

  /** Where s3rver keeps an object's bytes (its filesystem store: `<dir>/<bucket>/<key>._S3rver_object`). */
  objectPath(key: string): string {
    return join(this.dir, this.bucket, `${key}._S3rver_object`);
  }
}
