import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../src/config/paths.js';

/*
 * The worker's privileges in deploy/kubernetes/worker.yaml, tried for real on this host: a sandbox run
 * with the capability bounding set cut to exactly the manifest's list (setpriv), inside a mount
 * namespace whose /proc is masked and whose /proc/sys is read-only as a container runtime leaves them,
 * after the same procfs mount the worker's command makes. It runs; without any one of the four
 * capabilities bwrap and runner-launch use, or without that mount, it does not. On main there is no
 * deploy/kubernetes/worker.yaml to read.
 */

const CLI = join(packageRoot, 'dist', 'src', 'cli', 'index.js');

interface WorkerManifest {
  spec: { template: { spec: { containers: { command: string[]; securityContext: { capabilities: { add: string[] } } }[] } } };
}
const worker = parseAllDocuments(readFileSync(join(packageRoot, 'deploy', 'kubernetes', 'worker.yaml'), 'utf8'))
  .map((doc) => doc.toJS() as WorkerManifest & { kind: string })
  .find((doc) => doc.kind === 'DaemonSet')!.spec.template.spec.containers[0]!;
const CAPABILITIES = worker.securityContext.capabilities.add;
/** The worker command's procfs mount: what runs before `exec infra.operator worker`. */
const PROC_MOUNT = /^(mount -t proc [^&]+) && exec infra\.operator worker/.exec(worker.command[2]!)![1]!;
/** What a container runtime does to /proc: masked entries, /proc/sys read-only. */
const RUNTIME_MASKS = 'mount --bind /dev/null /proc/keys && mount --bind /dev/null /proc/timer_list && mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys';

/** `infra.operator run` of a Python print, in a masked mount namespace, with only `caps` bounded in. */
function runWith(caps: readonly string[], procMount: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  const bounding = ['-all', ...caps.map((cap) => `+${cap.toLowerCase()}`)].join(',');
  // The mount comes before the cut, so that each capability's own use is what is tried below.
  const script = `${RUNTIME_MASKS} && ${procMount ? `${PROC_MOUNT} && ` : ''}exec setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=${bounding} "$0" "$1" run --backend bwrap --lang python --code 'print(6*7)' --timeout 3000`;
  return new Promise((resolve) => {
    execFile('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, process.execPath, CLI], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe("the worker DaemonSet's privileges, on this host", () => {
  it('with exactly the manifest capabilities and its procfs mount, a sandbox runs under a runtime-masked /proc', async () => {
    const run = await runWith(CAPABILITIES, true);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '42\n');
  });

  it('without the procfs mount (the runtime\'s masked /proc, read-only /proc/sys), no sandbox starts', async () => {
    const run = await runWith(CAPABILITIES, false);
    assert.notEqual(run.code, 0);
    assert.notEqual(run.stdout, '42\n');
  });

  for (const needed of ['SETUID', 'SETGID', 'SYS_ADMIN', 'SYS_PTRACE']) {
    it(`without CAP_${needed}, no sandbox starts`, async () => {
      assert.ok(CAPABILITIES.includes(needed));
      const run = await runWith(CAPABILITIES.filter((cap) => cap !== needed), true);
      assert.notEqual(run.code, 0, `ran without CAP_${needed}: it would not be needed`);
      assert.notEqual(run.stdout, '42\n');
    });
  }
});
