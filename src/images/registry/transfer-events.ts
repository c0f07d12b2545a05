import type { Sha256Digest } from './ref.js';

/** What a blob transfer did: sent, mounted from another repository, already there, or fetched. */
export type BlobOutcome = 'uploaded' | 'mounted' | 'exists' | 'downloaded' | 'present';

/** Progress of a push or pull, for a progress bar (TTY), plain lines (logs) or nothing. */
export type TransferEvent =
  | { kind: 'start'; direction: 'push' | 'pull'; ref: string; blobs: number; bytes: number }
  | { kind: 'blob'; role: 'config' | 'layer'; digest: Sha256Digest; size: number }
  | { kind: 'bytes'; digest: Sha256Digest; delta: number }
  | { kind: 'blob-done'; digest: Sha256Digest; size: number; outcome: BlobOutcome }
  | { kind: 'done'; ref: string; manifestDigest: Sha256Digest; imageDigest: string };

export interface BlobReport {
  digest: Sha256Digest;
  size: number;
  outcome: BlobOutcome;
}
