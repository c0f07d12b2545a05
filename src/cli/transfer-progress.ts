import type { TransferEvent } from '../images/registry/transfer-events.js';

const MB = 1e6;
/** Plain-line mode prints a blob's progress at most this often (logs stay short). */
const LINE_INTERVAL_MS = 2000;

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

function short(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}

/**
 * Prints push/pull progress on stderr: on a terminal, one bar per blob redrawn in place; otherwise
 * (CI logs, --json) plain lines: each blob's start and outcome, and its bytes every few seconds.
 */
export function transferPrinter(options: { tty?: boolean; quiet?: boolean } = {}): (event: TransferEvent) => void {
  const tty = options.tty ?? process.stderr.isTTY === true;
  const write = (text: string): void => void process.stderr.write(text);
  let current: { digest: string; size: number; done: number; role: string; printedAt: number } | undefined;
  const bar = (): string => {
    if (!current) return '';
    const width = Math.max(10, Math.min(40, (process.stderr.columns ?? 80) - 60));
    const fraction = current.size === 0 ? 1 : Math.min(1, current.done / current.size);
    const filled = Math.round(fraction * width);
    return `\r\x1b[2K   ${current.role} ${short(current.digest)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${mb(current.done)} / ${mb(current.size)}`;
  };
  return (event) => {
    if (options.quiet && event.kind !== 'done') return;
    switch (event.kind) {
      case 'start':
        write(`==> ${event.direction} ${event.ref}: ${event.blobs} blobs, ${mb(event.bytes)}\n`);
        return;
      case 'blob':
        current = { digest: event.digest, size: event.size, done: 0, role: event.role, printedAt: Date.now() };
        if (tty) write(bar());
        return;
      case 'bytes':
        if (!current) return;
        current.done += event.delta;
        if (tty) write(bar());
        else if (Date.now() - current.printedAt >= LINE_INTERVAL_MS) {
          current.printedAt = Date.now();
          write(`   ${current.role} ${short(current.digest)} ${mb(current.done)} / ${mb(current.size)}\n`);
        }
        return;
      case 'blob-done':
        if (tty) write('\r\x1b[2K');
        write(`   ${current?.role ?? 'blob'} ${short(event.digest)} ${mb(event.size)} ${event.outcome}\n`);
        current = undefined;
        return;
      case 'done':
        write(`✓ ${event.ref}: manifest ${event.manifestDigest}, image ${event.imageDigest}\n`);
        return;
    }
  };
}
