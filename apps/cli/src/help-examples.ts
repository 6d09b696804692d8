import type { Command } from 'commander';

/**
 * Examples shown under `--help`, for the program and each command (by its path, `schedule create`). Each one runs
 * as written against `pnpm start` and the built-in templates; cli.test.ts checks every command has some and that
 * each example parses.
 */
export const EXAMPLES: Record<string, string[]> = {
  '': [
    'orchestrator up                                   # the whole service (what `pnpm start` runs)',
    'orchestrator validate templates/data-analysis-basic.yaml',
    'orchestrator run data-analysis-basic --var query_limit=50 --watch',
    'orchestrator status <execution-id>',
    'orchestrator logs <execution-id> --follow',
  ],
  validate: [
    'orchestrator validate templates/data-analysis-basic.yaml',
    'orchestrator validate my-workflow.json --json',
  ],
  templates: ['orchestrator templates', 'ORCHESTRATOR_TEMPLATES=./my-templates orchestrator templates --json'],
  plan: ['orchestrator plan data-analysis-basic --var query_limit=50', 'orchestrator plan my-workflow.yaml --json'],
  up: [
    'orchestrator up',
    'ORCHESTRATOR_PORT=8081 orchestrator up       # when 8080 is taken',
    'orchestrator up --cluster                    # on a private Redis Cluster: 3 primaries + 3 replicas, 16 partitions',
    'ORCHESTRATOR_PARTITIONS=32 orchestrator up --cluster --primaries 4 --replicas 1',
  ],
  run: [
    'orchestrator run data-analysis-basic --var query_limit=50 --watch',
    'orchestrator run ai-content-pipeline --var topic="Redis streams" --correlation-id article-42',
    'orchestrator run my-workflow.yaml --watch --json',
  ],
  status: [
    'orchestrator status <execution-id>',
    'orchestrator status <execution-id> --outputs',
    'orchestrator status <execution-id> --watch',
  ],
  list: ['orchestrator list', 'orchestrator list --status failed --template data-analysis-basic --limit 50'],
  logs: [
    'orchestrator logs <execution-id>',
    'orchestrator logs <execution-id> --follow --json',
    'orchestrator logs <execution-id> process_data -f',
    'orchestrator logs <execution-id> process_data --attempt 1',
  ],
  cancel: ['orchestrator cancel <execution-id>'],
  retry: ['orchestrator retry <execution-id> --watch'],
  pause: ['orchestrator pause <execution-id>'],
  resume: ['orchestrator resume <execution-id>'],
  approve: ['orchestrator approve <execution-id> review --by alice --payload \'{"ticket": "OPS-1"}\''],
  reject: ['orchestrator reject <execution-id> review --by bob --reason "change freeze"'],
  generate: [
    'orchestrator generate "fetch graph data, summarise it with AI" --services data,ai --dry-run',
    'orchestrator generate "fetch graph data, summarise it with AI" --save-as graph-summary',
    'orchestrator generate "fetch graph data, summarise it with AI" --execute --watch',
  ],
  schedules: ['orchestrator schedules', 'orchestrator schedules --json'],
  workers: ['orchestrator workers', 'orchestrator workers --json'],
  schedule: ['orchestrator schedule create nightly "0 3 * * *" data-analysis-basic --var query_limit=100'],
  'schedule create': [
    'orchestrator schedule create nightly "0 3 * * *" data-analysis-basic --var query_limit=100',
    'orchestrator schedule create hourly "0 * * * *" ai-content-pipeline --var topic=news --timezone Europe/Paris',
  ],
  'schedule show': ['orchestrator schedule show nightly'],
  'schedule pause': ['orchestrator schedule pause nightly'],
  'schedule resume': ['orchestrator schedule resume nightly'],
  'schedule delete': ['orchestrator schedule delete nightly'],
};

/** The commands of a program, each with its path from the program (`schedule create`). */
export function commandPaths(program: Command): [string, Command][] {
  const walk = (command: Command, prefix: string): [string, Command][] =>
    command.commands.flatMap((c) => {
      const path = prefix ? `${prefix} ${c.name()}` : c.name();
      return [[path, c] as [string, Command], ...walk(c, path)];
    });
  return walk(program, '');
}

/** Puts each command's examples at the end of its `--help`. */
export function addExamples(program: Command): void {
  for (const [path, command] of [['', program] as [string, Command], ...commandPaths(program)]) {
    const lines = EXAMPLES[path];
    if (lines) command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`);
  }
}
