import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MAXIMA_OPTIONS, defaultMaximaSettings, type MaximaSettings } from '../engine/maxima.js';
import { DEFAULT_SESSION_SETTINGS } from '../engine/sessions/session-settings.js';
import { DEFAULT_CALLBACK_SETTINGS, DEFAULT_SUBMISSION_SETTINGS } from '../engine/submissions/submission-settings.js';
import { ErrorCodes, RunnerError } from '../errors.js';

const MiB = 1024 * 1024;
import { BACKEND_CHOICES, BACKEND_NAMES, type BackendChoice, type BackendName } from '../sandbox/backend-names.js';
import { JAILER_MODES, type JailerMode } from '../sandbox/backend-host.js';

/** Everything the API server can be configured with. */
export interface ApiConfig extends MaximaSettings {
  port: number;
  host: string;
  apiKeys: string[];
  /** Requests per minute per API key (or per client address without keys); 0 = unlimited. */
  rateLimit: number;
  concurrency: number;
  queueLimit: number;
  bodyLimit: number;
  /** Most elements in an array `stdin` of POST /api/v1/run. */
  maxBatch: number;
  shutdownGraceMs: number;
  logLevel: string;
  /** Isolation backend: bwrap, qemu, firecracker or auto. */
  backend: BackendChoice;
  /** Further backends a request may pick with its `backend` field. */
  allowedBackends: BackendName[];
  /** Whether Firecracker runs under its jailer: auto (when one is found), on (required), off. */
  firecrackerJailer: JailerMode;
  /** Uid (and gid) the HTTP side runs as when the server starts as root; 0 keeps one process. */
  apiUid: number;
  /** Warm sandboxes kept per image once it is in use; 0 disables the pool. */
  poolSize: number;
  /** Per-language pool sizes, e.g. ["python=4", "c=1"], or for one backend: "qemu:python=1". */
  poolSizes: string[];
  /** Per-backend pool sizes (per image, in place of poolSize and the plain poolSizes), e.g. ["qemu=1"]. */
  poolBackendSizes: string[];
  /** Languages whose pools are filled at start. */
  poolWarm: string[];
  /** Images pulled (`rootfs pull`) before the server starts serving: registry or S3 references. */
  pull: string[];
  poolMaxIdle: number;
  poolMaxIdleMemoryMb: number;
  poolIdleTtlMs: number;
  poolShrinkAfterMs: number;
  poolPrestart: string;
  /** Sessions (sandboxes that live across calls): see SessionSettings. */
  sessionIdleTimeoutMs: number;
  sessionMaxIdleTimeoutMs: number;
  sessionMaxLifetimeMs: number;
  sessionsPerKey: number;
  sessionsMax: number;
  sessionMemoryMb: number;
  sessionMaxFileBytes: number;
  sessionMaxBytes: number;
  /** Queue mode: the Redis URL (`redis://[user:pass@]host:port[/db]`); '' = execute in this process. Secret. */
  queue: string;
  /** Queue mode: BullMQ's key prefix in Redis. */
  queuePrefix: string;
  /** Queue mode: jobs waiting in a queue whose workers are all gone this long fail with RC_ERR_NO_WORKER. */
  queueOrphanMs: number;
  /** Queue mode: the longest a synchronous call (/api/v1/execute, Piston, MCP) waits for its job. */
  queueWaitMs: number;
  /** Submissions (asynchronous executions): see SubmissionSettings. */
  submissionTtlS: number;
  submissionMaxOutputBytes: number;
  submissionMaxWaitMs: number;
  submissionMaxStored: number;
  /** HOST or HOST:PORT entries a submission's callback_url may name; none = callbacks refused. */
  callbackAllowlist: string[];
  /** The HMAC-SHA256 key callbacks are signed with. */
  callbackSecret: string;
  callbackAttempts: number;
}

type Kind = 'int' | 'string' | 'list';

export interface OptionSpec<Key extends string = keyof ApiConfig> {
  key: Key;
  /** Flag (commander syntax), environment variable, config-file key. */
  flag: string;
  env: string;
  file: string;
  kind: Kind;
  description: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
  /** Never printed (API keys). */
  secret?: boolean;
}

/** Queue mode's rows (docs/queue.md): shared by `api` and `worker`. */
export const QUEUE_OPTIONS: readonly OptionSpec[] = [
  { key: 'queue', flag: '--queue <url>', env: 'RUNNER_CODES_QUEUE', file: 'queue', kind: 'string', secret: true, description: 'queue mode: Redis URL redis://[user:pass@]host:port[/db]; executions go to `infra.operator worker` processes through BullMQ (docs/queue.md)' },
  { key: 'queuePrefix', flag: '--queue-prefix <prefix>', env: 'RUNNER_CODES_QUEUE_PREFIX', file: 'queue_prefix', kind: 'string', description: 'queue mode: key prefix of every queue key in Redis' },
  { key: 'queueOrphanMs', flag: '--queue-orphan <ms>', env: 'RUNNER_CODES_QUEUE_ORPHAN', file: 'queue_orphan_ms', kind: 'int', min: 1000, description: 'queue mode: jobs waiting in a queue whose workers all went away this long fail with RC_ERR_NO_WORKER' },
  { key: 'queueWaitMs', flag: '--queue-wait-timeout <ms>', env: 'RUNNER_CODES_QUEUE_WAIT_TIMEOUT', file: 'queue_wait_timeout_ms', kind: 'int', min: 1000, description: 'queue mode: the longest a synchronous call waits for its job before RC_ERR_QUEUE_UNAVAILABLE' },
];

/**
 * The options table: one row per option, read by the loader, by `infra.operator api --help` and
 * by docs/api.md. Precedence: flag > environment > config file > default.
 */
export const API_OPTIONS: readonly OptionSpec[] = [
  { key: 'port', flag: '--port <n>', env: 'RUNNER_CODES_PORT', file: 'port', kind: 'int', min: 0, max: 65535, description: 'TCP port (0 = any free port)' },
  { key: 'host', flag: '--host <addr>', env: 'RUNNER_CODES_HOST', file: 'host', kind: 'string', description: 'address to bind; a non-loopback address without API keys prints a loud warning' },
  { key: 'apiKeys', flag: '--api-key <key...>', env: 'RUNNER_CODES_API_KEYS', file: 'api_keys', kind: 'list', secret: true, description: 'accepted API keys (env: comma-separated); none = no authentication' },
  { key: 'rateLimit', flag: '--rate-limit <n>', env: 'RUNNER_CODES_RATE_LIMIT', file: 'rate_limit', kind: 'int', min: 0, description: 'requests per minute per API key or client address (0 = unlimited)' },
  { key: 'concurrency', flag: '--concurrency <n>', env: 'RUNNER_CODES_CONCURRENCY', file: 'concurrency', kind: 'int', min: 1, max: 1024, description: 'executions running at once (default: the number of CPU cores)' },
  { key: 'queueLimit', flag: '--queue-limit <n>', env: 'RUNNER_CODES_QUEUE_LIMIT', file: 'queue_limit', kind: 'int', min: 0, description: 'executions waiting for a slot before 429' },
  { key: 'bodyLimit', flag: '--body-limit <bytes>', env: 'RUNNER_CODES_BODY_LIMIT', file: 'body_limit', kind: 'int', min: 1024, description: 'largest request body' },
  ...MAXIMA_OPTIONS,
  { key: 'maxBatch', flag: '--max-batch <n>', env: 'RUNNER_CODES_MAX_BATCH', file: 'max_batch', kind: 'int', min: 1, description: 'most elements of an array stdin in /api/v1/run' },
  { key: 'shutdownGraceMs', flag: '--shutdown-grace <ms>', env: 'RUNNER_CODES_SHUTDOWN_GRACE', file: 'shutdown_grace_ms', kind: 'int', min: 0, description: 'on SIGTERM/SIGINT, how long in-flight executions may finish before they are cancelled' },
  { key: 'poolSize', flag: '--pool-size <n>', env: 'RUNNER_CODES_POOL_SIZE', file: 'pool_size', kind: 'int', min: 0, max: 64, description: 'warm sandboxes kept per image once it is in use (0 = no pool)' },
  { key: 'poolSizes', flag: '--pool-sizes <lang=n...>', env: 'RUNNER_CODES_POOL_SIZES', file: 'pool_sizes', kind: 'list', description: 'per-language pool sizes, e.g. python=4,c=1; BACKEND:LANG=N for one backend only, e.g. qemu:python=1' },
  { key: 'poolBackendSizes', flag: '--pool-backend-sizes <backend=n...>', env: 'RUNNER_CODES_POOL_BACKEND_SIZES', file: 'pool_backend_sizes', kind: 'list', description: 'warm sandboxes per image on one backend, in place of pool_size and the plain pool_sizes, e.g. qemu=1 (0 = no pool on it but its BACKEND:LANG sizes)' },
  { key: 'pull', flag: '--pull <refs...>', env: 'RUNNER_CODES_PULL', file: 'pull', kind: 'list', description: 'images to pull before serving, e.g. registry.example.com/rc/python:3.11 or s3://bucket/prefix/python:3.11 (docs/registry.md)' },
  { key: 'poolWarm', flag: '--pool-warm <lang...>', env: 'RUNNER_CODES_POOL_WARM', file: 'pool_warm', kind: 'list', description: 'languages whose pools are filled at start (others fill on first use)' },
  { key: 'poolMaxIdle', flag: '--pool-max-idle <n>', env: 'RUNNER_CODES_POOL_MAX_IDLE', file: 'pool_max_idle', kind: 'int', min: 0, description: 'most warm sandboxes over all languages and backends' },
  { key: 'poolMaxIdleMemoryMb', flag: '--pool-max-idle-memory <MB>', env: 'RUNNER_CODES_POOL_MAX_IDLE_MEMORY', file: 'pool_max_idle_memory_mb', kind: 'int', min: 1, description: 'most memory charged to all warm sandboxes together, of every backend; a sandbox starts only if what its image\'s were seen charged idle still fits; the default backend\'s pool comes first' },
  { key: 'poolIdleTtlMs', flag: '--pool-idle-ttl <ms>', env: 'RUNNER_CODES_POOL_IDLE_TTL', file: 'pool_idle_ttl_ms', kind: 'int', min: 1000, description: 'a warm sandbox older than this is replaced' },
  { key: 'poolPrestart', flag: '--pool-prestart <mode>', env: 'RUNNER_CODES_POOL_PRESTART', file: 'pool_prestart', kind: 'string', choices: ['on', 'off'], description: 'on: warm python, javascript, ruby and php sandboxes hold a pre-started interpreter (docs/prestart.md); off: they do not' },
  { key: 'poolShrinkAfterMs', flag: '--pool-shrink-after <ms>', env: 'RUNNER_CODES_POOL_SHRINK_AFTER', file: 'pool_shrink_after_ms', kind: 'int', min: 1000, description: 'a language unused this long shrinks to zero warm sandboxes' },
  { key: 'sessionIdleTimeoutMs', flag: '--session-idle-timeout <ms>', env: 'RUNNER_CODES_SESSION_IDLE_TIMEOUT', file: 'session_idle_timeout_ms', kind: 'int', min: 1000, description: 'a session unused this long ends (its default idle_timeout_ms)' },
  { key: 'sessionMaxIdleTimeoutMs', flag: '--session-max-idle-timeout <ms>', env: 'RUNNER_CODES_SESSION_MAX_IDLE_TIMEOUT', file: 'session_max_idle_timeout_ms', kind: 'int', min: 1000, description: 'largest idle_timeout_ms a session may ask for' },
  { key: 'sessionMaxLifetimeMs', flag: '--session-max-lifetime <ms>', env: 'RUNNER_CODES_SESSION_MAX_LIFETIME', file: 'session_max_lifetime_ms', kind: 'int', min: 1000, description: 'a session ends this long after it was created, whatever it does' },
  { key: 'sessionsPerKey', flag: '--sessions-per-key <n>', env: 'RUNNER_CODES_SESSIONS_PER_KEY', file: 'sessions_per_key', kind: 'int', min: 0, description: 'sessions one API key may hold at once (429 beyond)' },
  { key: 'sessionsMax', flag: '--sessions-max <n>', env: 'RUNNER_CODES_SESSIONS_MAX', file: 'sessions_max', kind: 'int', min: 0, description: 'sessions on the server at once (429 beyond)' },
  { key: 'sessionMemoryMb', flag: '--session-memory <MB>', env: 'RUNNER_CODES_SESSION_MEMORY', file: 'session_memory_mb', kind: 'int', min: 16, description: 'memory budget of all live sessions: each is charged its memory limit (429 beyond)' },
  { key: 'sessionMaxFileBytes', flag: '--session-max-file <bytes>', env: 'RUNNER_CODES_SESSION_MAX_FILE', file: 'session_max_file_bytes', kind: 'int', min: 1, description: 'largest file put into or read from a session (413 beyond)' },
  { key: 'sessionMaxBytes', flag: '--session-max-bytes <bytes>', env: 'RUNNER_CODES_SESSION_MAX_BYTES', file: 'session_max_bytes', kind: 'int', min: 1, description: "most bytes of files a put may bring a session's work directory to (413 beyond)" },
  { key: 'submissionTtlS', flag: '--submission-ttl <s>', env: 'RUNNER_CODES_SUBMISSION_TTL', file: 'submission_ttl_s', kind: 'int', min: 1, description: 'a finished submission is kept this long, then gone (404)' },
  { key: 'submissionMaxOutputBytes', flag: '--submission-max-output <bytes>', env: 'RUNNER_CODES_SUBMISSION_MAX_OUTPUT', file: 'submission_max_output_bytes', kind: 'int', min: 0, description: "each stored output stream of a submission is cut here (`truncated` set); its output files share one such budget" },
  { key: 'submissionMaxWaitMs', flag: '--submission-max-wait <ms>', env: 'RUNNER_CODES_SUBMISSION_MAX_WAIT', file: 'submission_max_wait_ms', kind: 'int', min: 0, description: 'longest GET /api/v1/submissions/{token}?wait=true' },
  { key: 'submissionMaxStored', flag: '--submission-max-stored <n>', env: 'RUNNER_CODES_SUBMISSION_MAX_STORED', file: 'submission_max_stored', kind: 'int', min: 1, description: 'most submissions kept at once in-process; the oldest finished make room first (429 when all are unfinished)' },
  { key: 'callbackAllowlist', flag: '--callback-allowlist <hosts...>', env: 'RUNNER_CODES_CALLBACK_ALLOWLIST', file: 'callback_allowlist', kind: 'list', description: 'HOST or HOST:PORT entries a callback_url may name (metadata and link-local addresses never); none = callbacks refused' },
  { key: 'callbackSecret', flag: '--callback-secret <secret>', env: 'RUNNER_CODES_CALLBACK_SECRET', file: 'callback_secret', kind: 'string', secret: true, description: 'HMAC-SHA256 key of the X-Runner-Codes-Signature header; required with --callback-allowlist' },
  { key: 'callbackAttempts', flag: '--callback-attempts <n>', env: 'RUNNER_CODES_CALLBACK_ATTEMPTS', file: 'callback_attempts', kind: 'int', min: 1, max: 20, description: 'deliveries of a callback tried at most, with exponential backoff from 1 s, until a 2xx' },
  { key: 'backend', flag: '--backend <name>', env: 'RUNNER_CODES_BACKEND', file: 'backend', kind: 'string', choices: BACKEND_CHOICES, description: 'isolation backend; auto = firecracker, else QEMU with KVM, else bwrap (docs/vm.md)' },
  { key: 'allowedBackends', flag: '--allowed-backends <names...>', env: 'RUNNER_CODES_ALLOWED_BACKENDS', file: 'allowed_backends', kind: 'list', choices: BACKEND_NAMES, description: 'backends a request may choose with its `backend` field, besides the default (each is opened at start, with its own warm pool); none = the default only' },
  { key: 'firecrackerJailer', flag: '--firecracker-jailer <mode>', env: 'RUNNER_CODES_FIRECRACKER_JAILER', file: 'firecracker_jailer', kind: 'string', choices: JAILER_MODES, description: 'run Firecracker under its jailer: auto = when one is found (setup --vm --jailer), on = required, off = never (docs/vm.md)' },
  { key: 'apiUid', flag: '--api-uid <n>', env: 'RUNNER_CODES_API_UID', file: 'api_uid', kind: 'int', min: 0, max: 4294967294, description: 'started as root, the HTTP side runs as this uid/gid in its own process and the engine stays privileged apart from it; 0 = one process' },
  ...QUEUE_OPTIONS,
  { key: 'logLevel', flag: '--log-level <level>', env: 'RUNNER_CODES_LOG_LEVEL', file: 'log_level', kind: 'string', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], description: 'pino log level' },
];

export function defaultApiConfig(): ApiConfig {
  return {
    ...defaultMaximaSettings(),
    port: 8080,
    host: '127.0.0.1',
    apiKeys: [],
    rateLimit: 0,
    concurrency: availableParallelism(),
    queueLimit: 64,
    bodyLimit: 8 * 1024 * 1024,
    maxBatch: 64,
    shutdownGraceMs: 10_000,
    logLevel: 'info',
    backend: 'auto',
    allowedBackends: [],
    firecrackerJailer: 'auto',
    apiUid: 65534,
    poolSize: 2,
    poolSizes: [],
    poolBackendSizes: [],
    poolWarm: [],
    pull: [],
    poolMaxIdle: 16,
    poolMaxIdleMemoryMb: 256,
    poolIdleTtlMs: 300_000,
    poolShrinkAfterMs: 600_000,
    poolPrestart: 'on',
    sessionIdleTimeoutMs: DEFAULT_SESSION_SETTINGS.idleTimeoutMs,
    sessionMaxIdleTimeoutMs: DEFAULT_SESSION_SETTINGS.maxIdleTimeoutMs,
    sessionMaxLifetimeMs: DEFAULT_SESSION_SETTINGS.maxLifetimeMs,
    sessionsPerKey: DEFAULT_SESSION_SETTINGS.maxPerKey,
    sessionsMax: DEFAULT_SESSION_SETTINGS.maxTotal,
    sessionMemoryMb: DEFAULT_SESSION_SETTINGS.memoryBudgetBytes / MiB,
    sessionMaxFileBytes: DEFAULT_SESSION_SETTINGS.maxFileBytes,
    sessionMaxBytes: DEFAULT_SESSION_SETTINGS.maxSessionBytes,
    queue: '',
    queuePrefix: 'rc',
    queueOrphanMs: 30_000,
    queueWaitMs: 300_000,
    submissionTtlS: DEFAULT_SUBMISSION_SETTINGS.ttlMs / 1000,
    submissionMaxOutputBytes: DEFAULT_SUBMISSION_SETTINGS.maxOutputBytes,
    submissionMaxWaitMs: DEFAULT_SUBMISSION_SETTINGS.maxWaitMs,
    submissionMaxStored: DEFAULT_SUBMISSION_SETTINGS.maxStored,
    callbackAllowlist: [],
    callbackSecret: '',
    callbackAttempts: DEFAULT_CALLBACK_SETTINGS.attempts,
  };
}

function configError(source: string, message: string): RunnerError {
  return new RunnerError(ErrorCodes.CONFIG, `${source}: ${message}`);
}

function parseValue(spec: OptionSpec<string>, raw: unknown, source: string): unknown {
  if (spec.kind === 'list') {
    const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
    if (!list || list.some((v) => typeof v !== 'string')) throw configError(source, 'must be a list of strings');
    // Accepts ['a', 'b'], ['a,b'] and 'a,b' alike.
    const values = (list as string[]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    const wrong = spec.choices ? values.find((v) => !spec.choices!.includes(v)) : undefined;
    if (wrong !== undefined) throw configError(source, `'${wrong}' is not one of ${spec.choices!.join(', ')}`);
    return values;
  }
  if (spec.kind === 'int') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n)) throw configError(source, `'${String(raw)}' is not a whole number`);
    if (spec.min !== undefined && n < spec.min) throw configError(source, `must be at least ${spec.min}`);
    if (spec.max !== undefined && n > spec.max) throw configError(source, `must be at most ${spec.max}`);
    return n;
  }
  if (typeof raw !== 'string' || raw === '') throw configError(source, 'must be a non-empty string');
  if (spec.choices && !spec.choices.includes(raw)) throw configError(source, `must be one of ${spec.choices.join(', ')}`);
  return raw;
}

/**
 * Loads a configuration of `table`'s options: `defaults`, then the JSON config file (`configPath`),
 * then the environment, then flags (already parsed by commander, keyed like the table's keys).
 */
export function loadOptions<Config extends object>(
  table: readonly OptionSpec<Extract<keyof Config, string>>[],
  defaults: Config,
  flags: Partial<Record<keyof Config, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
  configPath?: string,
): Config {
  const config = { ...defaults } as Record<string, unknown>;
  if (configPath) {
    let file: Record<string, unknown>;
    try {
      file = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (err) {
      throw configError(configPath, `cannot read the config file: ${(err as Error).message}`);
    }
    if (file === null || typeof file !== 'object' || Array.isArray(file)) throw configError(configPath, 'must hold a JSON object');
    for (const [name, value] of Object.entries(file)) {
      const spec = table.find((o) => o.file === name);
      if (!spec) throw configError(configPath, `unknown option '${name}' (known: ${table.map((o) => o.file).join(', ')})`);
      config[spec.key] = parseValue(spec, value, `${configPath}: ${name}`);
    }
  }
  for (const spec of table) {
    const raw = env[spec.env];
    if (raw !== undefined && raw !== '') config[spec.key] = parseValue(spec, raw, spec.env);
  }
  for (const spec of table) {
    const raw = flags[spec.key];
    if (raw !== undefined) config[spec.key] = parseValue(spec, raw, spec.flag.split(' ')[0]!);
  }
  return config as Config;
}

/** The API's configuration: loadOptions over API_OPTIONS. */
export function loadApiConfig(flags: Partial<Record<keyof ApiConfig, unknown>>, env: NodeJS.ProcessEnv = process.env, configPath?: string): ApiConfig {
  return loadOptions(API_OPTIONS, defaultApiConfig(), flags, env, configPath);
}

/** The warning printed when the server is reachable from other hosts without authentication. */
export function exposureWarning(config: Pick<ApiConfig, 'host' | 'apiKeys'>): string | null {
  if (isLoopback(config.host) || config.apiKeys.length > 0) return null;
  return `WARNING: serving on ${config.host} without API keys: anyone who can reach this address can run code here. Set --api-key or RUNNER_CODES_API_KEYS.`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
