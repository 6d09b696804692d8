import { tryParseDuration } from '@orch/core';
import { isFinalStatus, type SubmitResponse } from '@orch/run-model';
import { checkRequest, submitWorkflowBody, submitWorkflowQuery } from '../request-schemas';
import { clientClaim, prepareWithTaskTypes } from '../workflow-request';
import { executionLinks, type Handler, type HandlerDeps } from './handler';

/**
 * `POST /api/v1/workflows[?wait=30s]`. Everything is validated before anything is written. A correlation id is
 * claimed in the space of the calling key's name: used again within the TTL with the same body it returns the
 * existing run with 200, with another body 409 naming that run; the engine claims it and creates the run in one
 * step. With `wait`, a run that ends within it is answered with 200 and its final record instead of 202.
 */
export const submitWorkflow: Handler = async (input, deps) => {
  const request = checkRequest(submitWorkflowBody, input.body, 'request body');
  const query = checkRequest(submitWorkflowQuery, input.query, 'query string');
  const waitMs = Math.min(tryParseDuration(query.wait) ?? 0, deps.config.server.maxWaitMs);
  // SDK workers' types: validated against the schemas they registered.
  const prepared = await prepareWithTaskTypes(deps.engine, request, deps.catalog);
  await deps.backpressure.admit(1, input.signal);
  // The run's id is made here (in its claim's partition) so that its end is listened for before the run can end.
  const claim = clientClaim(request, input.caller.name);
  const executionId = deps.engine.newExecutionId(claim);
  let waiting = waitMs > 0 ? deps.waiters.expect(executionId) : undefined;
  const result = await deps.engine
    .submit(prepared, {
      claim,
      requestId: input.requestId,
      submittedBy: input.caller.name,
      executionId,
      awaited: waiting !== undefined,
    })
    .catch((error: unknown) => {
      waiting?.cancel();
      throw error;
    });
  const template = prepared.template?.id ?? 'inline';
  deps.metrics.submitted('http', template, result.created);
  deps.logger.info(result.created ? 'workflow submitted' : 'workflow already submitted', {
    execution_id: result.executionId,
    correlation_id: request.correlation_id,
    template,
    source: 'http',
    request_id: input.requestId,
    submitted_by: input.caller.name,
  });
  const links = executionLinks(result.executionId);
  const answer: SubmitResponse = {
    execution_id: result.executionId,
    status: result.status,
    correlation_id: request.correlation_id ?? null,
    created: result.created,
    links,
  };
  if (waiting && !result.created) waiting = await expectExisting(waiting, result.executionId, deps);
  const outcome = waiting && (await waiting.until(waitMs, input.signal));
  if (outcome?.finished) {
    // The finished message carries the record of a run that this API created and that was awaited.
    const record = await deps.engine.get(result.executionId, { carried: outcome.record });
    return { status: 200, headers: { location: links.status }, body: { ...answer, status: record.status, record } };
  }
  return { status: result.created ? 202 : 200, headers: { location: links.status }, body: answer };
};

type Waiting = ReturnType<HandlerDeps['waiters']['expect']>;

/**
 * The correlation id named an existing run: wait for that one instead. It may have ended already (or end between
 * the submit and now), so its status is read after the new waiter is registered.
 */
async function expectExisting(ours: Waiting, id: string, deps: HandlerDeps): Promise<Waiting> {
  ours.cancel();
  const theirs = deps.waiters.expect(id);
  const status = await deps.engine.status(id);
  if (status === undefined || isFinalStatus(status)) {
    theirs.cancel();
    return finishedNow(status !== undefined);
  }
  return theirs;
}

/** A wait that is already over: finished (the record is read) or not (the run is gone). */
function finishedNow(finished: boolean): Waiting {
  const outcome = finished ? { finished: true as const, status: 'ended' } : { finished: false as const };
  return { until: async () => outcome, cancel: () => undefined };
}
