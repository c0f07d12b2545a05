import { ApiError, apiKey, callJson, execute, setApiKey, type Language } from './api.js';
import { byId, h } from './dom.js';
import { CodeEditor } from './editor.js';
import { ExecutionView } from './output-view.js';
import { SAMPLES } from './samples.js';
import { SessionView } from './session-view.js';

const notice = byId<HTMLParagraphElement>('notice');

/** Says what went wrong; a 401 opens the key field. */
function showError(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  notice.textContent = err instanceof ApiError && err.needsKey ? `${message} — enter the server's API key above.` : message;
  notice.hidden = false;
  if (err instanceof ApiError && err.needsKey) byId<HTMLInputElement>('api-key').focus();
}

function clearError(): void {
  notice.hidden = true;
}

const languageSelect = byId<HTMLSelectElement>('language');
const runButton = byId<HTMLButtonElement>('run');
const editor = new CodeEditor(byId('editor'), { doc: SAMPLES.python!, label: 'Program', onRun: () => void run() });
editor.setLanguage('python');
let untouched = SAMPLES.python!;

function fillLanguages(select: HTMLSelectElement, languages: Language[], preferred: string): void {
  const installed = languages.filter((lang) => lang.installed);
  select.replaceChildren(...installed.map((lang) => h('option', { value: lang.id }, `${lang.name}${lang.version ? ` ${lang.version}` : ''}`)));
  if (installed.some((lang) => lang.id === preferred)) select.value = preferred;
}

async function loadLanguages(): Promise<void> {
  try {
    const languages = await callJson<Language[]>('GET', 'api/v1/languages');
    fillLanguages(languageSelect, languages, 'python');
    session.setLanguages(languages);
    clearError();
  } catch (err) {
    showError(err);
  }
}

languageSelect.addEventListener('change', () => {
  const id = languageSelect.value;
  editor.setLanguage(id);
  // Swap in the new language's first program only when the old one's was not edited.
  if (editor.text === untouched) editor.text = untouched = SAMPLES[id] ?? '';
});

async function run(): Promise<void> {
  if (runButton.disabled) return;
  clearError();
  runButton.disabled = true;
  const view = new ExecutionView(byId('output'), byId('facts'));
  const stdin = byId<HTMLTextAreaElement>('stdin').value;
  const args = byId<HTMLTextAreaElement>('args').value.split('\n').filter((line) => line !== '');
  try {
    const request = { language: languageSelect.value, code: editor.text, ...(stdin ? { stdin } : {}), ...(args.length ? { args } : {}) };
    const { result, streamed } = await execute('api/v1/execute', request, { onStage: (s) => view.stage(s), onOutput: (s, t) => view.output(s, t) });
    view.finish(result, streamed);
  } catch (err) {
    view.fail(err instanceof Error ? err.message : String(err));
    showError(err);
  } finally {
    runButton.disabled = false;
  }
}
runButton.addEventListener('click', () => void run());

const session = new SessionView(showError);

function selectMode(mode: 'program' | 'session'): void {
  for (const name of ['program', 'session'] as const) {
    byId(name).hidden = name !== mode;
    byId(`tab-${name}`).setAttribute('aria-selected', String(name === mode));
  }
}
byId('tab-program').addEventListener('click', () => selectMode('program'));
byId('tab-session').addEventListener('click', () => selectMode('session'));

const keyInput = byId<HTMLInputElement>('api-key');
keyInput.value = apiKey();
byId('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  void loadLanguages();
});

void loadLanguages();
