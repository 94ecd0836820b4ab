/* zoomvault console: the console's addresses, all in the location hash.
 *
 * Owns: building the hash link of each view (with ARNs encoded) and
 * reading the current hash back into a view name, its argument and its
 * parameters.
 *
 * Must not: put anything secret in an address (the key never appears
 * here), or navigate by itself: console.js renders what the hash names.
 */

// ARNs go into the hash encoded, except ':' which is legal there and keeps
// the address readable.
const encodePart = (s) => encodeURIComponent(s).replace(/%3A/gi, ':');

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}

export const links = {
  stateMachines: () => '#/',
  stateMachine: (arn, params) => '#/state-machine/' + encodePart(arn) + query(params),
  executions: (params) => '#/executions' + query(params),
  execution: (arn, params) => '#/execution/' + encodePart(arn) + query(params),
};

export function parseHash() {
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
