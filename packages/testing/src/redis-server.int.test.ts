import { createConnection } from 'node:net';
import { startRedisServer } from './redis-server';

function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      resolve(d.toString().trim());
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('startRedisServer', () => {
  it('starts a private server on a free port and stops it', async () => {
    const server = await startRedisServer();
    expect(server.port).toBeGreaterThan(0);
    await expect(ping(server.port)).resolves.toBe('+PONG');
    await server.stop();
    await expect(ping(server.port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('restarts on the same port', async () => {
    const server = await startRedisServer({ appendonly: true });
    await server.restart();
    await expect(ping(server.port)).resolves.toBe('+PONG');
    await server.stop();
  });
});
