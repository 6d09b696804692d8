/**
 * What a dry run answers for each service task instead of calling the service: empty but schema-shaped, so
 * expressions such as `${t.output.rows}` or `${len(t.output.matches)}` evaluate as they would on a real, empty
 * answer. Fresh objects each time, so a transform holding one cannot change another task's output.
 */
export function mockOutput(type: 'data' | 'ai' | 'exec'): Record<string, unknown> {
  switch (type) {
    case 'data':
      return { rows: [], matches: [], count: 0 };
    case 'ai':
      return { text: '(dry run)', json: {}, model: 'dry-run', usage: { prompt_tokens: 0, completion_tokens: 0 } };
    case 'exec':
      return { exit_code: 0, stdout: '', stderr: '', files: [], json: {} };
  }
}
