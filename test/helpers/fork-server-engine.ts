/**
 * An engine in a process of its own that starts one long sandbox through the fork server, then
 * prints `{"server": <the fork server's pid>}` (fork-server.test.ts kills this process).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEngine } from '../../src/compose/open-engine.js';

const engine = await openEngine({ backend: 'bwrap', forkServer: true });
void engine.execute({ language: 'bash', code: 'sleep 1234', limits: { timeoutMs: 60_000 } });
for (;;) {
  const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const server = children.find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'runner-forkserv');
  if (server) {
    process.stdout.write(`${JSON.stringify({ server })}\n`);
    break;
  }
  await sleep(20);
}
