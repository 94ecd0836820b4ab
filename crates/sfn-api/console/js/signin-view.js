/* zoomvault console: signing in and out.
 *
 * Owns: the sign-in form shown when the API refuses a request for its
 * signature (the key is tried with one small call before it is kept),
 * and the top bar's "Signed in as" with its way out.
 *
 * Must not: let the key leave the tab. The inputs have no `name` and the
 * script takes over the submission (the policy's form-action 'none' stops
 * any other), the key is kept only through credentials.js, and only the
 * access key ID is ever shown. Built with dom.js, so text only.
 */

import { send } from './api.js';
import { errorBox } from './components.js';
import { credentialsStore } from './credentials.js';
import { el } from './dom.js';
import { SIGNING_REGION, SIGNING_SERVICE, digests, scriptDigests } from './sigv4.js';

// Who the console signs as, and the way out, in the top bar. `navigate`
// renders the view the address names, now without the key.
export function renderSession(navigate) {
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
// `navigate` renders the view the address names once the key is kept.
export function signInView(main, signal, refusal, refusedKey, navigate) {
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
