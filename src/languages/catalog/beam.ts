import type { LanguageSpec } from '../types.js';
import { hello, helloAs } from './conformance.js';

/** An Erlang module attribute; group 1 is the module. */
const MODULE = '^[ \\t]*-module\\s*\\(\\s*(\\w+)\\s*\\)';

/** The conformance program as an escript body: main/1 and no -module. */
const ESCRIPT_HELLO =
  'main(_) ->\n    Name = string:trim(io:get_line(""), trailing, "\\n"),\n' +
  '    io:format("Hello, ~s!~n", [Name]),\n    io:format("~p~n", [lists:sum(lists:seq(1, 100))]).\n';

/** BEAM languages on the shared Erlang/OTP layer. */
export const BEAM: readonly LanguageSpec[] = [
  {
    id: 'erlang',
    name: 'Erlang',
    family: 'beam',
    aliases: ['erl'],
    image: 'erlang',
    fileName: 'main.erl',
    // erlc wants each module in the file of its name, and `erl -s {stem}` starts the entry's module.
    unitNaming: { sources: [MODULE] },
    // Scripts as escript runs them: `main(Args) ->` and no -module needed. escript takes the first
    // line for a header (a #! line), so a script without one runs from a copy with a header and a
    // -file attribute that keeps messages pointing at the user's file and lines. A fixed script from
    // this catalog: the file name is an argument, never spliced into it.
    forms: [
      { name: 'escript', matches: '(?<![\\s\\S])#!', run: ['escript', '{file}', '{args}'] },
      {
        name: 'escript without a #! line',
        lacks: MODULE,
        run: ['sh', '-c', 'f=/tmp/escript.erl; { echo "#!"; printf -- \'-file("%s", 0).\\n\' "$1"; cat -- "$1"; } >"$f" && shift && exec escript "$f" "$@"', 'escript', '{file}', '{args}'],
      },
    ],
    extensions: ['.erl'],
    compile: ['erlc', '{sources}'],
    run: ['erl', '-noshell', '-s', '{stem}', 'main', '-s', 'init', 'stop', '-extra', '{args}'],
    limits: { pids: 256 },
    versionProbe: ['sh', '-c', 'cat /usr/lib/erlang/releases/*/OTP_VERSION'],
    conformance: hello(
      '-module(main).\n-export([main/0]).\n\nmain() ->\n' +
        '    Name = string:trim(io:get_line(""), trailing, "\\n"),\n' +
        '    io:format("Hello, ~s!~n", [Name]),\n' +
        '    io:format("~p~n", [lists:sum(lists:seq(1, 100))]).\n',
    ),
    namingCases: [
      helloAs('module main in test.erl', [{ name: 'test.erl' }]),
      helloAs('escript with a #! line in test.erl (Piston\'s form)', [{ name: 'test.erl', content: `#!/usr/bin/env escript\n\n${ESCRIPT_HELLO}` }]),
      helloAs('escript without a #! line or -module, in test.erl', [{ name: 'test.erl', content: ESCRIPT_HELLO }]),
    ],
    compileError: { code: '-module(main).\n-export([main/0]).\n\nmain() -> undefined_function().\n', message: 'undefined_function/0 undefined' },
  },
  {
    id: 'elixir',
    name: 'Elixir',
    family: 'beam',
    aliases: ['ex', 'exs'],
    image: 'elixir',
    fileName: 'main.exs',
    extensions: ['.exs', '.ex'],
    run: ['elixir', '{file}', '{args}'],
    limits: { pids: 256 },
    versionProbe: ['sh', '-c', 'elixir --version | grep ^Elixir'],
    conformance: hello('name = IO.gets("") |> String.trim_trailing("\\n")\nIO.puts("Hello, #{name}!")\nIO.puts(Enum.sum(1..100))\n'),
  },
];
