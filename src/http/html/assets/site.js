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

  /** The scripts of a page shown in place that this document has not loaded yet, run before the page starts. */
  function loadScripts(page) {
    const loaded = new Set([...document.scripts].map((script) => script.src));
    const missing = [...page.querySelectorAll('script[src]')].filter((script) => !loaded.has(script.src));
    return Promise.all(
      missing.map(
        (script) =>
          new Promise((resolve, reject) => {
            const element = document.createElement('script');
            element.src = script.src;
            element.onload = resolve;
            element.onerror = () => reject(new Error('could not load ' + script.src));
            document.head.append(element);
          }),
      ),
    );
  }

  /** Shows the page at `href` fetched with the token, or navigates there when it is not one of these pages. */
  async function visit(href, push) {
    const response = await fetch(href, { headers: authHeaders({ Accept: 'text/html' }) });
    const isPage = (response.headers.get('Content-Type') || '').startsWith('text/html');
    const page = isPage && new DOMParser().parseFromString(await response.text(), 'text/html');
    if (!page || !page.getElementById('token-form')) {
      location.assign(href);
      return;
    }
    if (push) history.pushState(null, '', response.url);
    await loadScripts(page);
    document.title = page.title;
    document.body.replaceWith(document.adoptNode(page.body));
    start();
  }

  /** This page again, with the token: a browser's own requests (a reload, an address typed in) carry no header. */
  const reload = () => visit(location.href, false);

  /** With a token, links are followed with it rather than by a navigation that would be refused for want of one. */
  function followLink(event) {
    const link = event.target.closest('a[href]');
    if (!token() || !link || link.origin !== location.origin || link.target || link.hasAttribute('download')) return;
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    visit(link.href, true);
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

  window.outpost = { authHeaders, reload, token, visit: (href) => (token() ? visit(href, true) : location.assign(href)) };
  document.addEventListener('click', followLink);
  window.addEventListener('popstate', reload);
  document.addEventListener('DOMContentLoaded', () => {
    if (token() && !document.body.dataset.user) reload();
    else start();
  });
})();
