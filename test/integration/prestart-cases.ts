import type { ExecuteRequest } from '../../src/engine/request.js';

/**
 * Programs run both in a pre-started interpreter and in a fresh one (prestart-conformance.test.ts):
 * stdout, stderr, exit code and signal must be identical. `cold`: the request must not run in the
 * pre-started interpreter (its run stage does not fit it), and still gives the same result.
 */
export interface PrestartCase {
  title: string;
  request: ExecuteRequest;
  cold?: boolean;
}

const py = (title: string, code: string, extra: Partial<ExecuteRequest> = {}): PrestartCase => ({ title, request: { language: 'python', code, ...extra } });
const js = (title: string, code: string, extra: Partial<ExecuteRequest> = {}): PrestartCase => ({ title, request: { language: 'javascript', code, ...extra } });
const cold = (c: PrestartCase): PrestartCase => ({ ...c, cold: true });

/** The signal lines of /proc/self/status: blocked, ignored and caught signals must match too. */
const PY_SIGNALS = 'print([l for l in open("/proc/self/status") if l.startswith(("SigBlk", "SigIgn", "SigCgt"))])\n';
const JS_SIGNALS = "console.log(require('fs').readFileSync('/proc/self/status', 'utf8').split('\\n').filter((l) => /^Sig(Blk|Ign|Cgt)/.test(l)));\n";

export const PYTHON_CASES: readonly PrestartCase[] = [
  py('hello', 'print("hello")\n'),
  py('uncaught error: traceback with the script\'s frames only', 'def f(x):\n    return 1 / x\n\ndef g():\n    return f(0)\n\ng()\n'),
  py('sys.exit(3)', 'import sys\nprint("before")\nsys.exit(3)\n'),
  py('sys.exit with a message', 'import sys\nsys.exit("bad input")\n'),
  py('exit() builtin and SystemExit(0)', 'print("x")\nraise SystemExit(0)\n'),
  py('syntax error', 'print("a"\nx = \n'),
  py('stdin read whole', 'import sys\ndata = sys.stdin.read()\nprint(len(data), repr(data[-6:]))\n', { stdin: 'line one\nline two\nend\n' }),
  py('stdin in parts: input(), readline(), read()', 'import sys\na = input()\nb = sys.stdin.readline()\nrest = sys.stdin.read()\nprint(repr(a), repr(b), repr(rest))\n', { stdin: 'first\nsecond\nthird\nfourth' }),
  py('argv, __name__, __file__, sys.path[0], sys.orig_argv', 'import sys\nprint(__name__, __file__, sys.argv, sys.orig_argv, sys.path[0], sys.executable)\n', { args: ['a b', '--flag', ''] }),
  py('the __main__ module\'s globals', 'print([(k, type(v).__name__) for k, v in globals().items()])\nimport __main__\nprint(__main__.__dict__ is globals(), __loader__.name, __spec__, __doc__)\n'),
  py('atexit hooks run after non-daemon threads, in reverse order', 'import atexit, threading, time\natexit.register(print, "atexit 1")\natexit.register(print, "atexit 2")\ndef work():\n    time.sleep(0.2)\n    print("thread done")\nthreading.Thread(target=work).start()\nprint("main done")\n'),
  py('an error in a thread', 'import threading\ndef boom():\n    raise ValueError("in thread")\nt = threading.Thread(target=boom, name="T1")\nt.start()\nt.join()\nprint("after")\n'),
  py('uncaught KeyboardInterrupt ends by SIGINT', 'import atexit\natexit.register(print, "atexit ran")\nprint("x", flush=True)\nraise KeyboardInterrupt\n'),
  py('killed by its own SIGTERM', 'import os, signal\nprint("bye", flush=True)\nos.kill(os.getpid(), signal.SIGTERM)\n'),
  py('large output', 'import sys\nfor i in range(20000):\n    sys.stdout.write("%06d %s\\n" % (i, "x" * 40))\n'),
  py('output without a newline and os._exit', 'import os, sys\nsys.stdout.write("partial")\nsys.stderr.write("err-partial")\nsys.stdout.flush()\nos._exit(7)\n'),
  py('relative import of a second submitted file and a package', '', {
    code: undefined,
    files: [
      { name: 'main.py', content: 'import helper\nfrom pkg import mod\nprint(helper.NAME, mod.VALUE, helper.__file__, mod.__name__)\n' },
      { name: 'helper.py', content: 'NAME = "helper"\n' },
      { name: 'pkg/__init__.py', content: '' },
      { name: 'pkg/mod.py', content: 'VALUE = 42\n' },
    ],
  }),
  py('an entry in a subdirectory', '', { code: undefined, files: [{ name: 'src/app.py', content: 'import sys, os\nprint(__file__, sys.path[0], sys.argv[0], os.getcwd())\n' }] }),
  py('warnings at module level', 'import warnings\nwarnings.warn("careful")\nwarnings.warn("deprecated", DeprecationWarning)\nprint("done")\n'),
  py('chained exceptions', 'try:\n    {}["k"]\nexcept KeyError as e:\n    raise RuntimeError("wrapped") from e\n'),
  py('a custom sys.excepthook', 'import sys\ndef hook(t, v, tb):\n    print("hooked", t.__name__, v, tb.tb_frame.f_code.co_filename, tb.tb_next)\nsys.excepthook = hook\nraise ValueError(3)\n'),
  py('pickle of a class defined in __main__', 'import pickle\nclass Point:\n    def __init__(self, x):\n        self.x = x\np = pickle.loads(pickle.dumps(Point(5)))\nprint(type(p).__module__, p.x)\n'),
  py('unicode in and out', 'name = input()\nprint(f"héllo {name} ✓", len(name))\n', { stdin: 'wörld 🌍\n' }),
  py('signal dispositions', PY_SIGNALS),
  py('rlimits, ids, cwd, umask', 'import os, resource\nprint([resource.getrlimit(r) for r in (resource.RLIMIT_NOFILE, resource.RLIMIT_FSIZE, resource.RLIMIT_STACK, resource.RLIMIT_CORE)])\nprint(os.getuid(), os.getgid(), os.getcwd(), os.umask(0), os.getpgrp() == os.getpid())\n'),
  py('descriptors open at start', 'import os\nprint(sorted(os.listdir("/proc/self/fd"))[:4], os.open("/dev/null", os.O_RDONLY))\n'),
  py('__file__ is gone by atexit time', 'import atexit\natexit.register(lambda: print("atexit sees __file__:", "__file__" in globals()))\nprint("__file__" in globals())\n'),
  py('a coding cookie with latin-1 bytes (run by exec, a cold start in place)', '', { code: undefined, files: [{ name: 'main.py', content: Buffer.from('# -*- coding: latin-1 -*-\nprint("caf\xe9")\n', 'latin1').toString('base64'), encoding: 'base64' }] }),
  py('environment', 'import os\nprint(sorted(os.environ.items()))\n'),
  // The start-up's objects are frozen out of the collector (docs/prestart.md): the program's own
  // are collected, finalised and torn down as in a fresh interpreter, in the same order.
  py(
    'finalisers: collected cycles, __del__ of globals at exit, weakref.finalize, an unclosed file',
    'import atexit, gc, weakref\n' +
      'class D:\n    def __init__(self, n):\n        self.n = n\n    def __del__(self):\n        print("del", self.n, flush=True)\n' +
      'keep = D("global")\ncycle = D("cycle")\ncycle.me = cycle\ndel cycle\n' +
      'print("collected", gc.collect() >= 1, gc.get_count(), len(gc.garbage))\n' +
      'weak = D("weak")\nweakref.finalize(weak, print, "finalize weak")\n' +
      'later = D("cycle at exit")\nlater.me = later\ndel later\n' +
      'f = open("/tmp/unclosed.txt", "w")\nf.write("buffered")\n' +
      'atexit.register(lambda: print("atexit", open("/tmp/unclosed.txt").read() == ""))\n' +
      'print("thresholds", gc.get_threshold(), gc.isenabled())\n',
  ),
  py('gc.collect() in a loop of garbage', 'import gc\nclass N:\n    pass\nfor i in range(3):\n    a, b = N(), N()\n    a.b, b.a = b, a\n    del a, b\n    print(gc.collect())\n'),
  cold(py('a request env starts cold', 'import os\nprint(os.environ["GREETING"])\n', { env: { GREETING: 'hi' } })),
  cold(py('a longer timeout than the pool\'s starts cold (a higher CPU rlimit)', 'import resource\nprint(resource.getrlimit(resource.RLIMIT_CPU))\n', { limits: { timeoutMs: 20_000 } })),
];

export const JAVASCRIPT_CASES: readonly PrestartCase[] = [
  js('hello', 'console.log("hello");\n'),
  js('uncaught error: stack trace through Node\'s own main path', 'function f() { throw new TypeError("bad " + 1); }\nf();\n'),
  js('process.exit(4)', 'console.log("a");\nprocess.exit(4);\n'),
  js('process.exitCode', 'process.exitCode = 5;\nconsole.log("set");\n'),
  js('an unhandled rejection', 'Promise.reject(new Error("nope"));\nsetTimeout(() => console.log("never"), 100);\n'),
  js('syntax error', 'console.log("a";\n'),
  js('stdin read whole', "const data = require('fs').readFileSync(0, 'utf8');\nconsole.log(data.length, JSON.stringify(data.slice(-5)));\n", { stdin: 'one\ntwo\nthree\n' }),
  js('stdin in parts, as a stream', "let parts = [];\nprocess.stdin.on('data', (d) => parts.push(d.length));\nprocess.stdin.on('end', () => console.log('end', parts.reduce((a, b) => a + b, 0)));\n", { stdin: 'x'.repeat(200_000) }),
  js('readline over stdin', "const rl = require('readline').createInterface({ input: process.stdin });\nconst lines = [];\nrl.on('line', (l) => lines.push(l));\nrl.on('close', () => console.log(lines));\n", { stdin: 'a\nb\n\nc' }),
  js('argv, __filename, require.main, execArgv, argv0', 'console.log(process.argv.slice(1), __filename, __dirname, require.main === module, process.execArgv, process.argv0, process.execPath === process.argv[0], module.id, module.paths.length);\n', { args: ['x y', '--z', ''] }),
  js('beforeExit and exit events', "let n = 0;\nprocess.on('beforeExit', (code) => { console.log('beforeExit', code, n); if (n++ < 2) setTimeout(() => console.log('more'), 1); });\nprocess.on('exit', (code) => console.log('exit', code));\n"),
  js('exit code from an exit listener', "process.on('exit', () => { process.exitCode = 9; console.log('exiting'); });\n"),
  js('an error in a timer', 'setTimeout(() => { null.x; }, 5);\n'),
  js('large output', "let s = '';\nfor (let i = 0; i < 20000; i++) s += String(i).padStart(6, '0') + ' ' + 'x'.repeat(40) + '\\n';\nprocess.stdout.write(s);\n"),
  js('stderr and stdout', "console.error('to stderr');\nconsole.log('to stdout');\nconsole.warn('warn');\n"),
  js('a worker thread', "const { Worker } = require('worker_threads');\nconst w = new Worker('const { parentPort } = require(\"worker_threads\"); parentPort.postMessage([process.execArgv, process.argv.length]);', { eval: true });\nw.on('message', (m) => console.log('worker says', JSON.stringify(m)));\nw.on('exit', (c) => console.log('worker exit', c));\n"),
  js('require of a second file and the module cache', '', {
    code: undefined,
    files: [
      { name: 'main.js', content: "const lib = require('./lib');\nconsole.log(lib.name, Object.keys(require.cache).sort(), module.children.map((m) => m.id));\n" },
      { name: 'lib.js', content: 'module.exports = { name: "lib" };\n' },
    ],
  }),
  js('ESM syntax in main.js', 'import { readFileSync } from "node:fs";\nconsole.log(typeof readFileSync, import.meta.url);\n'),
  js('"type": "module" in package.json', '', {
    code: undefined,
    files: [
      { name: 'main.js', content: 'import { x } from "./dep.js";\nconsole.log(x, import.meta.filename);\nawait Promise.resolve();\nthrow new Error("esm");\n' },
      { name: 'dep.js', content: 'export const x = 1;\n' },
      { name: 'package.json', content: '{"type": "module"}\n' },
    ],
  }),
  js('an .mjs entry (run by exec, a cold start in place)', '', { code: undefined, files: [{ name: 'main.mjs', content: 'console.log(import.meta.filename, process.argv.length);\n' }] }),
  js('killed by its own SIGTERM', "console.log('bye');\nprocess.kill(process.pid, 'SIGTERM');\nsetTimeout(() => {}, 1000);\n"),
  js('signal dispositions', JS_SIGNALS),
  js('ids, cwd, umask, environment', "console.log(process.getuid(), process.getgid(), process.cwd(), process.umask(), Object.entries(process.env).sort());\n"),
  cold(js('a request env starts cold', 'console.log(process.env.GREETING);\n', { env: { GREETING: 'hi' } })),
  cold(js('NODE_OPTIONS starts cold', 'console.log(process.execArgv, process.env.NODE_OPTIONS);\n', { env: { NODE_OPTIONS: '--no-warnings' } })),
];
