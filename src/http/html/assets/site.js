'use strict';
// Shared by every page: the token box, and showing a page as the token's owner sees it. The token
// stays in this tab's sessionStorage and travels only in the Authorization header, never in a URL
// or a cookie (docs/decisions.md, HTTP).
(function () {
  const KEY = 'outpost-token';
  const token = () => sessionStorage.getItem(KEY);

  function authHeaders(headers) {
    const all = Object.assign({}, headers);
    const current = token();
    if (current) all.Authorization = 'Bearer ' + current;
    return all;
  }

  /** Fetches this page again with the token and shows it in place: links a browser follows carry no header. */
  async function reload() {
    const response = await fetch(location.href, { headers: authHeaders({ Accept: 'text/html' }) });
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    document.title = page.title;
    document.body.replaceWith(document.adoptNode(page.body));
    start();
  }

  function start() {
    const form = document.getElementById('token-form');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = document.getElementById('token-input').value.trim();
      if (value === '') return;
      sessionStorage.setItem(KEY, value);
      reload();
    });
    const forget = document.getElementById('token-forget');
    if (forget) {
      forget.addEventListener('click', () => {
        sessionStorage.removeItem(KEY);
        location.reload();
      });
    }
    document.dispatchEvent(new CustomEvent('outpost:page'));
  }

  window.outpost = { authHeaders, reload, token };
  document.addEventListener('DOMContentLoaded', () => {
    if (token() && !document.body.dataset.user) reload();
    else start();
  });
})();
