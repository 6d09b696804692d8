import { createHmac } from 'node:crypto';
import { MessageSigner } from './message-signer';

const SECRET = 'a'.repeat(64);
const body = JSON.stringify({ type: 'request', request_id: 'r1' });

describe('MessageSigner', () => {
  let now = 1_700_000_000_000;
  const clock = () => now;

  it('wraps the exact body with an HMAC over version, channel, timestamp and body, and unwraps it', () => {
    const signer = new MessageSigner(SECRET, { now: clock });
    const wrapped = JSON.parse(signer.wrap('exec-requests', body));
    const mac = createHmac('sha256', SECRET).update(`v1\nexec-requests\n${now}\n${body}`).digest('hex');
    expect(wrapped).toEqual({ v: 1, timestamp: now, signature: mac, body });
    expect(signer.unwrap('exec-requests', JSON.stringify(wrapped))).toEqual({ ok: true, text: body });
  });

  it('refuses unsigned, wrongly signed, altered, other-channel and stale messages', () => {
    const signer = new MessageSigner(SECRET, { now: clock });
    const wrapped = signer.wrap('exec-requests', body);
    expect(signer.unwrap('exec-requests', body)).toMatchObject({ ok: false, reason: 'unsigned' });
    const forged = new MessageSigner('b'.repeat(64), { now: clock }).wrap('exec-requests', body);
    expect(signer.unwrap('exec-requests', forged)).toMatchObject({ ok: false, reason: 'bad signature' });
    const altered = wrapped.replace('r1', 'r2');
    expect(signer.unwrap('exec-requests', altered)).toMatchObject({ ok: false, reason: 'bad signature' });
    expect(signer.unwrap('data-requests', wrapped)).toMatchObject({ ok: false, reason: 'bad signature' });
    now += 60_001;
    expect(signer.unwrap('exec-requests', wrapped)).toMatchObject({ ok: false, reason: 'stale' });
    now -= 120_002; // from the future, as far
    expect(signer.unwrap('exec-requests', wrapped)).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('refuses a replay of the same signed message when asked to', () => {
    const signer = new MessageSigner(SECRET, { now: clock, rejectReplays: true });
    const wrapped = signer.wrap('exec-requests', body);
    expect(signer.unwrap('exec-requests', wrapped).ok).toBe(true);
    expect(signer.unwrap('exec-requests', wrapped)).toMatchObject({ ok: false, reason: 'replayed' });
  });

  it('without a secret passes plain messages and refuses signed ones (a secret is missing here)', () => {
    const open = new MessageSigner(undefined);
    expect(open.wrap('x', body)).toBe(body);
    expect(open.unwrap('x', body)).toEqual({ ok: true, text: body });
    const signed = new MessageSigner(SECRET).wrap('x', body);
    expect(open.unwrap('x', signed)).toMatchObject({ ok: false, reason: 'unexpected signature' });
  });
});
