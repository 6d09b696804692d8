import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';

/** Lua files are named `<command>-<number of KEYS>.lua` and live beside src/ and dist/ in ../lua. */
const SCRIPTS = [
  'start-task-5',
  'complete-task-6',
  'finalize-8',
  'abort-2',
  'admit-2',
  'admit-run-5',
  'release-slot-2',
  'claim-deadlines-1',
] as const;

type Arg = string | number;

/** The engine's Lua scripts as typed methods of one client. */
export interface EngineScripts {
  startTask(keys: string[], args: Arg[]): Promise<string[]>;
  completeTask(keys: string[], args: Arg[]): Promise<string[]>;
  finalize(keys: string[], args: Arg[]): Promise<number>;
  abort(keys: string[], args: Arg[]): Promise<string>;
  admit(keys: string[], args: Arg[]): Promise<number>;
  admitRun(keys: string[], args: Arg[]): Promise<number>;
  releaseSlot(keys: string[], args: Arg[]): Promise<string[]>;
  claimDeadlines(keys: string[], args: Arg[]): Promise<string[]>;
}

const camel = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

let sources: Map<string, string> | undefined;

function loadSources(): Map<string, string> {
  sources ??= new Map(SCRIPTS.map((file) => [file, readFileSync(join(__dirname, '..', 'lua', `${file}.lua`), 'utf8')]));
  return sources;
}

/** The command name a script is registered under, for use inside a MULTI. */
export const scriptCommand = (name: string) => `orch_${name}`;

/** Registers the scripts on `client` (EVALSHA, falling back to EVAL once per connection) and returns typed calls. */
export function engineScripts(client: Redis): EngineScripts {
  const calls: Record<string, (keys: string[], args: Arg[]) => Promise<unknown>> = {};
  for (const [file, lua] of loadSources()) {
    const numberOfKeys = Number(file.slice(file.lastIndexOf('-') + 1));
    const name = camel(file.slice(0, file.lastIndexOf('-')));
    const command = scriptCommand(name);
    if (!(command in client)) client.defineCommand(command, { numberOfKeys, lua });
    const fn = (client as unknown as Record<string, (...a: Arg[]) => Promise<unknown>>)[command];
    calls[name] = (keys, args) => {
      if (keys.length !== numberOfKeys) throw new Error(`${file} takes ${numberOfKeys} keys, got ${keys.length}`);
      return (fn as (...a: Arg[]) => Promise<unknown>).call(client, ...keys, ...args);
    };
  }
  return calls as unknown as EngineScripts;
}
