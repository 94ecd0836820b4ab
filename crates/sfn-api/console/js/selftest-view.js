/* zoomvault console: the signing self-test (#/selftest).
 *
 * Owns: the published vectors (FIPS 180, RFC 4231, AWS's SigV4 examples)
 * and a call signed as the console signs it, run against the page's own
 * SHA-256 and, where the browser has it, WebCrypto.
 *
 * Must not: use a real key: the vectors sign with AWS's documented
 * example key only, and never call the API.
 */

import { card, pageHead, table } from './components.js';
import { el } from './dom.js';
import {
  TARGET_PREFIX, digests, hex, scriptDigests, signedJsonHeaders, signingKey, sigv4Authorization, utf8,
} from './sigv4.js';

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

export async function selfTestView(main) {
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
