import { resolveValue } from '@orch/expressions';
import { validateWorkflow } from '../validate-workflow';
import { http, SECRET_MARKER, secretMarker } from './http';

const workflow = (parameters: Record<string, unknown>) => ({
  id: 'w',
  tasks: [{ id: 'call', type: 'http', parameters }],
});
const pointers = (parameters: Record<string, unknown>) =>
  validateWorkflow(workflow(parameters)).errors.map((e) => `${e.pointer} ${e.message}`);

describe('http task type', () => {
  it('accepts a full request, with ${env.NAME} in a header', () => {
    expect(
      pointers({
        method: 'POST',
        url: 'https://api.example.com/orders',
        headers: { authorization: 'Bearer ${env.ORDERS_TOKEN}' },
        query: { page: 1 },
        body: { a: 1 },
        expect_status: [200, 201],
        timeout: '10s',
        response: 'json',
      }),
    ).toEqual([]);
  });

  it('refuses env outside headers, a non-http URL and unknown fields, at their pointers', () => {
    expect(pointers({ url: 'https://x.test/${env.TOKEN}' }).join('\n')).toMatch(/^\/tasks\/0\/parameters\/url .*env/m);
    expect(pointers({ url: 'file:///etc/passwd' }).join('\n')).toMatch(/^\/tasks\/0\/parameters\/url /m);
    expect(pointers({ url: 'https://x.test', verb: 'GET' }).join('\n')).toMatch(/verb/);
  });

  it('evaluates ${env.NAME} in headers to a marker only the handler can read back', () => {
    const raw = { headers: { a: 'Bearer ${env.T}' } };
    const resolved = resolveValue(raw, { ...http.runScope?.(raw) }) as { headers: { a: string } };
    expect(resolved.headers.a).toBe(`Bearer ${secretMarker('T')}`);
    expect([...resolved.headers.a.matchAll(SECRET_MARKER)].map((m) => m[1])).toEqual(['T']);
    expect('${env.T}'.search(SECRET_MARKER)).toBe(-1);
  });
});
