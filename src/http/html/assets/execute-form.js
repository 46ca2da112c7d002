'use strict';
// The process page's form: inputs typed as their schemas say, run in the background
// (OGC 18-062r2 §7.11, `Prefer: respond-async`), then on to the new job's page.
(function () {
  function value(field) {
    const raw = field.value.trim();
    if (raw === '') return undefined;
    switch (field.dataset.type) {
      case 'number':
      case 'integer':
        return Number(raw);
      case 'boolean':
        return raw === 'true';
      case 'json':
        // Text that is no JSON goes as it is, so the server's 400 says what the input must be.
        try {
          return JSON.parse(raw);
        } catch {
          return raw;
        }
      case 'file':
        return { href: raw };
      default:
        return field.value;
    }
  }

  async function run(form) {
    const message = document.getElementById('execute-message');
    message.textContent = '';
    const inputs = {};
    for (const field of form.querySelectorAll('[data-input]')) {
      const given = value(field);
      if (given !== undefined) inputs[field.dataset.input] = given;
    }
    const response = await fetch(form.dataset.execute, {
      method: 'POST',
      headers: window.outpost.authHeaders({ 'Content-Type': 'application/json', Accept: 'application/json', Prefer: 'respond-async' }),
      body: JSON.stringify({ inputs }),
    });
    const location = response.headers.get('Location');
    if (response.status === 201 && location) {
      window.outpost.visit(location);
      return;
    }
    const problem = await response.json().catch(() => ({}));
    message.textContent = problem.detail || 'the server answered ' + response.status;
    if (response.status === 401) document.getElementById('token-input')?.focus();
  }

  document.addEventListener('outpost:page', () => {
    const form = document.getElementById('execute-form');
    if (!form) return;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      run(form).catch((error) => {
        document.getElementById('execute-message').textContent = 'could not reach the server: ' + error.message;
      });
    });
  });
})();
