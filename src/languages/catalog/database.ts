import type { LanguageSpec } from '../types.js';
import { hello } from './conformance.js';

/** A SQL server per execution: its own memory and threads, time to start, and room in /tmp for its data directory. */
const SQL_SERVER_LIMITS = { memoryBytes: 512 * 1024 * 1024, pids: 128, runTimeoutMs: 20_000, diskBytes: 256 * 1024 * 1024 } as const;

/** Database "languages": the program is SQL (or commands) run against a real engine inside the sandbox. */
export const DATABASE: readonly LanguageSpec[] = [
  {
    id: 'sqlite',
    name: 'SQLite',
    family: 'database',
    aliases: ['sqlite3', 'sql'],
    image: 'sqlite',
    fileName: 'main.sql',
    extensions: ['.sql'],
    // The program is read as a shell command so that stdin stays free for the program's data.
    run: ['sqlite3', '-batch', ':memory:', '.read {file}'],
    versionProbe: ['sqlite3', '--version'],
    conformance: hello(
      'CREATE TABLE input(line TEXT);\n.import /dev/stdin input\n' +
        "SELECT 'Hello, ' || line || '!' FROM input LIMIT 1;\n" +
        'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) SELECT sum(i) FROM n;\n',
    ),
  },
  {
    id: 'mysql',
    name: 'MySQL (MariaDB)',
    family: 'database',
    aliases: ['mariadb'],
    image: 'mariadb',
    fileName: 'main.sql',
    extensions: ['.sql'],
    // runner-mariadb (src/images/layers/mariadb) starts a server on a copy of the image's data
    // directory, runs the file with `mariadb --table` in the database `sandbox`, and stops it.
    run: ['runner-mariadb', '{file}'],
    limits: SQL_SERVER_LIMITS,
    versionProbe: ['/usr/sbin/mariadbd', '--version'],
    conformance: {
      code:
        'CREATE TABLE input (line TEXT);\n' +
        "LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE input;\n" +
        "SELECT CONCAT('Hello, ', line, '!') AS greeting FROM input;\n" +
        'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) SELECT SUM(i) AS total FROM n;\n',
      stdin: 'World',
      stdout:
        '+---------------+\n| greeting      |\n+---------------+\n| Hello, World! |\n+---------------+\n' +
        '+-------+\n| total |\n+-------+\n|  5050 |\n+-------+\n',
    },
  },
  {
    id: 'postgresql',
    name: 'PostgreSQL',
    family: 'database',
    aliases: ['postgres', 'psql', 'pgsql'],
    image: 'postgresql',
    fileName: 'main.sql',
    extensions: ['.sql'],
    // runner-postgresql (src/images/layers/postgresql) starts a server on a copy of the image's
    // cluster, runs the file with psql (stopping at the first error), and stops it.
    run: ['runner-postgresql', '{file}'],
    limits: SQL_SERVER_LIMITS,
    versionProbe: ['psql', '--version'],
    conformance: {
      code:
        'CREATE TABLE input (line text);\n' +
        '\\copy input FROM pstdin\n' +
        "SELECT 'Hello, ' || line || '!' AS greeting FROM input;\n" +
        'SELECT sum(i) AS total FROM generate_series(1, 100) AS i;\n',
      stdin: 'World',
      stdout: '   greeting    \n---------------\n Hello, World!\n(1 row)\n\n total \n-------\n  5050\n(1 row)\n\n',
    },
  },
  {
    id: 'redis',
    name: 'Redis',
    family: 'database',
    aliases: [],
    image: 'redis',
    fileName: 'main.redis',
    extensions: ['.redis'],
    // runner-redis (src/images/layers/redis) starts a server without persistence, stores stdin in
    // the key `stdin`, feeds the file to redis-cli, and stops it.
    run: ['runner-redis', '{file}'],
    limits: { pids: 128, runTimeoutMs: 20_000 },
    versionProbe: ['redis-server', '--version'],
    conformance: hello(
      'EVAL "return \'Hello, \' .. redis.call(\'GET\', KEYS[1]) .. \'!\'" 1 stdin\n' +
        'EVAL "local s = 0 for i = 1, 100 do s = s + i end return s" 0\n',
    ),
  },
];
