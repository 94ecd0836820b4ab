/* zoomvault console: the page's entry module, hand-written, served as is
 * and loaded by index.html as a native ES module; it imports the rest
 * from /console/js/, one module per job:
 *
 *   dom.js, components.js, format.js   building the page, as text only
 *   links.js                           the hash addresses of the views
 *   sigv4.js, credentials.js, api.js   signing, the key, the API client
 *   *-view.js                          the views
 *   asl.js, history.js                 a definition and a history, read
 *   layout.js, graph.js                the state graph, laid out and drawn
 *
 * Owns: hash routing (which view renders, the navigation's highlight) and
 * what a refused signature does to a view (the sign-in form).
 *
 * Must not, here or in any module: keep the key anywhere but this tab's
 * sessionStorage (credentials.js), put it in an address, or log it; put
 * API data into the page as markup (every name, input, output and error
 * cause reaches the DOM as a text node or as an attribute set through
 * dom.js; no HTML string is ever parsed). The server's
 * Content-Security-Policy (only this origin's scripts, none inline) is
 * the second line of defence. No dependencies and no build step, so the
 * binary embeds these files and the console works offline.
 */

import { isAuthError } from './js/api.js';
import { errorBox, pageHead } from './js/components.js';
import { credentialsStore } from './js/credentials.js';
import { el } from './js/dom.js';
import { executionView } from './js/execution-view.js';
import { executionsView } from './js/executions-view.js';
import { parseHash } from './js/links.js';
import { selfTestView } from './js/selftest-view.js';
import { renderSession, signInView } from './js/signin-view.js';
import { stateMachineView, stateMachinesView } from './js/state-machines-view.js';

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
      render = () => executionsView(main, signal, params, navigate);
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
  renderSession(navigate);
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
        renderSession(navigate);
        main.replaceChildren(signInView(main, signal, err, refusedKey, navigate));
        main.dataset.console = 'signin';
        return;
      }
      main.append(errorBox(err));
      main.dataset.console = 'error';
    },
  );
}

navigate();
window.addEventListener('hashchange', navigate);
