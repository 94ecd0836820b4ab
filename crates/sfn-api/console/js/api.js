/* zoomvault console: the client of the same-origin Step Functions API
 * (AWS JSON 1.0 on `POST /`).
 *
 * Owns: sending one action, signed with the signed-in key when there is
 * one, and learning the server's clock when it refuses a signature as
 * stale; AWS's error shape as ApiError; paging through state machines
 * and, merged newest first, the executions of several; the polling pace
 * and a sleep that ends when the view is left.
 *
 * Must not: talk to any origin but this one, or touch the DOM. It knows
 * nothing of views: what a refusal means to the reader is decided by
 * console.js and components.js.
 */

import { credentialsStore } from './credentials.js';
import { toMillis } from './format.js';
import { JSON_CONTENT_TYPE, TARGET_PREFIX, amzDate, digests, signedJsonHeaders, utf8 } from './sigv4.js';

export const EXECUTIONS_PAGE = 100;
export const POLL_MS = 1500;

// How far the server's clock is ahead of this machine's, learnt from its
// Date header when it refuses a signature as too old or too new.
let clockOffsetMs = 0;

export class ApiError extends Error {
  constructor(type, message, status) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

// The errors with which the API refuses a request for its signature, or
// the lack of one; the console answers them with the sign-in form.
const AUTH_ERRORS = new Set([
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'InvalidSignatureException',
  'UnrecognizedClientException',
]);
export const isAuthError = (err) => err instanceof ApiError && AUTH_ERRORS.has(err.type);
export const isClockSkew = (err) => err instanceof ApiError && err.type === 'InvalidSignatureException'
  && /^Signature (expired|not yet current)/.test(err.message);

// One Step Functions action, signed with the key of this tab's sign-in if
// there is one.
export function call(action, request, signal) {
  return send(action, request, signal, credentialsStore.load());
}

// One Step Functions action, signed with `credentials` unless they are
// null. AWS errors (`{"__type", "message"}` with a 4xx or 5xx status)
// become ApiError with the bare error name.
export async function send(action, request, signal, credentials) {
  // Signed and sent as these very bytes, so the hash covers what the
  // server receives.
  const body = utf8(JSON.stringify(request));
  const target = TARGET_PREFIX + action;
  for (let attempt = 1; ; attempt++) {
    const headers = { 'X-Amz-Target': target, 'Content-Type': JSON_CONTENT_TYPE };
    if (credentials) {
      Object.assign(headers, await signedJsonHeaders(digests, credentials, {
        host: location.host,
        target,
        body,
        amzDate: amzDate(Date.now() + clockOffsetMs),
      }));
    }
    let response;
    try {
      response = await fetch('/', {
        method: 'POST',
        headers,
        body,
        signal,
        cache: 'no-store',
        credentials: 'same-origin',
      });
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new ApiError('NetworkError', action + ' got no answer from the server: ' + err.message, 0);
    }
    const text = await response.text();
    let answer = null;
    try {
      answer = text ? JSON.parse(text) : {};
    } catch (_) {
      answer = null;
    }
    if (response.ok) {
      if (answer === null) throw new ApiError('InvalidResponse', action + ' answered with something that is not JSON', response.status);
      return answer;
    }
    const rawType = (answer && typeof answer.__type === 'string' && answer.__type)
      || response.headers.get('x-amzn-errortype') || '';
    // AWS sends `com.amazonaws.states#ExecutionDoesNotExist` or the bare
    // name, sometimes with `:reason` after it.
    const type = rawType.replace(/^.*#/, '').replace(/:.*$/, '') || 'HTTP ' + response.status;
    const message = (answer && (answer.message || answer.Message)) || text.slice(0, 500) || response.statusText;
    const error = new ApiError(type, String(message), response.status);
    // This machine's clock is more than the allowed five minutes off the
    // server's: sign once more by the server's clock, as the AWS SDKs do.
    const serverNow = Date.parse(response.headers.get('date') || '');
    if (credentials && attempt === 1 && isClockSkew(error) && !Number.isNaN(serverNow)) {
      clockOffsetMs = serverNow - Date.now();
      continue;
    }
    throw error;
  }
}

export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new DOMException('navigated away', 'AbortError'));
    }, { once: true });
  });
}

export async function listStateMachines(signal) {
  const all = [];
  let nextToken = null;
  // A bounded loop: a server that kept answering with a token must not
  // hang the page.
  for (let page = 0; page < 100; page++) {
    const request = { maxResults: 1000 };
    if (nextToken) request.nextToken = nextToken;
    const answer = await call('ListStateMachines', request, signal);
    all.push(...(answer.stateMachines || []));
    nextToken = answer.nextToken;
    if (!nextToken) break;
  }
  all.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  return all;
}

// Pages through the executions of several state machines as one list,
// newest first. ListExecutions takes one state machine (as on AWS), so
// "all state machines" asks each. A row is shown only once no unfetched
// row can be newer: at or after the oldest row buffered from every
// machine that still has pages.
export function executionLister(stateMachineArns, statusFilter) {
  const cursors = stateMachineArns.map((arn) => ({ arn, started: false, nextToken: null, buffer: [] }));
  const open = (c) => !c.started || Boolean(c.nextToken);
  const startOf = (e) => toMillis(e.startDate) || 0;

  async function fill(cursor, signal) {
    const request = { stateMachineArn: cursor.arn, maxResults: EXECUTIONS_PAGE };
    if (statusFilter) request.statusFilter = statusFilter;
    if (cursor.nextToken) request.nextToken = cursor.nextToken;
    const answer = await call('ListExecutions', request, signal);
    cursor.started = true;
    cursor.nextToken = answer.nextToken || null;
    cursor.buffer.push(...(answer.executions || []));
  }

  async function next(signal) {
    for (;;) {
      const hungry = cursors.filter((c) => open(c) && c.buffer.length === 0);
      if (hungry.length) {
        await Promise.all(hungry.map((c) => fill(c, signal)));
        continue;
      }
      let threshold = -Infinity;
      for (const c of cursors) {
        if (open(c)) threshold = Math.max(threshold, Math.min(...c.buffer.map(startOf)));
      }
      const rows = [];
      for (const c of cursors) {
        const keep = [];
        for (const e of c.buffer) (startOf(e) >= threshold ? rows : keep).push(e);
        c.buffer = keep;
      }
      rows.sort((a, b) => startOf(b) - startOf(a));
      const more = cursors.some((c) => open(c) || c.buffer.length > 0);
      if (rows.length || !more) return { rows, more };
    }
  }

  return { next };
}
