import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { get, testServer } from '../helpers/server.js';

/*
 * The web playground (docs/playground.md) in a real browser: Debian's Chromium, driven by
 * playwright-core, against a real server on loopback running real sandboxes. The browser reaches
 * nothing but that server (its own update, sync and background traffic is switched off).
 */

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Under CI (.ci/run installs it) a missing browser fails the test instead of hiding it. */
const noBrowser = existsSync(CHROMIUM) || process.env.CI === 'true' ? false : `Debian's Chromium is not installed (apt-get install chromium)`;
/** Where to save screenshots of the runs for the docs, when asked: PLAYGROUND_SCREENSHOTS=docs/images. */
const SCREENSHOTS = process.env.PLAYGROUND_SCREENSHOTS;

const { base } = await testServer();
// No pool on the second server: the first server's leak check (at its close) must not see its idle sandboxes.
const keyed = await testServer({ apiKeys: ['playground-test-key'], poolSize: 0 });

let browser: Browser;
/** Every console message and page error of every page: the CSP must never have refused anything. */
const complaints: string[] = [];

async function openPlayground(url = base): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') complaints.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => complaints.push(`pageerror: ${error.message}`));
  await page.goto(`${url}/`);
  return page;
}

async function pickLanguage(page: Page, select: string, id: string): Promise<void> {
  await page.waitForSelector(`${select} option[value="${id}"]`, { state: 'attached' });
  await page.selectOption(select, id);
}

/** Types a program into a CodeMirror editor as a person would (its auto-indent and bracket closing included). */
async function typeInto(page: Page, editor: string, lines: string[]): Promise<void> {
  await page.click(`${editor} .cm-content`);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  for (const [i, line] of lines.entries()) {
    // Auto-indent after the previous line: clear it so each line starts where the program says.
    if (i > 0) {
      await page.keyboard.press('Enter');
      await page.keyboard.press('Shift+Home');
      await page.keyboard.press('Delete');
    }
    await page.keyboard.type(line);
  }
}

const exitFact = (page: Page) => page.locator('#facts [data-fact="exit"] b');

async function serverStreams(): Promise<boolean> {
  const res = await fetch(`${base}/api/v1/execute`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ language: 'bash', code: 'true' }),
  });
  await res.arrayBuffer();
  return res.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
}

describe('the web playground at /', () => {
  before(async () => {
    if (noBrowser) return;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
  });

  it('serves the page with a self-only CSP and its bundled assets with their types and cache headers', async () => {
    const page = await get(base, '/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html; charset=utf-8/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const csp = page.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    // CodeMirror's <style> elements carry a nonce, new for every response and named in the page.
    const nonce = /style-src 'self' 'nonce-([A-Za-z0-9+/]{22}==)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.ok(page.text.includes(`content="${nonce}"`));
    assert.doesNotMatch((await get(base, '/')).headers.get('content-security-policy')!, new RegExp(nonce.replace(/[+/]/g, '\\$&')));
    // Nothing from another origin: every script and stylesheet is this server's.
    const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((ref) => !ref.startsWith('data:'));
    assert.equal(refs.length, 2, page.text);
    for (const ref of refs) {
      assert.match(ref, /^playground\/[a-z]+-[A-Z0-9]+\.(js|css)$/);
      const asset = await get(base, `/${ref}`);
      assert.equal(asset.status, 200, ref);
      assert.match(asset.headers.get('content-type')!, ref.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.doesNotMatch(asset.text, /https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\/[^"'\s]*\.(js|css|woff2?)\b/i, `${ref} loads something from elsewhere`);
    }
    const missing = await get(base, '/playground/../package.json');
    assert.equal(missing.status, 404);
    const unknown = await get(base, '/playground/app-NOPE.js');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'RC_ERR_NOT_FOUND');
  });

  it('runs a typed Python program: its output shows live as it is printed, then exit code and timings', { skip: noBrowser }, async () => {
    const page = await openPlayground();
    await pickLanguage(page, '#language', 'python');
    await typeInto(page, '#editor', ['import time', 'print("first", flush=True)', 'time.sleep(1.5)', 'print("last")']);
    await page.click('#run');
    await page.locator('#output').getByText('first').waitFor();
    if (await serverStreams()) {
      // Streamed: "first" is on screen while the program still sleeps, before its result.
      assert.equal(await exitFact(page).count(), 0, 'the result came with the first line: output was not streamed');
      assert.doesNotMatch(await page.locator('#output').innerText(), /last/);
    }
    await exitFact(page).waitFor();
    assert.equal(await exitFact(page).innerText(), '0');
    assert.match(await page.locator('#output').innerText(), /first\nlast/);
    for (const fact of ['load', 'run', 'total']) assert.match(await page.locator(`#facts [data-fact="${fact}"] b`).innerText(), /^[\d.]+ ms$/);
    assert.equal(await page.locator('#facts [data-fact="stdout"]').count(), 0, 'stdout flagged truncated');
    await page.close();
  });

  it('passes stdin and args to the program', { skip: noBrowser }, async () => {
    const page = await openPlayground();
    await pickLanguage(page, '#language', 'python');
    await typeInto(page, '#editor', ['import sys', 'print("Hello,", input(), sys.argv[1:])']);
    await page.fill('#stdin', 'Ada\n');
    await page.fill('#args', 'one\ntwo words');
    await page.click('#run');
    await exitFact(page).waitFor();
    assert.equal((await page.locator('#output .stdout').allInnerTexts()).join(''), "Hello, Ada ['one', 'two words']\n");
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: `${SCREENSHOTS}/playground.png` });
    }
    await page.close();
  });

  it('shows a failing program\'s exit code, its stderr and a truncated stream', { skip: noBrowser }, async () => {
    const page = await openPlayground();
    await pickLanguage(page, '#language', 'python');
    await typeInto(page, '#editor', ['import sys', 'print("x" * 2_000_000)', 'sys.exit("it failed")']);
    await page.click('#run');
    await exitFact(page).waitFor();
    assert.equal(await exitFact(page).innerText(), '1');
    assert.match((await page.locator('#facts [data-fact="exit"]').getAttribute('class'))!, /bad/);
    assert.match((await page.locator('#output .stderr').allInnerTexts()).join(''), /it failed/);
    assert.equal(await page.locator('#facts [data-fact="stdout"] b').innerText(), 'truncated');
    await page.close();
  });

  it('asks for the API key of a server that needs one, keeps it for the tab and runs with it', { skip: noBrowser }, async () => {
    const page = await openPlayground(keyed.base);
    await page.locator('#notice').getByText('API key').waitFor();
    assert.equal(await page.locator('#language option').count(), 0);
    await page.fill('#api-key', 'playground-test-key');
    await page.click('#key-form button');
    await pickLanguage(page, '#language', 'python');
    await page.click('#run');
    await page.locator('#facts [data-fact="exit"] b').waitFor();
    assert.equal(await page.locator('#facts [data-fact="exit"] b').innerText(), '0');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('runner-codes.api-key')), 'playground-test-key');
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'the key must not outlive the tab');
    await page.close();
  });

  it('runs interpreter cells in a session: state persists, a matplotlib chart shows inline, files are listed', { skip: noBrowser }, async (t) => {
    const languages = (await get(base, '/api/v1/languages')).body as { id: string; installed: boolean }[];
    if (!languages.find((l) => l.id === 'python-datascience')?.installed && process.env.CI !== 'true') {
      t.skip("image 'python-datascience' is not built (infra.operator rootfs build --lang python-datascience)");
      return;
    }
    const page = await openPlayground();
    await page.click('#tab-session');
    await pickLanguage(page, '#session-language', 'python-datascience');
    await page.click('#session-start');
    await page.waitForSelector('#session-info[data-session-id]');
    const id = (await page.getAttribute('#session-info', 'data-session-id'))!;
    assert.equal((await get(base, `/api/v1/sessions/${id}`)).status, 200);

    await typeInto(page, '#cell-editor', ['import matplotlib.pyplot as plt', 'ys = [1, 4, 2, 5]', 'plt.plot(ys)', 'open("note.txt", "w").write("kept")', 'plt.show()']);
    await page.click('#cell-run');
    const image = page.locator('.cell').nth(0).locator('img.inline-image');
    await image.waitFor({ timeout: 60_000 });
    assert.ok((await image.evaluate((img: HTMLImageElement) => img.naturalWidth)) > 0, 'the chart did not decode');
    assert.match((await image.getAttribute('src'))!, /^data:image\/png;base64,/);
    await page.locator('#files li[data-path="note.txt"]').waitFor();

    await typeInto(page, '#cell-editor', ['sum(ys)']);
    await page.click('#cell-run');
    await page.locator('.cell').nth(1).locator('.display').waitFor();
    assert.equal(await page.locator('.cell').nth(1).locator('.display').innerText(), '12');

    await page.click('#files li[data-path="note.txt"]');
    await page.locator('#file-view').getByText('kept').waitFor();
    if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/playground-session.png` });

    await page.click('#session-end');
    await page.waitForSelector('#session-info:not([data-session-id])');
    assert.equal((await get(base, `/api/v1/sessions/${id}`)).status, 404);
    await page.close();
  });

  it('never had a script, style or request refused by its CSP, nor an error in the page', { skip: noBrowser }, () => {
    // The key test's 401 is the one expected failed request.
    const unexpected = complaints.filter((c) => !/status of 401/.test(c));
    assert.deepEqual(unexpected, []);
  });
});
