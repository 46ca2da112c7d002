import { expect } from 'chai';
import type { Cluster } from './cluster.js';

/** An OGC exception as the API answers it (RFC 7807). */
export interface Exception {
  type: string;
  status: number;
  detail: string;
  failure?: { code: string; exitCode?: number };
}

/** Runs a process of the cluster (started later, hence the getter) with inputs, and counts its jobs. */
export function inputExecutor(cluster: () => Cluster) {
  const jobCount = () => cluster().orchestrator.jobStore.list({ limit: 1000, offset: 0 }).jobs.length;
  const execute = (process: string, inputs: Record<string, unknown>) =>
    cluster().api(`${cluster().orchestrator.url}/processes/${process}/execution`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs }),
    });
  /** Expects a 400 invalid-input with exactly `detail`, and no job made. */
  async function expectRefusedBeforeDispatch(process: string, inputs: Record<string, unknown>, detail: string): Promise<void> {
    const before = jobCount();
    const response = await execute(process, inputs);
    expect(response.status).to.equal(400);
    const exception = (await response.json()) as Exception;
    expect(exception.type).to.match(/invalid-input$/);
    expect(exception.detail).to.equal(detail);
    expect(jobCount()).to.equal(before);
  }
  return { jobCount, execute, expectRefusedBeforeDispatch };
}
