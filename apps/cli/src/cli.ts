import { ValidationError } from '@orch/errors';
import { Command, CommanderError } from 'commander';
import { ApiError } from './api-client';
import { type CliIo, createContext } from './cli-io';
import { registerControlCommands } from './control-commands';
import { registerGenerateCommand } from './generate-command';
import { addExamples } from './help-examples';
import { registerLocalCommands } from './local-commands';
import { registerRunCommands } from './run-commands';
import { registerScheduleCommands } from './schedule-commands';
import { registerWorkerCommands } from './worker-commands';

export type { CliIo } from './cli-io';

/** The version of the CLI, which is the version of the whole service (every workspace package has the same one). */
export const CLI_VERSION: string = (require('../package.json') as { version: string }).version;

/** The program with every command, its help examples and `--version`; `exit` receives a command's exit code. */
export function createProgram(io: CliIo, exit: (code: number) => void): Command {
  const ctx = createContext(io, exit);
  const program = new Command('orchestrator')
    .description(
      'Orchestrator: DAG workflows on BullMQ and Redis. API commands use ORCHESTRATOR_URL (default ' +
        'http://localhost:8080) and ORCHESTRATOR_API_KEY; validate, templates and plan work offline.',
    )
    .version(`orchestrator ${CLI_VERSION}`, '-v, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  registerLocalCommands(program, ctx);
  registerRunCommands(program, ctx);
  registerControlCommands(program, ctx);
  registerGenerateCommand(program, ctx);
  registerScheduleCommands(program, ctx);
  registerWorkerCommands(program, ctx);
  addExamples(program);
  return program;
}

/** Runs one command line (without `node main.js`) and resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    // --help and --version end by "throwing" (exitOverride) with exit code 0.
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof ApiError) for (const line of error.describe()) io.err(line);
    else if (error instanceof ValidationError) for (const line of error.describe().split('\n')) io.err(line);
    else io.err(`error: ${(error as Error).message}`);
    return 1;
  }
}
