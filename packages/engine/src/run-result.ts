import { workflowOutputReads } from '@orch/core';
import { resolveValue } from '@orch/expressions';
import type { EngineContext } from './engine-context';
import type { ExecutionDefinition } from './execution-definition';

const MAX_RESULT_BYTES = 8 * 1024 * 1024;

/**
 * A completed run's declared `output:`, evaluated over its variables and the tasks it reads (all ended): the JSON to
 * record as the run's result, or why it could not be had (the run then fails: a result it promised is missing).
 * Nothing for a workflow without `output:` (its result is its final tasks' outputs, read from the record).
 */
export async function evaluateRunOutput(
  ctx: EngineContext,
  def: ExecutionDefinition,
): Promise<{ json?: string; error?: string }> {
  const output = def.workflow.output;
  if (output === undefined) return {};
  const id = def.executionId;
  const reads = workflowOutputReads(def.workflow);
  const [outputs, fin] = await Promise.all([ctx.store.outputsOf(id, reads), ctx.store.finished(id)]);
  const errors = await ctx.store.taskErrors(
    id,
    reads.filter((r) => fin.get(r) === 'failed'),
  );
  const scope: Record<string, unknown> = { ...def.variables };
  for (const r of reads) {
    const raw = outputs.get(r);
    scope[r] = {
      output: raw === undefined ? undefined : JSON.parse(raw),
      status: fin.get(r) ?? 'pending',
      error: errors.get(r),
    };
  }
  try {
    const json = JSON.stringify(resolveValue(output, scope) ?? null);
    if (json.length > MAX_RESULT_BYTES)
      return { error: `the workflow's output is ${json.length} bytes; the limit is ${MAX_RESULT_BYTES}` };
    return { json };
  } catch (error) {
    return { error: `the workflow's output could not be evaluated: ${(error as Error).message}` };
  }
}
