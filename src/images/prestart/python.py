# The pre-started Python of Runner Codes (docs/prestart.md). Started in a pooled sandbox as
# `python3 -c <this text>` with the job's uid, limits, cwd and environment, it waits on fd 3 until the
# agent hands it a program: the job's argv, NUL-terminated entries, then EOF. It then runs the script
# as `python3 <script> <args>` would: a fresh __main__, sys.argv, sys.orig_argv, sys.path[0],
# __file__, the same compile and the same top-level error handling (no frame of its own in a
# traceback). Anything it cannot reproduce exactly (an option before the script, a .pyc or zip, a
# source with NUL or non-UTF-8 bytes) it execs: that is a cold start in this same process.
# Nothing here is a security boundary (the sandbox is); it only imports what Python already loaded.
def _prestarted(sys, os):
    # The start-up loads frozen and cached bytecode only: the parser and the compiler have not run
    # yet, and the program's own compile would page their code in (some 50 page faults, ~1.6 ms in a
    # VM). One compile of a throwaway source, nothing of it run, pages them in while the sandbox idles.
    compile(
        'import os as _o\nfrom sys import argv as _a\n@staticmethod\ndef _f(a, /, b=1, *c, d=None, **e):\n'
        '    "doc"\n    global _g\n    x = [i * 2 for i in a if i] + list({k: v for k, v in e.items()})\n'
        '    try:\n        with open(a) as h:\n            return f"{x!r:>10} {b}" or (lambda y: y)\n'
        '    except (OSError, ValueError) as err:\n        raise RuntimeError(str(err)) from err\n'
        '    finally:\n        pass\nclass _C(object):\n    z: int = 0\n    def m(self):\n'
        '        while self.z < 3:\n            self.z += 1\n        yield from range(self.z)\n'
        'async def _h():\n    async with _C() as q:\n        await q\nif __name__ == "__main__":\n'
        '    print(_f(_a[0]), *_a, sep=", ", end="")\n',
        '<prestart>', 'exec', dont_inherit=True,
    )
    # The start-up's own objects (some 4,800: modules, functions, the import system) go into the
    # collector's permanent generation: the collections at exit (most of a short run's
    # finalisation) and while the program runs then scan only the program's objects, which are
    # collected, finalised and torn down exactly as in a fresh interpreter. `gc` is not imported
    # at start-up, so it leaves sys.modules as it found it.
    gc = __import__('gc')
    del sys.modules['gc']
    gc.freeze()
    del gc
    os.write(3, b'R')
    chunks = []
    while True:
        chunk = os.read(3, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(3)
    argv = [os.fsdecode(a) for a in b''.join(chunks).split(b'\0')[:-1]]
    script = argv[1] if len(argv) > 1 else '-'
    source = None
    if not script.startswith('-') and not script.endswith('.pyc'):
        try:
            with open(script, 'rb') as f:
                source = f.read()
            source.decode('utf-8')
        except (OSError, UnicodeDecodeError):
            source = None
    if source is None or b'\0' in source or source.startswith(b'PK\x03\x04'):
        import _signal
        _signal.signal(_signal.SIGPIPE, _signal.SIG_DFL)
        _signal.signal(_signal.SIGXFSZ, _signal.SIG_DFL)
        os.execvp(argv[0], argv)
    path = script if script.startswith('/') else os.path.join(os.getcwd(), script)
    sys.argv[:] = argv[1:]
    sys.orig_argv[:] = argv
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    main = type(sys)('__main__')
    g = main.__dict__
    g['__loader__'] = sys.modules['_frozen_importlib_external'].SourceFileLoader('__main__', path)
    g['__annotations__'] = {}
    g['__builtins__'] = sys.modules['builtins']
    g['__file__'] = path
    g['__cached__'] = None
    sys.modules['__main__'] = main
    try:
        code = compile(source, path, 'exec', dont_inherit=True)
        del source, chunks
        exec(code, g)
    except SystemExit:
        raise
    except BaseException as e:
        # What PyErr_Print does with an error that leaves the script, minus this frame.
        e.__traceback__ = e.__traceback__.tb_next
        sys.last_type, sys.last_value, sys.last_traceback = type(e), e, e.__traceback__
        sys.excepthook(type(e), e, e.__traceback__)
        interrupted = isinstance(e, KeyboardInterrupt)
        del e
    else:
        interrupted = None
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    g.pop('__file__', None)
    g.pop('__cached__', None)
    if interrupted is None:
        return
    if interrupted:
        # An unhandled KeyboardInterrupt ends Python by SIGINT once it has finalised.
        if 'threading' in sys.modules:
            sys.modules['threading']._shutdown()
        import atexit
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        import _signal
        _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
        os.kill(os.getpid(), _signal.SIGINT)
    raise SystemExit(1)


_prestarted(__import__('sys'), __import__('os'))
