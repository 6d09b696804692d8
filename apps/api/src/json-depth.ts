const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * The offset at which JSON text opens its `maxDepth + 1`-th nested array or object, or undefined when it never does.
 * JSON.parse itself copes with any depth, but every recursive walk after it (schema validation, expression
 * collection, JSON.stringify, the logger) overflows the stack somewhere past a few thousand levels, so deep
 * documents are refused before they are parsed. A linear scan of the bytes, brackets inside strings skipped; it
 * does not validate: malformed text is JSON.parse's to report.
 */
export function jsonDepthExceeded(text: string | Uint8Array, maxDepth: number): number | undefined {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      // Jump to the quote that closes the string: one not escaped by an odd run of backslashes.
      for (;;) {
        i = bytes.indexOf(QUOTE, i + 1);
        if (i === -1) return undefined;
        let slashes = 0;
        while (bytes[i - 1 - slashes] === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return i;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return undefined;
}

/** Thrown from express.json's `verify` hook; the error handler turns it into a 400 that names the setting. */
export class JsonTooDeepError extends Error {
  /** body-parser keeps a thrown error's `type`, which is what the error handler switches on. */
  readonly type = 'entity.too.deep';

  constructor(
    readonly maxDepth: number,
    readonly offset: number,
  ) {
    super(`JSON nests deeper than ${maxDepth} levels (at byte ${offset})`);
  }
}

/** express.json's `verify` option: refuses a body nested deeper than `maxDepth`, before it is parsed. */
export function verifyJsonDepth(maxDepth: number): (req: unknown, res: unknown, body: Buffer) => void {
  return (_req, _res, body) => {
    const offset = jsonDepthExceeded(body, maxDepth);
    if (offset !== undefined) throw new JsonTooDeepError(maxDepth, offset);
  };
}
