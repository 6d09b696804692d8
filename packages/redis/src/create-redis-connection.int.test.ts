import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCertificates, type RedisServer, startRedisServer, type TestCertificates } from '@orch/testing';
import type { Redis } from 'ioredis';
import { createRedisConnection, type RedisSettings } from './create-redis-connection';

jest.setTimeout(30_000);

let dir: string;
let certs: TestCertificates;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'redis-auth-'));
  certs = makeTestCertificates(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Connects with the `api` profile (fail fast), runs `command` once connected, and always disconnects. */
async function attempt<T>(settings: RedisSettings, command: (client: Redis) => Promise<T>): Promise<T> {
  const client = createRedisConnection({ ...settings }, 'api', 'auth-test');
  client.on('error', () => undefined); // later reconnect errors: the first one is the answer
  try {
    // The first error (a refused AUTH, a failed TLS handshake) is the answer; later reconnect errors are not.
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('error', reject);
    });
    return await command(client);
  } finally {
    client.disconnect();
  }
}

describe('an ACL user', () => {
  let server: RedisServer;
  beforeAll(async () => {
    const acl = join(dir, 'users.acl');
    writeFileSync(
      acl,
      'user default off\nuser app on >app-password ~app:* resetchannels -@all +get +set +info +ping\n',
    );
    server = await startRedisServer({ aclFile: acl });
  });
  afterAll(() => server.stop());

  const base = () => ({ host: server.host, port: server.port });

  it('authenticates with REDIS_USERNAME and REDIS_PASSWORD and gets what its rules allow', async () => {
    const settings = { ...base(), username: 'app', password: 'app-password' };
    expect(await attempt(settings, async (c) => [await c.set('app:x', '1'), await c.get('app:x')])).toEqual([
      'OK',
      '1',
    ]);
    await expect(attempt(settings, (c) => c.get('other:x'))).rejects.toThrow(/NOPERM/);
    await expect(attempt(settings, (c) => c.flushall())).rejects.toThrow(/NOPERM/);
  });

  it('is refused with a wrong password, and nobody gets in without a user', async () => {
    await expect(attempt({ ...base(), username: 'app', password: 'wrong' }, (c) => c.ping())).rejects.toThrow(
      /WRONGPASS/,
    );
    await expect(attempt(base(), (c) => c.ping())).rejects.toThrow(/NOAUTH|WRONGPASS/);
  });

  it('takes the user from a redis:// URL too', async () => {
    const url = `redis://app:app-password@${server.host}:${server.port}`;
    expect(await attempt({ host: 'unused', port: 1, url }, (c) => c.ping())).toBe('PONG');
  });
});

describe('TLS', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } });
  });
  afterAll(() => server.stop());

  const pem = (path: string) => readFileSync(path, 'utf8');
  const mutual = () => ({ ca: pem(certs.ca), cert: pem(certs.clientCert), key: pem(certs.clientKey) });

  it('connects with the CA and a client certificate, by REDIS_TLS settings or a rediss:// URL', async () => {
    const settings = { host: server.host, port: server.port, tls: mutual() };
    expect(await attempt(settings, (c) => c.ping())).toBe('PONG');
    expect(server.url.startsWith('rediss://')).toBe(true);
    expect(await attempt({ host: 'unused', port: 1, url: server.url, tls: mutual() }, (c) => c.ping())).toBe('PONG');
  });

  it('refuses a server its CA did not sign, a missing client certificate, and plain text', async () => {
    const { ca: _ca, ...noCa } = mutual();
    await expect(attempt({ host: server.host, port: server.port, tls: noCa }, (c) => c.ping())).rejects.toThrow(
      /self[- ]signed|unable to verify|UNABLE_TO_VERIFY/i,
    );
    const onlyCa = { ca: pem(certs.ca) };
    await expect(attempt({ host: server.host, port: server.port, tls: onlyCa }, (c) => c.ping())).rejects.toThrow();
    await expect(attempt({ host: server.host, port: server.port }, (c) => c.ping())).rejects.toThrow();
  });
});
