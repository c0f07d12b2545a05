// The pre-started Node.js of Runner Codes (docs/prestart.md). Started in a pooled sandbox as
// `node -r <this file> /work/main.js` with the job's uid, limits, cwd and environment, it runs as
// Node's preload, before Node resolves its entry point, and waits on fd 3 until the agent hands it
// a program: the job's argv, NUL-terminated entries, then EOF. When the program is the entry Node was
// started for, it only gives the process the job's argv and hides itself (execArgv, the preload list,
// the module cache), and Node goes on exactly as `node main.js <args>` would: same loader, same
// stack traces, same exit. Anything else (another entry, an option before it) it execs: a cold start
// in this same process. Nothing here is a security boundary (the sandbox is).
'use strict';
(() => {
  // A worker loads the preloads too, and inherits Node's options, not the main thread's execArgv.
  // The main thread is told by its process.chdir, Node's own wrapper there (a worker's is a stub
  // that throws): `require('node:worker_threads')` would load the worker machinery a fresh node
  // has not loaded (0.1 MiB of heap, 0.3 MiB more of node's pages mapped in every idle sandbox).
  // Should a Node rename it, every thread takes itself for a worker and jobs start cold (the
  // conformance suite fails): never the other way round, a worker reading the hand-over.
  if (process.chdir.name !== 'wrappedChdir') return void process.execArgv.splice(0);
  const fs = require('node:fs');
  const path = require('node:path');
  // The streams: what every program writing to a pipe (console.log, process.stdout) loads first
  // (1.5-2 ms of a hello world's run), loaded here while idle, as the worker machinery did before.
  require('node:stream');
  fs.writeSync(3, 'R');
  const chunks = [];
  for (;;) {
    const chunk = Buffer.alloc(65536);
    const n = fs.readSync(3, chunk, 0, chunk.length, null);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
  }
  fs.closeSync(3);
  const argv = Buffer.concat(chunks).toString('utf8').split('\0').slice(0, -1);
  const entry = argv[1] === undefined || argv[1].startsWith('-') ? undefined : path.resolve(argv[1]);
  if (entry !== process.argv[1]) process.execve(process.execPath, argv, process.env);
  process.argv.splice(0, process.argv.length, process.execPath, entry, ...argv.slice(2));
  process.execArgv.splice(0);
  Object.defineProperty(process, '_preload_modules', { value: [], writable: false, configurable: true, enumerable: true });
  delete require.cache[__filename];
})();
