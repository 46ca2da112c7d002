// Live jobs: listed once, then kept up to date from `GET /admin/events` (Server-Sent Events) read
// with fetch, which sends the bearer header (a browser's own event source cannot). No polling.

import { api, ApiError, authorization, badge, byId, code, el, problem, time, API } from './dom.js';

const LIVE = 'accepted,running';
const RETRY_MS = 3000;

/** Rows by job id; updated in place, so that a kill button is not replaced under the pointer. */
const rows = new Map();

function cells(job) {
  const progress = el('progress', { max: 100, value: job.progress });
  const percent = el('span', {}, ` ${job.progress} %`);
  const status = el('td', {}, badge(job.status));
  const agent = el('td', {});
  const message = el('td', { class: 'message' }, job.message ?? '');
  return { progress, percent, status, agent, message };
}

function showAgent(cell, job) {
  cell.replaceChildren(job.agent ? code(job.agent) : el('span', { class: 'minor' }, 'queued'));
}

function newRow(job, killButton) {
  const parts = cells(job);
  showAgent(parts.agent, job);
  const row = el(
    'tr',
    { 'data-job': job.jobID },
    el('td', {}, code(job.jobID)),
    el('td', {}, code(job.processID)),
    el('td', {}, job.owner),
    parts.agent,
    parts.status,
    el('td', { class: 'progress' }, parts.progress, parts.percent),
    parts.message,
    el('td', {}, time(job.created)),
    el('td', {}, killButton(job)),
  );
  return { row, created: job.created, ...parts };
}

function update(entry, job) {
  entry.progress.value = job.progress;
  entry.percent.textContent = ` ${job.progress} %`;
  entry.status.replaceChildren(badge(job.status));
  showAgent(entry.agent, job);
  entry.message.textContent = job.message ?? '';
}

function render() {
  const tbody = byId('live');
  const entries = [...rows.values()].sort((a, b) => b.created.localeCompare(a.created));
  if (entries.length === 0) tbody.replaceChildren(el('tr', {}, el('td', { colspan: tbody.dataset.columns, class: 'empty' }, tbody.dataset.empty)));
  else tbody.replaceChildren(...entries.map((entry) => entry.row));
  byId('live-count').textContent = `(${entries.length})`;
}

function apply(job, killButton) {
  const entry = rows.get(job.jobID);
  const live = job.status === 'accepted' || job.status === 'running';
  if (!live) {
    if (rows.delete(job.jobID)) render();
    return;
  }
  if (entry) return update(entry, job);
  rows.set(job.jobID, newRow(job, killButton));
  render();
}

/** Server-Sent Event blocks end with a blank line (WHATWG HTML §9.2.6); comments start with a colon. */
function* events(text) {
  for (const block of text.split('\n\n')) {
    let name = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) yield { name, data: JSON.parse(data.join('\n')) };
  }
}

/**
 * Follows every job's changes until `signal` aborts. `onFinished(job)` hears each job that
 * finished; `onError(err)` each failure, after which it reconnects unless the token was refused.
 */
export function followLiveJobs({ signal, killButton, onFinished, onError }) {
  const handle = (event) => {
    if (event.name === 'removed') {
      if (rows.delete(event.data.jobID)) render();
    } else if (event.name === 'job') {
      apply(event.data.job, killButton);
      if (!['accepted', 'running'].includes(event.data.job.status)) onFinished(event.data.job);
    } else if (event.name === 'revoked') {
      throw new ApiError(401, event.data.detail);
    }
  };

  const connect = async () => {
    const response = await fetch(new URL('events', API), { headers: { Accept: 'text/event-stream', ...authorization() }, cache: 'no-store', signal });
    if (!response.ok) throw await problem(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      // Listed only once the stream is open, so that no change falls between the list and the stream.
      const { jobs } = await api(`jobs?status=${LIVE}&limit=1000`);
      rows.clear();
      for (const job of jobs) rows.set(job.jobID, newRow(job, killButton));
      render();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new ApiError(0, 'the event stream ended');
        buffer += value;
        const end = buffer.lastIndexOf('\n\n');
        if (end < 0) continue;
        for (const event of events(buffer.slice(0, end))) handle(event);
        buffer = buffer.slice(end + 2);
      }
    } finally {
      reader.cancel().catch(() => undefined);
    }
  };

  (async () => {
    while (!signal.aborted) {
      try {
        await connect();
      } catch (err) {
        if (signal.aborted) return;
        onError(err instanceof ApiError ? err : new ApiError(0, `the event stream broke (${err.message})`));
        if (err.status === 401 || err.status === 403) return;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  })();
}

/** Without a valid token nothing is known, which is not the same as nothing there. */
export function clearLiveJobs() {
  rows.clear();
  byId('live').replaceChildren();
  byId('live-count').textContent = '';
}
