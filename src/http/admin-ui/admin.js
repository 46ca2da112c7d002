// The admin page: polls the admin API with the token typed in and renders what it gets.
// Agents and users supply much of the text shown here, so every value becomes a text node;
// markup is never built from data.

const TOKEN_KEY = 'outpost.adminToken';
const POLL_MS = 2000;
const FINISHED_SHOWN = 20;
const LIVE = 'accepted,running';
const FINISHED = 'successful,failed,dismissed';

/** The admin API, relative to this page (`/admin/ui/`), so that a path prefix of a proxy is kept. */
const API = new URL('../', document.baseURI);

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

const byId = (id) => document.getElementById(id);
const token = () => sessionStorage.getItem(TOKEN_KEY);

/** An element with attributes and children; strings become text nodes. */
function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

async function api(path, init = {}) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${token()}` };
  let response;
  try {
    response = await fetch(new URL(path, API), { ...init, headers, cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, `the server cannot be reached (${err.message})`);
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body?.detail ?? response.statusText);
  return body;
}

/** Until when the outcome of an admin's action stays shown rather than the poll's routine line. */
let noticeUntil = 0;

/** `hold`: the outcome of an action, which the next poll must not replace at once. */
function setStatus(text, kind, hold = false) {
  const status = byId('status');
  status.textContent = text;
  status.className = kind;
  noticeUntil = hold ? Date.now() + 2 * POLL_MS : 0;
}

function showError(err, hold = false) {
  if (err.status === 401) setStatus(`The token was refused: ${err.message}. Type a valid admin token above.`, 'error', hold);
  else if (err.status === 403) setStatus(`This token is not an admin's: ${err.message}. Type an admin token above.`, 'error', hold);
  else if (err.status) setStatus(`The request failed (HTTP ${err.status}): ${err.message}`, 'error', hold);
  else setStatus(`No answer: ${err.message}. Retrying…`, 'error', hold);
}

function time(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return el('time', { datetime: iso, title: iso }, sameDay ? date.toLocaleTimeString() : date.toLocaleString());
}

function duration(fromIso, toIso) {
  if (!fromIso || !toIso) return '';
  const seconds = (Date.parse(toIso) - Date.parse(fromIso)) / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const list = (items) => (items.length ? el('ul', {}, items.map((item) => el('li', {}, item))) : '—');
const code = (text) => el('code', {}, text);
const badge = (status) => el('span', { class: `badge ${status}` }, status);

/** Rebuilds a table body only when its data changed, so that a button is not replaced under the pointer. */
const shown = new Map();
function fill(tbodyId, items, row) {
  const tbody = byId(tbodyId);
  const key = JSON.stringify(items);
  if (shown.get(tbodyId) === key) return;
  shown.set(tbodyId, key);
  const rows = items.map(row);
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: tbody.dataset.columns, class: 'empty' }, tbody.dataset.empty)));
  tbody.replaceChildren(...rows);
}

/** Without a valid token nothing is known, which is not the same as nothing there. */
function clearTables() {
  shown.clear();
  for (const id of ['agents', 'processes', 'live', 'finished']) byId(id).replaceChildren();
  for (const id of ['agents-count', 'processes-count', 'live-count']) byId(id).textContent = '';
}

function action(label, title, run) {
  const button = el('button', { type: 'button', title }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await run();
    } catch (err) {
      showError(err, true);
    } finally {
      button.disabled = false;
    }
    refresh();
  });
  return button;
}

function drainButton(agent) {
  const verb = agent.drained ? 'undrain' : 'drain';
  const title = agent.drained ? 'Give this agent new jobs again' : 'Give this agent no new jobs; its running jobs finish';
  return action(agent.drained ? 'Undrain' : 'Drain', title, async () => {
    await api(`agents/${encodeURIComponent(agent.jid)}/${verb}`, { method: 'POST' });
    setStatus(`Agent ${agent.jid} ${agent.drained ? 'takes new jobs again' : 'is drained: it gets no new jobs'}.`, 'ok', true);
  });
}

function killButton(job) {
  return action('Kill', 'Stop this job; it is kept as dismissed', async () => {
    if (!window.confirm(`Kill job ${job.jobID} (${job.processID} of ${job.owner})?`)) return;
    await api(`jobs/${encodeURIComponent(job.jobID)}/kill`, { method: 'POST' });
    setStatus(`Job ${job.jobID} was killed.`, 'ok', true);
  });
}

function draining(agent) {
  if (agent.drained) return el('span', { class: 'badge drained' }, 'drained by admin');
  if (agent.load.draining) return el('span', { class: 'badge drained' }, 'draining (agent)');
  return 'no';
}

function agentRow(agent) {
  const { load } = agent;
  return el(
    'tr',
    {},
    el('td', {}, code(agent.jid)),
    el('td', {}, time(agent.connectedSince)),
    el('td', {}, el('div', {}, `${agent.assigned} / ${load.slots} slots`), el('div', { class: 'minor' }, `load ${load.load1.toFixed(2)} on ${load.cores} cores`)),
    el('td', {}, draining(agent)),
    el('td', {}, list(agent.processes.map((p) => [code(p.id), ` ${p.version}`]))),
    el('td', {}, list(agent.invalid.map((f) => [code(f.file), el('div', { class: 'reason' }, f.reason)]))),
    el('td', {}, drainButton(agent)),
  );
}

function processRow(process) {
  const conflicts = process.conflicts.map((c) => [code(c.jid), ` offers version ${c.version}`]);
  return el(
    'tr',
    { class: conflicts.length ? 'conflict' : undefined },
    el('td', {}, code(process.id)),
    el('td', {}, process.title ?? ''),
    el('td', {}, process.version),
    el('td', {}, list(process.agents.map(code))),
    el('td', {}, list(conflicts)),
  );
}

/** `noAgent`: what a job handed to no agent is, i.e. queued while live, never run once finished. */
function jobCells(job, noAgent) {
  return [
    el('td', {}, code(job.jobID)),
    el('td', {}, code(job.processID)),
    el('td', {}, job.owner),
    el('td', {}, job.agent ? code(job.agent) : el('span', { class: 'minor' }, noAgent)),
    el('td', {}, badge(job.status)),
  ];
}

function liveRow(job) {
  return el(
    'tr',
    {},
    jobCells(job, 'queued'),
    el('td', { class: 'progress' }, el('progress', { max: 100, value: job.progress }), ` ${job.progress} %`),
    el('td', { class: 'message' }, job.message ?? ''),
    el('td', {}, time(job.created)),
    el('td', {}, killButton(job)),
  );
}

function finishedRow(job) {
  return el(
    'tr',
    {},
    jobCells(job, 'never ran'),
    el('td', { class: 'message' }, job.message ?? ''),
    el('td', {}, time(job.finished)),
    el('td', {}, duration(job.started, job.finished)),
  );
}

let polling;
let generation = 0;

/** Loads everything once and schedules the next poll; a newer refresh supersedes an older one. */
async function refresh() {
  clearTimeout(polling);
  const run = ++generation;
  if (!token()) {
    clearTables();
    setStatus('Type an admin token above. npm start prints one; outpost token create --user NAME --admin makes one.', 'info');
    return;
  }
  try {
    const [agents, processes, live, finished] = await Promise.all([
      api('agents'),
      api('processes'),
      api(`jobs?status=${LIVE}&limit=1000`),
      api(`jobs?status=${FINISHED}&limit=${FINISHED_SHOWN}`),
    ]);
    if (run !== generation) return;
    fill('agents', agents.agents, agentRow);
    fill('processes', processes.processes, processRow);
    fill('live', live.jobs, liveRow);
    fill('finished', finished.jobs, finishedRow);
    byId('agents-count').textContent = `(${agents.agents.length})`;
    byId('processes-count').textContent = `(${processes.processes.length})`;
    const more = live.links.some((link) => link.rel === 'next') ? '+' : '';
    byId('live-count').textContent = `(${live.jobs.length}${more})`;
    if (Date.now() > noticeUntil) {
      setStatus(`Up to date at ${new Date().toLocaleTimeString()}; refreshed every ${POLL_MS / 1000} s.`, 'info');
    }
  } catch (err) {
    if (run !== generation) return;
    showError(err);
    // A refused token stays refused; polling resumes once another one is typed in.
    if (err.status === 401 || err.status === 403) return clearTables();
  }
  polling = setTimeout(refresh, POLL_MS);
}

byId('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = byId('token').value.trim();
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
  refresh();
});

byId('forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  byId('token').value = '';
  refresh();
});

byId('token').value = token() ?? '';
refresh();
