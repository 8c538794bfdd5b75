// Release provenance in the page: which CI identity may sign the releases a
// page accepts, fetching their Sigstore bundles and verifying them in the
// wasm (cvmtrust.verifyRelease). A verified bundle yields the launch
// manifest from the signed statement, whose launch digest the wasm
// recomputes; that digest is what the server's attestation must carry.
// No DOM here; <cvm-attest> reads its release-* attributes with
// releaseOptionsOf and shows releaseFacts.

import { fetchText, loadVerifier, ownData } from './verifier.js';

/**
 * Throws when the page's import map sends this module's one import,
 * verifier.js, elsewhere: checked with this module's own code, since the
 * checks verifier.js exports would be the rerouted module's.
 */
function checkOwnImport() {
  if (import.meta.resolve?.('./verifier.js') !== new URL('./verifier.js', import.meta.url).href) {
    const err = new Error('This page is set up wrong: its import map sends the verifier’s own files (verifier.js) to other addresses than this build of the verifier put them, so nothing the verifier checked could be trusted.');
    err.code = 'page_setup';
    throw err;
  }
}

/** The GitHub Actions OIDC issuer: the default release-issuer. */
export const githubActionsIssuer = 'https://token.actions.githubusercontent.com';
/** The default release-workflow. */
export const defaultReleaseWorkflow = '.github/workflows/release.yml';
/** The default release-ref: a glob (* and ? do not cross '/') for a version tag. */
export const defaultReleaseRef = 'refs/tags/v*';
/** Where a gateway serves the bundle of the release it runs, when the page names none. */
export const gatewayBundlePath = 'release/bundle.sigstore.json';

// A bundle is a few kilobytes; anything far larger is refused unread.
const maxBundleBytes = 1 << 20;

/**
 * The default release-max-age, 90 days: how long after it was signed a
 * release stays acceptable, on a page that says nothing about age. Without a
 * limit, a server could be rolled back to any release ever signed, one
 * withdrawn for a flaw among them; with it, a withdrawn release stops being
 * accepted everywhere within 90 days once the project stops re-signing it. A
 * project that ships, or re-signs the release it runs, at least every
 * quarter stays within it (the same cadence as a 90-day TLS certificate's
 * renewal). A page may ask for less; only release-max-age-unsafe (in the JS
 * API, maxAgeUnsafe) allows more, or none.
 */
export const defaultReleaseMaxAgeSeconds = 90 * 86400;

/**
 * The element attributes that name who may sign releases, with their
 * property names. All are strings; release-max-age is a duration such as
 * "90d", "720h" or "3600s".
 */
export const releaseAttributes = {
  'release-repository': 'releaseRepository',
  'release-issuer': 'releaseIssuer',
  'release-workflow': 'releaseWorkflow',
  'release-ref': 'releaseRef',
  'release-identity': 'releaseIdentity',
  'release-max-age': 'releaseMaxAge',
  'release-max-age-unsafe': 'releaseMaxAgeUnsafe',
  'release-min': 'releaseMin',
  'release-bundle': 'releaseBundle',
  'release-trust-simulated-root': 'releaseTrustSimulatedRoot',
};

/** Adds the reflected string properties of releaseAttributes to an element class. */
export function defineReleaseProperties(cls) {
  for (const [attr, prop] of Object.entries(releaseAttributes)) {
    Object.defineProperty(cls.prototype, prop, {
      configurable: true,
      enumerable: true,
      get() { return this.getAttribute(attr) ?? ''; },
      set(v) {
        if (v === null || v === undefined || v === '') this.removeAttribute(attr);
        else this.setAttribute(attr, String(v));
      },
    });
  }
}

/** Parses "90d", "720h", "3600s" or a bare number of seconds (attribute: its name, for the error); throws on anything else. */
export function parseMaxAge(text, attribute = 'release-max-age') {
  const m = /^\s*([0-9]+)\s*([dhs]?)\s*$/.exec(text);
  const seconds = m && Number(m[1]) * { d: 86400, h: 3600, s: 1, '': 1 }[m[2]];
  if (!m || !Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new Error(`${attribute} "${text}" is not a duration such as 90d, 720h or 3600s.`);
  }
  return seconds;
}

/**
 * The age terms of release-max-age and release-max-age-unsafe, as a policy
 * states them (withAgeLimit holds them to the default's rule).
 */
function releaseAgeTerms(maxAge, unsafe) {
  if (maxAge && unsafe) throw new Error('it sets both release-max-age and release-max-age-unsafe; set one.');
  if (unsafe) return unsafe === 'none' ? { maxAgeUnsafe: true } : { maxAgeUnsafe: true, maxAgeSeconds: parseMaxAge(unsafe, 'release-max-age-unsafe') };
  return maxAge ? { maxAgeSeconds: parseMaxAge(maxAge) } : {};
}

/**
 * Parses release-min, the lowest release a page accepts: a version tag
 * (v1.4.0; releases are then compared as semantic versions) or a time with
 * its zone (2026-01-01T00:00:00Z; a release signed earlier is refused).
 * Returns the policy terms { minTag } or { minSignedAt } (seconds).
 */
export function parseReleaseMin(text) {
  // A time must say its zone, or it would be read in the person's own.
  if (/^\d{4}-\d\d-\d\dT.*(Z|[+-]\d\d:\d\d)$/.test(text) && !Number.isNaN(Date.parse(text))) {
    return { minSignedAt: Math.floor(Date.parse(text) / 1000) };
  }
  if (/^v(0|[1-9]\d*)(\.(0|[1-9]\d*)){0,2}(-[0-9A-Za-z.-]+)?$/.test(text)) return { minTag: text };
  throw new Error(`release-min "${text}" is neither a version tag such as v1.4.0 nor a time such as 2026-01-01T00:00:00Z.`);
}

/**
 * A release policy with its age limit: the default when it sets none, a
 * shorter one as it is; a longer one, or none, only with maxAgeUnsafe (in an
 * element, release-max-age-unsafe).
 */
function withAgeLimit(policy) {
  if (policy.maxAgeUnsafe === true) return policy;
  const { maxAgeSeconds = defaultReleaseMaxAgeSeconds } = policy;
  if (!(maxAgeSeconds > 0 && maxAgeSeconds <= defaultReleaseMaxAgeSeconds)) {
    throw new Error(`release-max-age (maxAgeSeconds) of ${maxAgeSeconds / 86400} days is longer than 90 days, the most a page accepts without saying so; to accept older releases, set release-max-age-unsafe (maxAgeUnsafe: true) instead.`);
  }
  return { ...policy, maxAgeSeconds };
}

/**
 * The release options of an element with the release-* attributes, or null
 * when it sets no release-repository or release-identity (then it accepts
 * releases by measurement or manifest only, as before).
 * @returns {null | { policy: object, bundles: string[], trustSimulatedRoot?: string }}
 */
export function releaseOptionsOf(el) {
  const repository = el.getAttribute('release-repository')?.trim() ?? '';
  const identity = el.getAttribute('release-identity')?.trim() ?? '';
  if (!repository && !identity) return null;
  if (repository && !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository)) {
    throw new Error(`release-repository "${repository}" is not OWNER/NAME.`);
  }
  const issuer = el.getAttribute('release-issuer')?.trim() || githubActionsIssuer;
  const workflow = el.getAttribute('release-workflow')?.trim() || defaultReleaseWorkflow;
  const ref = el.getAttribute('release-ref')?.trim() || defaultReleaseRef;
  const policy = { issuer };
  if (identity) policy.identity = identity;
  // The certificate's source repository, the workflow that ran (its build
  // configuration) and the ref it ran for: another workflow, a branch build
  // or a fork cannot sign.
  if (repository) {
    policy.repository = repository;
    policy.workflow = workflow;
    policy.refPattern = ref;
  }
  Object.assign(policy, withAgeLimit(releaseAgeTerms(el.getAttribute('release-max-age')?.trim(), el.getAttribute('release-max-age-unsafe')?.trim())));
  const min = el.getAttribute('release-min')?.trim();
  if (min) Object.assign(policy, parseReleaseMin(min));
  const bundles = (el.getAttribute('release-bundle') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const trustSimulatedRoot = el.getAttribute('release-trust-simulated-root')?.trim() || undefined;
  return { policy, bundles, trustSimulatedRoot };
}

/** An Error a person can read, with the wasm's detail and Result attached. */
function refused(message, props = {}) {
  const err = new Error(message);
  err.code = 'release_refused';
  Object.assign(err, props);
  return err;
}

// Bounded like the evidence: a server that never answers fails the check.
const defaultTimeoutMs = 15000;

async function fetchBundle(fetchFn, url, timeoutMs = defaultTimeoutMs) {
  try {
    // Read as a stream up to the cap and no further, within the timeout.
    return await fetchText(fetchFn, url, 'the signed release', { maxBytes: maxBundleBytes, timeoutMs });
  } catch (cause) {
    throw refused(`The signed release could not be loaded. ${cause.message}`, { bundleUrl: url.href, cause });
  }
}

/**
 * The launch measurement a release bundle states (its DSSE payload's
 * predicate.measurement), read without verifying anything, or undefined.
 * It lets the evidence be verified while the bundle is (verifyGateway); the
 * measurement that counts is the one the wasm verifies and recomputes.
 */
export function claimedMeasurement(body) {
  try {
    const bundle = ownData(typeof body === 'string' ? JSON.parse(body) : body);
    const m = ownData(JSON.parse(atob(bundle.dsseEnvelope.payload))).predicate.measurement;
    return typeof m === 'string' && /^[0-9a-fA-F]{96}$/.test(m) ? m.toLowerCase() : undefined;
  } catch {
    return undefined; // the wasm says what is wrong with it
  }
}

/** A bundle given as JSON or fetched from its URL: { body, url, claim }. */
async function readBundle(bundle, fetchFn, timeoutMs) {
  let url;
  let body = bundle;
  if (typeof bundle === 'string' && !bundle.trimStart().startsWith('{') || bundle instanceof URL) {
    url = new URL(bundle, globalThis.document?.baseURI);
    body = await fetchBundle(fetchFn, url, timeoutMs);
  }
  return { body, url, claim: claimedMeasurement(body) };
}

/**
 * Verifies a read bundle against policy in the wasm; resolves with the
 * release, and the age limit and lowest release it was held to, or rejects
 * as loadRelease.
 */
async function verifyBundle(ns, { body, url }, policy, simulatedTrustedRoot) {
  const terms = withAgeLimit(ownData(policy));
  const got = await ns.verifyRelease(ownData(body), ownData({ ...terms, ...(simulatedTrustedRoot ? { simulatedTrustedRoot } : {}) }));
  if (!got.verified) {
    throw refused(got.reason, { detail: got.detail, result: got.result, bundleUrl: url?.href });
  }
  return Object.freeze({
    ...got,
    release: got.name,
    maxAgeSeconds: terms.maxAgeSeconds ?? null,
    minimum: terms.minTag ?? (terms.minSignedAt !== undefined ? new Date(terms.minSignedAt * 1000).toISOString() : null),
    ...(url ? { bundleUrl: url.href } : {}),
  });
}

/**
 * Verifies one release bundle (its JSON, or a URL to fetch it from) against
 * policy, in the wasm. Resolves with the release (name, measurement,
 * repository, commit, workflow, tag, logIndex, integratedTime, recomputed,
 * simulated, result); rejects with an Error whose code is
 * 'release_refused' and whose message says why in plain words.
 */
export async function loadRelease(bundle, policy, options = {}) {
  checkOwnImport();
  const { fetch: fetchFn = globalThis.fetch, simulatedTrustedRoot, timeoutMs, ...load } = ownData(options);
  // The bundle is fetched while the wasm loads.
  const [read, ns] = await Promise.all([readBundle(bundle, fetchFn, timeoutMs), loadVerifier(load)]);
  return verifyBundle(ns, read, ownData(policy), simulatedTrustedRoot);
}

/**
 * Fetches every bundle of a page's release options, and the simulated
 * trusted root if it names one, all at once: the bundles it names, or else
 * the one the gateway serves at gatewayBundlePath. Resolves with
 * { claims, verify(ns) }: the measurements the bundles state (undefined for
 * one that states none readably), and a function that verifies them all in
 * the wasm and resolves with the releases; any bundle that is refused
 * rejects the whole (capture stays disabled).
 */
export async function fetchSignedReleases(options, context) {
  checkOwnImport();
  const { policy, bundles = [], trustSimulatedRoot } = ownData(options);
  const { gateway, fetch: fetchFn = globalThis.fetch, timeoutMs } = ownData(context);
  const urls = bundles.length ? bundles.map((b) => new URL(b, globalThis.document?.baseURI)) : [new URL(gatewayBundlePath, gateway)];
  const rootURL = trustSimulatedRoot && new URL(trustSimulatedRoot, globalThis.document?.baseURI);
  const [simulatedTrustedRoot, ...read] = await Promise.all([
    rootURL && fetchBundle(fetchFn, rootURL, timeoutMs).catch((err) => {
      throw refused(`The simulated Sigstore trusted root could not be fetched from ${rootURL.href}.`, { cause: err });
    }),
    ...urls.map((u) => readBundle(u, fetchFn, timeoutMs)),
  ]);
  return {
    claims: read.map((r) => r.claim),
    verify: (ns) => Promise.all(read.map((r) => verifyBundle(ns, r, policy, simulatedTrustedRoot))),
  };
}

/** The rows <cvm-attest> shows for a signed release. */
export function releaseFacts(release) {
  if (!release?.result) return [];
  const log = release.logIndex !== undefined
    ? `entry ${release.logIndex}${release.integratedTime || release.signedAt ? `, logged ${release.integratedTime || release.signedAt}` : ''}${release.logUrl ? ` in ${release.logUrl}` : ''}`
    : '—';
  return [
    ['Signed release', release.simulated
      ? 'signed through a SIMULATED Sigstore instance that this page chose to trust for development'
      : 'signed through Sigstore (public-good instance)'],
    ['Repository', release.repositoryUri || release.repository || '—'],
    ['Commit', release.commit || '—'],
    ['Workflow', release.workflow || '—'],
    ['Tag', release.tag || release.ref || '—'],
    ['Transparency log', log],
    ['Launch digest', 'recomputed in this browser from the signed release manifest'],
    ['Release age limit', release.maxAgeSeconds === null ? 'none: a release of any age is accepted (release-max-age-unsafe)'
      : `${+(release.maxAgeSeconds / 86400).toFixed(2)} days${release.maxAgeSeconds === defaultReleaseMaxAgeSeconds ? ' (the default)' : ''}`],
    ['Lowest release accepted', release.minimum ?? 'none set (release-min)'],
  ];
}
