import bcrypt from 'bcryptjs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSign, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './redis-server.js';

export interface RegistryUser {
  username: string;
  password: string;
  /** Token auth only: the actions granted on every repository (default pull and push). */
  actions?: string[];
}

export type RegistryAuth = { kind: 'none' } | { kind: 'basic'; users: RegistryUser[] } | { kind: 'token'; users: RegistryUser[] };

/**
 * A real registry: Debian's `docker-registry` (the CNCF distribution registry 2.8) on a free loopback
 * port, with filesystem storage in a temporary directory and a config file written here. Auth is none,
 * htpasswd (bcrypt hashes from bcryptjs: the registry accepts only bcrypt) or `token`, with a small
 * token server of the test's (see TokenServer) whose RS256 JWTs the registry itself verifies against the
 * certificate in its `rootcertbundle`. `close()` stops it and removes its directory.
 */
export class TestRegistry {
  readonly port: number;
  readonly dir: string;
  readonly auth: RegistryAuth;
  tokenServer: TokenServer | undefined;
  #child: ChildProcess | undefined;
  #log = '';

  private constructor(port: number, dir: string, auth: RegistryAuth) {
    this.port = port;
    this.dir = dir;
    this.auth = auth;
  }

  /** `127.0.0.1:<port>`: the authority image references name. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.#log;
  }

  static async start(auth: RegistryAuth = { kind: 'none' }): Promise<TestRegistry> {
    const registry = new TestRegistry(await freePort(), mkdtempSync(join(tmpdir(), 'rc-registry-')), auth);
    if (auth.kind === 'token') registry.tokenServer = await TokenServer.start(registry.dir, auth.users);
    registry.#writeConfig();
    await registry.#spawn();
    return registry;
  }

  /** Stops the registry (and token server) and removes its directory: call from the suite's `after`. */
  async close(): Promise<void> {
    await this.stop();
    await this.tokenServer?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  #writeConfig(): void {
    const lines = [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(this.dir, 'storage')}`,
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      // SECURITY: loopback only.
      `  addr: 127.0.0.1:${this.port}`,
      `  secret: ${randomBytes(16).toString('hex')}`,
    ];
    if (this.auth.kind === 'basic') {
      const htpasswd = this.auth.users.map((u) => `${u.username}:${bcrypt.hashSync(u.password, 5)}`).join('\n') + '\n';
      writeFileSync(join(this.dir, 'htpasswd'), htpasswd);
      lines.push('auth:', '  htpasswd:', '    realm: rc-test', `    path: ${join(this.dir, 'htpasswd')}`);
    }
    if (this.auth.kind === 'token' && this.tokenServer) {
      lines.push(
        'auth:',
        '  token:',
        `    realm: ${this.tokenServer.url}/token`,
        `    service: ${TokenServer.SERVICE}`,
        `    issuer: ${TokenServer.ISSUER}`,
        `    rootcertbundle: ${this.tokenServer.certPath}`,
      );
    }
    writeFileSync(join(this.dir, 'config.yml'), lines.join('\n') + '\n');
  }

  async #spawn(): Promise<void> {
    const child = spawn('docker-registry', ['serve', join(this.dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}):\n${this.#log}`);
      try {
        const response = await fetch(`http://${this.host}/v2/`);
        if (response.status === 200 || response.status === 401) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer within 15 s:\n${this.#log}`);
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  /** Where the registry keeps a blob's bytes (distribution's filesystem layout), to corrupt it in tests. */
  blobDataPath(digest: string): string {
    const hex = digest.slice('sha256:'.length);
    return join(this.dir, 'storage', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  }
}

/**
 * The token endpoint of the distribution spec's Bearer flow: GET /token?service=&scope=… with Basic
 * credentials, answering `{token, access_token, expires_in}`, a JWT (RS256, the certificate in `x5c`)
 * granting each requested repository the user's actions. Counts the tokens it issued.
 */
export class TokenServer {
  static readonly SERVICE = 'rc-test-registry';
  static readonly ISSUER = 'rc-test-issuer';
  readonly url: string;
  readonly certPath: string;
  issued = 0;
  readonly #server: Server;

  private constructor(url: string, certPath: string, server: Server) {
    this.url = url;
    this.certPath = certPath;
    this.#server = server;
  }

  static async start(dir: string, users: RegistryUser[]): Promise<TokenServer> {
    const keyPath = join(dir, 'token-key.pem');
    const certPath = join(dir, 'token-cert.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=rc-test-token', '-days', '1', '-keyout', keyPath, '-out', certPath], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl could not make the token certificate: ${made.stderr}`);
    const key = readFileSync(keyPath, 'utf8');
    const x5c = new X509Certificate(readFileSync(certPath)).raw.toString('base64');
    let self: TokenServer | undefined;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const auth = req.headers.authorization ?? '';
      const [username, password] = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString().split(':') : [];
      const user = users.find((u) => u.username === username && u.password === password);
      if (url.pathname !== '/token' || !user) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      const access = url.searchParams.getAll('scope').flatMap((scope) => {
        const [type, name, wanted] = scope.split(':');
        if (type !== 'repository' || !name || !wanted) return [];
        const granted = wanted.split(',').filter((a) => (user.actions ?? ['pull', 'push']).includes(a));
        return [{ type, name, actions: granted }];
      });
      const now = Math.floor(Date.now() / 1000);
      const token = jwt(
        { typ: 'JWT', alg: 'RS256', x5c: [x5c] },
        { iss: TokenServer.ISSUER, sub: user.username, aud: url.searchParams.get('service') ?? '', exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access },
        key,
      );
      if (self) self.issued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    self = new TokenServer(`http://127.0.0.1:${port}`, certPath, server);
    return self;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function jwt(header: object, claims: object, privateKey: string): string {
  const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString('base64url');
  const signed = `${encode(header)}.${encode(claims)}`;
  const signature = createSign('RSA-SHA256').update(signed).sign(privateKey).toString('base64url');
  return `${signed}.${signature}`;
}
