import { ValidationError } from '@orch/errors';
import { Command, CommanderError } from 'commander';
import { ApiError } from './api-client';
import { type CliIo, createContext } from './cli-io';
import { registerControlCommands } from './control-commands';
import { registerGenerateCommand } from './generate-command';
import { registerLocalCommands } from './local-commands';
import { registerRunCommands } from './run-commands';
import { registerScheduleCommands } from './schedule-commands';

export type { CliIo } from './cli-io';

/** Runs one command line (without `node main.js`) and resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const ctx = createContext(io, (code) => {
    exitCode = code;
  });
  const program = new Command('orchestrator')
    .description(
      'Orchestrator: DAG workflows on BullMQ and Redis. API commands use ORCHESTRATOR_URL (default ' +
        'http://localhost:8080) and ORCHESTRATOR_API_KEY; validate, templates and plan work offline.',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  registerLocalCommands(program, ctx);
  registerRunCommands(program, ctx);
  registerControlCommands(program, ctx);
  registerGenerateCommand(program, ctx);
  registerScheduleCommands(program, ctx);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof ApiError) for (const line of error.describe()) io.err(line);
    else if (error instanceof ValidationError) for (const line of error.describe().split('\n')) io.err(line);
    else io.err(`error: ${(error as Error).message}`);
    return 1;
  }
}
