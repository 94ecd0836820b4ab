/* zoomvault console: where the API key the reader signs in with is kept.
 *
 * Owns: the key's one home, this tab's sessionStorage, and reading,
 * writing and forgetting it there.
 *
 * Must not: put the key in storage that outlives the tab, a cookie, the
 * address or a log. Any other module that needs the key asks
 * `credentialsStore` and keeps it no longer than one call.
 */

// The API key, in this tab's sessionStorage: it survives reloads and
// moving between views, is gone when the tab closes or on sign-out, and
// is never put in the address, a cookie or a log.
export const credentialsStore = {
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
