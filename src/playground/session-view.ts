import { call, callJson, type CellResult, type FileEntry, type Language, type SessionInfo } from './api.js';
import { byId, h } from './dom.js';
import { CodeEditor } from './editor.js';
import { inlineImage, mimeBundle } from './output-view.js';
import { FIRST_CELL } from './samples.js';

/** Languages with an interpreter kernel (docs/kernels.md), preferred for a session in this order. */
const KERNEL_LANGUAGES = ['python-datascience', 'python', 'javascript'];
/** Files larger than this are listed but not previewed. */
const PREVIEW_BYTES = 256 * 1024;

/**
 * The session mode: one session at a time, its files (list, preview, upload) and its interpreter,
 * whose cells keep their variables and show their figures inline.
 */
export class SessionView {
  readonly #report: (err: unknown) => void;
  readonly #language = byId<HTMLSelectElement>('session-language');
  readonly #start = byId<HTMLButtonElement>('session-start');
  readonly #end = byId<HTMLButtonElement>('session-end');
  readonly #info = byId<HTMLParagraphElement>('session-info');
  readonly #files = byId<HTMLUListElement>('files');
  readonly #fileView = byId<HTMLPreElement>('file-view');
  readonly #refresh = byId<HTMLButtonElement>('files-refresh');
  readonly #upload = byId<HTMLInputElement>('files-upload');
  readonly #cells = byId<HTMLDivElement>('cells');
  readonly #runCell = byId<HTMLButtonElement>('cell-run');
  readonly #cell: CodeEditor;
  #session: SessionInfo | null = null;

  constructor(report: (err: unknown) => void) {
    this.#report = report;
    this.#cell = new CodeEditor(byId('cell-editor'), { doc: FIRST_CELL, label: 'Cell', onRun: () => void this.runCell() });
    this.#cell.setLanguage('python');
    this.#language.addEventListener('change', () => this.#cell.setLanguage(this.#language.value));
    this.#start.addEventListener('click', () => void this.#guard(() => this.start()));
    this.#end.addEventListener('click', () => void this.#guard(() => this.end()));
    this.#refresh.addEventListener('click', () => void this.#guard(() => this.refreshFiles()));
    this.#upload.addEventListener('change', () => void this.#guard(() => this.#uploadPicked()));
    this.#runCell.addEventListener('click', () => void this.runCell());
    // A session the tab forgets about would live on until its idle timeout: end it with the tab.
    addEventListener('pagehide', () => {
      if (this.#session) void call('DELETE', this.#path(), { keepalive: true }).catch(() => undefined);
    });
  }

  setLanguages(languages: Language[]): void {
    const installed = languages.filter((lang) => lang.installed);
    const ordered = [...installed.filter((l) => KERNEL_LANGUAGES.includes(l.id)).sort((a, b) => KERNEL_LANGUAGES.indexOf(a.id) - KERNEL_LANGUAGES.indexOf(b.id)), ...installed.filter((l) => !KERNEL_LANGUAGES.includes(l.id))];
    this.#language.replaceChildren(...ordered.map((lang) => h('option', { value: lang.id }, `${lang.name}${lang.version ? ` ${lang.version}` : ''}`)));
    if (ordered[0]) this.#cell.setLanguage(ordered[0].id);
  }

  #path(suffix = ''): string {
    return `api/v1/sessions/${encodeURIComponent(this.#session!.id)}${suffix}`;
  }

  async #guard(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (err) {
      this.#report(err);
    }
  }

  #setLive(live: boolean): void {
    this.#start.disabled = live;
    this.#language.disabled = live;
    for (const control of [this.#end, this.#refresh, this.#upload, this.#runCell]) control.disabled = !live;
  }

  async start(): Promise<void> {
    this.#start.disabled = true;
    try {
      this.#session = await callJson<SessionInfo>('POST', 'api/v1/sessions', { language: this.#language.value });
    } finally {
      this.#start.disabled = this.#session !== null;
    }
    this.#cells.replaceChildren();
    this.#showInfo();
    this.#setLive(true);
    await this.refreshFiles();
  }

  #showInfo(): void {
    const s = this.#session;
    this.#info.textContent = s ? `Session ${s.id.slice(0, 8)} · ${s.language} ${s.version ?? ''} · ends by ${new Date(s.expires_at).toLocaleTimeString()} when idle` : 'No session.';
    if (s) this.#info.dataset.sessionId = s.id;
    else delete this.#info.dataset.sessionId;
  }

  async end(): Promise<void> {
    if (!this.#session) return;
    await call('DELETE', this.#path()).catch((err) => this.#report(err));
    this.#session = null;
    this.#showInfo();
    this.#setLive(false);
    this.#files.replaceChildren();
    this.#fileView.hidden = true;
  }

  async refreshFiles(): Promise<void> {
    if (!this.#session) return;
    const listing = await callJson<{ entries: FileEntry[]; truncated: boolean }>('GET', this.#path('/files'));
    this.#files.replaceChildren(
      ...listing.entries.map((entry) => {
        const item = h('li', { 'data-path': entry.path, class: entry.type }, entry.type === 'dir' ? `${entry.path}/` : entry.path, h('span', { class: 'size' }, entry.type === 'file' ? `${entry.size} B` : entry.type));
        if (entry.type === 'file') item.addEventListener('click', () => void this.#guard(() => this.#preview(entry)));
        return item;
      }),
      ...(listing.truncated ? [h('li', { class: 'more' }, '… more files than listed')] : []),
    );
  }

  async #preview(entry: FileEntry): Promise<void> {
    this.#fileView.hidden = false;
    if (entry.size > PREVIEW_BYTES) {
      this.#fileView.replaceChildren(`${entry.path}: ${entry.size} bytes, too large to preview`);
      return;
    }
    const res = await call('GET', `${this.#path('/files')}?path=${encodeURIComponent(entry.path)}`);
    const type = res.headers.get('content-type') ?? '';
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (/^image\/(png|jpeg|gif)/.test(type)) {
      let binary = '';
      for (const byte of bytes) binary += String.fromCharCode(byte);
      this.#fileView.replaceChildren(inlineImage(type.split(';')[0]!, btoa(binary), entry.path));
    } else this.#fileView.replaceChildren(new TextDecoder().decode(bytes));
  }

  async #uploadPicked(): Promise<void> {
    const file = this.#upload.files?.[0];
    if (!file || !this.#session) return;
    await call('PUT', `${this.#path('/files')}?path=${encodeURIComponent(file.name)}`, { body: file });
    this.#upload.value = '';
    await this.refreshFiles();
  }

  async runCell(): Promise<void> {
    if (!this.#session || this.#runCell.disabled) return;
    const code = this.#cell.text;
    const block = h('div', { class: 'cell running' }, h('pre', { class: 'cell-code' }, code));
    this.#cells.append(block);
    this.#runCell.disabled = true;
    try {
      const result = await callJson<CellResult>('POST', this.#path('/run_code'), { code });
      block.append(...cellOutput(result));
      block.classList.toggle('failed', result.error !== null);
    } catch (err) {
      block.append(h('pre', { class: 'stderr' }, err instanceof Error ? err.message : String(err)));
      block.classList.add('failed');
      this.#report(err);
    } finally {
      block.classList.remove('running');
      this.#runCell.disabled = this.#session === null;
      block.scrollIntoView({ block: 'nearest' });
    }
    await this.refreshFiles().catch((err) => this.#report(err));
  }
}

function cellOutput(result: CellResult): HTMLElement[] {
  const parts: HTMLElement[] = [];
  if (result.stdout) parts.push(h('pre', { class: 'stdout' }, result.stdout));
  if (result.stderr) parts.push(h('pre', { class: 'stderr' }, result.stderr));
  for (const bundle of result.outputs) parts.push(mimeBundle(bundle));
  if (result.error) parts.push(h('pre', { class: 'stderr traceback' }, result.error.traceback || `${result.error.name}: ${result.error.message}`));
  const flags = [result.timed_out ? 'timed out' : '', result.stdout_truncated ? 'stdout truncated' : '', result.stderr_truncated ? 'stderr truncated' : ''].filter(Boolean);
  parts.push(h('div', { class: 'facts' }, h('span', { class: 'fact' }, `${Math.round(result.duration_ms)} ms`), ...flags.map((flag) => h('span', { class: 'fact warn' }, flag))));
  return parts;
}
