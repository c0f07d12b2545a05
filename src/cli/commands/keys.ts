import { Command, Option } from 'commander';
import { QUEUE_OPTIONS, loadApiConfig, type ApiConfig } from '../../api/config.js';
import type { ApiKeyRecord, RedisKeyStore } from '../../api/redis-keys.js';
import { ErrorCodes, RunnerError } from '../../errors.js';
import { exitWith, printJson, type CliContext } from '../context.js';

/** The queue rows `keys` reads (flag > environment > config file, as for `api`). */
const CONNECTION_OPTIONS = QUEUE_OPTIONS.filter((spec) => spec.key === 'queue' || spec.key === 'queuePrefix');

interface Flags {
  json?: boolean;
  label?: string;
  config?: string;
  [flag: string]: unknown;
}

/**
 * `infra.operator keys add|rm|ls`: the API keys every API replica in queue mode accepts, kept in Redis
 * as SHA-256 digests (src/api/redis-keys.ts). A key is printed once, when it is made.
 */
export function keysCommand(ctx: CliContext): Command {
  const command = new Command('keys').description('manage the API keys shared by every API replica in queue mode (kept in Redis as SHA-256 digests)');
  const withConnection = (sub: Command): Command => {
    sub.option('--config <path>', 'JSON config file (its queue and queue_prefix keys); env RUNNER_CODES_CONFIG').option('--json', 'print JSON');
    for (const spec of CONNECTION_OPTIONS) sub.addOption(new Option(spec.flag, `${spec.description}; env ${spec.env}`));
    return sub;
  };
  command.addCommand(
    withConnection(new Command('add'))
      .description('create a key (printed once: store it now) and make every API replica accept it')
      .argument('<name>', 'a name for the key: letters, digits, dots, dashes, underscores')
      .option('--label <text>', 'a free-text note shown by `keys ls`')
      .action(
        exitWith(ctx, async (name: string, flags: Flags) =>
          withStore(flags, async (store) => {
            const created = await store.add(name, flags.label);
            if (flags.json) printJson(created);
            else process.stdout.write(`${created.key}\nkey '${created.name}' (id ${created.id}) created; it is not shown again: store it now\n`);
            return 0;
          }),
        ),
      ),
  );
  command.addCommand(
    withConnection(new Command('rm'))
      .description('remove a key: every API replica refuses it within moments')
      .argument('<name-or-id>', 'the name given to `keys add`, or the id `keys ls` shows')
      .action(
        exitWith(ctx, async (nameOrId: string, flags: Flags) =>
          withStore(flags, async (store) => {
            const removed = await store.remove(nameOrId);
            if (!removed) throw new RunnerError(ErrorCodes.NOT_FOUND, `no key named or with id '${nameOrId}'`, { hint: 'list the keys with `infra.operator keys ls`' });
            if (flags.json) printJson(removed);
            else process.stdout.write(`key '${removed.name}' (id ${removed.id}) removed\n`);
            return 0;
          }),
        ),
      ),
  );
  command.addCommand(
    withConnection(new Command('ls'))
      .description('list the keys: id, name, label, creation time (never the keys themselves)')
      .action(
        exitWith(ctx, async (flags: Flags) =>
          withStore(flags, async (store) => {
            const records = await store.list();
            if (flags.json) printJson(records);
            else process.stdout.write(table(records));
            return 0;
          }),
        ),
      ),
  );
  return command;
}

function table(records: readonly ApiKeyRecord[]): string {
  if (records.length === 0) return 'no keys in Redis\n';
  const nameWidth = Math.max(5, ...records.map((r) => r.name.length + 1));
  const lines = records.map((r) => `${r.id}  ${r.name.padEnd(nameWidth)}${r.created_at}  ${r.label ?? ''}`.trimEnd());
  return [`${'ID'.padEnd(12)}  ${'NAME'.padEnd(nameWidth)}${'CREATED'.padEnd(24)}  LABEL`, ...lines].join('\n') + '\n';
}

/** Connects to the configured Redis, runs `use`, disconnects; an unreachable Redis is an error naming the fix. */
async function withStore(flags: Flags, use: (store: RedisKeyStore) => Promise<number>): Promise<number> {
  const given: Partial<Record<keyof ApiConfig, unknown>> = {};
  for (const spec of CONNECTION_OPTIONS) {
    const value = flags[new Option(spec.flag).attributeName()];
    if (value !== undefined) given[spec.key] = value;
  }
  const config = loadApiConfig(given, process.env, flags.config ?? process.env.RUNNER_CODES_CONFIG);
  if (!config.queue) {
    throw new RunnerError(ErrorCodes.CONFIG, 'keys: no Redis to keep the keys in', { hint: 'pass --queue redis://host:port (or set RUNNER_CODES_QUEUE), the URL the API replicas use' });
  }
  // Loaded on use, as every command's dependencies.
  const { connectRequestRedis } = await import('../../queue/redis-connections.js');
  const { redisOptionsOf } = await import('../../queue/redis-url.js');
  const { RedisKeyStore } = await import('../../api/redis-keys.js');
  const redis = await connectRequestRedis(redisOptionsOf(config.queue));
  try {
    return await use(new RedisKeyStore(redis, config.queuePrefix));
  } finally {
    redis.disconnect();
  }
}
