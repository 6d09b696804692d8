import { StringDecoder } from 'node:string_decoder';

type Stream = 'stdout' | 'stderr';

/** A message is sent at most this often while output keeps coming, and once it holds this many characters. */
const FLUSH_MS = 100;
const MAX_PIECE = 32 * 1024;

/**
 * Streams a command's output to its caller as it comes, in pieces: consecutive writes to the same stream are joined
 * and sent every 100 ms (or at 32 Ki characters), in the order they were written; a multi-byte character cut
 * between two writes is decoded whole. `end` sends what is left, before the response.
 */
export class OutputStreamer {
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  private queue: [Stream, string][] = [];
  private size = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly send: (stream: Stream, data: string) => void) {}

  /** For RunSpec.onOutput. */
  readonly write = (stream: Stream, part: Buffer): void => {
    const text = this.decoders[stream].write(part);
    if (text === '') return;
    const last = this.queue.at(-1);
    if (last && last[0] === stream) last[1] += text;
    else this.queue.push([stream, text]);
    this.size += text.length;
    if (this.size >= MAX_PIECE) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  };

  /** Sends what is queued, and the end of any character left undecoded. */
  end(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.decoders[stream].end();
      if (rest) this.queue.push([stream, rest]);
    }
    this.flush();
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const queue = this.queue;
    this.queue = [];
    this.size = 0;
    for (const [stream, data] of queue) this.send(stream, data);
  }
}
