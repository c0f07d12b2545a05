import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { InvalidRequestError } from '../errors.js';

/** What Redis keeps of an API key: never the key itself, only its SHA-256 digest and who it is for. */
export interface ApiKeyRecord {
  /** The first 12 hex digits of the digest: the id logs, rate-limit buckets and session owners use. */
  id: string;
  name: string;
  label?: string;
  created_at: string;
}

/** A change every API replica hears on the channel, so that it never waits for a poll to drop a key. */
export interface KeyChange {
  op: 'add' | 'rm';
  digest: string;
}

/** SHA-256 of a key as hex: how a key is stored and compared (auth.ts compares the same digest). */
export const keyDigest = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Names a key can be given: short and plain, they reach logs and the `keys ls` table. */
const KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const LABEL_MAX = 200;

/**
 * API keys kept in Redis and shared by every API replica (docs/deploy.md). Two hashes under the queue
 * prefix: `<prefix>:api-keys` (digest → record JSON) and `<prefix>:api-key-names` (name → digest, so a
 * name is taken once), changed together in one MULTI; every change is published on
 * `<prefix>:api-keys:changed`.
 */
export class RedisKeyStore {
  readonly recordsKey: string;
  readonly namesKey: string;
  readonly channel: string;
  readonly #redis: Redis;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.recordsKey = `${prefix}:api-keys`;
    this.namesKey = `${prefix}:api-key-names`;
    this.channel = `${prefix}:api-keys:changed`;
  }

  /** Creates a key: the caller sees it once, Redis keeps only its digest. */
  async add(name: string, label?: string): Promise<ApiKeyRecord & { key: string }> {
    if (!KEY_NAME.test(name)) throw new InvalidRequestError('name', 'must be 1-64 letters, digits, dots, dashes or underscores');
    if (label !== undefined && (label.length > LABEL_MAX || /[\p{Cc}\p{Cf}]/u.test(label))) {
      throw new InvalidRequestError('label', `must be at most ${LABEL_MAX} printable characters`);
    }
    // 256 random bits: a digest without salt or stretching is enough for a key nobody chose.
    const key = `rc_${randomBytes(32).toString('base64url')}`;
    const digest = keyDigest(key);
    const record: ApiKeyRecord = { id: digest.slice(0, 12), name, ...(label ? { label } : {}), created_at: new Date().toISOString() };
    if ((await this.#redis.hsetnx(this.namesKey, name, digest)) === 0) {
      throw new InvalidRequestError('name', `a key named '${name}' exists already (remove it first: keys rm ${name})`);
    }
    await this.#redis.multi().hset(this.recordsKey, digest, JSON.stringify(record)).publish(this.channel, JSON.stringify({ op: 'add', digest } satisfies KeyChange)).exec();
    return { ...record, key };
  }

  /** Removes the key with this name or id; every replica refuses it once it hears the change. */
  async remove(nameOrId: string): Promise<ApiKeyRecord | undefined> {
    const digest = (await this.#redis.hget(this.namesKey, nameOrId)) ?? (await this.#findById(nameOrId));
    if (!digest) return undefined;
    const raw = await this.#redis.hget(this.recordsKey, digest);
    const record = raw ? (JSON.parse(raw) as ApiKeyRecord) : undefined;
    const multi = this.#redis.multi().hdel(this.recordsKey, digest);
    if (record) multi.hdel(this.namesKey, record.name);
    else multi.hdel(this.namesKey, nameOrId);
    await multi.publish(this.channel, JSON.stringify({ op: 'rm', digest } satisfies KeyChange)).exec();
    return record;
  }

  async list(): Promise<ApiKeyRecord[]> {
    return [...(await this.#all()).values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every stored digest, for a replica's cache. */
  async digests(): Promise<Set<string>> {
    return new Set(Object.keys(await this.#redis.hgetall(this.recordsKey)));
  }

  async #all(): Promise<Map<string, ApiKeyRecord>> {
    const entries = Object.entries(await this.#redis.hgetall(this.recordsKey));
    return new Map(entries.map(([digest, raw]) => [digest, JSON.parse(raw) as ApiKeyRecord]));
  }

  async #findById(id: string): Promise<string | undefined> {
    if (!/^[0-9a-f]{12}$/.test(id)) return undefined;
    for (const [digest, record] of await this.#all()) if (record.id === id) return digest;
    return undefined;
  }
}
