import { randomUUID } from 'node:crypto';
import { OutpostError } from '../errors.js';
import type { AgentRegistry } from '../registry/agent-registry.js';
import type { JobRecord } from '../store/job-record.js';
import { inputsTooLarge } from './execute-size.js';
import { takeInlineFiles, type InlineFile } from './file-inputs.js';
import { compileInputValidator } from './input-validator.js';

export interface SubmitRequest {
  processId: string;
  inputs: Record<string, unknown>;
  execution: JobRecord['execution'];
  owner: string;
}

/**
 * The job a submission makes, accepted and not yet stored, and the files sent inline, which are
 * stored apart from it; inputs the process refuses are a 400.
 */
export function newJob(registry: AgentRegistry, request: SubmitRequest): { job: JobRecord; files: Record<string, InlineFile> } {
  const offered = registry.process(request.processId);
  if (!offered) throw new OutpostError('no-such-process', 404, `process '${request.processId}' is not offered by any agent`);
  const validation = compileInputValidator(offered.spec.inputs)(request.inputs);
  if (!validation.ok) throw new OutpostError('invalid-input', 400, validation.message);
  const { inputs, files } = takeInlineFiles(validation.values);
  const tooLarge = inputsTooLarge(inputs);
  if (tooLarge) throw new OutpostError('invalid-input', 400, tooLarge);
  const now = new Date().toISOString();
  const job: JobRecord = {
    id: randomUUID(),
    processId: request.processId,
    status: 'accepted',
    owner: request.owner,
    agent: null,
    inputs,
    execution: request.execution,
    progress: 0,
    message: null,
    created: now,
    started: null,
    finished: null,
    updated: now,
    results: null,
    error: null,
    lastSeq: 0,
    dismissedBy: null,
  };
  return { job, files };
}
