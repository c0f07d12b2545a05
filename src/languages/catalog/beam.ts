import type { LanguageSpec } from '../types.js';
import { hello } from './conformance.js';

/** BEAM languages on the shared Erlang/OTP layer. */
export const BEAM: readonly LanguageSpec[] = [
  {
    id: 'erlang',
    name: 'Erlang',
    family: 'beam',
    aliases: ['erl'],
    image: 'erlang',
    fileName: 'main.erl',
    // erlc wants the module name to match the file name.
    fileNameFromCode: { pattern: '^-module\\((\\w+)\\)', name: '$1.erl' },
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
