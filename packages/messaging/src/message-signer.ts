import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a signed message's timestamp may be from this process's clock, either way. */
export const MAX_MESSAGE_AGE_MS = 60_000;

/**
 * A signed message on a service channel: the envelope's exact JSON text as `body`, so every language checks the
 * same bytes, with `signature = hex(HMAC-SHA256(SERVICE_SECRET, "v1\n" + channel + "\n" + timestamp + "\n" + body))`.
 * The channel in the MAC stops a request signed for `data-requests` from being replayed on `exec-requests`.
 */
export interface SignedMessage {
  v: 1;
  /** Epoch ms when it was signed. */
  timestamp: number;
  signature: string;
  body: string;
}

export type UnwrapResult =
  | { ok: true; text: string }
  | { ok: false; reason: 'unsigned' | 'bad signature' | 'stale' | 'replayed' | 'unexpected signature'; detail: string };

export interface MessageSignerOptions {
  maxAgeMs?: number;
  now?: () => number;
  /** Refuse a signed message seen before (within the age window): for request channels. */
  rejectReplays?: boolean;
}

/**
 * Signs what a process publishes on service channels and checks what it receives. Without a secret it passes
 * messages through unsigned and refuses signed ones (the sender has a secret this process lacks: a configuration
 * mistake worth a clear log line rather than a silent acceptance).
 */
export class MessageSigner {
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly secret: string | undefined,
    private readonly options: MessageSignerOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? MAX_MESSAGE_AGE_MS;
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.secret !== undefined && this.secret.length > 0;
  }

  /** The text to PUBLISH on `channel`. */
  wrap(channel: string, body: string): string {
    if (!this.enabled) return body;
    const timestamp = this.now();
    const message: SignedMessage = { v: 1, timestamp, signature: this.mac(channel, timestamp, body), body };
    return JSON.stringify(message);
  }

  /** The envelope text of a message received on `channel`, or why it must be dropped. */
  unwrap(channel: string, text: string): UnwrapResult {
    const signed = readSigned(text);
    if (!this.enabled) {
      if (!signed) return { ok: true, text };
      return {
        ok: false,
        reason: 'unexpected signature',
        detail: 'the message is signed but SERVICE_SECRET is not set here',
      };
    }
    if (!signed) return { ok: false, reason: 'unsigned', detail: 'the message carries no signature' };
    const expected = Buffer.from(this.mac(channel, signed.timestamp, signed.body), 'hex');
    const given = Buffer.from(signed.signature, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'bad signature', detail: `the signature does not match (channel ${channel})` };
    }
    const now = this.now();
    const age = now - signed.timestamp;
    if (Math.abs(age) > this.maxAgeMs) {
      return { ok: false, reason: 'stale', detail: `signed ${age} ms ago; at most ${this.maxAgeMs} ms either way` };
    }
    if (this.options.rejectReplays) {
      this.forgetOld(now);
      if (this.seen.has(signed.signature)) {
        return { ok: false, reason: 'replayed', detail: 'this exact message was received before' };
      }
      this.seen.set(signed.signature, signed.timestamp);
    }
    return { ok: true, text: signed.body };
  }

  private mac(channel: string, timestamp: number, body: string): string {
    return createHmac('sha256', this.secret as string)
      .update(`v1\n${channel}\n${timestamp}\n${body}`)
      .digest('hex');
  }

  /** Signatures older than the window cannot pass the age check again, so they need not be remembered. */
  private forgetOld(now: number): void {
    for (const [signature, timestamp] of this.seen) {
      if (now - timestamp <= this.maxAgeMs) break; // insertion order is roughly timestamp order
      this.seen.delete(signature);
    }
  }
}

function readSigned(text: string): SignedMessage | undefined {
  // An envelope never has a `v` member, so a quick look spares parsing unsigned messages twice.
  if (!text.includes('"v"')) return undefined;
  try {
    const value = JSON.parse(text) as Partial<SignedMessage>;
    if (
      value.v === 1 &&
      Number.isSafeInteger(value.timestamp) &&
      typeof value.signature === 'string' &&
      /^[0-9a-f]{64}$/.test(value.signature) &&
      typeof value.body === 'string'
    ) {
      return value as SignedMessage;
    }
  } catch {
    // not a signed message
  }
  return undefined;
}
