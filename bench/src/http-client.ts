import { Agent, type IncomingMessage, request } from 'node:http';

/** One kept-alive connection, as a client submitting one run after another would hold. */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export interface JsonResponse {
  status: number;
  body: unknown;
}

/** The whole body of a response, parsed as JSON when it is JSON (else the text, for the error message). */
export function readJsonResponse(res: IncomingMessage): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      resolve({ status: res.statusCode ?? 0, body: parsed });
    });
    res.on('error', reject);
  });
}

export function postJson(baseUrl: string, path: string, body: unknown): Promise<JsonResponse> {
  const payload = Buffer.from(JSON.stringify(body));
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
      },
      (res) => readJsonResponse(res).then(resolve, reject),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export function closeHttp(): void {
  agent.destroy();
}
