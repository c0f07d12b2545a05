import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SPEC_PATH, SPEC_SHA256, allSchemas, assertKnownKeywords, loadSpec, specSha256 } from '../helpers/firecracker-spec.js';
import { specValidator } from '../helpers/firecracker-fake-api.js';

/**
 * The validator is the only thing standing in for Firecracker here, so it is tested on its own:
 * it must understand every keyword the spec uses, accept conforming requests and reject the
 * mistakes a client can make. Each rejection case below is a request a real Firecracker refuses.
 */

const put = (path: string, body: unknown) => ({ method: 'PUT', path, rawBody: JSON.stringify(body) });

describe('the Firecracker spec copy', () => {
  it('is vendored with Firecracker\'s Apache-2.0 LICENSE and its NOTICE', () => {
    const beside = (name: string): string => readFileSync(join(dirname(SPEC_PATH), name), 'utf8');
    assert.match(beside('LICENSE'), /^\s*Apache License\s+Version 2\.0, January 2004/);
    assert.match(beside('NOTICE'), /^Firecracker\nCopyright 2017-2020 Amazon\.com, Inc\. or its affiliates\. All Rights Reserved\.\nSPDX-License-Identifier: Apache-2\.0\n/);
  });

  it('is the unmodified upstream v1.16.1 file', () => {
    assert.equal(specSha256(), SPEC_SHA256);
    const spec = loadSpec();
    assert.equal(spec.swagger, '2.0');
    assert.equal(spec.info.version, '1.16.1');
  });

  it('uses only schema keywords the validator understands', () => {
    const schemas = allSchemas(loadSpec());
    assert.ok(schemas.length > 100, `walked only ${schemas.length} schemas`);
    for (const { where, schema } of schemas) assertKnownKeywords(schema, where);
  });

  it('has every operation the client uses', () => {
    const validator = specValidator();
    const expected: Array<[string, string, string]> = [
      ['GET', '/', 'describeInstance'],
      ['PUT', '/boot-source', 'putGuestBootSource'],
      ['PUT', '/drives/rootfs', 'putGuestDriveByID'],
      ['PUT', '/machine-config', 'putMachineConfiguration'],
      ['PUT', '/vsock', 'putGuestVsock'],
      ['PUT', '/actions', 'createSyncAction'],
      ['PATCH', '/vm', 'patchVm'],
      ['PUT', '/snapshot/create', 'createSnapshot'],
      ['PUT', '/snapshot/load', 'loadSnapshot'],
    ];
    for (const [method, path, operationId] of expected) {
      assert.equal(validator.findOperation(method, path)?.operation.operationId, operationId, `${method} ${path}`);
    }
    assert.deepEqual(validator.findOperation('PUT', '/drives/rootfs')?.pathParams, { drive_id: 'rootfs' });
  });
});

describe('the spec validator accepts', () => {
  const validator = specValidator();
  const accepted: Array<[string, { method: string; path: string; rawBody?: string }]> = [
    ['a boot source', put('/boot-source', { kernel_image_path: '/k', boot_args: 'console=ttyS0' })],
    ['a drive', put('/drives/rootfs', { drive_id: 'rootfs', is_root_device: true, path_on_host: '/r.ext4', is_read_only: true })],
    ['a machine config', put('/machine-config', { vcpu_count: 1, mem_size_mib: 256 })],
    ['a vsock', put('/vsock', { guest_cid: 3, uds_path: '/tmp/v.sock' })],
    ['InstanceStart', put('/actions', { action_type: 'InstanceStart' })],
    ['a pause', { method: 'PATCH', path: '/vm', rawBody: '{"state":"Paused"}' }],
    ['a snapshot load', put('/snapshot/load', { snapshot_path: '/s', mem_backend: { backend_type: 'Uffd', backend_path: '/u.sock' }, resume_vm: true, vsock_override: { uds_path: '/v2.sock' } })],
    ['GET / without a body', { method: 'GET', path: '/' }],
    ['free-form MMDS contents (additionalProperties: true)', put('/mmds', { anything: { goes: [1, 2] } })],
  ];
  for (const [name, request] of accepted) {
    it(name, () => assert.deepEqual(validator.validateRequest(request), []));
  }
});

describe('the spec validator rejects', () => {
  const validator = specValidator();
  // [case, request, a fragment the violation must contain]
  const rejected: Array<[string, { method: string; path: string; rawBody?: string }, string]> = [
    ['a misspelt field', put('/boot-source', { kernel_image: '/k' }), 'body.kernel_image: unknown field'],
    ['a missing required field', put('/boot-source', { boot_args: 'quiet' }), 'body.kernel_image_path: required field is missing'],
    ['a missing required drive field', put('/drives/rootfs', { drive_id: 'rootfs', path_on_host: '/r' }), 'body.is_root_device: required field is missing'],
    ['a wrong enum value', { method: 'PATCH', path: '/vm', rawBody: '{"state":"Pause"}' }, 'body.state: "Pause" is not one of "Paused", "Resumed"'],
    ['a wrong action', put('/actions', { action_type: 'InstanceStop' }), 'body.action_type: "InstanceStop" is not one of'],
    ['a wrong nested enum', put('/snapshot/load', { snapshot_path: '/s', mem_backend: { backend_type: 'file', backend_path: '/m' } }), 'body.mem_backend.backend_type'],
    ['a string where an integer belongs', put('/machine-config', { vcpu_count: '2', mem_size_mib: 256 }), 'body.vcpu_count: expected integer'],
    ['a fraction where an integer belongs', put('/machine-config', { vcpu_count: 1, mem_size_mib: 1.5 }), 'body.mem_size_mib: expected integer'],
    ['a value above the maximum', put('/machine-config', { vcpu_count: 33, mem_size_mib: 256 }), 'above the maximum 32'],
    ['a reserved vsock CID', put('/vsock', { guest_cid: 2, uds_path: '/v.sock' }), 'body.guest_cid: 2 is below the minimum 3'],
    ['an unknown nested field', put('/snapshot/load', { snapshot_path: '/s', mem_backend: { backend_type: 'File', backend_path: '/m' }, vsock_override: { path: '/v' } }), 'body.vsock_override.path: unknown field'],
    ['both mem_backend and mem_file_path', put('/snapshot/load', { snapshot_path: '/s', mem_file_path: '/m', mem_backend: { backend_type: 'File', backend_path: '/m' } }), 'exactly one of mem_backend and mem_file_path'],
    ['neither mem_backend nor mem_file_path', put('/snapshot/load', { snapshot_path: '/s' }), 'exactly one of mem_backend and mem_file_path'],
    ['a drive whose body id differs from the path', put('/drives/rootfs', { drive_id: 'other', is_root_device: true, path_on_host: '/r', is_read_only: true }), "differs from path id 'rootfs'"],
    ['a path id Firecracker refuses', put('/drives/root-fs', { drive_id: 'root-fs', is_root_device: true, path_on_host: '/r', is_read_only: true }), "path.drive_id: 'root-fs' is not a valid id"],
    ['a missing required body', { method: 'PUT', path: '/actions' }, 'createSyncAction: the body is required'],
    ['a body that is not JSON', { method: 'PUT', path: '/actions', rawBody: 'InstanceStart' }, 'the body is not JSON'],
    ['a body that is not an object', put('/boot-source', ['/k']), 'body: expected object, got array'],
    ['a body on GET /', { method: 'GET', path: '/', rawBody: '{}' }, 'describeInstance takes no body'],
    ['an unknown path', put('/shutdown', {}), 'PUT /shutdown: no such operation'],
    ['a method the path does not have', { method: 'POST', path: '/actions', rawBody: '{"action_type":"InstanceStart"}' }, 'POST /actions: no such operation'],
  ];
  for (const [name, request, fragment] of rejected) {
    it(name, () => {
      const violations = validator.validateRequest(request);
      assert.ok(violations.length > 0, `${name}: the validator accepted it`);
      assert.ok(violations.some((v) => v.includes(fragment)), `expected a violation containing ${JSON.stringify(fragment)}, got ${JSON.stringify(violations)}`);
    });
  }

  it('throws on a schema keyword it does not implement instead of ignoring it', () => {
    assert.throws(() => validator.validate({ type: 'string', pattern: '^a' } as never, 'b', 'x'), /keyword 'pattern' is not supported/);
  });
});
