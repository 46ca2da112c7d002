// The admin page: agents, processes, failures and users polled from the admin API with the token
// typed in; live jobs followed as events (live-jobs.js). Every value becomes a text node.

import { api, badge, byId, code, el, list, time, token, TOKEN_KEY } from './dom.js';
import { clearLiveJobs, followLiveJobs } from './live-jobs.js';
import { loadSparkline } from './sparkline.js';

const POLL_MS = 3000;
const FAILURES_SHOWN = 10;

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

const POLLED = ['agents', 'processes', 'failures', 'users'];

function clearTables() {
  shown.clear();
  for (const id of POLLED) byId(id).replaceChildren();
  for (const id of POLLED) byId(`${id}-count`).textContent = '';
  clearLiveJobs();
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

function state(agent) {
  if (agent.offline) return badge('offline');
  if (agent.drained) return badge('drained', 'draining (admin)');
  if (agent.load.draining) return badge('drained', 'draining (agent)');
  return badge('online');
}

function agentRow(agent) {
  if (agent.offline) {
    return el('tr', { class: 'offline' }, el('td', {}, code(agent.jid)), el('td', {}, state(agent)), el('td', { colspan: 4, class: 'minor' }, agent.why));
  }
  const { load } = agent;
  return el(
    'tr',
    {},
    el('td', {}, code(agent.jid)),
    el('td', {}, state(agent), el('div', { class: 'minor' }, 'since ', time(agent.connectedSince))),
    el(
      'td',
      { class: 'load' },
      el('div', {}, `${agent.assigned} / ${load.slots} slots`),
      loadSparkline(agent.loadHistory, load.cores),
      el('div', { class: 'minor' }, `load ${load.load1.toFixed(2)} on ${load.cores} cores`),
    ),
    el('td', {}, list(agent.processes.map((p) => [code(p.id), ` ${p.version}`]))),
    el('td', {}, list(agent.invalid.map((f) => [code(f.file), el('div', { class: 'reason' }, f.reason)]))),
    el('td', {}, drainButton(agent)),
  );
}

/** Full JIDs this page has seen online: shown offline when they are gone. */
const seen = new Set();
const bare = (jid) => jid.split('/')[0];

/** Online agents, then accounts provisioned or agents seen before that have no connection now. */
function withOffline(online, accounts) {
  for (const agent of online) seen.add(agent.jid);
  const onlineJids = new Set(online.map((a) => a.jid));
  const onlineAccounts = new Set(online.map((a) => bare(a.jid)));
  const offline = [...seen].filter((jid) => !onlineJids.has(jid)).map((jid) => ({ jid, offline: true, why: 'seen online earlier on this page' }));
  for (const account of accounts) {
    if (account.revoked || onlineAccounts.has(account.jid) || offline.some((a) => bare(a.jid) === account.jid)) continue;
    offline.push({ jid: account.jid, offline: true, why: `provisioned in pool ${account.pool}; not connected` });
  }
  return [...online, ...offline.sort((a, b) => a.jid.localeCompare(b.jid))];
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

function failureRow(job) {
  const stderr = job.error?.stderr;
  return el(
    'tr',
    {},
    el('td', {}, code(job.jobID)),
    el('td', {}, code(job.processID)),
    el('td', {}, job.owner),
    el('td', {}, job.agent ? code(job.agent) : ''),
    el('td', {}, time(job.finished)),
    el('td', { class: 'message' }, job.error?.message ?? job.message ?? ''),
    el('td', { class: 'stderr' }, stderr ? el('pre', {}, stderr) : el('span', { class: 'minor' }, 'nothing on stderr')),
  );
}

const limit = (value) => (value === null || value === undefined ? el('span', { class: 'minor' }, 'default') : value);

function userRow(user) {
  return el(
    'tr',
    {},
    el('td', {}, user.name),
    el('td', {}, user.role),
    el('td', {}, time(user.created)),
    el('td', {}, limit(user.limits?.maxRunning)),
    el('td', {}, limit(user.limits?.maxWaiting)),
  );
}

/** Failed jobs do not change, so each one's record (with stderr) is fetched once. */
const failureDetails = new Map();
async function failures() {
  const { jobs } = await api(`jobs?status=failed&limit=${FAILURES_SHOWN}`);
  return Promise.all(
    jobs.map(async (job) => {
      if (!failureDetails.has(job.jobID)) failureDetails.set(job.jobID, await api(`jobs/${encodeURIComponent(job.jobID)}`));
      return failureDetails.get(job.jobID);
    }),
  );
}

let polling;
let generation = 0;

/** Loads everything but the live jobs once and schedules the next poll; a newer refresh supersedes an older one. */
async function refresh() {
  clearTimeout(polling);
  const run = ++generation;
  if (!token()) return;
  try {
    const [agents, accounts, processes, failed, users] = await Promise.all([
      api('agents'),
      api('agent-accounts'),
      api('processes'),
      failures(),
      api('users'),
    ]);
    if (run !== generation) return;
    const allAgents = withOffline(agents.agents, accounts.accounts);
    fill('agents', allAgents, agentRow);
    fill('processes', processes.processes, processRow);
    fill('failures', failed, failureRow);
    fill('users', users.users, userRow);
    byId('agents-count').textContent = `(${agents.agents.length} online of ${allAgents.length})`;
    byId('processes-count').textContent = `(${processes.processes.length})`;
    byId('failures-count').textContent = `(last ${failed.length})`;
    byId('users-count').textContent = `(${users.users.length})`;
    if (Date.now() > noticeUntil) setStatus(`Up to date at ${new Date().toLocaleTimeString()}; jobs live, the rest every ${POLL_MS / 1000} s.`, 'info');
  } catch (err) {
    if (run !== generation) return;
    showError(err);
    // A refused token stays refused; polling resumes once another one is typed in.
    if (err.status === 401 || err.status === 403) return clearTables();
  }
  polling = setTimeout(refresh, POLL_MS);
}

let following;

/** Starts over with the token now in the session: the live stream and the polled tables. */
function start() {
  following?.abort();
  clearTimeout(polling);
  clearTables();
  if (!token()) {
    setStatus('Type an admin token above. npm start prints one; outpost token create --user NAME --admin makes one.', 'info');
    return;
  }
  following = new AbortController();
  followLiveJobs({
    signal: following.signal,
    killButton,
    onFinished: (job) => job.status === 'failed' && refresh(),
    onError: (err) => {
      showError(err);
      if (err.status === 401 || err.status === 403) {
        clearTimeout(polling);
        clearTables();
      }
    },
  });
  refresh();
}

byId('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = byId('token').value.trim();
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
  start();
});

byId('forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  byId('token').value = '';
  start();
});

byId('token').value = token() ?? '';
start();
