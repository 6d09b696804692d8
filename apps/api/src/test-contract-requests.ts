import { connect } from 'node:net';
import { withDeadline } from '@orch/testing';
import type { LiveAnswer } from './test-contract-validator';

/** Requests of the contract test that fetch cannot send: headers that never finish. */

/** Sends the request line and one header, then waits: the server answers 408 once its headers timeout passes. */
export async function slowHeaders(url: string, method: string, path: string, ms = 15_000): Promise<LiveAnswer> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(`${method} ${path} HTTP/1.1\r\nhost: ${hostname}\r\n`);
  await withDeadline(closed, ms, `a 408 to ${method} ${path}`);
  return parseHttpResponse(Buffer.concat(chunks).toString('utf8'));
}

/** A raw HTTP/1.1 response (one, with Content-Length or up to the end of the connection) as a LiveAnswer. */
export function parseHttpResponse(raw: string): LiveAnswer {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers = new Headers();
  for (const line of lines) {
    const at = line.indexOf(':');
    headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return { status: Number(statusLine.split(' ')[1]), headers, text: raw.slice(end + 4) };
}

/** JSON nested `depth` levels deep. */
export const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
