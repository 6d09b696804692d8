import { PassThrough } from 'node:stream';
import { createLogger } from './create-logger';

/** A logger at `level` writing to a stream; `lines()` parses what it wrote. */
function capture(level: string) {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const logger = createLogger({ level, stream, defaults: { service: 'test' } });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes JSON lines with a timestamp, its defaults and a child’s fields', () => {
    const { logger, lines } = capture('info');
    logger.child({ execution_id: 'e1' }).info('task started', { task_id: 't1' });
    const [line] = lines();
    expect(line).toMatchObject({ level: 'info', message: 'task started', service: 'test', execution_id: 'e1' });
    expect(line?.task_id).toBe('t1');
    expect(Number.isNaN(Date.parse(String(line?.timestamp)))).toBe(false);
  });

  it('drops a line below its level before formatting it', () => {
    const { logger, lines } = capture('warn');
    let serialised = 0;
    const field = {
      toJSON() {
        serialised++;
        return 'x';
      },
    };
    logger.info('request', { field });
    logger.child({ execution_id: 'e1' }).log('debug', 'quiet', { field });
    expect(serialised).toBe(0);
    logger.warn('slow', { field });
    expect(serialised).toBe(1);
    expect(lines().map((l) => [l.level, l.message, l.field])).toEqual([['warn', 'slow', 'x']]);
    // The level is read per line, so a level changed at run time applies at once.
    logger.level = 'debug';
    logger.debug('now shown');
    expect(lines().map((l) => l.message)).toEqual(['slow', 'now shown']);
  });
});
