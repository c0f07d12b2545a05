// The JavaScript (Node.js) interpreter kernel of Runner Codes (docs/kernels.md). Started once per
// session as `node -e <this file's text>`, it reads cells from the control channel (fd 3), one JSON
// object per line: {"cell": N, "code": "..."}; runs each in this process's global context, so globals
// persist; and answers on fd 3 with {"cell": N, "status", "error", "outputs"}. What the cell writes to
// process.stdout/stderr (console.log) comes as {"stream", "text"} lines on fd 3 before the reply (in
// order, counted per cell); child processes write to the real fds 1 and 2, which the agent streams.
// Nothing here is a security boundary: the user's code runs in this same process, and the sandbox is.
// One function scope: `node -e` runs a script, whose top-level names would be the user's globals.
(() => {
  'use strict';
  const fs = require('node:fs');
  const inspector = require('node:inspector');
  const net = require('node:net');
  const path = require('node:path');
  const util = require('node:util');
  const vm = require('node:vm');
  const { createRequire } = require('node:module');

  const CONTROL_FD = 3;
  const MAX_REPLY_BYTES = 48 * 1024 * 1024;

  // `require` and `module` as a script in the work directory would see them.
  const cellModule = { exports: {}, filename: path.join(process.cwd(), '<cell>'), id: '<cell>' };
  globalThis.require = createRequire(path.join(process.cwd(), '<cell>'));
  globalThis.module = cellModule;
  globalThis.exports = cellModule.exports;
  globalThis.__filename = cellModule.filename;
  globalThis.__dirname = process.cwd();

  const outputs = [];
  let running = null;
  let currentCell = 0;
  let outputLimit = 1 << 20;

  // process.stdout and process.stderr of the cells: text goes out on the control channel.
  const streams = {};
  for (const name of ['stdout', 'stderr']) {
    const stream = { used: 0, truncated: false };
    streams[name] = stream;
    process[name].write = (chunk, encoding, callback) => {
      if (typeof encoding === 'function') [callback, encoding] = [encoding, undefined];
      let data = Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk) : Buffer.from(String(chunk), encoding);
      const room = outputLimit - stream.used;
      if (data.length > room) {
        // Past the cell's cap: dropped here, so that a flood never reaches the host.
        stream.truncated = true;
        data = data.subarray(0, Math.max(room, 0));
      }
      stream.used += data.length;
      if (data.length > 0) send({ cell: currentCell, stream: name, text: data.toString('utf8') });
      if (typeof callback === 'function') process.nextTick(callback);
      return true;
    };
  }

  /** Shows each value as a rich output of the cell: a bundle, or {mime: content} when given one. */
  globalThis.display = (...values) => {
    for (const value of values) outputs.push(mimeBundle(value));
  };

  function mimeBundle(value) {
    const bundle = { 'text/plain': util.inspect(value, { depth: 4, maxArrayLength: 200, maxStringLength: 100_000 }) };
    if (value !== null && typeof value === 'object' && typeof value._toMimeBundle === 'function') {
      try {
        for (const [mime, content] of Object.entries(value._toMimeBundle() ?? {})) {
          bundle[mime] = typeof content === 'string' ? content : mime === 'application/json' ? JSON.stringify(content) : String(content);
        }
      } catch {
        // A failing renderer leaves the plain text.
      }
    }
    return bundle;
  }

  function errorOf(thrown) {
    if (thrown instanceof Error || (thrown !== null && typeof thrown === 'object' && 'stack' in thrown)) {
      const stack = String(thrown.stack ?? `${thrown.name}: ${thrown.message}`);
      // The kernel's own frames (below the cell's) say nothing about the user's code.
      const lines = stack.split('\n');
      const cut = lines.findIndex((line, i) => i > 0 && /\((node:vm|node:inspector|node:internal)|at (Script\.run|ContextifyScript|runCell|evaluate)/.test(line));
      return { name: String(thrown.name ?? 'Error'), message: String(thrown.message ?? ''), traceback: (cut > 0 ? lines.slice(0, cut) : lines).join('\n') };
    }
    return { name: 'Error', message: util.inspect(thrown), traceback: `Uncaught ${util.inspect(thrown)}` };
  }

  // Cells with top-level await run through V8's REPL mode (what a browser console does): it awaits at
  // the top level and keeps the cell's declarations global. Other cells run as scripts, which SIGINT
  // can interrupt even in a busy loop.
  let session = null;
  function replEvaluate(code) {
    if (session === null) {
      session = new inspector.Session();
      session.connect();
    }
    return new Promise((resolve, reject) => {
      session.post('Runtime.evaluate', { expression: code, replMode: true, awaitPromise: true, objectGroup: 'cell' }, (err, response) => {
        if (err) return reject(err);
        const remote = response.exceptionDetails ? response.exceptionDetails.exception : response.result;
        realValue(remote).then((value) => {
          session.post('Runtime.releaseObjectGroup', { objectGroup: 'cell' });
          if (response.exceptionDetails) reject(value);
          else resolve(value);
        }, reject);
      });
    });
  }

  /** The value behind an inspector RemoteObject (handed back to the kernel through a symbol-keyed global). */
  function realValue(remote) {
    if (remote === undefined || remote.type === 'undefined') return Promise.resolve(undefined);
    if (!('objectId' in remote)) {
      if ('unserializableValue' in remote) return Promise.resolve(vm.runInNewContext(remote.unserializableValue));
      return Promise.resolve(remote.value);
    }
    const key = Symbol.for('runner-codes.kernel.value');
    return new Promise((resolve, reject) => {
      session.post('Runtime.callFunctionOn', { objectId: remote.objectId, functionDeclaration: `function () { 'use strict'; globalThis[Symbol.for('runner-codes.kernel.value')] = this; }` }, (err) => {
        if (err) return reject(err);
        const value = globalThis[key];
        delete globalThis[key];
        resolve(value);
      });
    });
  }

  function compileScript(code, filename) {
    // As in Node's REPL: `{ a: 1 }` alone is an object, not a block.
    if (/^\s*\{[\s\S]*\}\s*$/.test(code)) {
      try {
        return new vm.Script(`(${code})`, { filename });
      } catch {
        // A block after all.
      }
    }
    return new vm.Script(code, { filename });
  }

  async function evaluate(code, filename) {
    let script;
    try {
      script = compileScript(code, filename);
    } catch (error) {
      if (error instanceof SyntaxError && /\bawait\b/.test(code)) return replEvaluate(code);
      throw error;
    }
    return script.runInThisContext({ breakOnSigint: true, displayErrors: false });
  }

  async function runCell(number, code) {
    outputs.length = 0;
    currentCell = number;
    for (const stream of Object.values(streams)) Object.assign(stream, { used: 0, truncated: false });
    let error = null;
    const interrupted = new Promise((resolve) => {
      running = resolve;
    });
    try {
      const value = await Promise.race([evaluate(code, `<cell-${number}>`), interrupted.then(() => Promise.reject(interruptError()))]);
      if (value !== undefined) {
        globalThis._ = value;
        outputs.push(mimeBundle(value));
      }
    } catch (thrown) {
      try {
        error = errorOf(thrown);
      } catch {
        // A thrown object whose getters throw still ends the cell with an answer.
        error = { name: 'Error', message: '<the thrown value could not be described>', traceback: '' };
      }
    } finally {
      running = null;
    }
    return {
      cell: number,
      status: error === null ? 'ok' : 'error',
      error,
      outputs: outputs.splice(0),
      stdout_truncated: streams.stdout.truncated,
      stderr_truncated: streams.stderr.truncated,
    };
  }

  function interruptError() {
    const error = new Error('Script execution interrupted.');
    error.name = 'Interrupted';
    error.stack = 'Interrupted: Script execution interrupted.';
    return error;
  }

  // SIGINT while a cell awaits ends the cell (vm's breakOnSigint covers synchronous code); a late
  // SIGINT, after the cell ended, is ignored so that it cannot kill the kernel.
  process.on('SIGINT', () => {
    if (running !== null) running();
  });
  // Errors thrown later by timers or promises of an earlier cell are reported, not fatal.
  process.on('uncaughtException', (error) => process.stderr.write(`Uncaught ${util.inspect(error)}\n`));
  process.on('unhandledRejection', (reason) => process.stderr.write(`Unhandled rejection: ${util.inspect(reason)}\n`));

  const control = new net.Socket({ fd: CONTROL_FD, readable: true, writable: true });

  function send(message) {
    let line = JSON.stringify(message) + '\n';
    if (Buffer.byteLength(line) > MAX_REPLY_BYTES) {
      process.stderr.write(`runner-codes kernel: the outputs of this cell exceed ${MAX_REPLY_BYTES} bytes and were dropped\n`);
      line = JSON.stringify({ ...message, outputs: [] }) + '\n';
    }
    control.write(line);
  }

  let pending = '';
  let queue = Promise.resolve();
  control.setEncoding('utf8');
  control.on('data', (chunk) => {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.trim() === '') continue;
      let request;
      try {
        request = JSON.parse(line);
        if (!Number.isInteger(request.cell) || typeof request.code !== 'string') throw new TypeError('a cell needs an integer "cell" and a string "code"');
      if (Number.isInteger(request.output_limit)) outputLimit = request.output_limit;
      } catch (error) {
        send({ cell: null, status: 'error', outputs: [], error: { name: 'ProtocolError', message: String(error.message), traceback: '' } });
        continue;
      }
      queue = queue.then(() => runCell(request.cell, request.code)).then(send);
    }
  });
  // The host closed the channel: the session is over.
  control.on('end', () => process.exit(0));
  control.on('error', () => process.exit(0));
  fs.fstatSync(CONTROL_FD);
  send({ ready: true, language: 'javascript', version: process.versions.node });
})();
