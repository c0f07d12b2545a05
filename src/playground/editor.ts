import { basicSetup, EditorView } from 'codemirror';
import { Compartment, Prec, type Extension } from '@codemirror/state';
import { keymap } from '@codemirror/view';
import { StreamLanguage, type StreamParser } from '@codemirror/language';
import { python } from '@codemirror/lang-python';
import { javascript } from '@codemirror/lang-javascript';
import { cpp } from '@codemirror/lang-cpp';
import { java } from '@codemirror/lang-java';
import { rust } from '@codemirror/lang-rust';
import { go } from '@codemirror/lang-go';
import { shell } from '@codemirror/legacy-modes/mode/shell';
import { ruby } from '@codemirror/legacy-modes/mode/ruby';
import { lua } from '@codemirror/legacy-modes/mode/lua';
import { perl } from '@codemirror/legacy-modes/mode/perl';
import { haskell } from '@codemirror/legacy-modes/mode/haskell';
import { erlang } from '@codemirror/legacy-modes/mode/erlang';
import { clojure } from '@codemirror/legacy-modes/mode/clojure';
import { r } from '@codemirror/legacy-modes/mode/r';
import { sql } from '@codemirror/legacy-modes/mode/sql';
import { csharp, kotlin, scala } from '@codemirror/legacy-modes/mode/clike';

/** The nonce the server put into this page's CSP for CodeMirror's <style> elements. */
const STYLE_NONCE = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? '';

const legacy = (parser: StreamParser<unknown>) => () => StreamLanguage.define(parser);

/** Highlighting per language id of the catalog; a language not named here is edited as plain text. */
const HIGHLIGHTING: Record<string, () => Extension> = {
  python: python,
  'python-datascience': python,
  pypy: python,
  javascript: javascript,
  deno: () => javascript({ typescript: true }),
  bun: () => javascript({ typescript: true }),
  typescript: () => javascript({ typescript: true }),
  c: cpp,
  cpp: cpp,
  java: java,
  rust: rust,
  go: go,
  bash: legacy(shell as StreamParser<unknown>),
  sh: legacy(shell as StreamParser<unknown>),
  ruby: legacy(ruby as StreamParser<unknown>),
  lua: legacy(lua as StreamParser<unknown>),
  perl: legacy(perl as StreamParser<unknown>),
  haskell: legacy(haskell as StreamParser<unknown>),
  erlang: legacy(erlang as StreamParser<unknown>),
  clojure: legacy(clojure as StreamParser<unknown>),
  r: legacy(r as StreamParser<unknown>),
  sqlite: legacy(sql({}) as StreamParser<unknown>),
  csharp: legacy(csharp as StreamParser<unknown>),
  kotlin: legacy(kotlin as StreamParser<unknown>),
  scala: legacy(scala as StreamParser<unknown>),
};

/** A CodeMirror 6 editor whose highlighting follows the picked language; Ctrl/Cmd-Enter runs. */
export class CodeEditor {
  readonly #view: EditorView;
  readonly #language = new Compartment();

  constructor(parent: HTMLElement, options: { doc: string; label: string; onRun: () => void }) {
    const run = Prec.highest(keymap.of([{ key: 'Mod-Enter', run: () => (options.onRun(), true) }]));
    this.#view = new EditorView({
      parent,
      doc: options.doc,
      extensions: [EditorView.cspNonce.of(STYLE_NONCE), basicSetup, run, this.#language.of([]), EditorView.contentAttributes.of({ 'aria-label': options.label })],
    });
  }

  get text(): string {
    return this.#view.state.doc.toString();
  }

  set text(text: string) {
    this.#view.dispatch({ changes: { from: 0, to: this.#view.state.doc.length, insert: text } });
  }

  setLanguage(id: string): void {
    this.#view.dispatch({ effects: this.#language.reconfigure(HIGHLIGHTING[id]?.() ?? []) });
  }
}
