import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFileName, RequestWorkspace } from './request-workspace';

describe('RequestWorkspace', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'exec-ws-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('refuses names that leave input/', () => {
    expect(checkFileName('a/./b.txt')).toBe('a/b.txt');
    for (const name of ['', '../x', 'a/../../x', '/etc/passwd', 'a\\b', 'x\0y', '.', 'dir/']) {
      expect(() => checkFileName(name)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', retryable: false }));
    }
  });

  it('writes inputs, rewrites /workspace paths and collects regular output files', async () => {
    const ws = await RequestWorkspace.create(join(root, 'nested'), [
      { name: 'process.py', content: 'print(1)' },
      { name: 'data/in.json', content: '{}' },
    ]);
    expect(readFileSync(join(ws.inputDir, 'process.py'), 'utf8')).toBe('print(1)');
    expect(readFileSync(join(ws.inputDir, 'data/in.json'), 'utf8')).toBe('{}');
    expect(ws.rewritePaths(['python3', '/workspace/input/process.py', '/workspace', '/workspaces/x', 'x'])).toEqual([
      'python3',
      `${ws.dir}/input/process.py`,
      ws.dir,
      '/workspaces/x',
      'x',
    ]);
    writeFileSync(join(ws.outputDir, 'result.txt'), 'hello');
    writeFileSync(join(ws.outputDir, 'blob.bin'), Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    writeFileSync(join(ws.outputDir, 'big.txt'), 'x'.repeat(100));
    symlinkSync('/etc/hostname', join(ws.outputDir, 'link'));
    expect(await ws.collectOutputs({ maxFiles: 10, maxTextBytes: 50, maxTotalTextBytes: 1000 })).toEqual([
      { name: 'big.txt', size: 100 },
      { name: 'blob.bin', size: 4 },
      { name: 'result.txt', size: 5, content: 'hello' },
    ]);
    expect(await ws.collectOutputs({ maxFiles: 1, maxTextBytes: 50, maxTotalTextBytes: 1000 })).toHaveLength(1);
    // Past the total budget, files come with their size only.
    expect(await ws.collectOutputs({ maxFiles: 10, maxTextBytes: 200, maxTotalTextBytes: 100 })).toEqual([
      { name: 'big.txt', size: 100, content: 'x'.repeat(100) },
      { name: 'blob.bin', size: 4 },
      { name: 'result.txt', size: 5 },
    ]);
    await ws.remove();
    expect(() => readFileSync(join(ws.inputDir, 'process.py'))).toThrow(/ENOENT/);
  });

  it('refuses two files with the same name and leaves nothing behind', async () => {
    await expect(
      RequestWorkspace.create(root, [
        { name: 'a.txt', content: '1' },
        { name: './a.txt', content: '2' },
      ]),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', retryable: false });
    expect(readdirSync(root)).toEqual([]);
  });
});
