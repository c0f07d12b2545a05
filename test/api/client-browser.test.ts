import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { packageRoot } from '../../src/config/paths.js';
import { testServer } from '../helpers/server.js';

/**
 * runner-codes/client in a real browser (Debian's Chromium): the built client files, unbundled,
 * loaded as ES modules by a page of the server's own origin, run a program and a session.
 */
const CHROMIUM = '/usr/bin/chromium';
const CLIENT_FILE = /^\/__client\/([\w-]+\.js)$/;
const clientDir = join(packageRoot, 'dist', 'src', 'client');

const server = await testServer({ poolSize: 1, poolWarm: ['python'] });
const browser = existsSync(CHROMIUM)
  ? await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    })
  : undefined;
after(() => browser?.close());

// Skipped without Chromium, except under CI=true, where a missing browser fails the test.
const skip = browser || process.env.CI === 'true' ? false : `no ${CHROMIUM} (apt-get install chromium)`;

it('runs a program, an event stream and a session from a web page', { skip }, async () => {
  assert.ok(browser, `${CHROMIUM} is installed`);
  const page = await browser.newPage();
  // The page's origin serves the client's files too (no CORS, no bundler): only files of dist/src/client/.
  await page.route(`${server.base}/__client/**`, (route) => {
    const name = CLIENT_FILE.exec(new URL(route.request().url()).pathname)?.[1];
    return name ? route.fulfill({ path: join(clientDir, name), contentType: 'text/javascript' }) : route.fulfill({ status: 404 });
  });
  await page.goto(`${server.base}/health`);
  const seen = await page.evaluate(async () => {
    const url = '/__client/index.js';
    const { RunnerCodes, NotFoundError } = await import(url);
    const rc = new RunnerCodes({ baseUrl: location.origin });
    const once = await rc.execute({ language: 'python', code: 'print(6 * 7)' });
    const events: string[] = [];
    for await (const event of rc.executeStream({ language: 'bash', code: 'echo streamed' })) events.push(event.type === 'result' ? `result:${event.result.stdout}` : event.type);
    const session = await rc.createSession({ language: 'python' });
    await session.files.write('in.bin', new Uint8Array([1, 2, 3]));
    const summed = await session.execute({ code: 'print(sum(open("in.bin", "rb").read()))' });
    const back = Array.from(await session.files.read('in.bin'));
    await session.close();
    const gone = await session.describe().catch((err: unknown) => (err instanceof NotFoundError ? (err as { code: string }).code : String(err)));
    return { once: once.stdout, lastEvent: events.at(-1), summed: summed.stdout, back, gone, node: typeof (globalThis as { process?: unknown }).process };
  });
  assert.deepEqual(seen, { once: '42\n', lastEvent: 'result:streamed\n', summed: '6\n', back: [1, 2, 3], gone: 'RC_ERR_NOT_FOUND', node: 'undefined' });
});
