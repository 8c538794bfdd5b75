// The demo's query parameters, applied before define.js runs (modules run in
// document order), so the element verifies once. A file rather than an inline
// script, so the page runs under a strict Content-Security-Policy.
const el = document.querySelector('cvm-attest');
const q = new URLSearchParams(location.search);
// An expected release given in the query replaces the page's, rather than adding to it.
const expected = ['measurements', 'manifest', 'manifests', 'release-repository', 'release-ref', 'release-trust-simulated-root'];
if (expected.some((name) => q.has(name))) for (const name of expected) el.removeAttribute(name);
for (const name of ['gateway', ...expected, 'trust-simulated-root', 'kds-proxy', 'vmpl', 'min-tcb', 'min-guest-svn', 'timeout',
  'release-bundle', 'release-max-age', 'release-max-age-unsafe', 'release-min', 'release-workflow', 'release-issuer']) {
  if (q.has(name)) el.setAttribute(name, q.get(name));
}
// A boolean attribute: ?name sets it, ?name=off removes one the page has.
for (const name of ['require-no-smt', 'badge-only', 'unchecked-revocation-unsafe', 'tcb-below-bulletins-unsafe']) {
  if (q.get(name) === 'off') el.removeAttribute(name);
  else if (q.has(name)) el.setAttribute(name, '');
}
if (q.get('trust-simulated-root') === '') el.removeAttribute('trust-simulated-root');
