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
  // The bootstrap tells the main thread without loading worker_threads: the worker machinery a
  // program finds loaded is what a fresh node has (the old bootstrap's require added four modules).
  js('the worker machinery loaded at the start', "console.log(process.moduleLoadList.filter((m) => /worker/.test(m)));\n"),
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

const rb = (title: string, code: string, extra: Partial<ExecuteRequest> = {}): PrestartCase => ({ title, request: { language: 'ruby', code, ...extra } });
const RB_SIGNALS = 'puts File.readlines("/proc/self/status").grep(/^Sig(Blk|Ign|Cgt)/)\n';

export const RUBY_CASES: readonly PrestartCase[] = [
  rb('hello', 'puts "hello"\n'),
  rb('$0, $PROGRAM_NAME, __FILE__, __dir__, ARGV, __method__', 'p [$0, $PROGRAM_NAME, __FILE__, __dir__, ARGV, $*, __method__, self.to_s, __ENCODING__]\n', { args: ['a b', '--flag', ''] }),
  rb('uncaught exception: message and backtrace of the script only', 'def f(x)\n  1 / x\nend\n\ndef g = f(0)\ng\n'),
  rb('NoMethodError with did_you_mean and error_highlight', 'class Point\n  def self.length = 1\nend\nPoint.lenght\n'),
  rb('NameError on nil', 'x = nil\nputs x.upcase\n'),
  rb('a rescued exception\'s backtrace and caller (run by exec, a cold start in place)', 'def f = raise("x")\nbegin\n  f\nrescue => e\n  puts e.backtrace, e.full_message(highlight: false)\nend\nputs caller(0)\n'),
  rb('a custom exception with a cause', 'class AppError < StandardError; end\nbegin\n  Integer("zz")\nrescue ArgumentError\n  raise AppError, "wrapped"\nend\n'),
  rb('exit 3 after at_exit hooks', 'at_exit { puts "at_exit ran" }\nputs "x"\nexit 3\n'),
  rb('exit! skips at_exit and buffered output', '$stdout.sync = false\nat_exit { puts "never" }\nprint "buffered"\n$stdout.flush\nexit! 4\n'),
  rb('abort with a message', 'abort "bad input"\n'),
  rb('raise SystemExit directly', 'raise SystemExit.new(7, "bye")\n'),
  rb('BEGIN and END blocks, at_exit order and $! in at_exit', 'END { puts "END 1" }\nat_exit { puts "at_exit sees #{$!.inspect}" }\nBEGIN { puts "BEGIN" }\nEND { puts "END 2" }\nputs "main"\nraise "late"\n'),
  rb('an Interrupt ends the process by SIGINT', 'at_exit { puts "at_exit ran" }\n$stdout.flush\nraise Interrupt\n'),
  rb('killed by its own SIGTERM', 'puts "bye"\n$stdout.flush\nProcess.kill("TERM", Process.pid)\nsleep 1\n'),
  rb('a trap handler', 'trap("USR1") { puts "got USR1" }\nProcess.kill("USR1", Process.pid)\nsleep 0.1\nputs "after"\n'),
  rb('syntax error (run by exec, a cold start in place)', 'puts("a"\nx = \n'),
  rb('compile warnings', 'def f\n  x = 1\nend\nif (a = 1)\n  puts a\nend\nputs 08.to_s rescue nil\n'),
  rb('runtime warnings', 'warn "plain warn"\nwarn "up", uplevel: 0\nX = 1\nX = 2\n$VERBOSE = true\ndef m; end\ndef m; end\nputs "done"\n'),
  rb('stdin: gets, read, ARGF', 'a = gets\nb = $stdin.readline\nrest = STDIN.read\np [a, b, rest]\n', { stdin: 'first\nsecond\nthird\nfourth' }),
  rb('ARGF over stdin', 'p ARGF.each_line.map(&:chomp)\n', { stdin: 'x\ny\n' }),
  rb('unicode in and out', 'name = gets.chomp\nputs "héllo #{name} ✓ #{name.length} #{name.encoding}"\n', { stdin: 'wörld 🌍\n' }),
  rb('frozen_string_literal magic comment', '# frozen_string_literal: true\ns = "abc"\np s.frozen?\ns << "d"\n'),
  rb('an encoding magic comment', '# encoding: ascii-8bit\np __ENCODING__, "é".bytesize, "é".encoding\n'),
  rb('__END__ and DATA (run by exec, a cold start in place)', 'puts DATA.read.upcase\n__END__\nafter the end\n'),
  rb('a ruby shebang line with options (run by exec, a cold start in place)', '#!/usr/bin/env ruby -w\ndef f\n  x = 1\nend\nputs "w"\n'),
  rb('a plain shebang line', '#!/usr/bin/env ruby\nputs __LINE__\n'),
  rb('require_relative, require, $LOAD_PATH, $LOADED_FEATURES', '', {
    code: undefined,
    files: [
      { name: 'main.rb', content: 'require_relative "lib/helper"\nrequire "set"\nputs Helper::NAME, Set.new([1]).size, $LOAD_PATH.size, $LOADED_FEATURES.size, $LOADED_FEATURES.grep(/helper/)\n' },
      { name: 'lib/helper.rb', content: 'module Helper\n  NAME = "helper #{__FILE__} #{__dir__}"\nend\n' },
    ],
  }),
  rb('an entry in a subdirectory', '', { code: undefined, files: [{ name: 'src/app.rb', content: 'p [__FILE__, __dir__, $0, Dir.pwd]\n' }] }),
  rb('an error in a thread, and report_on_exception', 'require "stringio"\n$stderr = StringIO.new\nThread.new { raise ArgumentError, "in thread" }.join rescue puts "joined: #{$!.message}"\nSTDERR.puts $stderr.string.gsub(/0x\\h+/, "ADDR")\n'),
  rb('top-level locals, methods and constants; TOPLEVEL_BINDING', 'x = 5\ndef helper = :h\nputs helper, self.class, Object.private_method_defined?(:helper), defined?(x), TOPLEVEL_BINDING.receiver\n'),
  rb('large output, buffered until exit', '20000.times { |i| puts format("%06d %s", i, "x" * 40) }\n'),
  rb('stdout and stderr interleaved', '$stderr.puts "to stderr"\nputs "to stdout"\n$stdout.write "no newline"\n'),
  rb('signal dispositions', RB_SIGNALS),
  rb('rlimits, ids, cwd, umask, environment', 'p [Process.getrlimit(:NOFILE), Process.getrlimit(:FSIZE), Process.getrlimit(:STACK)], Process.uid, Process.gid, Dir.pwd, File.umask, ENV.to_h.sort\n'),
  rb('a subprocess', 'puts `echo from child`\nsystem("exit 3")\np $?.exitstatus\n'),
  rb('a top-level return, and the __FILE__ == $0 idiom', 'puts(__FILE__ == $0 ? "main" : "library")\nreturn if ARGV.empty?\nputs "not reached"\n'),
  rb('signal dispositions after an exec in place (DATA)', RB_SIGNALS.replace('puts', 'puts DATA.read,') + '__END__\ndata\n'),
  rb('refinements: main.using at the top level', 'module Shout\n  refine(String) { def shout = upcase + "!" }\nend\nusing Shout\nputs "hi".shout\n'),
  cold(rb('a request env starts cold', 'puts ENV["GREETING"]\n', { env: { GREETING: 'hi' } })),
];

const php = (title: string, code: string, extra: Partial<ExecuteRequest> = {}): PrestartCase => ({ title, request: { language: 'php', code, ...extra } });

const PHP_SIGNALS = '<?php\necho implode("", preg_grep("/^Sig(Blk|Ign|Cgt)/", file("/proc/self/status")));\n';

export const PHP_CASES: readonly PrestartCase[] = [
  php('hello', '<?php\necho "hello\\n";\n'),
  php('$argv, $argc, $_SERVER, __FILE__, __DIR__, __LINE__', '<?php\nvar_dump($argv, $argc, $_SERVER["argv"], $_SERVER["argc"], $_SERVER["SCRIPT_FILENAME"], $_SERVER["PHP_SELF"], $_SERVER["SCRIPT_NAME"], $_SERVER["PATH_TRANSLATED"], $_SERVER["DOCUMENT_ROOT"], __FILE__, __DIR__, __LINE__, PHP_SAPI);\n', { args: ['a b', '--flag', ''] }),
  php('the keys of $_SERVER and the request time', '<?php\necho implode(",", array_keys($_SERVER)), "\\n";\nvar_dump(abs(microtime(true) - $_SERVER["REQUEST_TIME_FLOAT"]) < 2, $_SERVER["REQUEST_TIME"] === (int) $_SERVER["REQUEST_TIME_FLOAT"]);\n'),
  php('the global scope: defined variables', '<?php\n$x = 1;\necho implode(",", array_keys(get_defined_vars())), "\\n";\nfunction f() { global $x; return $x; }\necho f(), "\\n";\n'),
  php('uncaught exception: message and trace of the script only', '<?php\nfunction f($x) { return intdiv(1, $x); }\nfunction g() { return f(0); }\ng();\n'),
  php('uncaught exception at the top level, with a previous one', '<?php\nfunction inner() { return new InvalidArgumentException("inner", 3); }\nthrow new RuntimeException("outer", 0, inner());\n'),
  php('a caught exception printed with its trace (run by exec, a cold start in place)', '<?php\nfunction f() { throw new Exception("x"); }\ntry {\n    f();\n} catch (Exception $e) {\n    echo $e, "\\n";\n}\n'),
  php('debug_print_backtrace and debug_backtrace (run by exec, a cold start in place)', '<?php\nfunction f() { debug_print_backtrace(); return count(debug_backtrace()); }\necho f(), "\\n";\n'),
  php('an Error: undefined function', '<?php\necho "before\\n";\nnope(1);\n'),
  php('a TypeError under strict_types', '<?php\ndeclare(strict_types=1);\nfunction f(int $x): int { return $x; }\necho f("5");\n'),
  php('a fatal error: redeclared function', '<?php\nfunction f() {}\nfunction f() {}\n'),
  php('a parse error (run by exec, a cold start in place)', '<?php\necho "a"\n$x = ;\n'),
  php('exit codes: exit(3) after output', '<?php\necho "x";\nexit(3);\n'),
  php('exit with a string', '<?php\nexit("bye\\n");\n'),
  php('register_shutdown_function and destructors', '<?php\nclass D { function __destruct() { echo "destructed\\n"; } }\n$d = new D();\nregister_shutdown_function(function () { echo "shutdown 1\\n"; });\nregister_shutdown_function(function () { echo "shutdown 2, error: ", json_encode(error_get_last()), "\\n"; });\necho "main\\n";\nexit(2);\n'),
  php('shutdown functions after an uncaught exception', '<?php\nregister_shutdown_function(function () { echo "shutdown sees: ", error_get_last()["message"] ?? "none", "\\n"; });\nthrow new LogicException("late");\n'),
  php('output buffering flushed at the end', '<?php\nob_start();\necho "buffered ";\nob_start(fn ($s) => strtoupper($s));\necho "upper";\n'),
  php('inline HTML outside <?php', 'before\n<?php echo "inside\\n"; ?>\nafter <?= 1 + 1 ?>\n'),
  php('a shebang line (run by exec, a cold start in place)', '#!/usr/bin/env php\n<?php\necho "shebang\\n";\n'),
  php('warnings, notices and deprecations as the CLI reports them', '<?php\necho $undefined;\n$a = [];\necho $a["k"];\necho intdiv(7, 2), "\\n";\ntrigger_error("custom", E_USER_WARNING);\ntrigger_error("dep", E_USER_DEPRECATED);\necho "done\\n";\n'),
  php('stdin: fgets, STDIN, php://stdin, stream_get_contents', '<?php\n$a = fgets(STDIN);\n$b = trim(fgets(STDIN));\n$rest = stream_get_contents(STDIN);\nvar_dump($a, $b, $rest);\n', { stdin: 'first\nsecond\nthird\nfourth' }),
  php('stdin through file_get_contents("php://stdin")', '<?php\n$all = file_get_contents("php://stdin");\necho strlen($all), " ", json_encode(substr($all, -5)), "\\n";\n', { stdin: 'one\ntwo\nthree\n' }),
  php('unicode in and out', '<?php\n$n = trim(fgets(STDIN));\necho "héllo $n ✓ ", mb_strlen($n), "\\n";\n', { stdin: 'wörld 🌍\n' }),
  php('include and require of other files, get_included_files', '', {
    code: undefined,
    files: [
      { name: 'main.php', content: '<?php\nrequire "lib/helper.php";\ninclude_once __DIR__ . "/lib/helper.php";\necho helper(), "\\n";\nprint_r(get_included_files());\n' },
      { name: 'lib/helper.php', content: '<?php\nfunction helper() { return "helper " . __FILE__ . " " . basename($_SERVER["SCRIPT_FILENAME"]); }\n' },
    ],
  }),
  php('an entry in a subdirectory', '', { code: undefined, files: [{ name: 'src/app.php', content: '<?php\nvar_dump(__FILE__, __DIR__, $argv[0], getcwd(), $_SERVER["SCRIPT_FILENAME"]);\n' }] }),
  php('__halt_compiler and its data', '<?php\n$fp = fopen(__FILE__, "r");\nfseek($fp, __COMPILER_HALT_OFFSET__);\necho trim(stream_get_contents($fp)), "\\n";\n__halt_compiler();\nthe data\n'),
  php('an uncaught exception from a class method and a closure', '<?php\nclass Svc {\n    public function run(array $xs) { return array_map(fn ($x) => $this->check($x), $xs); }\n    private function check($x) { if ($x > 1) throw new DomainException("too big: $x"); return $x; }\n}\n(new Svc())->run([1, 2]);\n'),
  php('set_exception_handler and set_error_handler', '<?php\nset_error_handler(function ($no, $str, $file, $line) { echo "error $no $str ", basename($file), ":$line\\n"; return true; });\necho $nope;\nset_exception_handler(function ($e) { echo "handled ", get_class($e), " ", $e->getMessage(), "\\n"; });\nthrow new Exception("x");\n'),
  php('an exception handler that throws, and exit in a handler', '<?php\nregister_shutdown_function(fn () => print("shutdown\\n"));\nset_exception_handler(function ($e) { echo "first ", $e->getMessage(), "\\n"; throw new Exception("from handler"); });\nthrow new Exception("x");\n'),
  php('exit from an exception handler', '<?php\nset_exception_handler(function ($e) { echo $e->getTraceAsString(), "\\n"; exit(6); });\nfunction boom() { throw new Exception("x"); }\nboom();\n'),
  php('large output', '<?php\nfor ($i = 0; $i < 20000; $i++) printf("%06d %s\\n", $i, str_repeat("x", 40));\n'),
  php('stdout and stderr', '<?php\nfwrite(STDERR, "to stderr\\n");\necho "to stdout\\n";\nfile_put_contents("php://stderr", "more stderr\\n");\n'),
  php('killed by its own SIGTERM', '<?php\necho "bye\\n";\nposix_kill(posix_getpid(), SIGTERM);\nsleep(1);\n'),
  php('ids, cwd, umask, environment, ini', '<?php\nvar_dump(posix_getuid(), posix_getgid(), getcwd(), umask(), getenv(), ini_get("display_errors"), ini_get("memory_limit"), ini_get("max_execution_time"), php_ini_loaded_file());\n'),
  php('descriptors open at the start', '<?php\n$fds = scandir("/proc/self/fd");\necho count($fds) >= 5 ? "ok" : "few", " ", implode(",", array_slice($fds, 2, 3)), "\\n";\n'),
  php('signal dispositions', PHP_SIGNALS),
  php('signal dispositions after an exec in place (a shebang line)', '#!/usr/bin/php\n' + PHP_SIGNALS),
  php('a namespace, use and an uncaught exception from it', '<?php\nnamespace App\\Core;\nuse InvalidArgumentException as Bad;\nfunction check(int $x) { if ($x < 0) throw new Bad("negative"); return $x; }\necho __NAMESPACE__, " ", check(1), "\\n";\ncheck(-1);\n'),
  cold(php('a request env starts cold', '<?php\necho getenv("GREETING"), "\\n";\n', { env: { GREETING: 'hi' } })),
];
