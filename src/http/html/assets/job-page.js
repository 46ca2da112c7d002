'use strict';
// The job page: status, progress and message from the job's event stream, read with fetch so that
// the token goes in the Authorization header (EventSource cannot send one); previews of outputs.
(function () {
  const PREVIEW_LIMIT = 200000;
  let following;
  let last;

  function show(status) {
    last = status;
    const set = (id, text) => {
      const element = document.getElementById(id);
      if (element) element.textContent = text ?? '';
    };
    const badge = document.getElementById('job-status');
    badge.className = 'status status-' + status.status;
    set('job-status', status.status);
    const bar = document.getElementById('job-progress');
    bar.value = status.progress;
    bar.textContent = status.progress + '%';
    set('job-percent', status.progress + '%');
    set('job-message', status.message);
    set('job-started', status.started);
    set('job-finished', status.finished);
    if (status.started && status.finished) set('job-duration', ((Date.parse(status.finished) - Date.parse(status.started)) / 1000).toFixed(1) + ' s');
  }

  /** Server-Sent Events: blocks end with a blank line; `data:` lines hold the statusInfo. */
  function dispatch(block) {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (event === 'status' && data) show(JSON.parse(data));
  }

  async function follow(url, signal) {
    const response = await fetch(url, { headers: window.outpost.authHeaders({ Accept: 'text/event-stream' }), signal });
    if (!response.ok || !response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
    // The stream ends with the job: the page shown again carries the results or the cause. A
    // dismissed job is removed, so its page stays as the stream left it.
    if (last && last.status === 'dismissed') document.getElementById('dismiss')?.remove();
    else await window.outpost.reload();
  }

  async function dismiss(section) {
    const response = await fetch(section.dataset.job, { method: 'DELETE', headers: window.outpost.authHeaders({ Accept: 'application/json' }) });
    if (response.ok) {
      show(await response.json());
      document.getElementById('dismiss')?.remove();
    } else {
      const problem = await response.json().catch(() => ({}));
      document.getElementById('dismiss-message').textContent = problem.detail || 'the server answered ' + response.status;
    }
  }

  async function fetchOutput(preview) {
    // The token goes only to this server, whatever an output's link says.
    if (new URL(preview.dataset.href, location.href).origin !== location.origin) throw new Error('it is not stored on this server');
    const response = await fetch(preview.dataset.href, { headers: window.outpost.authHeaders({}) });
    if (!response.ok) throw new Error('the server answered ' + response.status);
    return response.blob();
  }

  function download(preview, blob) {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = preview.dataset.name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  async function showPreview(preview) {
    const type = preview.dataset.type;
    const textual = /^text\/|[/+]json\b/.test(type);
    if (!type.startsWith('image/') && !textual) return;
    const blob = await fetchOutput(preview);
    if (type.startsWith('image/')) {
      const image = document.createElement('img');
      image.src = URL.createObjectURL(blob);
      image.alt = preview.dataset.name;
      preview.prepend(image);
    } else {
      const text = document.createElement('pre');
      text.textContent = (await blob.slice(0, PREVIEW_LIMIT).text()) + (blob.size > PREVIEW_LIMIT ? '\n…' : '');
      preview.prepend(text);
    }
  }

  function report(preview, error) {
    const note = document.createElement('p');
    note.className = 'problem';
    note.textContent = 'could not load this output: ' + error.message;
    preview.append(note);
  }

  document.addEventListener('outpost:page', () => {
    following?.abort();
    following = undefined;
    const section = document.getElementById('job');
    if (section && section.dataset.finished !== 'true') {
      following = new AbortController();
      follow(section.dataset.events, following.signal).catch((error) => {
        if (error.name !== 'AbortError') document.getElementById('job-message').textContent = 'live updates stopped: ' + error.message;
      });
      document.getElementById('dismiss').addEventListener('click', () => dismiss(section).catch(() => undefined));
    }
    for (const preview of document.querySelectorAll('.preview')) {
      showPreview(preview).catch((error) => report(preview, error));
      preview.querySelector('.download').addEventListener('click', () => {
        fetchOutput(preview).then((blob) => download(preview, blob), (error) => report(preview, error));
      });
    }
  });
})();
