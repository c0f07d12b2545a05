// The pre-started PHP of Runner Codes (docs/prestart.md): code for `php -r` (so no opening tag),
// started in a pooled sandbox with the job's uid, limits, cwd and environment. It waits on fd 3 until
// the agent hands it a program: the job's argv, NUL-terminated entries, then EOF. It then runs the
// script as `php <script> <args>` would, in this same request: $argv, $argc and $_SERVER as the CLI
// sets them for a script, the script included at the global scope (__FILE__, __DIR__, inline HTML,
// declare, get_included_files, exit codes, shutdown functions and output buffers are PHP's own); an
// uncaught exception goes on to the user's or PHP's own handler with this program's frame cut from
// its trace. What it cannot reproduce exactly (an option before the script, a shebang line, a parse
// error: PHP reports it for a script as it does not for an include; a script that catches exceptions
// or reads the stack, which would see the include's frame) it execs: a cold start in this same
// process. fd 3 is read and closed by FFI (php://fd/3 would only dup it). Nothing here is a
// security boundary (the sandbox is).
try {
    include (static function (): string {
        $libc = FFI::cdef('long read(int, void *, unsigned long); long write(int, const void *, unsigned long); int close(int);', 'libc.so.6');
        $libc->write(3, 'R', 1);
        $data = '';
        $buffer = FFI::new('char[65536]');
        while (($n = $libc->read(3, $buffer, 65536)) > 0) {
            $data .= FFI::string($buffer, $n);
        }
        $libc->close(3);
        $argv = explode("\0", $data);
        array_pop($argv);
        $script = $argv[1] ?? '-';
        $source = $script !== '' && $script[0] !== '-' ? @file_get_contents($script) : false;
        $cold = $source === false || str_starts_with($source, '#!');
        if (!$cold) {
            try {
                // A script that catches an exception (and may print its trace) or reads the stack
                // would see the include's frame: it starts cold too.
                foreach (@token_get_all($source, TOKEN_PARSE) as $token) {
                    if (is_array($token) && ($token[0] === T_CATCH || in_array(strtolower(ltrim($token[1], '\\')), ['debug_backtrace', 'debug_print_backtrace', 'gettrace', 'gettraceasstring', '__tostring'], true))) {
                        $cold = true;
                        break;
                    }
                }
            } catch (ParseError) {
                $cold = true;
            }
        }
        if ($cold) {
            // pcntl_exec takes a path, not a name to look up: PATH as execvp would search it.
            $paths = str_contains($argv[0], '/') ? [$argv[0]] : array_map(fn ($dir) => "$dir/{$argv[0]}", explode(':', getenv('PATH') ?: '/usr/bin:/bin'));
            foreach ($paths as $path) {
                if (is_executable($path)) {
                    pcntl_exec($path, array_slice($argv, 1));
                }
            }
            fwrite(STDERR, "Could not exec {$argv[0]}\n");
            exit(127);
        }
        $args = array_slice($argv, 1);
        $GLOBALS['argv'] = $_SERVER['argv'] = $args;
        $GLOBALS['argc'] = $_SERVER['argc'] = count($args);
        $_SERVER['PHP_SELF'] = $_SERVER['SCRIPT_NAME'] = $_SERVER['SCRIPT_FILENAME'] = $_SERVER['PATH_TRANSLATED'] = $script;
        $_SERVER['REQUEST_TIME_FLOAT'] = microtime(true);
        $_SERVER['REQUEST_TIME'] = (int) $_SERVER['REQUEST_TIME_FLOAT'];
        return $script[0] === '/' ? $script : getcwd() . '/' . $script;
    })();
} catch (Throwable $__runner_prestart) {
    // The frames of this program (file "Command line code") are cut from the exception and those
    // before it; the variable goes before the exception reaches a handler or the shutdown
    // functions. `php -r` skips the user's exception handler, so this calls it as PHP does after
    // a script (from an internal function); an exception it throws is reported as uncaught.
    (static function (): void {
        $e = $GLOBALS['__runner_prestart'];
        unset($GLOBALS['__runner_prestart']);
        $trim = static function (Throwable $e): Throwable {
            for ($x = $e; $x !== null; $x = $x->getPrevious()) {
                $trace = new ReflectionProperty($x instanceof Exception ? Exception::class : Error::class, 'trace');
                $frames = $trace->getValue($x);
                while ($frames !== [] && (end($frames)['file'] ?? '') === 'Command line code') {
                    array_pop($frames);
                }
                $trace->setValue($x, $frames);
            }
            return $e;
        };
        $handler = set_exception_handler(null);
        if ($handler === null) {
            throw $trim($e);
        }
        set_exception_handler($handler);
        try {
            array_map($handler, [$trim($e)]); // an internal caller (call_user_func compiles to a direct call)
        } catch (Throwable $again) {
            throw $trim($again);
        }
    })();
}
