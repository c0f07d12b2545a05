import type { BlobDownload } from './download.js';
import type { Sha256Digest } from './ref.js';

/** A local blob to send: its digest, size and file. */
export interface UploadBlob {
  digest: Sha256Digest;
  size: number;
  path: string;
}

/** A manifest as fetched: its bytes (digested by the caller) and the media type the remote declared. */
export interface RemoteManifest {
  body: Buffer;
  mediaType: string;
}

/**
 * What push and pull need of a remote: an OCI registry repository (OciClient) or an S3 prefix
 * (S3Client) hold the same blobs and the same manifest JSON.
 */
export interface BlobTransport {
  /** `registry/repository` or `s3://bucket/prefix`, for messages. */
  readonly description: string;
  /** The size of a blob the remote holds, or null when it has none. */
  blobSize(digest: Sha256Digest): Promise<number | null>;
  /** Sends a blob unless the remote has it already; `onBytes` gets the bytes sent as they go. */
  uploadBlob(blob: UploadBlob, onBytes: (bytes: number) => void): Promise<'exists' | 'mounted' | 'uploaded'>;
  /** Fetches a blob into `download.path`, resuming what is there, verifying size and digest; removes the file when they do not match. */
  downloadBlob(download: BlobDownload, onBytes: (bytes: number) => void): Promise<void>;
  putManifest(reference: string, body: Buffer, mediaType: string): Promise<Sha256Digest>;
  getManifest(reference: string): Promise<RemoteManifest>;
}
