import type { ExecutionResult, OutputFile } from './api.js';
import { h } from './dom.js';

/** Image types shown inline; anything else a program or cell displays is shown as text. */
const INLINE_IMAGES = ['image/png', 'image/jpeg', 'image/gif', 'image/svg+xml'];

/** An <img> of base64 bytes (a data: URL, which the page's CSP admits for images only). */
export function inlineImage(mime: string, base64: string, alt: string): HTMLImageElement {
  return h('img', { src: `data:${mime};base64,${base64}`, alt, class: 'inline-image' });
}

/** One displayed value (a MIME bundle): its image if it has one, else its plain text. HTML is never rendered. */
export function mimeBundle(bundle: Record<string, string>): HTMLElement {
  const image = INLINE_IMAGES.find((mime) => bundle[mime] !== undefined);
  if (image) {
    const data = image === 'image/svg+xml' ? utf8Base64(bundle[image]!) : bundle[image]!;
    return h('div', { class: 'display' }, inlineImage(image, data, bundle['text/plain'] ?? image));
  }
  return h('pre', { class: 'display' }, bundle['text/plain'] ?? bundle['application/json'] ?? Object.keys(bundle).join(', '));
}

function utf8Base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function outputFile(file: OutputFile): HTMLElement {
  const label = `${file.path} (${file.size} bytes${file.truncated ? ', truncated' : ''})`;
  return INLINE_IMAGES.includes(file.mime)
    ? h('figure', {}, inlineImage(file.mime, file.content_b64, file.path), h('figcaption', {}, label))
    : h('div', { class: 'output-file' }, label);
}

const ms = (value: number) => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;

/** The facts under the output: exit code or signal, limits hit, truncation, timings. */
export function resultFacts(result: ExecutionResult): HTMLElement {
  const facts: HTMLElement[] = [];
  const fact = (name: string, value: string, kind = '') => facts.push(h('span', { class: `fact ${kind}`, 'data-fact': name }, `${name} `, h('b', {}, value)));
  if (result.status === 'failed') fact('error', result.error?.code ?? 'failed', 'bad');
  const compileFailed = result.compile && result.compile.exit_code !== 0;
  if (compileFailed) fact('compile exit', String(result.compile!.exit_code ?? result.compile!.signal), 'bad');
  fact('exit', result.exit_code === null ? (result.signal ?? '-') : String(result.exit_code), result.exit_code === 0 ? 'good' : 'bad');
  if (result.signal) fact('signal', result.signal, 'bad');
  if (result.timed_out) fact('timed out', 'yes', 'bad');
  if (result.oom_killed) fact('out of memory', 'yes', 'bad');
  if (result.truncated?.stdout) fact('stdout', 'truncated', 'warn');
  if (result.truncated?.stderr) fact('stderr', 'truncated', 'warn');
  if (result.outputs_truncated) fact('outputs', 'truncated', 'warn');
  const t = result.timings;
  if (t) {
    fact('load', ms(t.load_ms));
    if (t.compile_ms > 0) fact('compile', ms(t.compile_ms));
    fact('run', ms(t.exec_ms));
    fact('total', ms(t.total_ms));
  }
  if (result.memory_peak_bytes) fact('memory', `${(result.memory_peak_bytes / 1048576).toFixed(1)} MiB`);
  return h('div', { class: 'facts' }, ...facts);
}

/** The output pane of one execution: stage marks and both streams interleaved as they arrive. */
export class ExecutionView {
  readonly #out: HTMLElement;
  readonly #facts: HTMLElement;

  constructor(out: HTMLElement, facts: HTMLElement) {
    this.#out = out;
    this.#facts = facts;
    out.replaceChildren();
    facts.replaceChildren(h('span', { class: 'fact' }, 'running…'));
  }

  stage(name: string): void {
    this.#out.append(h('span', { class: 'stage' }, `▸ ${name}\n`));
  }

  output(stream: 'stdout' | 'stderr', text: string): void {
    this.#out.append(h('span', { class: stream }, text));
  }

  /** The result; output that was not streamed (a JSON answer) is shown from it. */
  finish(result: ExecutionResult, streamed: boolean): void {
    if (!streamed) {
      if (result.compile) this.#out.append(h('span', { class: 'stage' }, '▸ compile\n'), h('span', { class: 'stderr' }, result.compile.stdout + result.compile.stderr));
      this.#out.append(h('span', { class: 'stdout' }, result.stdout), h('span', { class: 'stderr' }, result.stderr));
    }
    if (result.error) this.#out.append(h('span', { class: 'stderr' }, `${result.error.message}\n`));
    for (const file of result.outputs ?? []) this.#out.append(outputFile(file));
    this.#facts.replaceChildren(resultFacts(result));
  }

  fail(message: string): void {
    this.#out.append(h('span', { class: 'stderr' }, `${message}\n`));
    this.#facts.replaceChildren(h('span', { class: 'fact bad' }, 'not run'));
  }
}
