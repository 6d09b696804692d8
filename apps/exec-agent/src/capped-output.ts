import { Writable } from 'node:stream';

/** Collects a stream's bytes up to a limit and remembers whether more arrived, so a chatty command cannot exhaust memory. */
export class CappedOutput {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private total = 0;

  constructor(
    private readonly limit: number,
    /** Told every piece that is kept, as it comes (to stream it to the caller). */
    private readonly onKept?: (part: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.limit - this.kept;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.kept += part.length;
    this.onKept?.(part);
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  /** Bytes received, including the ones dropped. */
  get bytes(): number {
    return this.total;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** A sink for stream demultiplexers (Docker's log stream). */
  writable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.push(chunk);
        done();
      },
    });
  }
}
