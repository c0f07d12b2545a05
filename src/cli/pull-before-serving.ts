import { openStore } from './commands/rootfs-transfer.js';
import { transferPrinter } from './transfer-progress.js';

/**
 * `--pull REF[,REF]` of `api` and `worker`: pulls each image before serving (progress as plain lines
 * on stderr), so that a host that built nothing serves what the fleet pushed. Every reference is
 * parsed before the first pull; a failed pull stops the start (the command exits with its error).
 */
export async function pullBeforeServing(refs: readonly string[], field = 'pull'): Promise<void> {
  if (refs.length === 0) return;
  const { parseRemoteRef } = await import('../images/registry/ref.js');
  const parsed = refs.map((r) => parseRemoteRef(r, field));
  const { pullImage } = await import('../images/registry/pull.js');
  const store = await openStore();
  for (const ref of parsed) await pullImage(store, ref, { onEvent: transferPrinter({ tty: false }) });
}
