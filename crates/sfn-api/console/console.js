/* zoomvault console: the page's behaviour, hand-written, served as is.
 *
 * Owns: calls to the same-origin Step Functions API (AWS JSON 1.0 on
 * `POST /`), SigV4-signed with a key the reader signs in with when the
 * server demands it, hash routing, the views (state machines, one state
 * machine, executions, one execution, sign-in, the signing self-test), the
 * state graph (ASL parsing, a layered layout, SVG drawing) and reading a
 * history into an outcome per state.
 *
 * Must not: keep the key anywhere but this tab's sessionStorage, put it in
 * an address, or log it. Must not put API data into the page as markup:
 * every name, input, output and error cause reaches the DOM as a text node
 * or as an attribute set through the DOM; no HTML string is ever parsed.
 * The server's Content-Security-Policy (no inline script) is the second
 * line of defence. No dependencies and no build step, so the binary can
 * embed this file and the console works offline.
 */
(() => {
  'use strict';

  // AWS's largest page for GetExecutionHistory: a 10,000-event history is
  // ten requests.
  const HISTORY_PAGE = 1000;
  const EXECUTIONS_PAGE = 100;
  const POLL_MS = 1500;
  // Event rows are rendered this many at a time so a long history keeps the
  // DOM, and every later update, small.
  const TABLE_CHUNK = 1000;
  const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];
  // A state's outcome in one execution: [data-status value, label, glyph].
  // The glyph repeats the colour's meaning for readers who cannot tell the
  // colours apart.
  const OUTCOMES = [
    ['succeeded', 'Succeeded', '\u2713'],
    ['failed', 'Failed', '\u2715'],
    ['caught', 'Caught or retried', '!'],
    ['running', 'In progress', '\u25CF'],
    ['aborted', 'Aborted', '\u2298'],
    ['not-reached', 'Not reached', '\u25CB'],
  ];
  const OUTCOME_LABEL = new Map(OUTCOMES.map(([k, label]) => [k, label]));
  const OUTCOME_GLYPH = new Map(OUTCOMES.map(([k, , glyph]) => [k, glyph]));
  // When several runs of one state disagree (Map iterations, loops), the
  // state shows the most pressing: something still running, then any
  // failure, then any recovered failure.
  const OUTCOME_RANK = { running: 6, failed: 5, caught: 4, aborted: 3, succeeded: 2, 'not-reached': 1 };
  // History events that mean the state they occur in failed (and may be
  // retried or caught).
  const FAILURE_EVENTS = new Set([
    'TaskFailed', 'TaskTimedOut', 'TaskStartFailed', 'TaskSubmitFailed',
    'LambdaFunctionFailed', 'LambdaFunctionTimedOut', 'LambdaFunctionStartFailed', 'LambdaFunctionScheduleFailed',
    'ActivityFailed', 'ActivityTimedOut', 'ActivityScheduleFailed',
    'ParallelStateFailed', 'MapStateFailed', 'MapIterationFailed', 'MapRunFailed', 'EvaluationFailed',
  ]);
  // Events after which a Parallel's or Map's child runs are over.
  const CHILDREN_CLOSED_EVENTS = new Set([
    'ParallelStateSucceeded', 'ParallelStateFailed', 'ParallelStateAborted',
    'MapStateSucceeded', 'MapStateFailed', 'MapStateAborted',
  ]);

  // ---------------------------------------------------------------- DOM

  const SVG_NS = 'http://www.w3.org/2000/svg';

  // Builds an element. Attribute values are set with setAttribute and
  // children become text nodes, so data can never turn into markup.
  function el(tag, attrs, ...children) {
    return build(document.createElement(tag), attrs, children);
  }

  function svg(tag, attrs, ...children) {
    return build(document.createElementNS(SVG_NS, tag), attrs, children);
  }

  function build(node, attrs, children) {
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === 'dataset') Object.assign(node.dataset, value);
        else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? '' : String(value));
      }
    }
    appendAll(node, children);
    return node;
  }

  function appendAll(node, children) {
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      if (Array.isArray(child)) appendAll(node, child);
      else if (child instanceof Node) node.appendChild(child);
      else node.appendChild(document.createTextNode(String(child)));
    }
  }

  // ---------------------------------------------------------------- signing
  //
  // A server that listens beyond loopback accepts only requests signed with
  // its API key (AWS Signature Version 4), so the console signs each call
  // exactly as the AWS SDKs sign a JSON 1.0 call. WebCrypto exists only in
  // secure contexts (https, localhost), and a console reached over plain
  // http at a LAN address is the very case that needs signing, so SHA-256
  // and HMAC-SHA256 are also written out here. #/selftest checks both
  // against published vectors.

  const utf8 = (text) => new TextEncoder().encode(text);
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

  // FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of
  // the cube roots of the first 64 primes.
  const SHA256_K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  // Section 5.3.3: the first 32 bits of the fractional parts of the square
  // roots of the first 8 primes.
  const SHA256_H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

  const rotr = (x, n) => (x >>> n) | (x << (32 - n));

  // SHA-256 of a Uint8Array (FIPS 180-4 section 6.2). Sums are kept to 32
  // bits with `| 0` and by storing into Uint32Arrays.
  function sha256(bytes) {
    const h = new Uint32Array(SHA256_H0);
    // The message, a 1 bit, zeros, and its length in bits as 64 bits, to
    // a multiple of the 64-byte block.
    const padded = new Uint8Array(Math.ceil((bytes.length + 9) / 64) * 64);
    padded.set(bytes);
    padded[bytes.length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(bytes.length / 0x20000000));
    view.setUint32(padded.length - 4, (bytes.length * 8) >>> 0);
    const w = new Uint32Array(64);
    for (let block = 0; block < padded.length; block += 64) {
      for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
      for (let t = 16; t < 64; t++) {
        const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
        const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
      }
      let [a, b, c, d, e, f, g, k] = h;
      for (let t = 0; t < 64; t++) {
        const t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA256_K[t] + w[t]) | 0;
        const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g;
        g = f;
        f = e;
        e = (d + t1) | 0;
        d = c;
        c = b;
        b = a;
        a = (t1 + t2) | 0;
      }
      h[0] += a;
      h[1] += b;
      h[2] += c;
      h[3] += d;
      h[4] += e;
      h[5] += f;
      h[6] += g;
      h[7] += k;
    }
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    h.forEach((word, i) => outView.setUint32(i * 4, word));
    return out;
  }

  // HMAC-SHA256 (RFC 2104): a key longer than the 64-byte block is hashed
  // first, a shorter one padded with zeros.
  function hmacSha256(key, message) {
    const block = new Uint8Array(64);
    block.set(key.length > 64 ? sha256(key) : key);
    const inner = new Uint8Array(64 + message.length);
    const outer = new Uint8Array(64 + 32);
    for (let i = 0; i < 64; i++) {
      inner[i] = block[i] ^ 0x36;
      outer[i] = block[i] ^ 0x5c;
    }
    inner.set(message, 64);
    outer.set(sha256(inner), 64);
    return sha256(outer);
  }

  // The two implementations behind one asynchronous interface.
  const scriptDigests = {
    name: 'javascript',
    sha256: async (bytes) => sha256(bytes),
    hmac: async (key, message) => hmacSha256(key, message),
  };

  function webCryptoDigests(subtle) {
    return {
      name: 'webcrypto',
      sha256: async (bytes) => new Uint8Array(await subtle.digest('SHA-256', bytes)),
      hmac: async (key, message) => {
        const hmacKey = await subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
        return new Uint8Array(await subtle.sign('HMAC', hmacKey, message));
      },
    };
  }

  // `crypto.subtle` is undefined outside a secure context.
  const digests = window.crypto && window.crypto.subtle ? webCryptoDigests(window.crypto.subtle) : scriptDigests;

  const SIGNING_ALGORITHM = 'AWS4-HMAC-SHA256';
  // zoomvault's verifier takes any scope; these are what an AWS SDK
  // configured for Step Functions in us-east-1 signs for.
  const SIGNING_REGION = 'us-east-1';
  const SIGNING_SERVICE = 'states';
  const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
  const TARGET_PREFIX = 'AWSStepFunctions.';

  // kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
  async function signingKey(d, secretAccessKey, date, region, service) {
    let key = await d.hmac(utf8('AWS4' + secretAccessKey), utf8(date));
    for (const part of [region, service, 'aws4_request']) key = await d.hmac(key, utf8(part));
    return key;
  }

  // The SigV4 Authorization header for a request with every one of
  // `headers` ([name, value] pairs) signed. `path` must already be in
  // canonical form, and there is no query string: the console only ever
  // sends `POST /`.
  async function sigv4Authorization(d, credentials, { method, path, headers, body, amzDate, region, service }) {
    const date = amzDate.slice(0, 8);
    const scope = `${date}/${region}/${service}/aws4_request`;
    const canonicalHeaders = headers
      .map(([name, value]) => [name.toLowerCase(), String(value).trim().replace(/ +/g, ' ')])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const signedHeaders = canonicalHeaders.map(([name]) => name).join(';');
    const canonicalRequest = [
      method,
      path,
      '',
      ...canonicalHeaders.map(([name, value]) => `${name}:${value}`),
      '',
      signedHeaders,
      hex(await d.sha256(body)),
    ].join('\n');
    const stringToSign = [SIGNING_ALGORITHM, amzDate, scope, hex(await d.sha256(utf8(canonicalRequest)))].join('\n');
    const key = await signingKey(d, credentials.secretAccessKey, date, region, service);
    const signature = hex(await d.hmac(key, utf8(stringToSign)));
    return `${SIGNING_ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  }

  // The headers a signed JSON 1.0 call adds. Every header sent that the
  // server could check is signed: it refuses an unsigned x-amz-* header,
  // and Host must be signed. The browser sends `location.host` as Host and
  // lets no script set it, so that is the value signed. The payload hash is
  // not sent as X-Amz-Content-Sha256: it is optional for this service, and
  // would be one more header to sign.
  async function signedJsonHeaders(d, credentials, { host, target, body, amzDate }) {
    const authorization = await sigv4Authorization(d, credentials, {
      method: 'POST',
      path: '/',
      headers: [['Content-Type', JSON_CONTENT_TYPE], ['Host', host], ['X-Amz-Date', amzDate], ['X-Amz-Target', target]],
      body,
      amzDate,
      region: SIGNING_REGION,
      service: SIGNING_SERVICE,
    });
    return { 'X-Amz-Date': amzDate, Authorization: authorization };
  }

  // ISO 8601 basic format, as X-Amz-Date wants it: 20150830T123600Z.
  const amzDate = (ms) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');

  // How far the server's clock is ahead of this machine's, learnt from its
  // Date header when it refuses a signature as too old or too new.
  let clockOffsetMs = 0;

  // The API key, in this tab's sessionStorage: it survives reloads and
  // moving between views, is gone when the tab closes or on sign-out, and
  // is never put in the address, a cookie or a log.
  const credentialsStore = {
    item: 'zoomvault-console-credentials',
    load() {
      try {
        const stored = JSON.parse(sessionStorage.getItem(this.item) || 'null');
        return stored && typeof stored.accessKeyId === 'string' && typeof stored.secretAccessKey === 'string'
          ? { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey }
          : null;
      } catch (_) {
        return null;
      }
    },
    // False when the browser keeps no session storage for this page.
    save(credentials) {
      try {
        sessionStorage.setItem(this.item, JSON.stringify(credentials));
        return true;
      } catch (_) {
        return false;
      }
    },
    clear() {
      try {
        sessionStorage.removeItem(this.item);
      } catch (_) {
        // Nothing was kept.
      }
    },
  };

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
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
  const isAuthError = (err) => err instanceof ApiError && AUTH_ERRORS.has(err.type);
  const isClockSkew = (err) => err instanceof ApiError && err.type === 'InvalidSignatureException'
    && /^Signature (expired|not yet current)/.test(err.message);

  // One Step Functions action, signed with the key of this tab's sign-in if
  // there is one.
  function call(action, request, signal) {
    return send(action, request, signal, credentialsStore.load());
  }

  // One Step Functions action, signed with `credentials` unless they are
  // null. AWS errors (`{"__type", "message"}` with a 4xx or 5xx status)
  // become ApiError with the bare error name.
  async function send(action, request, signal, credentials) {
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

  function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new DOMException('navigated away', 'AbortError'));
      }, { once: true });
    });
  }

  async function listStateMachines(signal) {
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
  function executionLister(stateMachineArns, statusFilter) {
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

  // ---------------------------------------------------------------- formatting

  // The JSON protocol sends timestamps as epoch seconds; ISO text is
  // accepted too so the page survives a server that sends it.
  function toMillis(value) {
    if (typeof value === 'number') return value * 1000;
    if (typeof value === 'string') {
      const parsed = Date.parse(value);
      return Number.isNaN(parsed) ? null : parsed;
    }
    return null;
  }

  const pad = (n, width = 2) => String(n).padStart(width, '0');

  function formatDate(ms) {
    if (ms === null || ms === undefined) return '\u2014';
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  function formatTime(ms) {
    if (ms === null || ms === undefined) return '\u2014';
    const d = new Date(ms);
    return `${formatDate(ms)}.${pad(d.getMilliseconds(), 3)}`;
  }

  function formatDuration(ms) {
    if (ms === null || ms === undefined || Number.isNaN(ms) || ms < 0) return '\u2014';
    if (ms < 1000) return Math.round(ms) + ' ms';
    const s = ms / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h} h ${m % 60} min`;
    return `${Math.floor(h / 24)} d ${h % 24} h`;
  }

  // RUNNING -> Running, TIMED_OUT -> Timed out.
  function humanStatus(status) {
    const s = String(status || 'UNKNOWN').toLowerCase().replace(/_/g, ' ');
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  // Inputs and outputs travel as JSON text; shown indented when they parse.
  function prettyJson(text) {
    if (text === undefined || text === null) return '';
    if (typeof text !== 'string') return JSON.stringify(text, null, 2);
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (_) {
      return text;
    }
  }

  function clip(text, length) {
    const s = String(text);
    return s.length > length ? s.slice(0, length - 1) + '\u2026' : s;
  }

  // The last field of an ARN: a state machine's or an execution's name.
  function nameFromArn(arn) {
    const parts = String(arn || '').split(':');
    return parts[parts.length - 1] || String(arn || '');
  }

  // ---------------------------------------------------------------- routing

  // ARNs go into the hash encoded, except ':' which is legal there and keeps
  // the address readable.
  const encodePart = (s) => encodeURIComponent(s).replace(/%3A/gi, ':');

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
    const s = q.toString();
    return s ? '?' + s : '';
  }

  const links = {
    stateMachines: () => '#/',
    stateMachine: (arn, params) => '#/state-machine/' + encodePart(arn) + query(params),
    executions: (params) => '#/executions' + query(params),
    execution: (arn, params) => '#/execution/' + encodePart(arn) + query(params),
  };

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, '');
    const at = raw.indexOf('?');
    const path = at < 0 ? raw : raw.slice(0, at);
    const params = new URLSearchParams(at < 0 ? '' : raw.slice(at + 1));
    const segments = path.split('/').map((s) => {
      try {
        return decodeURIComponent(s);
      } catch (_) {
        return s;
      }
    });
    // An ARN never holds '/', but a hand-typed address might: everything
    // after the view name is the ARN.
    return { view: segments[0] || '', arg: segments.slice(1).join('/'), params };
  }

  let activeView = null;

  function navigate() {
    if (activeView) activeView.abort();
    const controller = new AbortController();
    activeView = controller;
    const { signal } = controller;
    const main = document.getElementById('view');
    main.replaceChildren();
    main.dataset.console = 'loading';
    const { view, arg, params } = parseHash();
    let render;
    let section = view;
    switch (view) {
      case '':
        section = 'state-machines';
        render = () => stateMachinesView(main, signal);
        break;
      case 'state-machine':
        section = 'state-machines';
        render = () => stateMachineView(main, signal, arg, params);
        break;
      case 'executions':
        render = () => executionsView(main, signal, params);
        break;
      case 'execution':
        section = 'executions';
        render = () => executionView(main, signal, arg, params);
        break;
      case 'selftest':
        render = () => selfTestView(main);
        break;
      default:
        render = async () => {
          main.append(pageHead('Not found'), el('p', { class: 'empty' }, 'There is no such page in the console.'));
        };
    }
    for (const a of document.querySelectorAll('[data-nav]')) {
      a.classList.toggle('active', a.dataset.nav === section);
    }
    renderSession();
    render().then(
      () => {
        if (!signal.aborted) main.dataset.console = 'ready';
      },
      (err) => {
        if (signal.aborted || err.name === 'AbortError') return;
        if (isAuthError(err)) {
          // A kept key the server refuses (it was changed, or the clock is
          // hopelessly off) is of no more use; the form says why.
          const refusedKey = credentialsStore.load();
          credentialsStore.clear();
          renderSession();
          main.replaceChildren(signInView(main, signal, err, refusedKey));
          main.dataset.console = 'signin';
          return;
        }
        main.append(errorBox(err));
        main.dataset.console = 'error';
      },
    );
  }

  // ---------------------------------------------------------------- sign-in

  // Who the console signs as, and the way out, in the top bar.
  function renderSession() {
    const host = document.getElementById('session');
    const credentials = credentialsStore.load();
    if (!credentials) {
      host.replaceChildren();
      return;
    }
    const how = digests === scriptDigests ? "the page's own SHA-256 (no WebCrypto here)" : 'WebCrypto';
    host.replaceChildren(
      el('span', {
        class: 'session-key',
        dataset: { signer: digests.name },
        title: `Requests are signed with SigV4 for ${SIGNING_REGION}/${SIGNING_SERVICE}, using ${how}.`,
      }, 'Signed in as ', el('span', { class: 'mono' }, credentials.accessKeyId)),
      el('button', {
        type: 'button',
        class: 'button sign-out',
        onclick: () => {
          credentialsStore.clear();
          navigate();
        },
      }, 'Sign out'));
  }

  // The form shown when the API refuses a request for its signature. The
  // key is tried with one small call before it is kept, so a mistyped
  // secret is reported here, not as a broken view. The inputs have no
  // `name`, and the policy's form-action 'none' stops any submission the
  // script does not take over, so the key cannot leave in an address.
  function signInView(main, signal, refusal, refusedKey) {
    document.title = 'Sign in \u00b7 zoomvault';
    const accessKeyId = el('input', {
      id: 'signin-access-key-id', class: 'input mono', type: 'text', required: true,
      autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', value: refusedKey ? refusedKey.accessKeyId : null,
    });
    const secret = el('input', {
      id: 'signin-secret-access-key', class: 'input mono', type: 'password', required: true, autocomplete: 'off',
    });
    const submit = el('button', { type: 'submit', class: 'button primary' }, 'Sign in');
    // A first visit is simply asked to sign in; a key that was refused is
    // told why.
    const firstVisit = !refusedKey && refusal.type === 'MissingAuthenticationTokenException';
    const problem = el('div', { class: 'signin-problem' }, firstVisit ? null : errorBox(refusal));

    const form = el('form', { class: 'signin-form', autocomplete: 'off' },
      el('label', { for: accessKeyId.id }, 'Access key ID'), accessKeyId,
      el('label', { for: secret.id }, 'Secret access key'), secret,
      el('p', { class: 'hint signin-key-hint' },
        "The key is the server's ZOOMVAULT_API_ACCESS_KEY_ID and ZOOMVAULT_API_SECRET_ACCESS_KEY."),
      el('div', { class: 'signin-actions' }, submit));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      signIn().catch((err) => problem.replaceChildren(errorBox(err)));
    });

    async function signIn() {
      const credentials = { accessKeyId: accessKeyId.value.trim(), secretAccessKey: secret.value };
      if (!credentials.accessKeyId || !credentials.secretAccessKey) return;
      submit.disabled = true;
      main.dataset.console = 'loading';
      problem.replaceChildren(el('p', { class: 'hint' }, 'Checking the key\u2026'));
      try {
        await send('ListStateMachines', { maxResults: 1 }, signal, credentials);
      } catch (err) {
        if (signal.aborted || err.name === 'AbortError') return;
        problem.replaceChildren(errorBox(err));
        secret.value = '';
        submit.disabled = false;
        secret.focus();
        main.dataset.console = 'signin';
        return;
      }
      if (!credentialsStore.save(credentials)) {
        problem.replaceChildren(errorBox(new Error('This browser keeps no session storage for the page, so the console cannot hold the key.')));
        submit.disabled = false;
        main.dataset.console = 'signin';
        return;
      }
      navigate();
    }

    return el('section', { class: 'card signin' },
      el('div', { class: 'card-head' }, el('h2', null, 'Sign in')),
      el('div', { class: 'signin-body' },
        el('p', { class: 'signin-intro' },
          'This server accepts only signed requests (AWS Signature Version 4). Sign in with its API key; ',
          `the console signs each request for ${SIGNING_REGION}/${SIGNING_SERVICE} in this tab and keeps the key `,
          'in session storage until you sign out or close the tab.'),
        problem,
        form));
  }

  // ---------------------------------------------------------------- shared pieces

  function errorBox(err) {
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

  function pageHead(title, ...extra) {
    return el('div', { class: 'page-head' }, el('h1', null, title), ...extra);
  }

  function crumbs(...parts) {
    const items = [];
    parts.forEach((part, i) => {
      if (i > 0) items.push(el('span', { class: 'sep', 'aria-hidden': 'true' }, '/'));
      items.push(Array.isArray(part) ? el('a', { href: part[1] }, part[0]) : el('span', null, part));
    });
    return el('nav', { class: 'crumbs', 'aria-label': 'Breadcrumbs' }, items);
  }

  function statusBadge(status) {
    return el('span', { class: 'status', dataset: { status: String(status || 'UNKNOWN') } }, humanStatus(status));
  }

  function card(title, ...body) {
    const head = title ? el('div', { class: 'card-head' }, typeof title === 'string' ? el('h2', null, title) : title) : null;
    return el('section', { class: 'card' }, head, ...body);
  }

  function metaList(rows) {
    return el('dl', { class: 'meta' }, rows.filter(Boolean).map(([label, value, cls]) => [
      el('dt', null, label),
      el('dd', { class: cls || null }, value),
    ]));
  }

  function table(headers, tbody, cls) {
    return el('div', { class: 'table-wrap' },
      el('table', { class: 'grid' + (cls ? ' ' + cls : '') },
        el('thead', null, el('tr', null, headers.map((h) => el('th', { scope: 'col' }, h)))),
        tbody));
  }

  function codeBlock(text, cls) {
    return el('pre', { class: 'code' + (cls ? ' ' + cls : '') }, text);
  }

  // ---------------------------------------------------------------- state machines

  async function stateMachinesView(main, signal) {
    document.title = 'State machines \u00b7 zoomvault';
    const machines = await listStateMachines(signal);
    main.append(pageHead('State machines',
      el('span', { class: 'count' }, machines.length + (machines.length === 1 ? ' state machine' : ' state machines'))));
    if (!machines.length) {
      main.append(card(null, el('p', { class: 'empty' }, 'No state machines yet.')));
      return;
    }
    const tbody = el('tbody');
    for (const m of machines) {
      tbody.append(el('tr', { class: 'state-machine', dataset: { stateMachine: m.name } },
        el('td', null,
          el('a', { class: 'strong', href: links.stateMachine(m.stateMachineArn) }, m.name),
          el('div', { class: 'arn' }, m.stateMachineArn)),
        el('td', null, el('span', { class: 'tag' }, m.type || 'STANDARD')),
        el('td', { class: 'nowrap' }, formatDate(toMillis(m.creationDate))),
        el('td', { class: 'actions' }, el('a', { href: links.executions({ stateMachine: m.stateMachineArn }) }, 'Executions \u2192'))));
    }
    main.append(card(null, table(['Name', 'Type', 'Created', ''], tbody)));
  }

  async function stateMachineView(main, signal, arn, params) {
    const status = params.get('status') || '';
    const machine = await call('DescribeStateMachine', { stateMachineArn: arn }, signal);
    document.title = machine.name + ' \u00b7 zoomvault';
    main.append(
      crumbs(['State machines', links.stateMachines()], machine.name),
      pageHead(machine.name, el('span', { class: 'tag' }, machine.type || 'STANDARD')),
      card(null, metaList([
        ['ARN', machine.stateMachineArn, 'mono'],
        ['Status', machine.status || 'ACTIVE'],
        ['Created', formatDate(toMillis(machine.creationDate))],
        machine.roleArn && ['Role', machine.roleArn, 'mono'],
      ])));

    const statusSelect = statusFilterSelect(status, () => {
      location.hash = links.stateMachine(arn, { status: statusSelect.value });
    });
    const executions = el('div');
    main.append(card(el('div', { class: 'card-head-row' }, el('h2', null, 'Executions'),
      el('div', { class: 'toolbar' }, labelled('Status', statusSelect))), executions));

    const graphHost = el('div', { class: 'graph-scroll' });
    main.append(card('Definition', graphHost,
      el('details', { class: 'definition' }, el('summary', null, 'Definition JSON'), codeBlock(prettyJson(machine.definition)))));
    try {
      const graph = parseDefinition(machine.definition);
      const view = new GraphView(graph, null);
      graphHost.append(view.svg);
      graphHost.classList.add('definition-only');
    } catch (err) {
      graphHost.append(errorBox(err));
    }

    await executionsTable(executions, signal, [arn], status, new Map([[arn, machine.name]]), false);
  }

  // ---------------------------------------------------------------- executions

  function statusFilterSelect(status, onchange) {
    return el('select', { class: 'status-filter', onchange },
      el('option', { value: '' }, 'All statuses'),
      EXECUTION_STATUSES.map((s) => el('option', { value: s, selected: s === status }, humanStatus(s))));
  }

  function labelled(text, control) {
    return el('label', { class: 'field' }, el('span', null, text), control);
  }

  async function executionsView(main, signal, params) {
    document.title = 'Executions \u00b7 zoomvault';
    const status = params.get('status') || '';
    const stateMachineArn = params.get('stateMachine') || '';
    const machines = await listStateMachines(signal);
    const names = new Map(machines.map((m) => [m.stateMachineArn, m.name]));

    const go = () => {
      location.hash = links.executions({ stateMachine: machineSelect.value, status: statusSelect.value });
    };
    const statusSelect = statusFilterSelect(status, go);
    const machineSelect = el('select', { class: 'machine-filter', onchange: go },
      el('option', { value: '' }, 'All state machines'),
      machines.map((m) => el('option', { value: m.stateMachineArn, selected: m.stateMachineArn === stateMachineArn }, m.name)));
    // A filter naming a state machine that is not listed still filters.
    if (stateMachineArn && !names.has(stateMachineArn)) {
      machineSelect.append(el('option', { value: stateMachineArn, selected: true }, nameFromArn(stateMachineArn)));
    }
    const refresh = el('button', { type: 'button', class: 'button', onclick: navigate }, 'Refresh');
    main.append(pageHead('Executions', el('div', { class: 'toolbar' },
      labelled('Status', statusSelect), labelled('State machine', machineSelect), refresh)));

    const host = el('div');
    main.append(card(null, host));
    // Express executions are not listed (on AWS ListExecutions refuses
    // them), so "all" means every standard state machine.
    const arns = stateMachineArn
      ? [stateMachineArn]
      : machines.filter((m) => m.type !== 'EXPRESS').map((m) => m.stateMachineArn);
    await executionsTable(host, signal, arns, status, names, !stateMachineArn);
  }

  async function executionsTable(host, signal, arns, status, names, showMachine) {
    const lister = executionLister(arns, status);
    const tbody = el('tbody');
    const more = el('button', { type: 'button', class: 'button more', hidden: true }, 'Load more');
    const empty = el('p', { class: 'empty', hidden: true },
      status ? `No ${humanStatus(status).toLowerCase()} executions.` : 'No executions yet.');
    const headers = ['Name', 'Status'];
    if (showMachine) headers.push('State machine');
    headers.push('Started', 'Ended', 'Duration');
    host.append(table(headers, tbody, 'executions'), empty, el('div', { class: 'table-foot' }, more));
    let shown = 0;
    // Rows of running executions, by ARN, so they can be refreshed in place.
    const running = new Map();
    let polling = false;

    async function load() {
      more.disabled = true;
      const { rows, more: hasMore } = await lister.next(signal);
      const fragment = document.createDocumentFragment();
      for (const e of rows) {
        const row = executionRow(e, names, showMachine);
        if (e.status === 'RUNNING') running.set(e.executionArn, row);
        fragment.append(row);
      }
      tbody.append(fragment);
      shown += rows.length;
      more.hidden = !hasMore;
      more.disabled = false;
      empty.hidden = shown > 0;
      if (running.size && !polling) {
        polling = true;
        pollRunning().catch(() => {});
      }
    }

    // Running rows are described again every couple of seconds and swapped
    // when they end; a row that ended is never touched again. Only the
    // first rows are watched: a page of a thousand running executions must
    // not become a thousand requests per poll.
    async function pollRunning() {
      while (running.size) {
        await sleep(2 * POLL_MS, signal);
        const watched = [...running].slice(0, 25);
        await Promise.all(watched.map(async ([arn, row]) => {
          let e;
          try {
            e = await call('DescribeExecution', { executionArn: arn }, signal);
          } catch (err) {
            if (err.name === 'AbortError') throw err;
            return;
          }
          if (e.status === 'RUNNING') return;
          const fresh = executionRow(e, names, showMachine);
          row.replaceWith(fresh);
          running.delete(arn);
        }));
      }
      polling = false;
    }

    more.addEventListener('click', () => {
      load().catch((err) => {
        if (!signal.aborted && err.name !== 'AbortError') host.append(errorBox(err));
      });
    });
    if (!arns.length) {
      empty.hidden = false;
      return;
    }
    await load();
  }

  function executionRow(e, names, showMachine) {
    const start = toMillis(e.startDate);
    const stop = toMillis(e.stopDate);
    const machineName = names.get(e.stateMachineArn) || nameFromArn(e.stateMachineArn);
    return el('tr', { class: 'execution', dataset: { execution: e.name, status: e.status } },
      el('td', null, el('a', { class: 'strong', href: links.execution(e.executionArn) }, e.name)),
      el('td', null, statusBadge(e.status)),
      showMachine && el('td', null, el('a', { href: links.stateMachine(e.stateMachineArn) }, machineName)),
      el('td', { class: 'nowrap' }, formatDate(start)),
      el('td', { class: 'nowrap' }, stop ? formatDate(stop) : '\u2014'),
      el('td', { class: 'nowrap num' }, stop ? formatDuration(stop - start) : (e.status === 'RUNNING' ? 'running' : '\u2014')));
  }

  // ---------------------------------------------------------------- one execution

  async function executionView(main, signal, arn, params) {
    const [execution, forExecution] = await Promise.all([
      call('DescribeExecution', { executionArn: arn }, signal),
      call('DescribeStateMachineForExecution', { executionArn: arn }, signal).catch((err) => {
        if (err.name === 'AbortError') throw err;
        return { failure: err };
      }),
    ]);
    document.title = execution.name + ' \u00b7 zoomvault';
    const machineName = forExecution.name || nameFromArn(execution.stateMachineArn);
    main.append(crumbs(
      ['Executions', links.executions({ stateMachine: execution.stateMachineArn })],
      [machineName, links.stateMachine(execution.stateMachineArn)],
      execution.name));

    const summary = new ExecutionSummary(execution, machineName);
    main.append(summary.element);

    let graph = null;
    let graphProblem = forExecution.failure || null;
    if (!graphProblem) {
      try {
        graph = parseDefinition(forExecution.definition);
      } catch (err) {
        graphProblem = err;
      }
    }
    const analysis = new HistoryAnalysis(graph);
    const panel = new StatePanel(analysis);
    const selectState = (node) => {
      graphView.select(node);
      panel.show(node);
    };
    const graphView = graph ? new GraphView(graph, (node) => {
      selectState(node);
      // The address names the selected state, so a link shows the same
      // thing; replaceState does not fire hashchange, so no re-render.
      history.replaceState(null, '', links.execution(arn, { state: node.name }));
    }) : null;
    const legend = new Legend();
    const graphArea = el('div', { class: 'graph-layout' },
      el('div', { class: 'graph-scroll' }, graphView ? graphView.svg : errorBox(graphProblem)),
      panel.element);
    main.append(card(el('div', { class: 'card-head-row' }, el('h2', null, 'Graph'), legend.element), graphArea));
    main.append(summary.io);

    const events = new EventTable(analysis, toMillis(execution.startDate));
    main.append(card(el('div', { class: 'card-head-row' }, el('h2', null, 'Events'), events.counter), events.element));

    let running = execution.status === 'RUNNING';
    let lastId = 0;
    const ingest = (list) => {
      const fresh = list.filter((e) => typeof e.id === 'number' && e.id > lastId);
      if (fresh.length) {
        lastId = fresh[fresh.length - 1].id;
        analysis.apply(fresh);
        events.append(fresh);
      }
      const touched = analysis.takeDirty();
      const counts = graphView ? graphView.refresh(analysis, running) : null;
      if (counts) legend.update(counts);
      panel.refresh(running, touched);
    };
    ingest([]);

    // The whole history, oldest first; the graph and table update after
    // each page so a long history shows progress.
    let nextToken = null;
    do {
      const request = { executionArn: arn, maxResults: HISTORY_PAGE, reverseOrder: false, includeExecutionData: true };
      if (nextToken) request.nextToken = nextToken;
      const page = await call('GetExecutionHistory', request, signal);
      ingest(page.events || []);
      nextToken = page.nextToken;
    } while (nextToken);

    const wanted = graph && params.get('state') && graph.byName.get(params.get('state'));
    if (wanted) selectState(wanted);

    if (running) {
      summary.live(true);
      // Not awaited: the view is ready once loaded; polling goes on until
      // the execution ends or the reader navigates away (the signal).
      (async () => {
        while (running) {
          await sleep(POLL_MS, signal);
          try {
            const now = await call('DescribeExecution', { executionArn: arn }, signal);
            // Newest first back to the last known event: one request per
            // poll unless more than a page arrived since the last.
            const fresh = [];
            let token = null;
            pages: do {
              const request = { executionArn: arn, maxResults: HISTORY_PAGE, reverseOrder: true, includeExecutionData: true };
              if (token) request.nextToken = token;
              const page = await call('GetExecutionHistory', request, signal);
              for (const e of page.events || []) {
                if (e.id <= lastId) break pages;
                fresh.push(e);
              }
              token = page.nextToken;
            } while (token);
            running = now.status === 'RUNNING';
            fresh.reverse();
            ingest(fresh);
            summary.update(now);
            summary.warn(null);
          } catch (err) {
            if (err.name === 'AbortError') return;
            summary.warn(err);
          }
        }
        summary.live(false);
      })().catch(() => {});
    }
  }

  // The execution's head (name, status, times, error) and, placed
  // separately below the graph, its input and output.
  class ExecutionSummary {
    constructor(execution, machineName) {
      this.machineName = machineName;
      this.element = el('div', { class: 'execution-summary' });
      this.io = el('div', { class: 'io' });
      this.liveBadge = el('span', { class: 'live', hidden: true }, 'Live');
      this.warning = el('div', { class: 'warning', hidden: true });
      this.update(execution);
    }

    update(execution) {
      const e = execution;
      const start = toMillis(e.startDate);
      const stop = toMillis(e.stopDate);
      if (this.shown && this.shown.status === e.status && this.shown.stopDate === e.stopDate) {
        // Still running: only the duration moves.
        this.duration.textContent = formatDuration(Date.now() - start);
        return;
      }
      this.shown = e;
      this.duration = el('span', null, formatDuration((stop || Date.now()) - start));
      const failed = e.error || e.cause;
      this.element.replaceChildren();
      appendAll(this.element, [
        pageHead(e.name, statusBadge(e.status), this.liveBadge),
        this.warning,
        card(null,
          el('div', { class: 'facts' },
            fact('State machine', el('a', { href: links.stateMachine(e.stateMachineArn) }, this.machineName)),
            fact('Started', formatTime(start)),
            fact('Ended', stop ? formatTime(stop) : '\u2014'),
            fact('Duration', this.duration)),
          el('div', { class: 'arn-line' }, el('span', { class: 'muted' }, 'Execution ARN '), el('span', { class: 'mono' }, e.executionArn))),
        failed ? el('div', { class: 'error-box execution-error', role: 'alert' },
          el('strong', { class: 'error-type' }, e.error || humanStatus(e.status)),
          e.cause ? codeBlock(prettyJson(e.cause), 'cause') : null) : null]);
      this.io.replaceChildren(
        card('Input', codeBlock(prettyJson(e.input), 'execution-input')),
        card('Output', e.output !== undefined && e.output !== null
          ? codeBlock(prettyJson(e.output), 'execution-output')
          : el('p', { class: 'empty' }, e.status === 'RUNNING' ? 'Not finished yet.' : 'No output.')));
    }

    live(on) {
      this.liveBadge.hidden = !on;
    }

    warn(err) {
      this.warning.hidden = !err;
      this.warning.replaceChildren(err ? 'Refreshing failed, retrying: ' + (err.type ? err.type + ': ' : '') + err.message : '');
    }
  }

  function fact(label, value) {
    return el('div', { class: 'fact' }, el('div', { class: 'fact-label' }, label), el('div', { class: 'fact-value' }, value));
  }

  class Legend {
    constructor() {
      this.counts = new Map();
      this.element = el('ul', { class: 'legend', 'aria-label': 'Legend' },
        OUTCOMES.map(([key, label, glyph]) => {
          const count = el('span', { class: 'legend-count' });
          this.counts.set(key, count);
          return el('li', { dataset: { status: key } }, el('span', { class: 'swatch', 'aria-hidden': 'true' }, glyph), label, count);
        }),
        el('li', { class: 'edge-key' }, el('span', { class: 'line taken', 'aria-hidden': 'true' }), 'Taken'),
        el('li', { class: 'edge-key' }, el('span', { class: 'line catch', 'aria-hidden': 'true' }), 'Catch'));
    }

    update(counts) {
      for (const [key, span] of this.counts) {
        const n = counts.get(key) || 0;
        span.textContent = n ? String(n) : '';
      }
    }
  }

  // ---------------------------------------------------------------- ASL

  // The graph of a definition: machines (the top level, each Parallel
  // branch, each Map processor) holding state nodes and their transitions.
  function parseDefinition(text) {
    const definition = typeof text === 'string' ? JSON.parse(text) : text;
    const graph = { root: null, nodes: [], byName: new Map() };
    graph.root = parseMachine(definition, null, graph);
    return graph;
  }

  function parseMachine(definition, parentNode, graph) {
    const machine = { startAt: definition && definition.StartAt, states: new Map(), parentNode };
    const states = definition && typeof definition.States === 'object' && definition.States ? definition.States : {};
    for (const [name, raw] of Object.entries(states)) {
      const state = raw && typeof raw === 'object' ? raw : {};
      const node = {
        index: graph.nodes.length,
        name,
        type: typeof state.Type === 'string' ? state.Type : '?',
        machine,
        edges: [],
        children: [],
        end: false,
        occurrences: [],
      };
      graph.nodes.push(node);
      const add = (to, kind) => {
        if (typeof to === 'string') node.edges.push({ to, kind });
      };
      add(state.Next, 'next');
      if (Array.isArray(state.Choices)) for (const c of state.Choices) add(c && c.Next, 'choice');
      add(state.Default, 'default');
      if (Array.isArray(state.Catch)) for (const c of state.Catch) add(c && c.Next, 'catch');
      node.end = state.End === true || node.type === 'Succeed' || node.type === 'Fail';
      if (node.type === 'Parallel' && Array.isArray(state.Branches)) {
        node.children = state.Branches.map((b) => parseMachine(b, node, graph));
      } else if (node.type === 'Map') {
        const processor = state.ItemProcessor || state.Iterator;
        if (processor) node.children = [parseMachine(processor, node, graph)];
      }
      machine.states.set(name, node);
      if (!graph.byName.has(name)) graph.byName.set(name, node);
    }
    return machine;
  }

  // ---------------------------------------------------------------- history

  // Reads history events, in order, into runs of states ("occurrences").
  // Events name no branch or iteration; previousEventId chains each run's
  // events, so following it tells which run, and so which state, an event
  // belongs to. A child run's first event follows its Parallel's
  // ParallelStateStarted or its Map's MapIterationStarted.
  class HistoryAnalysis {
    constructor(graph) {
      this.graph = graph;
      this.root = { machine: graph ? graph.root : null, occ: null, parent: null, iteration: null, exited: null };
      this.positions = new Map();
      this.stateOfEvent = new Map();
      this.taken = new Set();
      this.dirty = new Set();
    }

    apply(events) {
      for (const e of events) {
        const type = String(e.type || '');
        const prev = this.positions.get(e.previousEventId) || this.root;
        let here = prev;
        let stateName = prev.occ ? prev.occ.name : '';
        if (type.endsWith('StateEntered')) {
          const d = e.stateEnteredEventDetails || {};
          const active = prev.occ && !prev.occ.exited;
          // Entering while a state is active can only be a child run of it.
          const child = active && prev.occ.node && prev.occ.node.children.length > 0;
          const machine = child ? childMachine(prev.occ.node, d.name) : prev.machine;
          const node = (machine && machine.states.get(d.name)) || (this.graph && this.graph.byName.get(d.name)) || null;
          const occ = {
            node,
            name: d.name,
            input: d.input,
            output: undefined,
            exited: false,
            failed: false,
            errors: [],
            parent: child ? prev.occ : prev.parent,
            iteration: prev.iteration,
            enteredId: e.id,
            enteredAt: toMillis(e.timestamp),
            exitedAt: null,
            closedIterations: null,
            childrenClosedAt: 0,
          };
          if (node) {
            node.occurrences.push(occ);
            this.dirty.add(node);
            if (!child && prev.exited && prev.exited.node) this.taken.add(edgeKey(prev.exited.node, node));
            if (prev === this.root) this.taken.add(edgeKey(null, node));
          }
          here = { machine, occ, parent: occ.parent, iteration: occ.iteration, exited: null };
          stateName = d.name;
        } else if (type.endsWith('StateExited')) {
          const d = e.stateExitedEventDetails || {};
          const occ = prev.occ;
          if (occ) {
            occ.exited = true;
            occ.output = d.output;
            occ.exitedAt = toMillis(e.timestamp);
            if (occ.node) this.dirty.add(occ.node);
          }
          here = { machine: prev.machine, occ: null, parent: prev.parent, iteration: occ ? occ.iteration : prev.iteration, exited: occ };
          stateName = d.name || stateName;
        } else {
          const details = eventDetails(e) || {};
          const occ = prev.occ;
          if (occ && FAILURE_EVENTS.has(type)) {
            occ.failed = true;
            occ.errors.push({ type, error: details.error, cause: details.cause, at: toMillis(e.timestamp) });
            if (occ.node) this.dirty.add(occ.node);
          }
          if (occ && CHILDREN_CLOSED_EVENTS.has(type)) occ.childrenClosedAt = e.id;
          if (occ && (type === 'MapIterationSucceeded' || type === 'MapIterationFailed' || type === 'MapIterationAborted')) {
            (occ.closedIterations || (occ.closedIterations = new Set())).add(details.index);
          }
          if (type === 'MapIterationStarted') {
            here = { ...prev, iteration: details.index };
          }
          // A state whose own evaluation failed (a bad path, say) leaves no
          // event of its own; the execution's failure follows its entry.
          if (type === 'ExecutionFailed' && occ && !occ.exited && !occ.failed) {
            occ.failed = true;
            occ.errors.push({ type, error: details.error, cause: details.cause, at: toMillis(e.timestamp) });
            if (occ.node) this.dirty.add(occ.node);
          }
          if (type.startsWith('Execution')) stateName = '';
        }
        this.positions.set(e.id, here);
        this.stateOfEvent.set(e.id, stateName);
      }
    }

    takeDirty() {
      const dirty = this.dirty;
      this.dirty = new Set();
      return dirty;
    }
  }

  function edgeKey(from, to) {
    return (from ? from.index : -1) + '>' + to.index;
  }

  function childMachine(node, startName) {
    if (node.children.length === 1) return node.children[0];
    return node.children.find((m) => m.startAt === startName)
      || node.children.find((m) => m.states.has(startName))
      || node.children[0];
  }

  // The one `...EventDetails` object of an event.
  function eventDetails(e) {
    for (const key of Object.keys(e)) {
      if (key.endsWith('EventDetails') && e[key] && typeof e[key] === 'object') return e[key];
    }
    return null;
  }

  // Whether a run of a state can still be going: neither it nor any
  // enclosing Parallel or Map has finished.
  function isOpen(occ) {
    let child = occ;
    for (let p = occ.parent; p; child = p, p = p.parent) {
      if (p.exited) return false;
      if (p.childrenClosedAt > child.enteredId) return false;
      if (p.closedIterations && child.iteration !== null && child.iteration !== undefined && child.parent === p
        && p.closedIterations.has(child.iteration)) return false;
    }
    return true;
  }

  function occurrenceOutcome(occ, running) {
    if (occ.exited) return occ.failed ? 'caught' : 'succeeded';
    const isFail = occ.node && occ.node.type === 'Fail';
    if (running && !isFail && isOpen(occ)) return 'running';
    if (occ.failed || isFail) return 'failed';
    return 'aborted';
  }

  function nodeOutcome(node, running) {
    let best = 'not-reached';
    for (const occ of node.occurrences) {
      const o = occurrenceOutcome(occ, running);
      if (OUTCOME_RANK[o] > OUTCOME_RANK[best]) best = o;
    }
    return best;
  }

  // ---------------------------------------------------------------- layout

  // Sizes in SVG units (CSS pixels at 100%).
  const L = {
    nodeH: 46,
    minW: 132,
    maxW: 250,
    gapX: 28,
    gapDummy: 12,
    gapY: 40,
    dummyW: 6,
    framePad: 12,
    frameHead: 36,
    laneGap: 14,
    lanePadX: 16,
    lanePadTop: 28,
    lanePadBottom: 16,
    startW: 70,
    startH: 28,
    margin: 24,
    loopGap: 16,
  };
  const NAME_FONT = '600 13px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

  let measureContext = null;
  function textWidth(text, font) {
    if (!measureContext) measureContext = document.createElement('canvas').getContext('2d');
    if (!measureContext) return text.length * 7.5;
    measureContext.font = font;
    return measureContext.measureText(text).width;
  }

  function fitText(text, font, width) {
    if (textWidth(text, font) <= width) return text;
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (textWidth(text.slice(0, mid) + '\u2026', font) <= width) lo = mid;
      else hi = mid - 1;
    }
    return text.slice(0, lo) + '\u2026';
  }

  // Lays out one machine top to bottom: break cycles (a DFS from StartAt;
  // edges back to the DFS stack are drawn as loops beside the graph),
  // longest-path layering, dummy nodes on edges that skip layers, ordering
  // within layers by barycenter sweeps keeping the fewest crossings, then x
  // positions closest to the neighbours' mean under the spacing
  // constraints (weighted isotonic regression per layer). A Parallel or Map
  // is a box holding its machines' layouts side by side.
  function layoutMachine(machine, isRoot) {
    const items = [];
    const itemOf = new Map();
    for (const node of machine.states.values()) {
      const it = { kind: 'state', node, out: [], inn: [], up: [], down: [], layer: 0, pre: 0 };
      if (node.children.length) {
        it.lanes = node.children.map((m) => layoutMachine(m, false));
        let x = L.framePad;
        let tallest = 0;
        for (const lane of it.lanes) {
          lane.x = x;
          lane.y = L.frameHead;
          lane.boxW = lane.w + 2 * L.lanePadX;
          lane.boxH = lane.h + L.lanePadTop + L.lanePadBottom;
          x += lane.boxW + L.laneGap;
          tallest = Math.max(tallest, lane.boxH);
        }
        if (!it.lanes.length) x += L.laneGap;
        it.label = fitText(node.name, NAME_FONT, 320);
        const headW = textWidth(it.label, NAME_FONT) + textWidth(node.type, NAME_FONT) + 64;
        const lanesW = x - L.laneGap + L.framePad;
        it.w = Math.max(lanesW, headW, L.minW);
        it.h = L.frameHead + tallest + L.framePad;
        // Lanes narrower than the header sit in the middle of the box.
        for (const lane of it.lanes) {
          lane.boxH = tallest;
          lane.x += (it.w - lanesW) / 2;
        }
      } else {
        it.label = fitText(node.name, NAME_FONT, L.maxW - 52);
        it.w = Math.min(L.maxW, Math.max(L.minW, textWidth(it.label, NAME_FONT) + 52));
        it.h = L.nodeH;
      }
      items.push(it);
      itemOf.set(node, it);
    }
    const startNode = machine.states.get(machine.startAt);
    let start = null;
    if (isRoot) {
      start = { kind: 'start', out: [], inn: [], up: [], down: [], layer: 0, pre: 0, w: L.startW, h: L.startH };
      items.unshift(start);
    }

    const edges = [];
    const connect = (a, b, kind) => {
      const existing = a.out.find((e) => e.to === b);
      if (existing) {
        if (existing.kind === 'catch' && kind !== 'catch') existing.kind = kind;
        return;
      }
      const e = { from: a, to: b, kind, back: false, chain: [] };
      a.out.push(e);
      b.inn.push(e);
      edges.push(e);
    };
    if (start && startNode) connect(start, itemOf.get(startNode), 'next');
    for (const it of items) {
      if (!it.node) continue;
      for (const edge of it.node.edges) {
        const target = machine.states.get(edge.to);
        if (target) connect(it, itemOf.get(target), edge.kind);
      }
    }

    // Cycle breaking and a topological order in one DFS.
    const mark = new Map();
    const post = [];
    let counter = 0;
    const visit = (u) => {
      mark.set(u, 1);
      u.pre = counter++;
      for (const e of u.out) {
        const m = mark.get(e.to);
        if (m === 1) e.back = true;
        else if (!m) visit(e.to);
      }
      mark.set(u, 2);
      post.push(u);
    };
    const first = start || (startNode && itemOf.get(startNode));
    if (first) visit(first);
    for (const it of items) if (!mark.get(it)) visit(it);

    for (let i = post.length - 1; i >= 0; i--) {
      const u = post[i];
      for (const e of u.out) if (!e.back) e.to.layer = Math.max(e.to.layer, u.layer + 1);
    }

    let layerCount = 0;
    for (const it of items) layerCount = Math.max(layerCount, it.layer + 1);
    const layers = Array.from({ length: layerCount }, () => []);
    for (const it of items) layers[it.layer].push(it);
    for (const e of edges) {
      if (e.back) continue;
      let prev = e.from;
      for (let l = e.from.layer + 1; l < e.to.layer; l++) {
        const d = { kind: 'dummy', w: L.dummyW, h: 0, layer: l, pre: e.from.pre + 0.5, up: [], down: [] };
        layers[l].push(d);
        e.chain.push(d);
        prev.down.push(d);
        d.up.push(prev);
        prev = d;
      }
      prev.down.push(e.to);
      e.to.up.push(prev);
    }

    orderLayers(layers);
    placeLayers(layers);

    // Vertical placement: each layer as tall as its tallest item, items
    // centred in it.
    const tops = [];
    const heights = [];
    let y = 0;
    for (let l = 0; l < layers.length; l++) {
      const h = Math.max(0, ...layers[l].map((it) => it.h));
      tops.push(y);
      heights.push(h);
      for (const it of layers[l]) it.y = y + (h - it.h) / 2;
      y += h + L.gapY;
    }
    const height = Math.max(0, y - L.gapY);

    // Loops run beside the layers they span, on the side nearer to their
    // ends, each a little further out than the last.
    let loopsLeft = 0;
    let loopsRight = 0;
    for (const e of edges) {
      if (!e.back) continue;
      const lo = Math.min(e.from.layer, e.to.layer);
      const hi = Math.max(e.from.layer, e.to.layer);
      let left = Infinity;
      let right = -Infinity;
      for (let l = lo; l <= hi; l++) {
        for (const it of layers[l]) {
          left = Math.min(left, it.cx - it.w / 2);
          right = Math.max(right, it.cx + it.w / 2);
        }
      }
      const middle = (left + right) / 2;
      if ((e.from.cx + e.to.cx) / 2 < middle - 1) {
        e.side = 'left';
        e.routeX = left - L.loopGap - 12 * loopsLeft++;
      } else {
        e.side = 'right';
        e.routeX = right + L.loopGap + 12 * loopsRight++;
      }
    }

    let minX = Infinity;
    let maxX = -Infinity;
    for (const layer of layers) {
      for (const it of layer) {
        minX = Math.min(minX, it.cx - it.w / 2);
        maxX = Math.max(maxX, it.cx + it.w / 2);
      }
    }
    for (const e of edges) {
      if (!e.back) continue;
      minX = Math.min(minX, e.routeX - 6);
      maxX = Math.max(maxX, e.routeX + 6);
    }
    if (!Number.isFinite(minX)) {
      minX = 0;
      maxX = L.minW;
    }
    for (const layer of layers) for (const it of layer) it.cx -= minX;
    for (const e of edges) if (e.back) e.routeX -= minX;

    assignPorts(items, edges);
    return {
      w: maxX - minX,
      h: Math.max(height, 1),
      items: items.filter((it) => it.kind !== 'dummy'),
      edges,
      tops,
      heights,
    };
  }

  function orderLayers(layers) {
    for (const layer of layers) layer.sort((a, b) => a.pre - b.pre);
    const number = () => {
      for (const layer of layers) layer.forEach((it, i) => { it.order = i; });
    };
    number();
    let best = layers.map((l) => l.slice());
    let bestCrossings = crossings(layers);
    for (let sweep = 0; sweep < 12 && bestCrossings > 0; sweep++) {
      const down = sweep % 2 === 0;
      for (let k = 1; k < layers.length; k++) {
        const l = down ? k : layers.length - 1 - k;
        const layer = layers[l];
        for (const it of layer) {
          const ns = down ? it.up : it.down;
          it.bary = ns.length ? ns.reduce((s, n) => s + n.order, 0) / ns.length : it.order;
        }
        layer.sort((a, b) => a.bary - b.bary || a.order - b.order);
        layer.forEach((it, i) => { it.order = i; });
      }
      const c = crossings(layers);
      if (c < bestCrossings) {
        bestCrossings = c;
        best = layers.map((l) => l.slice());
      }
    }
    best.forEach((layer, i) => { layers[i] = layer; });
    number();
  }

  function crossings(layers) {
    let total = 0;
    for (let l = 0; l + 1 < layers.length; l++) {
      const segments = [];
      for (const a of layers[l]) for (const b of a.down) segments.push(a.order, b.order);
      for (let i = 0; i < segments.length; i += 2) {
        for (let j = i + 2; j < segments.length; j += 2) {
          if ((segments[i] - segments[j]) * (segments[i + 1] - segments[j + 1]) < 0) total++;
        }
      }
    }
    return total;
  }

  function gapBetween(a, b) {
    return a.kind === 'dummy' && b.kind === 'dummy' ? L.gapDummy : a.kind === 'dummy' || b.kind === 'dummy' ? L.gapDummy + 6 : L.gapX;
  }

  function placeLayers(layers) {
    for (const layer of layers) {
      let x = 0;
      for (let i = 0; i < layer.length; i++) {
        const it = layer[i];
        if (i > 0) x += gapBetween(layer[i - 1], it);
        it.cx = x + it.w / 2;
        x += it.w;
      }
    }
    const n = layers.length;
    const sweeps = ['down', 'up', 'down', 'up', 'down', 'up', 'down'];
    for (const dir of sweeps) {
      for (let k = 0; k < n; k++) {
        const l = dir === 'down' ? k : n - 1 - k;
        const layer = layers[l];
        const desired = [];
        const weight = [];
        for (const it of layer) {
          const ns = dir === 'down' ? it.up : it.down;
          if (ns.length) {
            desired.push(ns.reduce((s, m) => s + m.cx, 0) / ns.length);
            // Long edges stay straight: their dummies pull hardest.
            weight.push(it.kind === 'dummy' ? 6 : ns.length);
          } else {
            desired.push(it.cx);
            weight.push(0.05);
          }
        }
        placeLayer(layer, desired, weight);
      }
    }
  }

  // Minimises the weighted squared distance of each item's centre to its
  // desired centre, keeping order and spacing: with offsets folding the
  // spacing away, this is isotonic regression, solved by pooling adjacent
  // violators.
  function placeLayer(layer, desired, weight) {
    const n = layer.length;
    if (!n) return;
    const offset = [0];
    for (let i = 1; i < n; i++) offset.push(offset[i - 1] + (layer[i - 1].w + layer[i].w) / 2 + gapBetween(layer[i - 1], layer[i]));
    const blocks = [];
    for (let i = 0; i < n; i++) {
      blocks.push({ sum: (desired[i] - offset[i]) * weight[i], weight: weight[i], count: 1 });
      while (blocks.length > 1) {
        const b = blocks[blocks.length - 1];
        const a = blocks[blocks.length - 2];
        if (a.sum / a.weight <= b.sum / b.weight) break;
        blocks.pop();
        a.sum += b.sum;
        a.weight += b.weight;
        a.count += b.count;
      }
    }
    let i = 0;
    for (const b of blocks) {
      const value = b.sum / b.weight;
      for (let k = 0; k < b.count; k++, i++) layer[i].cx = value + offset[i];
    }
  }

  // Where edges leave and enter a node: spread along its bottom and top,
  // in the order of the other ends, so edges do not cross at the node.
  function assignPorts(items, edges) {
    const forward = edges.filter((e) => !e.back);
    const nextX = (e) => (e.chain.length ? e.chain[0].cx : e.to.cx);
    const prevX = (e) => (e.chain.length ? e.chain[e.chain.length - 1].cx : e.from.cx);
    for (const it of items) {
      const outs = forward.filter((e) => e.from === it).sort((a, b) => nextX(a) - nextX(b));
      spread(outs, it, (e, x) => { e.outX = x; });
      const ins = forward.filter((e) => e.to === it).sort((a, b) => prevX(a) - prevX(b));
      spread(ins, it, (e, x) => { e.inX = x; });
    }
  }

  function spread(list, it, set) {
    const k = list.length;
    if (!k) return;
    const step = k > 1 ? Math.min(16, (it.w - 28) / (k - 1)) : 0;
    list.forEach((e, i) => set(e, it.cx + (i - (k - 1) / 2) * step));
  }

  // ---------------------------------------------------------------- drawing

  class GraphView {
    // `onSelect` is null for a definition without an execution.
    constructor(graph, onSelect) {
      this.graph = graph;
      this.layout = layoutMachine(graph.root, true);
      this.nodeElements = new Map();
      this.edgeElements = new Map();
      this.shownTaken = new Set();
      this.selected = null;
      const w = Math.ceil(this.layout.w + 2 * L.margin);
      const h = Math.ceil(this.layout.h + 2 * L.margin);
      this.svg = svg('svg', {
        class: 'graph',
        xmlns: SVG_NS,
        viewBox: `0 0 ${w} ${h}`,
        width: w,
        height: h,
        role: 'group',
        'aria-label': 'States of the state machine',
      });
      this.svg.append(svg('defs', null,
        arrowMarker('arrow', 'arrow-head'),
        arrowMarker('arrow-taken', 'arrow-head taken')));
      const root = svg('g', { transform: `translate(${L.margin},${L.margin})` });
      this.svg.append(root);
      this.drawMachine(this.layout, root);
      if (onSelect) {
        const pick = (target) => {
          const g = target.closest('g.state');
          if (g) onSelect(graph.nodes[Number(g.dataset.node)]);
        };
        this.svg.addEventListener('click', (ev) => pick(ev.target));
        this.svg.addEventListener('keydown', (ev) => {
          if (ev.key === 'Enter' || ev.key === ' ') {
            ev.preventDefault();
            pick(ev.target);
          }
        });
      }
    }

    drawMachine(layout, parent) {
      const edgeLayer = svg('g', { class: 'edges' });
      const nodeLayer = svg('g', { class: 'nodes' });
      parent.append(edgeLayer, nodeLayer);
      for (const e of layout.edges) {
        const path = svg('path', {
          class: 'edge ' + e.kind + (e.back ? ' loop' : ''),
          d: e.back ? loopPath(e) : edgePath(e, layout),
          'marker-end': 'url(#arrow)',
        });
        edgeLayer.append(path);
        this.edgeElements.set(edgeKey(e.from.node || null, e.to.node), path);
      }
      for (const it of layout.items) {
        const x = it.cx - it.w / 2;
        if (it.kind === 'start') {
          nodeLayer.append(svg('g', { class: 'start', transform: `translate(${x},${it.y})` },
            svg('rect', { width: it.w, height: it.h, rx: it.h / 2 }),
            svg('text', { x: it.w / 2, y: it.h / 2 + 4.5, 'text-anchor': 'middle' }, 'Start')));
          continue;
        }
        const node = it.node;
        const group = svg('g', { transform: `translate(${x},${it.y})` });
        nodeLayer.append(group);
        const state = svg('g', {
          class: 'state' + (it.lanes ? ' compound' : ''),
          tabindex: '0',
          role: 'button',
          dataset: { state: node.name, status: 'not-reached', type: node.type, node: String(node.index) },
        });
        const title = svg('title', null, node.name);
        const glyph = svg('text', { class: 'glyph', 'text-anchor': 'middle' }, OUTCOME_GLYPH.get('not-reached'));
        const kind = svg('text', { class: 'kind' }, node.type);
        group.append(state);
        if (it.lanes) {
          state.append(title,
            svg('rect', { class: 'frame', width: it.w, height: it.h, rx: 10 }),
            svg('path', { class: 'head', d: `M0,10 a10,10 0 0 1 10,-10 h${it.w - 20} a10,10 0 0 1 10,10 v${L.frameHead - 10} h${-it.w} z` }),
            svg('text', { class: 'name', x: 14, y: 23 }, it.label));
          kind.setAttribute('x', it.w - 34);
          kind.setAttribute('y', 23);
          kind.setAttribute('text-anchor', 'end');
          glyph.setAttribute('x', it.w - 17);
          glyph.setAttribute('y', 23);
          state.append(kind, glyph);
          const lanes = svg('g', { class: 'lanes' });
          group.append(lanes);
          it.lanes.forEach((lane, i) => {
            const laneGroup = svg('g', { transform: `translate(${lane.x},${lane.y})` },
              svg('rect', { class: 'lane', width: lane.boxW, height: lane.boxH, rx: 8 }),
              svg('text', { class: 'lane-label', x: 10, y: 17 }, node.type === 'Map' ? 'Item processor' : `Branch ${i + 1}`));
            lanes.append(laneGroup);
            const inner = svg('g', { transform: `translate(${L.lanePadX + (lane.boxW - 2 * L.lanePadX - lane.w) / 2},${L.lanePadTop})` });
            laneGroup.append(inner);
            this.drawMachine(lane, inner);
          });
        } else {
          state.append(title,
            svg('rect', { class: 'box', width: it.w, height: it.h, rx: 8 }),
            svg('text', { class: 'name', x: 14, y: 20 }, it.label));
          kind.setAttribute('x', 14);
          kind.setAttribute('y', 36);
          glyph.setAttribute('x', it.w - 18);
          glyph.setAttribute('y', 28);
          state.append(kind, glyph);
        }
        if (node.end) {
          // A small terminal mark below a state that ends its machine.
          const hasOut = layoutHasOut(layout, it);
          const mx = hasOut ? it.w - 16 : it.w / 2;
          group.append(svg('g', { class: 'end-mark' },
            svg('line', { x1: mx, y1: it.h, x2: mx, y2: it.h + 9 }),
            svg('circle', { cx: mx, cy: it.h + 13, r: 4 })));
        }
        this.nodeElements.set(node, { state, glyph, kind, title, type: node.type, status: 'not-reached', count: 0 });
      }
    }

    // Updates only nodes whose outcome or run count changed; returns how
    // many states have each outcome, for the legend.
    refresh(analysis, running) {
      const counts = new Map();
      for (const [node, view] of this.nodeElements) {
        const status = nodeOutcome(node, running);
        counts.set(status, (counts.get(status) || 0) + 1);
        const count = node.occurrences.length;
        const statusChanged = status !== view.status;
        if (statusChanged) {
          view.status = status;
          view.state.dataset.status = status;
          view.glyph.textContent = OUTCOME_GLYPH.get(status);
        }
        if (statusChanged || count !== view.count) {
          view.count = count;
          view.kind.textContent = count > 1 ? `${view.type} \u00b7 ${count} runs` : view.type;
          view.title.textContent = `${node.name} (${view.type}): ${OUTCOME_LABEL.get(status)}${count > 1 ? `, ${count} runs` : ''}`;
        }
      }
      for (const key of analysis.taken) {
        if (this.shownTaken.has(key)) continue;
        this.shownTaken.add(key);
        const path = this.edgeElements.get(key);
        if (path) {
          path.classList.add('taken');
          path.setAttribute('marker-end', 'url(#arrow-taken)');
        }
      }
      return counts;
    }

    select(node) {
      if (this.selected) this.selected.classList.remove('selected');
      const view = this.nodeElements.get(node);
      this.selected = view ? view.state : null;
      if (this.selected) this.selected.classList.add('selected');
    }
  }

  function layoutHasOut(layout, it) {
    return layout.edges.some((e) => e.from === it && !e.back);
  }

  function arrowMarker(id, cls) {
    return svg('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 5.5, markerHeight: 5.5, orient: 'auto-start-reverse' },
      svg('path', { class: cls, d: 'M0,0 L10,5 L0,10 z' }));
  }

  function edgePath(e, layout) {
    const points = [[e.outX, e.from.y + e.from.h]];
    for (const d of e.chain) {
      points.push([d.cx, layout.tops[d.layer]]);
      points.push([d.cx, layout.tops[d.layer] + layout.heights[d.layer]]);
    }
    points.push([e.inX, e.to.y]);
    let d = `M${r(points[0][0])},${r(points[0][1])}`;
    for (let i = 1; i < points.length; i++) {
      const [x0, y0] = points[i - 1];
      const [x1, y1] = points[i];
      if (Math.abs(x0 - x1) < 0.5) {
        d += ` L${r(x1)},${r(y1)}`;
      } else {
        const my = (y0 + y1) / 2;
        d += ` C${r(x0)},${r(my)} ${r(x1)},${r(my)} ${r(x1)},${r(y1)}`;
      }
    }
    return d;
  }

  function loopPath(e) {
    const right = e.side === 'right';
    const fromX = right ? e.from.cx + e.from.w / 2 : e.from.cx - e.from.w / 2;
    const toX = right ? e.to.cx + e.to.w / 2 : e.to.cx - e.to.w / 2;
    const self = e.from === e.to;
    const y0 = e.from.y + e.from.h / 2 + (self ? 8 : 0);
    const y1 = e.to.y + e.to.h / 2 - (self ? 8 : 0);
    const x = e.routeX;
    const s = right ? 1 : -1;
    const rad = Math.min(8, Math.abs(y0 - y1) / 2);
    return `M${r(fromX)},${r(y0)} H${r(x - s * rad)} Q${r(x)},${r(y0)} ${r(x)},${r(y0 - rad)}`
      + ` V${r(y1 + rad)} Q${r(x)},${r(y1)} ${r(x - s * rad)},${r(y1)} H${r(toX)}`;
  }

  const r = (v) => Math.round(v * 10) / 10;

  // ---------------------------------------------------------------- state details

  class StatePanel {
    constructor(analysis) {
      this.analysis = analysis;
      this.element = el('aside', { class: 'state-panel', 'aria-live': 'polite' });
      this.node = null;
      this.pick = null;
      this.running = false;
      this.element.append(el('p', { class: 'hint' }, 'Select a state in the graph to see its input and output.'));
    }

    show(node) {
      this.node = node;
      this.pick = null;
      this.render();
    }

    // Re-renders only when the shown state has new events or the
    // execution ended, so a poll does not reset what the reader scrolled.
    refresh(running, touched) {
      const ended = running !== this.running;
      this.running = running;
      if (this.node && (ended || touched.has(this.node))) this.render();
    }

    render() {
      const node = this.node;
      const runs = node.occurrences;
      const status = nodeOutcome(node, this.running);
      const parts = [
        el('div', { class: 'panel-head' },
          el('h3', null, node.name),
          el('span', { class: 'outcome', dataset: { status } }, OUTCOME_LABEL.get(status))),
        el('div', { class: 'panel-type' }, node.type),
      ];
      if (!runs.length) {
        parts.push(el('p', { class: 'hint' }, 'This state was not reached.'));
        this.element.replaceChildren(...parts);
        return;
      }
      const index = this.pick === null ? runs.length - 1 : Math.min(this.pick, runs.length - 1);
      if (runs.length > 1) {
        // The newest 500 runs: a select of every Map iteration would be
        // a long list nobody scrolls.
        const from = Math.max(0, runs.length - 500);
        const select = el('select', { class: 'run-select', 'aria-label': 'Run of this state' });
        for (let i = from; i < runs.length; i++) {
          const occ = runs[i];
          const label = `Run ${i + 1} of ${runs.length}` + (occ.iteration !== null && occ.iteration !== undefined ? ` \u00b7 item ${occ.iteration}` : '')
            + ` \u00b7 ${OUTCOME_LABEL.get(occurrenceOutcome(occ, this.running)).toLowerCase()}`;
          select.append(el('option', { value: String(i), selected: i === index }, label));
        }
        select.addEventListener('change', () => {
          this.pick = Number(select.value);
          this.render();
        });
        parts.push(select);
      }
      const occ = runs[index];
      const outcome = occurrenceOutcome(occ, this.running);
      parts.push(el('dl', { class: 'meta compact' },
        el('dt', null, 'Outcome'), el('dd', null, OUTCOME_LABEL.get(outcome)),
        el('dt', null, 'Entered'), el('dd', null, formatTime(occ.enteredAt)),
        el('dt', null, 'Exited'), el('dd', null, occ.exitedAt ? `${formatTime(occ.exitedAt)} (${formatDuration(occ.exitedAt - occ.enteredAt)})` : '\u2014')));
      for (const failure of occ.errors) {
        parts.push(el('div', { class: 'error-box small' },
          el('strong', { class: 'error-type' }, (failure.error || failure.type) + (failure.error ? ` (${failure.type})` : '')),
          failure.cause ? codeBlock(prettyJson(failure.cause), 'cause') : null));
      }
      parts.push(el('h4', null, 'Input'), codeBlock(occ.input === undefined ? '' : prettyJson(occ.input), 'state-input'));
      parts.push(el('h4', null, 'Output'), occ.exited
        ? codeBlock(prettyJson(occ.output), 'state-output')
        : el('p', { class: 'hint' }, outcome === 'running' ? 'Not exited yet.' : 'The state did not exit.'));
      this.element.replaceChildren(...parts);
    }
  }

  // ---------------------------------------------------------------- events

  class EventTable {
    constructor(analysis, startMs) {
      this.analysis = analysis;
      this.startMs = startMs;
      this.events = [];
      this.byId = new Map();
      this.rendered = 0;
      this.limit = TABLE_CHUNK;
      this.tbody = el('tbody');
      this.counter = el('span', { class: 'count' });
      this.more = el('button', { type: 'button', class: 'button more', hidden: true }, '');
      this.more.addEventListener('click', () => {
        this.limit += TABLE_CHUNK;
        this.renderRows();
      });
      this.tbody.addEventListener('click', (ev) => {
        if (ev.target.closest('a')) return;
        const row = ev.target.closest('tr.event');
        if (row) this.toggle(row);
      });
      this.element = el('div', null,
        table(['', 'ID', 'Type', 'State', 'Elapsed', 'Timestamp', 'Details'], this.tbody, 'events'),
        el('div', { class: 'table-foot' }, this.more));
    }

    append(events) {
      for (const e of events) {
        this.events.push(e);
        this.byId.set(e.id, e);
      }
      this.renderRows();
    }

    renderRows() {
      const fragment = document.createDocumentFragment();
      const end = Math.min(this.events.length, this.limit);
      for (; this.rendered < end; this.rendered++) fragment.append(this.row(this.events[this.rendered]));
      this.tbody.append(fragment);
      const hidden = this.events.length - this.rendered;
      this.more.hidden = hidden <= 0;
      this.more.textContent = `Show ${Math.min(hidden, TABLE_CHUNK)} more (${hidden} not shown)`;
      this.counter.textContent = this.events.length + (this.events.length === 1 ? ' event' : ' events');
    }

    row(e) {
      const type = String(e.type || '');
      const at = toMillis(e.timestamp);
      const category = /(Failed|TimedOut)$/.test(type) ? 'bad' : /Aborted$/.test(type) ? 'warn' : /Succeeded$/.test(type) ? 'good' : '';
      return el('tr', { class: 'event', dataset: { eventId: String(e.id), eventType: type } },
        el('td', { class: 'toggle' }, el('button', { type: 'button', class: 'expand', 'aria-expanded': 'false', 'aria-label': 'Show event details' }, '\u25B8')),
        el('td', { class: 'num' }, String(e.id)),
        el('td', { class: 'etype ' + category }, type),
        el('td', { class: 'estate' }, this.analysis.stateOfEvent.get(e.id) || ''),
        el('td', { class: 'num nowrap' }, at !== null && this.startMs !== null ? '+' + formatDuration(at - this.startMs) : ''),
        el('td', { class: 'nowrap muted' }, formatTime(at)),
        el('td', { class: 'summary' }, eventSummary(e)));
    }

    // Details are built on first expansion only: most rows are never
    // opened, and a 10,000-row history must not carry 10,000 JSON dumps.
    toggle(row) {
      const button = row.querySelector('.expand');
      const next = row.nextElementSibling;
      if (next && next.classList.contains('event-detail')) {
        next.remove();
        button.setAttribute('aria-expanded', 'false');
        button.textContent = '\u25B8';
        return;
      }
      const e = this.byId.get(Number(row.dataset.eventId));
      if (!e) return;
      row.after(el('tr', { class: 'event-detail' }, el('td', { colspan: '7' }, codeBlock(JSON.stringify(readableEvent(e), null, 2)))));
      button.setAttribute('aria-expanded', 'true');
      button.textContent = '\u25BE';
    }
  }

  // The event with its input/output JSON text parsed, for reading.
  function readableEvent(e) {
    const copy = {};
    for (const [key, value] of Object.entries(e)) {
      if (key.endsWith('EventDetails') && value && typeof value === 'object') {
        const details = {};
        for (const [k, v] of Object.entries(value)) {
          if ((k === 'input' || k === 'output' || k === 'parameters') && typeof v === 'string') {
            try {
              details[k] = JSON.parse(v);
              continue;
            } catch (_) {
              // Not JSON: shown as the text it is.
            }
          }
          details[k] = v;
        }
        copy[key] = details;
      } else {
        copy[key] = value;
      }
    }
    return copy;
  }

  function eventSummary(e) {
    const d = eventDetails(e);
    if (!d) return '';
    if (d.error || d.cause) return clip([d.error, d.cause].filter(Boolean).join(': '), 200);
    if (typeof d.index === 'number') return `item ${d.index}`;
    if (typeof d.output === 'string') return clip(d.output, 200);
    if (typeof d.input === 'string') return clip(d.input, 200);
    if (d.resource) return clip(`${d.resourceType || ''}:${d.resource}`, 200);
    if (typeof d.length === 'number') return `${d.length} items`;
    return '';
  }

  // ---------------------------------------------------------------- self-test

  // #/selftest: the signing code against published vectors, once with the
  // page's own SHA-256 and HMAC and once more with WebCrypto where the
  // browser has it. Not linked from the page: it answers "does this
  // browser sign correctly?", and the end-to-end test reads it.
  const AWS_EXAMPLE_KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const bytesOf = (length, byteAt) => Uint8Array.from({ length }, (_, i) => byteAt(i));

  const SIGNING_VECTORS = [
    // FIPS 180-2 appendix B and the NIST example values.
    { name: 'sha256-empty', expected: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      run: async (d) => hex(await d.sha256(utf8(''))) },
    { name: 'sha256-abc', expected: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      run: async (d) => hex(await d.sha256(utf8('abc'))) },
    { name: 'sha256-448-bits', expected: '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
      run: async (d) => hex(await d.sha256(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))) },
    { name: 'sha256-896-bits', expected: 'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
      run: async (d) => hex(await d.sha256(utf8('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'))) },
    { name: 'sha256-million-a', expected: 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
      run: async (d) => hex(await d.sha256(bytesOf(1000000, () => 0x61))) },
    // Multi-byte UTF-8, as request bodies carry it.
    { name: 'sha256-utf8', expected: '07a8e13df7e5a2de962b2265b7b3f52ba35d6c92af7fc2881dcf165aeb30e852',
      run: async (d) => hex(await d.sha256(utf8('zoomvault \u2713 \u65e5\u672c \u{1F3AC}'))) },
    // Every length from 0 to 200 bytes (bytes 0, 1, 2, ...), across each
    // padding boundary: the SHA-256 of the digests' hex, one after another.
    { name: 'sha256-lengths-0-200', expected: 'b367ea311264aae50e6260b96a10761169ce3eec5d5f8f2258351f82c7252776',
      run: async (d) => {
        let all = '';
        for (let length = 0; length <= 200; length++) all += hex(await d.sha256(bytesOf(length, (i) => i & 0xff)));
        return hex(await d.sha256(utf8(all)));
      } },
    // RFC 4231 test cases 1, 2 and 6 (a key longer than the block).
    { name: 'hmac-rfc4231-1', expected: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
      run: async (d) => hex(await d.hmac(bytesOf(20, () => 0x0b), utf8('Hi There'))) },
    { name: 'hmac-rfc4231-2', expected: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      run: async (d) => hex(await d.hmac(utf8('Jefe'), utf8('what do ya want for nothing?'))) },
    { name: 'hmac-rfc4231-6', expected: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
      run: async (d) => hex(await d.hmac(bytesOf(131, () => 0xaa), utf8('Test Using Larger Than Block-Size Key - Hash Key First'))) },
    // AWS's signing-key example (Signature Version 4 documentation).
    { name: 'sigv4-signing-key', expected: 'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9',
      run: async (d) => hex(await signingKey(d, AWS_EXAMPLE_KEY.secretAccessKey, '20150830', 'us-east-1', 'iam')) },
    // AWS's SigV4 test suite, get-vanilla.
    { name: 'sigv4-get-vanilla',
      expected: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, '
        + 'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
      run: (d) => sigv4Authorization(d, AWS_EXAMPLE_KEY, {
        method: 'GET',
        path: '/',
        headers: [['Host', 'example.amazonaws.com'], ['X-Amz-Date', '20150830T123600Z']],
        body: new Uint8Array(0),
        amzDate: '20150830T123600Z',
        region: 'us-east-1',
        service: 'service',
      }) },
    // A call as the console signs it, body with multi-byte UTF-8. No
    // published vector exists for it; the end-to-end test has the server's
    // verifier check this header.
    { name: 'sigv4-json-post',
      expected: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/states/aws4_request, '
        + 'SignedHeaders=content-type;host;x-amz-date;x-amz-target, '
        + 'Signature=9d1f8beb7d78fc4b56dbabc4d5fe5baef710385374e799318b62f43ac80f1fc4',
      run: async (d) => (await signedJsonHeaders(d, AWS_EXAMPLE_KEY, {
        host: 'console.example:8443',
        target: TARGET_PREFIX + 'DescribeExecution',
        body: utf8(JSON.stringify({ executionArn: 'arn:aws:states:us-east-1:123456789012:execution:demo:r\u00e9union-\u2713-\u{1F3AC}' })),
        amzDate: '20150830T123600Z',
      })).Authorization },
  ];

  async function selfTestView(main) {
    document.title = 'Signing self-test \u00b7 zoomvault';
    const implementations = digests === scriptDigests ? [scriptDigests] : [scriptDigests, digests];
    const tbody = el('tbody');
    let failed = 0;
    for (const d of implementations) {
      for (const vector of SIGNING_VECTORS) {
        let actual;
        try {
          actual = await vector.run(d);
        } catch (err) {
          actual = 'threw: ' + (err.message || String(err));
        }
        const pass = actual === vector.expected;
        if (!pass) failed++;
        tbody.append(el('tr', { class: 'vector', dataset: { vector: vector.name, implementation: d.name, result: pass ? 'pass' : 'fail' } },
          el('td', { class: 'nowrap' }, vector.name),
          el('td', null, d.name),
          el('td', null, el('span', { class: 'outcome', dataset: { status: pass ? 'succeeded' : 'failed' } }, pass ? 'pass' : 'FAIL')),
          el('td', { class: 'mono actual' }, actual),
          el('td', { class: 'mono expected' }, vector.expected)));
      }
    }
    const total = implementations.length * SIGNING_VECTORS.length;
    main.append(
      pageHead('Signing self-test', el('span', { class: 'count', dataset: { failed: String(failed) } },
        failed ? `${failed} of ${total} failed` : `all ${total} passed`)),
      el('p', { class: 'hint' }, digests === scriptDigests
        ? "WebCrypto is not available here (not a secure context), so requests are signed with the page's own SHA-256."
        : 'Requests are signed with WebCrypto; the page\'s own SHA-256 is checked too.'),
      card(null, table(['Vector', 'Implementation', 'Result', 'Computed', 'Expected'], tbody, 'vectors')));
  }

  navigate();
  window.addEventListener('hashchange', navigate);
})();
