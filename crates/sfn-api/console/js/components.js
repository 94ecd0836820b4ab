/* zoomvault console: the pieces views share.
 *
 * Owns: the error box (with a hint for a refused signature), page heads,
 * breadcrumbs, status badges, cards, definition lists, tables and code
 * blocks.
 *
 * Must not: build from HTML strings. Everything is made with `el` from
 * dom.js, so the data passed in (names, causes, JSON) lands as text.
 */

import { ApiError, isClockSkew } from './api.js';
import { el } from './dom.js';
import { humanStatus } from './format.js';

export function errorBox(err) {
  const isApi = err instanceof ApiError;
  const head = (isApi ? err.type : 'Error') + (isApi && err.status ? ` (HTTP ${err.status})` : '');
  // A signature mismatch comes with the server's canonical request and
  // string to sign: worth having when debugging a signer, too long to
  // lead with.
  const message = err.message || String(err);
  const split = message.indexOf('\n\n');
  const lead = split < 0 ? message : message.slice(0, split);
  const rest = split < 0 ? '' : message.slice(split + 2).trim();
  return el('div', { class: 'error-box', role: 'alert' },
    el('strong', { class: 'error-type' }, head),
    el('span', { class: 'error-message' }, lead),
    isApi ? authHint(err) : null,
    rest ? el('details', { class: 'error-more' }, el('summary', null, 'What the server computed'), codeBlock(rest)) : null);
}

// What a refused signature most likely means, in the reader's terms.
function authHint(err) {
  let hint = null;
  if (err.type === 'UnrecognizedClientException') {
    hint = 'The server has no such access key ID.';
  } else if (err.type === 'InvalidSignatureException' && /^The request signature we calculated/.test(err.message)) {
    hint = 'The secret access key is not the one the server has for this access key ID.';
  } else if (isClockSkew(err)) {
    hint = "This computer's clock is more than five minutes off the server's.";
  }
  return hint ? el('span', { class: 'error-hint' }, hint) : null;
}

export function pageHead(title, ...extra) {
  return el('div', { class: 'page-head' }, el('h1', null, title), ...extra);
}

export function crumbs(...parts) {
  const items = [];
  parts.forEach((part, i) => {
    if (i > 0) items.push(el('span', { class: 'sep', 'aria-hidden': 'true' }, '/'));
    items.push(Array.isArray(part) ? el('a', { href: part[1] }, part[0]) : el('span', null, part));
  });
  return el('nav', { class: 'crumbs', 'aria-label': 'Breadcrumbs' }, items);
}

export function statusBadge(status) {
  return el('span', { class: 'status', dataset: { status: String(status || 'UNKNOWN') } }, humanStatus(status));
}

export function card(title, ...body) {
  const head = title ? el('div', { class: 'card-head' }, typeof title === 'string' ? el('h2', null, title) : title) : null;
  return el('section', { class: 'card' }, head, ...body);
}

export function metaList(rows) {
  return el('dl', { class: 'meta' }, rows.filter(Boolean).map(([label, value, cls]) => [
    el('dt', null, label),
    el('dd', { class: cls || null }, value),
  ]));
}

export function table(headers, tbody, cls) {
  return el('div', { class: 'table-wrap' },
    el('table', { class: 'grid' + (cls ? ' ' + cls : '') },
      el('thead', null, el('tr', null, headers.map((h) => el('th', { scope: 'col' }, h)))),
      tbody));
}

export function codeBlock(text, cls) {
  return el('pre', { class: 'code' + (cls ? ' ' + cls : '') }, text);
}
