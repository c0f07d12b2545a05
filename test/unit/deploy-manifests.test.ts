import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../src/config/paths.js';
import { cliProgram } from '../../src/cli/program.js';
import { API_OPTIONS } from '../../src/api/config.js';
import { WORKER_OPTIONS } from '../../src/cli/commands/worker.js';

/*
 * deploy/kubernetes/*.yaml held to the invariants docs/deploy.md states (Kubernetes, Invariants and
 * Worker privileges): parsed as YAML, never applied (no cluster here). On main there is no
 * deploy/ folder and no docs/deploy.md: every test here fails.
 */

const DIR = join(packageRoot, 'deploy', 'kubernetes');
const WORKER = 'runner-codes-worker';

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext?: {
    privileged?: boolean;
    runAsUser?: number;
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; hostPath?: { path: string } }[];
  automountServiceAccountToken?: boolean;
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
}
interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: { selector?: Record<string, unknown>; template?: { metadata: { labels: Record<string, string> }; spec: PodSpec }; ports?: { port: number; targetPort: string | number }[] };
}

const manifests: { file: string; doc: Manifest }[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((parsed) => {
      assert.deepEqual(parsed.errors, [], `${file}: ${parsed.errors.join('; ')}`);
      return { file, doc: parsed.toJS() as Manifest };
    }),
  );
const workloads = manifests.filter(({ doc }) => ['Deployment', 'DaemonSet', 'StatefulSet'].includes(doc.kind));
const containers = workloads.flatMap(({ file, doc }) =>
  [...(doc.spec.template!.spec.initContainers ?? []), ...doc.spec.template!.spec.containers].map((container) => ({ file, workload: doc.metadata.name, pod: doc.spec.template!.spec, container })),
);
const byWorkload = (name: string) => {
  const found = workloads.find(({ doc }) => doc.metadata.name === name);
  assert.ok(found, `no workload ${name}`);
  return found.doc;
};

/** The capability table of docs/deploy.md ("Worker privileges"): `| \`CAP_X\` | why |` rows. */
function documentedCapabilities(): string[] {
  const doc = readFileSync(join(packageRoot, 'docs', 'deploy.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Worker privileges'));
  return [...section.matchAll(/^\| `CAP_([A-Z_]+)` \|/gm)].map((m) => m[1]!);
}

describe('deploy/kubernetes manifests', () => {
  it('are the API Deployment and Service, the worker DaemonSet, and Redis as a StatefulSet', () => {
    const kinds = manifests.map(({ doc }) => `${doc.kind}/${doc.metadata.name}`).sort();
    assert.deepEqual(kinds, ['DaemonSet/runner-codes-worker', 'Deployment/runner-codes-api', 'Service/redis', 'Service/runner-codes-api', 'StatefulSet/redis']);
  });

  it('no container is privileged, and only the worker adds a capability; every container drops ALL', () => {
    for (const { workload, container } of containers) {
      const context = container.securityContext ?? {};
      assert.notEqual(context.privileged, true, `${workload}/${container.name} is privileged`);
      assert.deepEqual(context.capabilities?.drop, ['ALL'], `${workload}/${container.name} drops ALL`);
      if (workload !== WORKER) assert.deepEqual(context.capabilities?.add ?? [], [], `${workload}/${container.name} adds no capability`);
    }
    for (const { doc } of workloads) {
      const pod = doc.spec.template!.spec;
      assert.ok(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC, `${doc.metadata.name}: no host namespaces`);
    }
  });

  it("the worker's capabilities are exactly the set docs/deploy.md documents and justifies", () => {
    const documented = documentedCapabilities();
    assert.ok(documented.length > 0, 'docs/deploy.md has the capability table');
    const worker = byWorkload(WORKER).spec.template!.spec.containers;
    assert.equal(worker.length, 1);
    assert.deepEqual([...(worker[0]!.securityContext?.capabilities?.add ?? [])].sort(), [...documented].sort());
    // The agent's own capabilities in its sandbox namespace are bounded by the worker's: they must be in the set.
    for (const cap of ['SETUID', 'SETGID', 'KILL', 'CHOWN']) assert.ok(documented.includes(cap), cap);
  });

  it('every container has CPU and memory requests and limits, a readiness and a liveness probe', () => {
    for (const { workload, container } of containers) {
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) assert.ok(container.resources?.[kind]?.[resource], `${workload}/${container.name}: resources.${kind}.${resource}`);
      }
      assert.ok(container.readinessProbe, `${workload}/${container.name}: readinessProbe`);
      assert.ok(container.livenessProbe, `${workload}/${container.name}: livenessProbe`);
    }
  });

  it('read-only root filesystems everywhere, no service-account token, seccomp RuntimeDefault', () => {
    for (const { workload, pod, container } of containers) {
      assert.equal(container.securityContext?.readOnlyRootFilesystem, true, `${workload}/${container.name}`);
      assert.equal(pod.automountServiceAccountToken, false, workload);
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', workload);
    }
  });

  it('the API and Redis run as non-root users without privilege escalation; only the worker runs as root', () => {
    for (const { workload, pod, container } of containers) {
      const uid = container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
      if (workload === WORKER) {
        assert.equal(uid, 0, 'the worker is root: cgroups and the sandboxes’ host uids');
        continue;
      }
      assert.ok(uid !== undefined && uid !== 0, `${workload}: runAsUser ${uid}`);
      assert.equal(container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, true, workload);
      assert.equal(container.securityContext?.allowPrivilegeEscalation, false, workload);
    }
  });

  it('only the worker mounts a host path, and only /sys/fs/cgroup', () => {
    for (const { doc } of workloads) {
      const hostPaths = (doc.spec.template!.spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.hostPath!.path);
      assert.deepEqual(hostPaths, doc.metadata.name === WORKER ? ['/sys/fs/cgroup'] : [], doc.metadata.name);
    }
  });

  it('commands name infra.operator subcommands and flags that exist, environment variables the options tables read, one image', async () => {
    const program = await cliProgram({ exitCode: 0 });
    const envNames: Record<string, Set<string>> = {
      api: new Set(API_OPTIONS.map((o) => o.env)),
      worker: new Set(WORKER_OPTIONS.map((o) => o.env)),
    };
    const ours = containers.filter(({ container }) => container.image.startsWith('runner-codes:'));
    assert.deepEqual(ours.map(({ workload }) => workload).sort(), ['runner-codes-api', WORKER]);
    assert.equal(new Set(ours.map(({ container }) => container.image)).size, 1, 'API and worker run the same image');
    for (const { workload, container } of ours) {
      const command = container.command ?? [];
      const args = container.args ?? [];
      // Either `infra.operator SUB flags…` or a shell that execs `infra.operator SUB "$@"` with the flags as args.
      let sub: string;
      let flags: string[];
      if (command[0] === 'infra.operator') [sub, flags] = [args[0]!, args.slice(1)];
      else {
        const execs = /exec infra\.operator (\w+) "\$@"/.exec(command[2] ?? '');
        assert.ok(command[0] === '/bin/sh' && command[1] === '-c' && execs, `${workload}: command ${JSON.stringify(command)}`);
        [sub, flags] = [execs[1]!, args];
      }
      const found = program.commands.find((c) => c.name() === sub);
      assert.ok(found, `${workload}: no command ${sub}`);
      const known = new Set(found.options.map((o) => o.long));
      for (const flag of flags.filter((f) => f.startsWith('--'))) assert.ok(known.has(flag), `${workload}: ${sub} has no option ${flag}`);
      for (const { name } of container.env ?? []) {
        assert.ok(envNames[sub]!.has(name) || name === 'RUNNER_CODES_HOME', `${workload}: ${name} is read by no option of ${sub}`);
      }
      // The Redis URL holds its password: from the Secret, never on a command line.
      assert.ok(![...command, ...args].some((word) => /rediss?:\/\//.test(word)), `${workload}: a Redis URL on the command line`);
      const queue = container.env?.find((e) => e.name === 'RUNNER_CODES_QUEUE');
      assert.ok(queue?.valueFrom?.secretKeyRef, `${workload}: RUNNER_CODES_QUEUE from a Secret`);
    }
    const api = byWorkload('runner-codes-api').spec.template!.spec.containers[0]!;
    const port = Number(api.args![api.args!.indexOf('--port') + 1]);
    assert.equal(api.ports?.[0]?.containerPort, port, 'the container port is the one the API listens on');
    assert.equal(api.args![api.args!.indexOf('--host') + 1], '0.0.0.0', 'reachable from the Service');
  });

  it('each Service selects its workload\'s pods and targets a port they declare', () => {
    for (const { doc } of manifests.filter(({ doc }) => doc.kind === 'Service')) {
      const target = workloads.find(({ doc: w }) => Object.entries(doc.spec.selector ?? {}).every(([k, v]) => w.spec.template!.metadata.labels[k] === v));
      assert.ok(target, `Service ${doc.metadata.name} selects no workload`);
      const ports = target.doc.spec.template!.spec.containers.flatMap((c) => c.ports ?? []);
      for (const { targetPort } of doc.spec.ports ?? []) assert.ok(ports.some((p) => p.name === targetPort || p.containerPort === targetPort), `${doc.metadata.name}: targetPort ${targetPort}`);
    }
  });

  it('Redis persists with the append-only file on a volume and never evicts (BullMQ)', () => {
    const redis = byWorkload('redis') as Manifest & { spec: { volumeClaimTemplates?: { metadata: { name: string } }[] } };
    const container = redis.spec.template!.spec.containers[0]!;
    const args = container.args ?? [];
    const value = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
    assert.equal(value('--appendonly'), 'yes');
    assert.equal(value('--maxmemory-policy'), 'noeviction');
    const dir = value('--dir');
    const mount = container.volumeMounts?.find((m) => m.mountPath === dir);
    assert.ok(mount && redis.spec.volumeClaimTemplates?.some((t) => t.metadata.name === mount.name), 'the data directory is a persistent volume');
  });
});
