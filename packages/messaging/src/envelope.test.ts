import { ENVELOPE_SCHEMA, parseRequestChannelMessage, parseResponseMessage } from './envelope';
import { MessageSigner } from './message-signer';

const request = {
  type: 'request',
  request_id: 'r-1',
  correlation_id: 'c-1',
  execution_id: 'e-1',
  task_id: 't1',
  attempt: 1,
  idempotency_key: 'e-1:t1',
  operation: 'traverse',
  parameters: { query: { cypher: 'MATCH (n) RETURN n' } },
  reply_channel: 'data-responses',
  deadline: 1_700_000_000_000,
};

describe('envelope', () => {
  it('is a documented JSON Schema with the three messages', () => {
    expect(Object.keys(ENVELOPE_SCHEMA.definitions)).toEqual(
      expect.arrayContaining(['request', 'cancel', 'response', 'error']),
    );
  });

  it('accepts a request and a cancel', () => {
    expect(parseRequestChannelMessage(JSON.stringify(request))).toEqual({ kind: 'request', request });
    expect(parseRequestChannelMessage('{"type":"cancel","request_id":"r-1"}')).toEqual({
      kind: 'cancel',
      cancel: { type: 'cancel', request_id: 'r-1' },
    });
  });

  it('names every broken field of a request and keeps what an error reply needs', () => {
    const broken = { ...request, attempt: 0, deadline: 'soon', operation: undefined };
    const parsed = parseRequestChannelMessage(JSON.stringify(broken));
    expect(parsed).toMatchObject({ kind: 'invalid', requestId: 'r-1', replyChannel: 'data-responses' });
    const reason = (parsed as { reason: string }).reason;
    expect(reason).toContain("must have required property 'operation'");
    expect(reason).toContain('/attempt must be >= 1');
    expect(reason).toContain('/deadline must be integer');
  });

  it('rejects text that is not a JSON object', () => {
    expect(parseRequestChannelMessage('not json')).toMatchObject({ kind: 'invalid', reason: /^not JSON/ });
    expect(parseRequestChannelMessage('[1]')).toEqual({ kind: 'invalid', reason: 'not a JSON object' });
    expect(parseResponseMessage('42')).toEqual({ kind: 'invalid', reason: 'not a JSON object' });
  });

  it('requires a result on ok and an error body on error', () => {
    expect(parseResponseMessage('{"request_id":"r","status":"ok","result":null}')).toMatchObject({
      kind: 'response',
    });
    expect(parseResponseMessage('{"request_id":"r","status":"ok"}')).toMatchObject({
      kind: 'invalid',
      requestId: 'r',
      reason: expect.stringContaining("required property 'result'"),
    });
    expect(parseResponseMessage('{"request_id":"r","status":"error","error":{"code":"X"}}')).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining("required property 'retryable'"),
    });
    expect(
      parseResponseMessage(
        '{"request_id":"r","status":"error","error":{"code":"X","message":"m","retryable":false},"extra":1}',
      ),
    ).toMatchObject({ kind: 'response', response: { status: 'error', error: { retryable: false } } });
    expect(parseResponseMessage('{"request_id":"r","status":"maybe","result":1}')).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('/status must be equal to one of the allowed values'),
    });
  });

  it("carries the calling attempt's W3C trace context, checked and covered by the signature", () => {
    const traced = {
      ...request,
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'k=v',
    };
    expect(parseRequestChannelMessage(JSON.stringify(traced))).toEqual({ kind: 'request', request: traced });
    expect(parseRequestChannelMessage(JSON.stringify({ ...request, traceparent: 'not-a-traceparent' }))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('/traceparent must match pattern'),
    });
    expect(parseRequestChannelMessage(JSON.stringify({ ...request, tracestate: 'x'.repeat(513) }))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('/tracestate must NOT have more than 512 characters'),
    });
    // Swapping the trace context of a signed request (to graft it onto another trace) breaks the signature.
    const signer = new MessageSigner('s'.repeat(32));
    const signed = JSON.parse(signer.wrap('data-requests', JSON.stringify(traced))) as { body: string };
    signed.body = signed.body.replace('00f067aa0ba902b7', '1111111111111111');
    expect(signer.unwrap('data-requests', JSON.stringify(signed))).toMatchObject({
      ok: false,
      reason: 'bad signature',
    });
  });
});
