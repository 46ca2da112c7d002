// What every part of the admin page shares: the admin API with the typed-in token, and elements
// built from data. Agents and users supply much of the text shown, so every value becomes a text
// node or a numeric attribute; markup is never built from data.

export const TOKEN_KEY = 'outpost.adminToken';

/** The admin API, relative to this page (`/admin/ui/`), so that a path prefix of a proxy is kept. */
export const API = new URL('../', document.baseURI);

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export const byId = (id) => document.getElementById(id);
export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const authorization = () => ({ Authorization: `Bearer ${token()}` });

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function withAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  return element;
}

/** An element with attributes and children; strings become text nodes. */
export function el(tag, attributes = {}, ...children) {
  return append(withAttributes(document.createElement(tag), attributes), children);
}

/** An SVG element, likewise. */
export function svg(tag, attributes = {}, ...children) {
  return append(withAttributes(document.createElementNS('http://www.w3.org/2000/svg', tag), attributes), children);
}

/** The problem's detail, or the status text, of a refused request. */
export async function problem(response) {
  const body = await response.json().catch(() => null);
  return new ApiError(response.status, body?.detail ?? response.statusText);
}

export async function api(path, init = {}) {
  const headers = { Accept: 'application/json', ...authorization() };
  let response;
  try {
    response = await fetch(new URL(path, API), { ...init, headers, cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, `the server cannot be reached (${err.message})`);
  }
  if (!response.ok) throw await problem(response);
  return response.json();
}

export function time(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return el('time', { datetime: iso, title: iso }, sameDay ? date.toLocaleTimeString() : date.toLocaleString());
}

export const list = (items) => (items.length ? el('ul', {}, items.map((item) => el('li', {}, item))) : '—');
export const code = (text) => el('code', {}, text);
export const badge = (status, text = status) => el('span', { class: `badge ${status}` }, text);
