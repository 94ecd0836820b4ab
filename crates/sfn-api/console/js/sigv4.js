/* zoomvault console: AWS Signature Version 4, as the AWS SDKs sign a
 * JSON 1.0 call, and the SHA-256 and HMAC-SHA256 it rests on.
 *
 * Owns: the canonical request, the signing key and the Authorization
 * header; the scope the console signs for; a SHA-256 and HMAC-SHA256
 * written out in script for pages without WebCrypto (plain http beyond
 * localhost), and the choice between them and WebCrypto (`digests`).
 *
 * Must not: keep, send or log the key it is handed. It computes headers
 * and returns them; `api.js` sends them, `credentials.js` keeps the key.
 * No DOM.
 */

// A server that listens beyond loopback accepts only requests signed with
// its API key (AWS Signature Version 4), so the console signs each call
// exactly as the AWS SDKs sign a JSON 1.0 call. WebCrypto exists only in
// secure contexts (https, localhost), and a console reached over plain
// http at a LAN address is the very case that needs signing, so SHA-256
// and HMAC-SHA256 are also written out here. #/selftest checks both
// against published vectors.

export const utf8 = (text) => new TextEncoder().encode(text);
export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

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
export const scriptDigests = {
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
export const digests = window.crypto && window.crypto.subtle ? webCryptoDigests(window.crypto.subtle) : scriptDigests;

const SIGNING_ALGORITHM = 'AWS4-HMAC-SHA256';
// zoomvault's verifier takes any scope; these are what an AWS SDK
// configured for Step Functions in us-east-1 signs for.
export const SIGNING_REGION = 'us-east-1';
export const SIGNING_SERVICE = 'states';
export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
export const TARGET_PREFIX = 'AWSStepFunctions.';

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
export async function signingKey(d, secretAccessKey, date, region, service) {
  let key = await d.hmac(utf8('AWS4' + secretAccessKey), utf8(date));
  for (const part of [region, service, 'aws4_request']) key = await d.hmac(key, utf8(part));
  return key;
}

// The SigV4 Authorization header for a request with every one of
// `headers` ([name, value] pairs) signed. `path` must already be in
// canonical form, and there is no query string: the console only ever
// sends `POST /`.
export async function sigv4Authorization(d, credentials, { method, path, headers, body, amzDate, region, service }) {
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
export async function signedJsonHeaders(d, credentials, { host, target, body, amzDate }) {
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
export const amzDate = (ms) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
