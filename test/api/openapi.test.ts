import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/config/paths.js';
import { get, testServer } from '../helpers/server.js';

const run = promisify(execFile);
const REDOCLY = join(packageRoot, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
const RULES = join(packageRoot, 'test', 'api', 'redocly.yaml');

// Two configurations, two documents: with keys (operations say which need one) and without (all open).
// No pools: each server's teardown checks the host for leftover sandboxes while the other still runs.
const servers = {
  'with API keys': await testServer({ apiKeys: ['key-one'], rateLimit: 100, poolSize: 0 }),
  'without API keys': await testServer({ poolSize: 0 }),
};

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
}

/** `redocly lint` on the served document, in a network namespace of its own: it can contact nothing. */
async function lint(doc: unknown): Promise<LintReport> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-openapi-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true', DO_NOT_TRACK: '1' };
    // redocly exits 1 when it finds errors; the report on stdout says which.
    const { stdout } = await run('unshare', ['--net', '--', process.execPath, REDOCLY, 'lint', '--config', RULES, '--format=json', file], { env }).catch(
      (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
    );
    return JSON.parse(stdout) as LintReport;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const [name, server] of Object.entries(servers)) {
  describe(`the served OpenAPI document, ${name}`, async () => {
    const doc = (await get(server.url, '/openapi.json')).body;
    const operations = Object.entries(doc.paths as Record<string, Record<string, { operationId?: string; security?: unknown[] }>>).flatMap(
      ([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ at: `${method} ${path}`, ...operation })),
    );

    it('passes `redocly lint` without an error or a warning', async () => {
      const report = await lint(doc);
      const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
      assert.deepEqual(problems, []);
      assert.deepEqual([report.totals.errors, report.totals.warnings], [0, 0]);
    });

    it('gives every operation a unique operationId', () => {
      assert.ok(operations.length >= 9, operations.map((o) => o.at).join(', '));
      const missing = operations.filter((o) => !o.operationId).map((o) => o.at);
      assert.deepEqual(missing, []);
      const ids = operations.map((o) => o.operationId);
      assert.equal(new Set(ids).size, ids.length, ids.join(', '));
    });

    it('names its server and, with keys, the two ways to present one', () => {
      assert.deepEqual(doc.servers, [{ url: '/', description: 'this server' }]);
      const schemes = doc.components?.securitySchemes ?? {};
      assert.deepEqual(Object.keys(schemes).sort(), name === 'with API keys' ? ['apiKey', 'bearer'] : []);
      if (name === 'with API keys') assert.equal(schemes.apiKey.name, 'X-API-Key');
    });

    it('states on each operation whether it needs a key here', () => {
      const keyed = operations.filter((o) => (o.security ?? []).length > 0).map((o) => o.at);
      if (name === 'without API keys') assert.deepEqual(keyed, []);
      else assert.ok(keyed.includes('post /api/v1/execute') && keyed.includes('post /api/v2/execute') && !keyed.includes('get /health'), keyed.join(', '));
    });
  });
}

it('the lint fails a document that breaks the rules (the check can fail)', async () => {
  const doc = (await get(servers['with API keys'].url, '/openapi.json')).body;
  delete doc.paths['/api/v1/languages'].get.operationId;
  delete doc.paths['/api/v1/languages'].get.responses['401'];
  const rules = (await lint(doc)).problems.map((p) => p.ruleId).sort();
  assert.deepEqual(rules, ['operation-operationId', 'rule/keyed-operation-documents-401']);
});
