import { expect } from 'chai';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { writeProperties, writeScript } from './temp-services.js';

/**
 * Writes the service `counted` into `servicesDir`: each run first appends its `echo` input to
 * `runsFile`, then waits `pause` seconds, and as long as `holdRuns` holds it, then prints the
 * input. The file counts runs on the agents' side, whatever the orchestrator believes.
 */
export async function writeCountedEcho(servicesDir: string, runsFile: string): Promise<void> {
  const wait = `sleep "$2"\nwhile [ -e '${runsFile}.hold' ]; do sleep 0.05; done`;
  const script = await writeScript(servicesDir, 'counted.sh', `printf '%s\\n' "$1" >> '${runsFile}'\n${wait}\nprintf '%s' "$1"`);
  await writeProperties(servicesDir, 'counted.properties', {
    service: 'counted',
    executable: script,
    argformat: 'positional',
    inputs: JSON.stringify({ echo: { type: 'string' }, pause: { type: 'number', default: 0 } }),
    outputs: JSON.stringify({ echo: { type: 'string', from: 'stdout', mediaType: 'text/plain' } }),
  });
}

/** Runs of `counted` do not end while the hold is in place; returns its release. */
export async function holdRuns(runsFile: string): Promise<() => Promise<void>> {
  await writeFile(`${runsFile}.hold`, '');
  return () => rm(`${runsFile}.hold`, { force: true });
}

/** How many times each input was run, as the runs file tells. */
export async function runsOf(runsFile: string): Promise<Map<string, number>> {
  const runs = new Map<string, number>();
  for (const line of (await readFile(runsFile, 'utf8').catch(() => '')).split('\n').filter(Boolean)) runs.set(line, (runs.get(line) ?? 0) + 1);
  return runs;
}

/** `POST /processes/counted/execution` with `Prefer: respond-async`; the new job's id. */
export async function submitCounted(api: typeof fetch, url: string, echo: string, pause: number): Promise<string> {
  const response = await api(`${url}/processes/counted/execution`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', prefer: 'respond-async' },
    body: JSON.stringify({ inputs: { echo, pause } }),
  });
  expect(response.status, await response.clone().text()).to.equal(201);
  return ((await response.json()) as { jobID: string }).jobID;
}

export interface FinalJob {
  status: string;
  /** The results of a successful job (one output: its raw value). */
  echo?: string;
}

/** Each job's final status as the API gives it, and the output of those that succeeded. */
export async function finalJobs(api: typeof fetch, url: string, ids: Iterable<string>): Promise<Map<string, FinalJob>> {
  const jobs = new Map<string, FinalJob>();
  await Promise.all([...ids].map(async (id) => {
    const { status } = (await (await api(`${url}/jobs/${id}`)).json()) as { status: string };
    jobs.set(id, status === 'successful' ? { status, echo: await (await api(`${url}/jobs/${id}/results`)).text() } : { status });
  }));
  return jobs;
}

/** Every job successful with the echo of its own input, and every input run exactly once on the agents. */
export async function expectEachEchoedOnce(jobs: Map<string, FinalJob>, inputs: Map<string, string>, runsFile: string): Promise<void> {
  const wrong = [...inputs].filter(([id, echo]) => jobs.get(id)?.status !== 'successful' || jobs.get(id)?.echo !== echo);
  expect(wrong.map(([id, echo]) => [echo, jobs.get(id)]), 'jobs not successful with their own echo').to.deep.equal([]);
  const runs = await runsOf(runsFile);
  expect([...runs].filter(([, count]) => count !== 1), 'inputs run more than once').to.deep.equal([]);
  expect([...runs.keys()].sort()).to.deep.equal([...inputs.values()].sort());
}
