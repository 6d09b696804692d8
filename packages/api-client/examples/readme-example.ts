import { createApiClient } from '@orch/api-client';

const api = createApiClient({ baseUrl: 'http://localhost:8080', apiKey: process.env.ORCHESTRATOR_API_KEY });

async function main(): Promise<void> {
  const { data: run, error } = await api.POST('/api/v1/workflows', {
    body: {
      workflow_template: 'data-analysis-basic',
      variables: { query_limit: 50, analysis_prompt: 'Identify key trends in the data' },
    },
  });
  if (error) throw new Error(`${error.error.code}: ${error.error.message}`);
  console.log(`run ${run.execution_id} is ${run.status}`);

  const { data: record } = await api.GET('/api/v1/workflows/{id}', { params: { path: { id: run.execution_id } } });
  for (const task of record?.tasks ?? []) console.log(task.id, task.status, task.attempts, task.output);

  const { data: page } = await api.GET('/api/v1/workflows', { params: { query: { status: 'running', limit: 20 } } });
  for (const item of page?.items ?? []) console.log(item.execution_id, item.workflow_id, item.created_at);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
