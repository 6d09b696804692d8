import { lstat, mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { ServiceCallError } from '@orch/messaging';

export interface InputFile {
  name: string;
  content: string;
}

export interface OutputFile {
  /** Relative to the output directory, with `/` separators. */
  name: string;
  size: number;
  /** The text, for small UTF-8 files only. */
  content?: string;
}

export interface OutputLimits {
  maxFiles: number;
  /** Files up to this size that decode as UTF-8 have their `content` returned. */
  maxTextBytes: number;
  /** Contents returned in all; later files get their size only, so the response stays publishable. */
  maxTotalTextBytes: number;
}

/** Where commands find their inputs: `/workspace/...` inside a container. */
export const CONTAINER_WORKSPACE = '/workspace';

/**
 * A fresh directory per request under the exec workspace: `input/` holds the request's files, `output/` whatever
 * the command leaves for the caller. File names are relative paths that must stay inside `input/`.
 */
export class RequestWorkspace {
  private constructor(readonly dir: string) {}

  static async create(root: string, files: InputFile[]): Promise<RequestWorkspace> {
    const names = files.map((file) => checkFileName(file.name));
    await mkdir(root, { recursive: true, mode: 0o700 });
    const workspace = new RequestWorkspace(await mkdtemp(join(root, 'req-')));
    try {
      // Readable by the sandbox's user whatever this process's umask is; writable by this process only.
      await mkdir(workspace.inputDir, { recursive: true, mode: 0o755 });
      await mkdir(workspace.outputDir, { recursive: true, mode: 0o755 });
      for (const [index, file] of files.entries()) {
        const path = join(workspace.inputDir, names[index] as string);
        await mkdir(dirname(path), { recursive: true, mode: 0o755 });
        await writeFile(path, file.content, { flag: 'wx', mode: 0o644 });
      }
    } catch (error) {
      await workspace.remove();
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ServiceCallError('BAD_REQUEST', `two files are named the same: ${(error as Error).message}`, {
          retryable: false,
          cause: error,
        });
      }
      throw error;
    }
    return workspace;
  }

  get inputDir(): string {
    return join(this.dir, 'input');
  }

  get outputDir(): string {
    return join(this.dir, 'output');
  }

  /** For local runs: argv entries naming `/workspace/...` point into this directory instead. */
  rewritePaths(argv: string[]): string[] {
    return argv.map((arg) =>
      arg === CONTAINER_WORKSPACE || arg.startsWith(`${CONTAINER_WORKSPACE}/`)
        ? this.dir + arg.slice(CONTAINER_WORKSPACE.length)
        : arg,
    );
  }

  /** Regular files under `output/` (symbolic links are skipped: they could point anywhere on this machine). */
  async collectOutputs(limits: OutputLimits): Promise<OutputFile[]> {
    const found: OutputFile[] = [];
    let budget = limits.maxTotalTextBytes;
    const walk = async (relative: string): Promise<void> => {
      const entries = await readdir(join(this.outputDir, relative), { withFileTypes: true }).catch(() => []);
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) {
        if (found.length >= limits.maxFiles) return;
        const name = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(name);
        else if (entry.isFile()) {
          const file = await this.describe(name, Math.min(limits.maxTextBytes, budget));
          budget -= file.content === undefined ? 0 : file.size;
          found.push(file);
        }
      }
    };
    await walk('');
    return found;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private async describe(name: string, maxTextBytes: number): Promise<OutputFile> {
    const path = join(this.outputDir, name);
    const stats = await lstat(path);
    const file: OutputFile = { name, size: stats.size };
    if (stats.size > maxTextBytes) return file;
    const handle = await open(path, 'r');
    try {
      const bytes = await handle.readFile();
      const text = new TextDecoder('utf-8', { fatal: true });
      if (!bytes.includes(0)) file.content = text.decode(bytes);
    } catch {
      // Not UTF-8 text: size only.
    } finally {
      await handle.close();
    }
    return file;
  }
}

/** A relative path without `..`, NUL or backslashes; returns it normalised. */
export function checkFileName(name: string): string {
  const bad = (why: string) =>
    new ServiceCallError('BAD_REQUEST', `file name ${JSON.stringify(name)} ${why}`, { retryable: false });
  if (typeof name !== 'string' || name.length === 0) throw bad('is empty');
  if (name.includes('\0') || name.includes('\\')) throw bad('contains NUL or a backslash');
  if (posix.isAbsolute(name)) throw bad('is absolute; give a name relative to /workspace/input');
  if (name.split('/').includes('..')) throw bad("contains '..'");
  const normal = posix.normalize(name);
  if (normal === '.' || normal.endsWith('/')) throw bad('names a directory');
  return normal;
}
