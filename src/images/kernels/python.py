# The Python interpreter kernel of Runner Codes (docs/kernels.md). Started once per session as
# `python3 -u -c <this file's text>`, it reads cells from the control channel (fd 3), one JSON object
# per line: {"cell": N, "code": "..."}; runs each in one persistent namespace; and answers on fd 3 with
# {"cell": N, "status": "ok"|"error", "error": {name, message, traceback}|null, "outputs": [bundles]}.
# What the cell prints through sys.stdout/sys.stderr comes as {"stream": "stdout"|"stderr", "text"}
# lines on fd 3 before the cell's reply (so it is in order, and counted per cell); what subprocesses
# and C code write to fds 1 and 2 goes to the real stdout/stderr, which the agent streams. Nothing here
# is a security boundary: the user's code runs in this same process, and the sandbox is the boundary.
import builtins
import json
import os
import signal
import sys
import types
from _thread import allocate_lock, get_ident

CONTROL_FD = 3
# What one reply may carry; a cell showing more gets its outputs cut (and says so on stderr).
MAX_REPLY_BYTES = 48 * 1024 * 1024

# Subprocesses the user starts must not inherit the control channel.
os.set_inheritable(CONTROL_FD, False)

# The user's namespace is a real __main__ module (pickle and multiprocessing look objects up there);
# the kernel's own names stay out of it.
main = types.ModuleType('__main__')
main.__dict__['__builtins__'] = builtins
sys.modules['__main__'] = main
namespace = main.__dict__

state = {'running': False, 'sending': False, 'interrupted': False, 'outputs': [], 'cell': 0, 'output_limit': 1 << 20}
send_lock = allocate_lock()
# SIGINT runs its handler in the main thread: only its own sends defer an interrupt.
MAIN_THREAD = get_ident()


def on_sigint(signum, frame):
    # The host interrupts a cell at its timeout. A late SIGINT, after the cell ended, is ignored so
    # that it can never break the kernel's own loop; one that comes while a line is being sent waits
    # until the line is whole (a half-written line would garble the channel).
    if not state['running']:
        return
    if state['sending']:
        state['interrupted'] = True
        return
    raise KeyboardInterrupt()


signal.signal(signal.SIGINT, on_sigint)


class ControlStream:
    """sys.stdout/sys.stderr of the cells: text goes out on the control channel, line by line."""
    encoding = 'utf-8'
    errors = 'replace'

    def __init__(self, name):
        self.name = name
        self.pending = []
        self.pending_bytes = 0
        self.used = 0
        self.truncated = False

    def start_cell(self):
        self.used = 0
        self.truncated = False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError('write() argument must be str, not %s' % type(text).__name__)
        written = len(text)
        size = len(text.encode('utf-8', 'replace'))
        room = state['output_limit'] - self.used
        if size > room:
            # Past the cell's cap: dropped here, so that a flood never reaches the host.
            self.truncated = True
            text = text.encode('utf-8', 'replace')[:max(room, 0)].decode('utf-8', 'ignore')
            size = len(text.encode('utf-8'))
        self.used += size
        if text:
            self.pending.append(text)
            self.pending_bytes += size
            if '\n' in text or self.pending_bytes >= 8192:
                self.flush()
        return written

    def flush(self):
        if self.pending:
            text = ''.join(self.pending)
            self.pending = []
            self.pending_bytes = 0
            send({'cell': state['cell'], 'stream': self.name, 'text': text})

    @property
    def buffer(self):
        return ByteStream(self)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def fileno(self):
        return 1 if self.name == 'stdout' else 2

    @property
    def closed(self):
        return False


class ByteStream:
    """sys.stdout.buffer: bytes written there are decoded as UTF-8 into the text stream."""

    def __init__(self, text_stream):
        self.text_stream = text_stream

    def write(self, data):
        self.text_stream.write(bytes(data).decode('utf-8', 'replace'))
        return len(data)

    def flush(self):
        self.text_stream.flush()


def b64(data):
    import base64
    return base64.b64encode(data).decode('ascii')


def figure_bundle(figure):
    import io
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png')
    return {'text/plain': '<Figure size %dx%d>' % tuple(int(v) for v in figure.get_size_inches() * figure.dpi),
            'image/png': b64(buffer.getvalue())}


# IPython's display protocol: the `_repr_*_` methods an object may have, and the MIME type of each.
REPR_METHODS = (
    ('_repr_html_', 'text/html'),
    ('_repr_markdown_', 'text/markdown'),
    ('_repr_svg_', 'image/svg+xml'),
    ('_repr_png_', 'image/png'),
    ('_repr_jpeg_', 'image/jpeg'),
    ('_repr_latex_', 'text/latex'),
    ('_repr_json_', 'application/json'),
)


def mime_bundle(value):
    figure_module = sys.modules.get('matplotlib.figure')
    if figure_module is not None and isinstance(value, figure_module.Figure):
        bundle = figure_bundle(value)
        sys.modules['matplotlib.pyplot'].close(value)
        return bundle
    bundle = {}
    if not isinstance(value, type):
        mimebundle = getattr(value, '_repr_mimebundle_', None)
        if callable(mimebundle):
            try:
                data = mimebundle()
                if isinstance(data, tuple):
                    data = data[0]
                for mime, content in dict(data or {}).items():
                    add_mime(bundle, mime, content)
            except Exception:
                pass
        for method, mime in REPR_METHODS:
            render = getattr(value, method, None)
            if mime in bundle or not callable(render):
                continue
            try:
                add_mime(bundle, mime, render())
            except Exception:
                pass
    if 'text/plain' not in bundle:
        try:
            bundle['text/plain'] = repr(value)
        except Exception as error:
            bundle['text/plain'] = '<repr failed: %s: %s>' % (type(error).__name__, error)
    return bundle


def add_mime(bundle, mime, content):
    if content is None:
        return
    if isinstance(content, tuple):  # (data, metadata), as IPython allows
        content = content[0]
    if isinstance(content, (bytes, bytearray)):
        content = b64(bytes(content)) if not mime.startswith('text/') else bytes(content).decode('utf-8', 'replace')
    elif mime == 'application/json' and not isinstance(content, str):
        content = json.dumps(content, default=repr)
    elif not isinstance(content, str):
        content = str(content)
    bundle[mime] = content


def display(*values):
    """Shows each value as a rich output of the cell (like IPython's display())."""
    for value in values:
        state['outputs'].append(mime_bundle(value))


builtins.display = display


def show_figures():
    """Every open matplotlib figure becomes an image/png output, then is closed."""
    pyplot = sys.modules.get('matplotlib.pyplot')
    if pyplot is None:
        return
    for number in pyplot.get_fignums():
        state['outputs'].append(figure_bundle(pyplot.figure(number)))
    pyplot.close('all')


# matplotlib's backend for the kernel, loaded only when the user imports pyplot: Agg rendering with a
# show() that turns the figures into outputs (what IPython's inline backend does).
BACKEND = '_runner_codes_inline'
BACKEND_SOURCE = '''
from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas
from matplotlib.backend_bases import FigureManagerBase as FigureManager
def show(*args, **kwargs):
    _show_figures()
'''


class BackendFinder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != BACKEND:
            return None
        import importlib.util
        return importlib.util.spec_from_loader(name, BackendFinder)

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        module.__dict__['_show_figures'] = show_figures
        exec(compile(BACKEND_SOURCE, '<runner-codes matplotlib backend>', 'exec'), module.__dict__)


sys.meta_path.append(BackendFinder)
os.environ['MPLBACKEND'] = 'module://' + BACKEND


def cell_traceback(error):
    """The traceback without the kernel's own frames: from the first frame of a cell on."""
    import traceback
    tb = error.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith('<cell-'):
        tb = tb.tb_next
    if isinstance(error, SyntaxError) and tb is None:
        lines = traceback.format_exception_only(type(error), error)
    else:
        lines = traceback.format_exception(type(error), error, tb)
    return ''.join(lines)


def describe_error(error):
    """{name, message, traceback}, even for an exception whose __str__ itself raises."""
    try:
        message = str(error)
    except BaseException:
        message = '<str() of the exception failed>'
    try:
        trace = cell_traceback(error)
    except BaseException:
        trace = '%s: %s' % (type(error).__name__, message)
    return {'name': type(error).__name__, 'message': message, 'traceback': trace}


def compile_cell(code, filename):
    """The cell's statements, and its last expression compiled apart so its value can be shown."""
    import ast
    import linecache
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    tree = ast.parse(code, filename, 'exec')
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, filename, 'exec', flags=flags, dont_inherit=True)
    value = compile(last, filename, 'eval', flags=flags, dont_inherit=True) if last is not None else None
    return body, value


loop = None


def evaluate(code_object):
    """Runs compiled code in the namespace; code with top-level await runs on one kept event loop."""
    global loop
    result = eval(code_object, namespace)
    if code_object.co_flags & 0x80:  # CO_COROUTINE: the cell awaited at its top level
        if loop is None:
            import asyncio
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
        result = loop.run_until_complete(result)
    return result


def run_cell(number, code):
    state['outputs'] = []
    state['interrupted'] = False
    for stream in streams:
        stream.start_cell()
    error = None
    try:
        state['running'] = True
        body, value_code = compile_cell(code, '<cell-%d>' % number)
        evaluate(body)
        value = evaluate(value_code) if value_code is not None else None
        state['running'] = False
        show_figures()
        if value is not None:
            namespace['_'] = value
            state['outputs'].append(mime_bundle(value))
    except BaseException as caught:  # KeyboardInterrupt and SystemExit end the cell, not the kernel
        state['running'] = False
        error = describe_error(caught)
        try:
            show_figures()
        except Exception:
            pass
    finally:
        state['running'] = False
    for stream in (sys.stdout, sys.stderr, *streams):
        try:
            stream.flush()
        except Exception:
            pass
    return {'cell': number, 'status': 'ok' if error is None else 'error', 'error': error, 'outputs': state['outputs'],
            'stdout_truncated': streams[0].truncated, 'stderr_truncated': streams[1].truncated}


def send(message):
    data = (json.dumps(message, ensure_ascii=False, default=repr) + '\n').encode('utf-8', 'replace')
    if len(data) > MAX_REPLY_BYTES:
        sys.stderr.write('runner-codes kernel: the outputs of this cell exceed %d bytes and were dropped\n' % MAX_REPLY_BYTES)
        sys.stderr.flush()
        message = dict(message, outputs=[])
        data = (json.dumps(message, ensure_ascii=False, default=repr) + '\n').encode('utf-8', 'replace')
    main_thread = get_ident() == MAIN_THREAD
    with send_lock:  # threads of the cell print too; each line goes out whole
        state['sending'] = main_thread
        try:
            view = memoryview(data)
            while view:
                try:
                    written = os.write(CONTROL_FD, view)
                except InterruptedError:
                    continue
                view = view[written:]
        finally:
            state['sending'] = False
    if main_thread and state['interrupted'] and state['running']:
        state['interrupted'] = False
        raise KeyboardInterrupt()


def requests():
    pending = b''
    while True:
        try:
            chunk = os.read(CONTROL_FD, 1 << 16)
        except (InterruptedError, KeyboardInterrupt):
            continue
        if not chunk:
            return
        pending += chunk
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            if line.strip():
                yield line


streams = (ControlStream('stdout'), ControlStream('stderr'))


def serve():
    sys.stdout, sys.stderr = streams
    send({'ready': True, 'language': 'python', 'version': '%d.%d.%d' % sys.version_info[:3]})
    for line in requests():
        try:
            request = json.loads(line)
            number, code = int(request['cell']), request['code']
            if not isinstance(code, str):
                raise TypeError('code must be a string')
            if 'output_limit' in request:
                state['output_limit'] = int(request['output_limit'])
        except Exception as error:
            send({'cell': None, 'status': 'error', 'outputs': [],
                  'error': {'name': 'ProtocolError', 'message': str(error), 'traceback': ''}})
            continue
        state['cell'] = number
        send(run_cell(number, code))


serve()
