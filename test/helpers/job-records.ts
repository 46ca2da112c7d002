import type { JobRecord } from '../../src/store/job-record.js';
import { TEST_USER } from './api.js';

/** A fixed instant, so that seeded jobs have predictable times. */
export const T0 = Date.parse('2024-05-01T12:00:00.000Z');
export const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/** A job as the store keeps it, accepted and owned by TEST_USER unless `fields` say otherwise. */
export function jobRecord(id: string, fields: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    processId: 'echo',
    status: 'accepted',
    owner: TEST_USER,
    agent: null,
    inputs: {},
    execution: { response: 'document' },
    progress: 0,
    message: null,
    created: at(0),
    started: null,
    finished: null,
    updated: at(0),
    results: null,
    error: null,
    lastSeq: 0,
    dismissedBy: null,
    ...fields,
  };
}
