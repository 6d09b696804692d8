import { createServer } from 'node:net';

/** Resolves true when nothing listens on host:port: it can be bound (and is released at once). */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => done(true)));
  });
}

/** A free port on the loopback interface, for a process `up` starts. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

/** What to say when the port a variable names is taken: which port, which variable changes it, an example. */
export function portInUse(what: string, variable: string, host: string, port: number): Error {
  return new Error(
    `${what} cannot listen on ${host}:${port}: another process already uses that port. ` +
      `Stop it, or set ${variable} to a free port (for example ${variable}=${port + 1} pnpm start).`,
  );
}
