import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FirecrackerApiClient } from '../../src/sandbox/firecracker/api-client.js';
import { FirecrackerApiError, FirecrackerTransportError } from '../../src/sandbox/firecracker/api-errors.js';
import {
  bootMicroVm,
  createSnapshot,
  planBoot,
  restoreSnapshot,
  runPlan,
  planShutdown,
  type MicroVmBootConfig,
} from '../../src/sandbox/firecracker/api-flows.js';
import { InvalidRequestError } from '../../src/errors.js';
import { startFakeFirecracker, type AnswerOverride, type FakeFirecracker } from '../helpers/firecracker-fake-api.js';

/**
 * The client against a fake Firecracker that validates every request against the real v1.16.1
 * spec (and Firecracker's state rules) and answers 400 {fault_message} otherwise: any request the
 * real VMM would refuse fails these tests.
 */

const open: Array<{ fake: FakeFirecracker; client: FirecrackerApiClient }> = [];

async function setUp(override?: AnswerOverride, timeoutMs = 2000): Promise<{ fake: FakeFirecracker; client: FirecrackerApiClient }> {
  const fake = await startFakeFirecracker(override);
  const client = new FirecrackerApiClient({ socketPath: fake.socketPath, timeoutMs });
  open.push({ fake, client });
  return { fake, client };
}

afterEach(async () => {
  for (const { fake, client } of open.splice(0)) {
    await client.close().catch(() => undefined);
    await fake.close();
  }
});

function bootConfig(dir: string): MicroVmBootConfig {
  return {
    bootSource: { kernel_image_path: '/var/lib/runner-codes/vm/vmlinux', boot_args: 'console=ttyS0 reboot=k panic=1 pci=off' },
    drives: [
      { drive_id: 'rootfs', is_root_device: true, path_on_host: '/var/lib/runner-codes/images/python/rootfs.ext4', is_read_only: true },
      { drive_id: 'scratch', is_root_device: false, path_on_host: join(dir, 'scratch.ext4'), is_read_only: false },
    ],
    machine: { vcpu_count: 1, mem_size_mib: 256 },
    vsock: { guest_cid: 3, uds_path: join(dir, 'v.sock') },
  };
}

function assertNoViolations(fake: FakeFirecracker): void {
  for (const request of fake.requests) assert.deepEqual(request.violations, [], `${request.method} ${request.path}`);
}

describe('boot sequence', () => {
  it('sends boot-source, drives, machine-config, vsock, InstanceStart in that order, all valid', async () => {
    const { fake, client } = await setUp();
    await bootMicroVm(client, bootConfig(fake.dir));
    assert.deepEqual(fake.calls(), [
      'PUT /boot-source',
      'PUT /drives/rootfs',
      'PUT /drives/scratch',
      'PUT /machine-config',
      'PUT /vsock',
      'PUT /actions',
    ]);
    assertNoViolations(fake);
    assert.deepEqual(fake.requests[5]?.body, { action_type: 'InstanceStart' });
    assert.deepEqual(fake.requests[4]?.body, { guest_cid: 3, uds_path: join(fake.dir, 'v.sock') });
    const info = await client.getInstanceInfo();
    assert.equal(info.state, 'Running');
  });

  it('validates the whole plan before sending anything', async () => {
    const { fake, client } = await setUp();
    const config = bootConfig(fake.dir);
    const twoRoots = { ...config, drives: config.drives.map((d) => ({ ...d, is_root_device: true })) };
    await assert.rejects(bootMicroVm(client, twoRoots), InvalidRequestError);
    const badId = { ...config, drives: [{ ...config.drives[0]!, drive_id: 'root-fs' }] };
    await assert.rejects(bootMicroVm(client, badId), /drive_id: must be 1-64 characters/);
    const longSocket = { ...config, vsock: { guest_cid: 3, uds_path: `/tmp/${'x'.repeat(120)}.sock` } };
    await assert.rejects(bootMicroVm(client, longSocket), /uds_path: socket path is \d+ bytes/);
    const reservedCid = { ...config, vsock: { ...config.vsock, guest_cid: 2 } };
    await assert.rejects(bootMicroVm(client, reservedCid), /guest_cid: must be an integer ≥ 3/);
    assert.deepEqual(fake.calls(), []);
  });

  it('stops at the first refused request', async () => {
    const { fake, client } = await setUp((request) =>
      request.path === '/machine-config' ? { status: 400, body: JSON.stringify({ fault_message: 'The memory size (MiB) is invalid.' }) } : undefined,
    );
    await assert.rejects(bootMicroVm(client, bootConfig(fake.dir)), FirecrackerApiError);
    assert.deepEqual(fake.calls(), ['PUT /boot-source', 'PUT /drives/rootfs', 'PUT /drives/scratch', 'PUT /machine-config']);
  });
});

describe('snapshots', () => {
  it('create: pause, then snapshot/create, valid against the spec', async () => {
    const { fake, client } = await setUp();
    await bootMicroVm(client, bootConfig(fake.dir));
    const before = fake.requests.length;
    await createSnapshot(client, { snapshot_path: join(fake.dir, 'vm.snap'), mem_file_path: join(fake.dir, 'vm.mem') });
    assert.deepEqual(fake.calls().slice(before), ['PATCH /vm', 'PUT /snapshot/create']);
    assert.deepEqual(fake.requests[before]?.body, { state: 'Paused' });
    assert.deepEqual(fake.requests[before + 1]?.body, { snapshot_path: join(fake.dir, 'vm.snap'), mem_file_path: join(fake.dir, 'vm.mem') });
    assertNoViolations(fake);
    assert.equal((await client.getInstanceInfo()).state, 'Paused');
  });

  it('create with resumeAfter resumes the VM', async () => {
    const { fake, client } = await setUp();
    await bootMicroVm(client, bootConfig(fake.dir));
    const before = fake.requests.length;
    await createSnapshot(client, { snapshot_path: '/s', mem_file_path: '/m', snapshot_type: 'Full' }, { resumeAfter: true });
    assert.deepEqual(fake.calls().slice(before), ['PATCH /vm', 'PUT /snapshot/create', 'PATCH /vm']);
    assert.deepEqual(fake.requests.at(-1)?.body, { state: 'Resumed' });
    assertNoViolations(fake);
  });

  it('snapshot/create on a running VM is refused, as Firecracker does (the state rules bite)', async () => {
    const { fake, client } = await setUp();
    await bootMicroVm(client, bootConfig(fake.dir));
    await assert.rejects(client.createSnapshot({ snapshot_path: '/s', mem_file_path: '/m' }), (err: FirecrackerApiError) => {
      assert.equal(err.status, 400);
      assert.match(err.faultMessage, /needs a paused microVM/);
      return true;
    });
  });

  it('restore: one snapshot/load with mem_backend, resume_vm and a fresh vsock path each time', async () => {
    const paths: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { fake, client } = await setUp();
      const vsockUdsPath = join(fake.dir, 'restored-vsock.sock');
      paths.push(vsockUdsPath);
      await restoreSnapshot(client, { snapshotPath: '/snap/vm.snap', memory: { backend_type: 'File', backend_path: '/snap/vm.mem' }, vsockUdsPath });
      assert.deepEqual(fake.calls(), ['PUT /snapshot/load']);
      assert.deepEqual(fake.requests[0]?.body, {
        snapshot_path: '/snap/vm.snap',
        mem_backend: { backend_type: 'File', backend_path: '/snap/vm.mem' },
        resume_vm: true,
        vsock_override: { uds_path: vsockUdsPath },
      });
      assertNoViolations(fake);
      assert.equal((await client.getInstanceInfo()).state, 'Running');
    }
    assert.notEqual(paths[0], paths[1]);
  });

  it('restore with a Uffd memory backend is valid too', async () => {
    const { fake, client } = await setUp();
    await restoreSnapshot(client, { snapshotPath: '/s', memory: { backend_type: 'Uffd', backend_path: join(fake.dir, 'uffd.sock') }, vsockUdsPath: join(fake.dir, 'uffd-vsock.sock') });
    assertNoViolations(fake);
  });

  it('snapshot/load on a configured process is refused, as Firecracker does', async () => {
    const { fake, client } = await setUp();
    await client.putBootSource({ kernel_image_path: '/k' });
    await assert.rejects(
      restoreSnapshot(client, { snapshotPath: '/s', memory: { backend_type: 'File', backend_path: '/m' }, vsockUdsPath: join(fake.dir, 'file-vsock.sock') }),
      /only accepted on a fresh Firecracker process/,
    );
  });
});

describe('shutdown and instance info', () => {
  it('sends SendCtrlAltDel to a running VM', async () => {
    const { fake, client } = await setUp();
    await bootMicroVm(client, bootConfig(fake.dir));
    const before = fake.requests.length;
    await runPlan(client, planShutdown());
    await client.sendCtrlAltDel();
    assert.deepEqual(fake.requests.slice(before).map((r) => r.body), [{ action_type: 'SendCtrlAltDel' }, { action_type: 'SendCtrlAltDel' }]);
    assertNoViolations(fake);
  });

  it('pause and resume are PATCH /vm with the spec enum', async () => {
    const { fake, client } = await setUp();
    await bootMicroVm(client, bootConfig(fake.dir));
    await client.pauseVm();
    await client.resumeVm();
    assert.deepEqual(fake.requests.slice(-2).map((r) => [r.method, r.path, r.body]), [
      ['PATCH', '/vm', { state: 'Paused' }],
      ['PATCH', '/vm', { state: 'Resumed' }],
    ]);
    assertNoViolations(fake);
  });

  it('GET / returns the InstanceInfo', async () => {
    const { client } = await setUp();
    assert.deepEqual(await client.getInstanceInfo(), { app_name: 'Firecracker', id: 'anonymous-instance', state: 'Not started', vmm_version: '1.16.1' });
  });

  it('rejects an answer to GET / that is not an InstanceInfo', async () => {
    const { client } = await setUp((r) => (r.path === '/' ? { status: 200, body: '{"state":"Booting"}' } : undefined));
    await assert.rejects(client.getInstanceInfo(), FirecrackerTransportError);
  });
});

describe('errors', () => {
  it('a 400 {fault_message} becomes a FirecrackerApiError with the status and the message', async () => {
    const fault = 'Invalid kernel path: No such file or directory (os error 2)';
    const { client } = await setUp(() => ({ status: 400, body: JSON.stringify({ fault_message: fault }) }));
    await assert.rejects(client.putBootSource({ kernel_image_path: '/missing' }), (err: unknown) => {
      assert.ok(err instanceof FirecrackerApiError);
      assert.equal(err.status, 400);
      assert.equal(err.faultMessage, fault);
      assert.equal(err.method, 'PUT');
      assert.equal(err.path, '/boot-source');
      assert.equal(err.code, 'RC_ERR_VMM_API');
      assert.match(err.message, /PUT \/boot-source answered 400: Invalid kernel path/);
      return true;
    });
  });

  it('a request the spec forbids is answered 400 by the fake, naming the field', async () => {
    const { fake, client } = await setUp();
    await assert.rejects(client.send({ method: 'PUT', path: '/boot-source', body: { kernel_path: '/k' } }), (err: unknown) => {
      assert.ok(err instanceof FirecrackerApiError);
      assert.equal(err.status, 400);
      assert.match(err.faultMessage, /body\.kernel_path: unknown field/);
      assert.match(err.faultMessage, /body\.kernel_image_path: required field is missing/);
      return true;
    });
    assert.equal(fake.requests[0]?.violations.length, 2);
  });

  it('a 500 with a non-JSON body keeps the raw text', async () => {
    const { client } = await setUp(() => ({ status: 500, body: 'internal error' }));
    await assert.rejects(client.startInstance(), (err: FirecrackerApiError) => err.status === 500 && err.faultMessage === 'internal error');
  });

  it('a request with no answer times out', async () => {
    const { client } = await setUp(() => 'hang', 200);
    const started = Date.now();
    await assert.rejects(client.pauseVm(), (err: unknown) => {
      assert.ok(err instanceof FirecrackerTransportError);
      assert.equal(err.timedOut, true);
      assert.match(err.message, /PATCH \/vm: no answer within 200 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 2000);
  });

  it('a missing API socket is a transport error, not a hang', async () => {
    const client = new FirecrackerApiClient({ socketPath: '/nonexistent/rc-fc/api.sock', timeoutMs: 1000 });
    try {
      await assert.rejects(client.getInstanceInfo(), (err: unknown) => err instanceof FirecrackerTransportError && !err.timedOut && /ENOENT/.test(err.message));
    } finally {
      await client.close();
    }
  });

  it('refuses bad options up front', () => {
    assert.throws(() => new FirecrackerApiClient({ socketPath: `/tmp/${'a'.repeat(200)}` }), /socketPath: socket path is/);
    assert.throws(() => new FirecrackerApiClient({ socketPath: '/tmp/a.sock', timeoutMs: 0 }), /timeoutMs/);
  });
});

describe('plans are plain data', () => {
  it('planBoot lists the requests without touching a socket', () => {
    const plan = planBoot(bootConfig('/run/rc'));
    assert.deepEqual(plan.map((r) => `${r.method} ${r.path}`), ['PUT /boot-source', 'PUT /drives/rootfs', 'PUT /drives/scratch', 'PUT /machine-config', 'PUT /vsock', 'PUT /actions']);
  });
});
