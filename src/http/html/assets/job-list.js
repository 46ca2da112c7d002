'use strict';
// The job list's filter: empty fields are left out, since the job-list parameters refuse empty values.
(function () {
  document.addEventListener('outpost:page', () => {
    const form = document.getElementById('job-filter');
    if (!form) return;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const query = new URLSearchParams();
      for (const [name, value] of new FormData(form)) {
        if (String(value).trim() !== '') query.append(name, String(value).trim());
      }
      const search = query.toString();
      window.outpost.visit(form.action + (search ? '?' + search : ''));
    });
  });
})();
