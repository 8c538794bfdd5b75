// The JS API over the wasm verifier: load it, verify a gateway's evidence
// against a fresh nonce, and seal bytes to the key a verified gateway
// attested (HPKE in the page, with hpke-js from dist/hpke.js). No DOM here;
// the <cvm-attest> element builds on it.

// The build's pin of the wasm (scripts/build-pins.mjs): a page that pins
// this module, through its import map, pins the wasm too.
import { wasmIntegrity } from './dist/integrity.js';
import { fetchSignedReleases } from './release.js';

const defaultWasmURL = new URL('./dist/cvmtrust.wasm', import.meta.url);
const defaultWasmExecURL = new URL('./dist/wasm_exec.js', import.meta.url);
const defaultHpkeURL = new URL('./dist/hpke.js', import.meta.url);

/**
 * The files this build of the verifier loads, where the build lays them out
 * beside this module. An import map can send any of them elsewhere, through
 * its "imports" or its "scopes": a rerouted hpke.js would see the capture
 * before it is sealed, a rerouted wasm_exec.js or integrity.js would run
 * another verifier. So where each resolves from here (import.meta.resolve,
 * which applies the page's import map as an import from this module would)
 * must be where the build put it, or the verifier refuses to load, to
 * verify and to seal.
 */
const pinnedFiles = ['./release.js', './dist/integrity.js', './dist/wasm_exec.js', './dist/hpke.js', './dist/cvmtrust.wasm'];

/**
 * Of files (relative to meta.url), the names of those the page's import map
 * sends elsewhere, or blocks.
 */
function reroutedFiles(meta, files) {
  return files.filter((file) => {
    try {
      return meta.resolve(file) !== new URL(file, meta.url).href;
    } catch {
      return true;
    }
  }).map((file) => file.slice(file.lastIndexOf('/') + 1));
}

/**
 * Throws, in words, when this browser cannot tell where files (relative to
 * meta.url) resolve, or when the page's import map sends one elsewhere.
 * Without import.meta.resolve (an engine older than Chromium 105, Firefox
 * 106, Safari 16.4) the check cannot be made, and the verifier does not run.
 */
export function checkPinnedFiles(meta, files) {
  if (typeof meta.resolve !== 'function') {
    const err = new Error('This browser is too old to check where this page loads the verifier from (import.meta.resolve). Open the page in a current browser.');
    err.code = 'old_browser';
    throw err;
  }
  const moved = reroutedFiles(meta, files);
  if (moved.length === 0) return;
  const err = new Error(`This page is set up wrong: its import map sends the verifier’s own files (${moved.join(', ')}) to other addresses than this build of the verifier put them, so nothing the verifier checked could be trusted.`);
  err.code = 'page_setup';
  throw err;
}

/**
 * Results that verified with a fresh nonce, mapped to what the wasm bound:
 * { gateway, sealTo: { kem, kdf, aead, publicKey, reportSha384 } }. Only
 * these can be sealed to, and only to those key bytes.
 */
const verifiedEvidence = new WeakMap();

let loading;

/** How deep options may nest: far more than any has, and a bound on a cyclic one. */
const maxOptionDepth = 16;

/**
 * A copy of an argument as plain data: an object becomes a null-prototype
 * object of its own enumerable properties, an array a new array of its own
 * elements (a hole stays undefined), at every depth; anything else (strings,
 * numbers, functions, a Uint8Array, a URL) stays as it is. What
 * Object.prototype has (set by a library's bug, or a hostile script) then
 * reads as absent, here and in the wasm, which reads own properties only
 * too: Object.prototype.policy = { allowDebug: true } is no option. The
 * dictionaries this module hands the platform (fetch's and Response's
 * init) are made so too: the browser reads their members through the
 * prototype chain.
 */
export function ownData(value, depth = 0) {
  if (value === null || typeof value !== 'object') return value;
  if (depth > maxOptionDepth) throw new TypeError('cvmtrust: an argument nests too deep');
  if (Array.isArray(value)) {
    const out = [];
    for (let i = 0; i < value.length; i++) out.push(Object.hasOwn(value, i) ? ownData(value[i], depth + 1) : undefined);
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out = Object.create(null);
  for (const key of Object.keys(value)) out[key] = ownData(value[key], depth + 1);
  return out;
}

/**
 * Loads and starts the wasm verifier once per page; later calls return the
 * same Promise. A failed load is not cached, so a retry can succeed.
 * @param {import('./index.js').LoadOptions} [options]
 */
export function loadVerifier(options = {}) {
  loading ??= startVerifier(ownData(options)).catch((err) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

async function startVerifier({ wasmURL = defaultWasmURL, wasmExecURL = defaultWasmExecURL, integrity = wasmIntegrity, stallTimeoutMs = defaultStallMs } = {}) {
  checkPinnedFiles(import.meta, pinnedFiles);
  // Compile while Go's loader is fetched: the two do not depend on each other.
  const compiling = compile(wasmURL, integrity, stallTimeoutMs);
  // Go's loader, as the build makes it: a module exporting Go, which leaves
  // a globalThis.Go of the page's alone (scripts/build-modules.mjs). A
  // wasmExecURL of Go's file as Go ships it, which sets globalThis.Go, works
  // too.
  const loader = await import(String(wasmExecURL));
  const Go = loader.Go ?? globalThis.Go;
  const module = await compiling;
  mark('cvmtrust:compiled');
  const go = new Go();
  const instance = await WebAssembly.instantiate(module, go.importObject);
  // The Go program's main hands over its namespace through the ready hook
  // before it first waits (wasm/main.go), so within go.run's synchronous
  // part. The hook is set right before and taken down right after, with no
  // await between: another copy of these modules in the page (another
  // version, or this one under another URL) starting its own verifier can
  // never take this one's, nor this one take its. (A hook set before the
  // await above was once taken so, and the other copy's load never ended.)
  let ns;
  globalThis.__cvmtrustReady = (value) => { ns = value; };
  let exited;
  try {
    exited = go.run(instance);
  } finally {
    delete globalThis.__cvmtrustReady;
  }
  exited.catch(() => {});
  // Not waited for: a program that waits before handing over its namespace
  // (against wasm/main.go's rule) fails here at once rather than never.
  if (!ns) throw new Error('cvmtrust: the verifier did not start (see the console)');
  mark('cvmtrust:ready');
  return ns;
}

/**
 * How long the wasm's download may go without a byte (before its headers, or
 * between two parts of its body) before it is given up. Not a bound on the
 * whole download: 660 KB take a while on a slow network, and keep coming.
 */
const defaultStallMs = 20000;

// The wasm is compiled while it streams in, and hashed at the same time;
// compile() returns the module only when the bytes are the ones integrity
// pins, so a wasm that is not this build is compiled, maybe, but never
// instantiated: never run. (fetch's own integrity option holds the body back
// until the whole of it is checked, and measured slower in Chromium.) A
// download that stalls for stallMs is aborted, and the load rejects.
async function compile(wasmURL, integrity, stallMs) {
  const url = new URL(wasmURL, globalThis.document?.baseURI ?? globalThis.location?.href);
  // Renewed as each part of the body arrives: a bound on a stall only.
  const stall = withTimeout(stallMs);
  const failed = (err) => {
    if (!stall.expired()) return err;
    const stalled = new Error(`The verifier’s download from ${url.origin} stopped: nothing came for ${Math.round(stallMs / 1000)} seconds. Check your connection and try again.`, { cause: err });
    stalled.code = 'timeout';
    return stalled;
  };
  try {
    const res = await fetch(url, ownData({ signal: stall.signal })).catch((err) => { throw failed(err); });
    if (!res.ok || !res.body) throw new Error(`cvmtrust: cannot load the verifier (${res.status} ${res.statusText} for ${res.url})`);
    const [toCompile, toHash] = res.body.tee();
    const bytes = readBytes(toHash, stall.renew);
    // Streaming whatever type the server sends: the bytes are checked below.
    const compiling = typeof WebAssembly.compileStreaming === 'function'
      ? WebAssembly.compileStreaming(new Response(toCompile, ownData({ headers: { 'Content-Type': 'application/wasm' } })))
      : bytes.then((b) => WebAssembly.compile(b));
    compiling.catch(() => {}); // an integrity failure, or the stall, is the error to report
    const got = await bytes.catch((err) => { throw failed(err); });
    stall.clear();
    if (integrity && !await matchesIntegrity(got, integrity)) {
      const err = new Error('The verifier this page loaded is not the build the page pins, so it was not run. The site serves other files than its page expects; its operator must fix that.',
        { cause: new Error(`${res.url} does not match the integrity ${integrity}`) });
      err.code = 'verifier_integrity';
      throw err;
    }
    return await compiling;
  } finally {
    stall.clear();
  }
}

const sriAlgorithms = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/** Whether bytes match one of the hashes of a Subresource Integrity value ("sha384-…", space-separated). */
async function matchesIntegrity(bytes, integrity) {
  for (const token of integrity.trim().split(/\s+/)) {
    const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})(?:\?.*)?$/.exec(token);
    if (!m) continue;
    const digest = new Uint8Array(await crypto.subtle.digest(sriAlgorithms[m[1]], bytes));
    if (base64(digest) === m[2]) return true;
  }
  return false;
}

// Performance marks let a page (and scripts/bench-browser.mjs) see where time goes.
function mark(name) {
  globalThis.performance?.mark?.(name);
}

/** The largest release manifest accepted, as package measure's ParseManifest. */
const maxManifestBytes = 1 << 20;
/** Evidence is a 1184-byte report, a certificate chain and an HPKE key: a few KB. */
const maxEvidenceBytes = 256 << 10;
/** A simulated root is one PEM certificate. */
const maxRootBytes = 64 << 10;
/** A receipt is a few hundred bytes of JSON. */
const maxReceiptBytes = 64 << 10;
/** How long each request may take when the caller sets no timeoutMs. */
const defaultTimeoutMs = 20000;

/**
 * Loads a release manifest (format cvmtrust-launch-manifest/v1, see
 * measure/README.md) and recomputes its launch digest in the wasm from the
 * OVMF hash, the OVMF layout, the artifact digests and the launch settings.
 * Resolves with the release only when the recomputed digest equals the
 * manifest's measurement; rejects otherwise, and when the manifest cannot be
 * fetched or read.
 * @param {string | URL | object} manifest a URL (relative to the page), or the parsed manifest
 * @param {import('./index.js').LoadOptions & { fetch?: typeof fetch }} [options]
 * @returns {Promise<import('./index.js').Release>}
 */
export async function loadManifest(manifest, options = {}) {
  const { fetch: fetchFn = globalThis.fetch, timeoutMs = defaultTimeoutMs, ...load } = ownData(options);
  const read = await readManifest(manifest, fetchFn, timeoutMs);
  return measureManifest(await loadVerifier(load), read);
}

/** Fetches (or takes) a manifest: { body, url, claim }, claim being the measurement it states, if readable. */
async function readManifest(manifest, fetchFn, timeoutMs) {
  let url;
  let body = manifest;
  if (typeof manifest === 'string' || manifest instanceof URL) {
    url = new URL(manifest, globalThis.document?.baseURI);
    body = await fetchText(fetchFn, url, 'the release manifest', { maxBytes: maxManifestBytes, timeoutMs });
  } else if (manifest === null || typeof manifest !== 'object') {
    throw new TypeError('loadManifest: manifest must be a URL or a manifest object');
  }
  let claim;
  try {
    body = ownData(typeof body === 'string' ? JSON.parse(body) : body);
    claim = body?.measurement;
  } catch {
    // The wasm says what is wrong with it.
  }
  return { body, url, claim: typeof claim === 'string' && /^[0-9a-fA-F]{96}$/.test(claim) ? claim.toLowerCase() : undefined };
}

/** Recomputes a manifest's launch digest in the wasm; resolves with the release only when it equals the claim. */
async function measureManifest(ns, { body, url, claim }) {
  const where = url ? ` at ${url.href}` : '';
  let release;
  try {
    release = await ns.measure(body);
    if (release.measurement !== claim) throw new Error(`the recomputed launch digest ${release.measurement} is not the stated ${claim}`);
  } catch (err) {
    const refused = new Error(`The release manifest${where} was refused: ${err.message.replace(/^cvmtrust\.measure: /, '')}.`, { cause: err });
    refused.code = 'manifest_refused';
    throw refused;
  }
  mark('cvmtrust:measured');
  return Object.freeze({ ...release, ...(url ? { manifestUrl: url.href } : {}) });
}

/**
 * The expectation verifyGateway gives the wasm: the caller's, with the
 * defaults <cvm-attest> has too (web/README.md, "Defaults"). The exact VMPL
 * is 0 unless given ('any' checks none); the TCB is held to the floor AMD's
 * security bulletins require for the report's processor line, which minTcb
 * can only raise, unless tcbBelowBulletinsUnsafe; revocation must be checked
 * (AMD's CRL, through kdsProxy) unless uncheckedRevocationUnsafe. A default
 * is lifted only by the option named for what it gives up: the wasm's own
 * switches for them (bulletinTcbFloor, requireRevocationCheck) are refused
 * here, so that none is turned off in passing.
 */
function gatewayExpectation(expectation) {
  const { vmpl = 0, tcbBelowBulletinsUnsafe, uncheckedRevocationUnsafe, ...rest } = expectation;
  for (const [key, instead] of [['bulletinTcbFloor', 'tcbBelowBulletinsUnsafe'], ['requireRevocationCheck', 'uncheckedRevocationUnsafe']]) {
    if (Object.hasOwn(rest, key)) throw new TypeError(`verifyGateway: expectation.${key} is the default; to lift it, set ${instead}: true`);
  }
  // Any other vmpl than 'any' goes to the wasm, which takes 0 to 3 and refuses the rest.
  return {
    ...rest,
    ...(vmpl === 'any' ? {} : { vmpl }),
    bulletinTcbFloor: tcbBelowBulletinsUnsafe !== true,
    requireRevocationCheck: uncheckedRevocationUnsafe !== true,
  };
}

/**
 * Fetches evidence from a gateway with a fresh nonce and verifies it.
 * Resolves with the Result whether or not it verified (result.verified says
 * which); rejects only when verification could not take place (the gateway
 * is unreachable, a release manifest was refused, the arguments are
 * unusable). With manifests, the expected measurements include each
 * manifest's launch digest as recomputed here, and result.release names the
 * release whose digest the report carries.
 * @param {import('./index.js').VerifyGatewayOptions} options
 * @returns {Promise<import('./index.js').Result>}
 */
export async function verifyGateway(options = {}) {
  const { gateway, measurements, manifests, signedReleases, trustSimulatedRoot, kdsProxy, expectation = {}, timeoutMs = defaultTimeoutMs, fetch: fetchFn = globalThis.fetch, ...load } = ownData(options);
  // Before anything is fetched: a page that reroutes the verifier's files
  // (hpke.js, which seals, among them) gets no verdict to offer a capture on.
  checkPinnedFiles(import.meta, pinnedFiles);
  if (!gateway) throw new TypeError('verifyGateway: gateway is required');
  if (measurements != null && !Array.isArray(measurements)) throw new TypeError('verifyGateway: measurements must be an array of hex strings');
  if (manifests != null && !Array.isArray(manifests)) throw new TypeError('verifyGateway: manifests must be an array of URLs or manifest objects');
  if (!measurements?.length && !manifests?.length && !signedReleases && !expectation.anyMeasurementUnsafe) {
    throw new TypeError('verifyGateway: measurements, manifests or signedReleases must give at least one launch measurement');
  }
  const expected = gatewayExpectation(expectation);
  const base = gatewayBase(gateway);
  // Signed releases (release.js): their bundles are fetched with the
  // evidence while the wasm loads; one that cannot be fetched is reported
  // after the other downloads.
  const fetchingReleases = signedReleases ? fetchSignedReleases(signedReleases, { gateway: base, fetch: fetchFn, timeoutMs }) : null;
  fetchingReleases?.catch(() => {});
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(32)));
  // The wasm compiles while the evidence and the manifests are on their way.
  const [ns, evidence, simulatedRoot, read] = await Promise.all([
    loadVerifier(load),
    fetchText(fetchFn, new URL(`attestation?nonce=${nonce}`, base), 'the server’s attestation', { maxBytes: maxEvidenceBytes, timeoutMs })
      .then((text) => { mark('cvmtrust:evidence'); return text; }),
    trustSimulatedRoot ? fetchText(fetchFn, new URL(trustSimulatedRoot, globalThis.document?.baseURI), 'the simulated root', { maxBytes: maxRootBytes, timeoutMs }) : '',
    Promise.all((manifests ?? []).map((m) => readManifest(m, fetchFn, timeoutMs))),
  ]);
  const fetched = await fetchingReleases;
  const claims = fetched?.claims ?? [];
  const releasing = fetched ? fetched.verify(ns).then((list) => { mark('cvmtrust:release'); return list; }) : Promise.resolve([]);
  releasing.catch(() => {}); // reported below, before anything about the evidence
  let incomplete;
  try {
    checkEvidenceComplete(evidence);
  } catch (err) {
    incomplete = err;
  }
  // The evidence is verified against the measurements the signed releases
  // state while the wasm verifies them, and against those the manifests
  // state while their launch digests are recomputed (the verifier mostly
  // waits for WebCrypto). The Result is returned only if every release
  // verifies and every manifest's recomputed digest equals the measurement
  // it states, so it is the same Result as verifying after them; a release
  // or manifest that is refused makes verifyGateway reject, as before. A
  // release whose bundle states no readable measurement is verified first.
  const early = !incomplete && claims.every(Boolean);
  let signedList;
  if (!early) {
    signedList = await releasing;
    if (incomplete) throw incomplete;
  }
  const expect = (signed) => ownData({
    ...expected,
    measurements: [...(measurements ?? []), ...read.map((m) => m.claim).filter(Boolean), ...signed],
    nonce,
    ...(simulatedRoot ? { simulatedRoot } : {}),
    ...(kdsProxy ? { kdsProxy: new URL(kdsProxy, globalThis.document?.baseURI).href } : {}),
  });
  const measuring = Promise.all(read.map((m) => measureManifest(ns, m)));
  measuring.catch(() => {});
  let verifying = ns.verify(evidence, expect(early ? claims : signedList.map((r) => r.measurement)));
  verifying.catch(() => {}); // a refused release or manifest is the error to report, below
  signedList ??= await releasing;
  // Verified, a release's measurement is the one its bundle states; should
  // it ever differ, the evidence is verified again against the verified ones.
  if (early && signedList.some((r, i) => r.measurement !== claims[i])) {
    verifying = ns.verify(evidence, expect(signedList.map((r) => r.measurement)));
  }
  const releases = [...await measuring, ...signedList];
  const result = await verifying;
  mark('cvmtrust:verified');
  // The key bytes the verifier bound into REPORT_DATA with this nonce, and
  // the hash of the report that did: what sealing uses, never the JSON again.
  const { sealTo } = result;
  delete result.sealTo;
  const measured = result.report?.measurement?.toLowerCase();
  // Own properties, set whether or not there is a release: a page reading
  // them never gets what Object.prototype has instead.
  const release = releases.find((r) => r.measurement === measured);
  result.release = release;
  // A release signed through a simulated Sigstore instance proves nothing
  // about a real release: the whole Result says SIMULATED.
  result.simulatedSigstore = release?.simulated === true;
  if (result.simulatedSigstore) result.simulated = true;
  if (result.verified && sealTo) {
    verifiedEvidence.set(result, { gateway: base, sealTo: Object.freeze(sealTo) });
    // Sealing comes next; have its code ready by then.
    loadHpke(load).catch(() => {});
  }
  return result;
}

/** The HPKE suites of evidence protocol v1, by the names the evidence gives. */
const kems = { 'MLKEM768-X25519': 'XWing', 'DHKEM-X25519-HKDF-SHA256': 'DhkemX25519HkdfSha256' };
const enrollLabel = 'cvmtrust-enroll-v1';
const receiptLabel = 'cvmtrust-receipt-v1';

let hpkeLoading;

/** Loads dist/hpke.js once per page; a failed load is not cached. */
function loadHpke(options = {}) {
  checkPinnedFiles(import.meta, pinnedFiles);
  const { hpkeURL = defaultHpkeURL } = ownData(options);
  hpkeLoading ??= import(String(hpkeURL)).catch((err) => {
    hpkeLoading = undefined;
    throw new Error('cvmtrust: cannot load the encryption module (dist/hpke.js).', { cause: err });
  });
  return hpkeLoading;
}

/**
 * Starts the expensive part of sealing to a verified Result ahead of time:
 * the HPKE sender context (for X-Wing, the ML-KEM-768 and X25519
 * encapsulations and the key schedule) to exactly the key bytes the verifier
 * bound, and the receipt key exported from it. The next sealFor (or enroll)
 * with this Result takes it and only encrypts; a context is taken by one
 * seal and never given to another, so a second seal or a retry sets up a new
 * one. Calling it again before a seal took the context returns the same one.
 * Resolves when the context is ready; rejects as sealFor would (a Result
 * that did not verify, a suite this page does not use, a key it cannot use).
 * @param {import('./index.js').Result} result a verified Result from verifyGateway
 * @param {import('./index.js').LoadOptions} [load]
 * @returns {Promise<void>}
 */
export async function prepareSeal(result, load = {}) {
  const entry = verifiedEvidence.get(result);
  if (!entry) throw new TypeError('prepareSeal: only a verified Result returned by verifyGateway can be sealed to');
  if (!entry.prepared) {
    const prepared = senderFor(entry, load);
    entry.prepared = prepared;
    // A seal that takes it reports its failure; one that failed is not kept for the next.
    prepared.catch(() => { if (entry.prepared === prepared) entry.prepared = undefined; });
  }
  await entry.prepared;
}

/** A single-use HPKE sender context to entry's verified key: { sender, receiptKey }. */
async function senderFor(entry, load) {
  const { kem, kdf, aead, publicKey, reportSha384 } = entry.sealTo;
  if (!Object.hasOwn(kems, kem) || kdf !== 'HKDF-SHA256' || aead !== 'AES-256-GCM') {
    throw new Error(`The server offers an encryption suite this page does not use (${kem}, ${kdf}, ${aead}). Nothing was sent.`);
  }
  const hpke = await loadHpke(load);
  try {
    const suite = new hpke.CipherSuite({ kem: new hpke[kems[kem]](), kdf: new hpke.HkdfSha256(), aead: new hpke.Aes256Gcm() });
    const recipientPublicKey = await suite.kem.deserializePublicKey(publicKey);
    const sender = await suite.createSenderContext({ recipientPublicKey, info: concat(new TextEncoder().encode(enrollLabel), reportSha384) });
    const receiptKey = await hmacKey(new Uint8Array(await sender.export(new TextEncoder().encode(receiptLabel), 32)));
    return { sender, receiptKey };
  } catch (err) {
    throw new Error(`Could not encrypt to the server’s key (${kem}): the key it attested is not one this page can use. Nothing was sent.`, { cause: err });
  }
}

/**
 * Seals bytes to the HPKE key of the gateway whose verified Result this is,
 * bound to its report: HPKE base mode, info = "cvmtrust-enroll-v1" ||
 * SHA-384(report), to exactly the key bytes the verifier bound in
 * REPORT_DATA. Resolves with the EnrollRequest for POST /enroll (JSON.stringify
 * it), which also has a method verifyReceipt(receipt) that checks the
 * gateway's answer to this very upload (see enroll). Uses the context
 * prepareSeal set up, if there is one, and sets up a new one otherwise.
 * @param {import('./index.js').Result} result a verified Result from verifyGateway
 * @param {Uint8Array} bytes
 * @returns {Promise<import('./index.js').SealedRequest>}
 */
export async function sealFor(result, bytes, load = {}) {
  const entry = verifiedEvidence.get(result);
  if (!entry) throw new TypeError('sealFor: only a verified Result returned by verifyGateway can be sealed to');
  if (!(bytes instanceof Uint8Array)) throw new TypeError('sealFor: bytes must be a Uint8Array');
  // Taken before any await: two seals never share a context.
  const prepared = entry.prepared;
  entry.prepared = undefined;
  const { sender, receiptKey } = await (prepared ?? senderFor(entry, load));
  const { kem, reportSha384 } = entry.sealTo;
  let ct;
  try {
    ct = new Uint8Array(await sender.seal(bytes));
  } catch (err) {
    throw new Error(`Could not encrypt to the server’s key (${kem}): the key it attested is not one this page can use. Nothing was sent.`, { cause: err });
  }
  const request = {
    version: 1,
    report_sha384: base64(reportSha384),
    kem,
    ciphertext: base64(concat(new Uint8Array(sender.enc), ct)),
  };
  Object.defineProperty(request, 'verifyReceipt', {
    value: (receipt) => checkReceipt(receiptKey, receipt, reportSha384),
  });
  return request;
}

/**
 * Seals a capture to the verified gateway, uploads it to its /enroll and
 * checks the gateway's receipt. Resolves with the Receipt only when its MAC
 * shows it came from the holder of the attested key, for this upload;
 * rejects with code 'receipt_invalid' otherwise.
 * @param {import('./index.js').Result} result
 * @param {import('./index.js').Capture} capture
 */
export async function enroll(result, capture, options = {}) {
  const { image, contentType = 'image/jpeg', width, height } = ownData(capture);
  const { fetch: fetchFn = globalThis.fetch, timeoutMs = defaultTimeoutMs, ...load } = ownData(options);
  const entry = verifiedEvidence.get(result);
  if (!entry) throw new TypeError('enroll: only a verified Result returned by verifyGateway can be enrolled with');
  const plaintext = new TextEncoder().encode(JSON.stringify({
    content_type: contentType,
    image: base64(image),
    ...(width ? { width } : {}),
    ...(height ? { height } : {}),
  }));
  let request;
  try {
    request = await sealFor(result, plaintext, load);
  } finally {
    plaintext.fill(0);
  }
  const url = new URL('enroll', entry.gateway);
  const deadline = withTimeout(timeoutMs);
  let res;
  let body = null;
  try {
    try {
      res = await fetchFn(url, ownData({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request), signal: deadline.signal }));
    } catch (err) {
      if (deadline.expired()) throw timeoutError(url, 'to upload', timeoutMs, err);
      throw new Error(`Could not reach the server at ${url.origin} to upload.`, { cause: err });
    }
    // The answer is read up to a receipt's size, and not waited for beyond the timeout.
    const text = await readCapped(res, maxReceiptBytes, 'its answer to the upload', url, deadline, timeoutMs);
    try { body = JSON.parse(text); } catch { body = null; }
  } finally {
    deadline.clear();
  }
  if (res.ok && (typeof body?.receipt_id !== 'string' || !body.status)) {
    const err = new Error(`The server at ${url.origin} accepted the upload but sent no valid receipt. This is the server’s fault.`);
    err.code = 'bad_receipt';
    throw err;
  }
  if (!res.ok) {
    const err = new Error(body?.error ? `The server refused the upload: ${body.error}` : `The server refused the upload (HTTP ${res.status}).`);
    err.code = body?.code;
    throw err;
  }
  return request.verifyReceipt(body);
}

function hmacKey(raw) {
  const key = crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  raw.fill(0);
  return key;
}

/**
 * The bytes the receipt MAC covers (protocol v1): "cvmtrust-receipt-v1",
 * then version (decimal), receipt_id, status, report_sha384 (48 raw bytes)
 * and received_at, each after its length as 4 bytes big-endian.
 * @param {{ version: number, receipt_id: string, status: string, report_sha384: Uint8Array, received_at: string }} r
 */
export function receiptMessage(r) {
  const enc = new TextEncoder();
  const fields = [enc.encode(String(r.version)), enc.encode(r.receipt_id), enc.encode(r.status), r.report_sha384, enc.encode(r.received_at)];
  const parts = [enc.encode(receiptLabel)];
  for (const f of fields) {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, f.length);
    parts.push(len, f);
  }
  return concat(...parts);
}

const receiptStatuses = ['enrolled', 'already_enrolled'];

/**
 * Checks a gateway's receipt against the HMAC key of the upload it answers
 * and the report hash that upload was sealed to. Resolves with the receipt,
 * frozen, when its MAC verifies; rejects with an Error whose code is
 * 'receipt_invalid' otherwise.
 * @param {CryptoKey | Promise<CryptoKey>} key HMAC-SHA256 key: HPKE Export("cvmtrust-receipt-v1", 32)
 * @param {unknown} receipt the JSON of the answer to POST /enroll (object or string)
 * @param {Uint8Array} reportSha384
 */
export async function checkReceipt(key, receipt, reportSha384) {
  const refuse = (why) => {
    const err = new Error(`The server’s receipt could not be confirmed, so the upload cannot be shown as enrolled: ${why}.`);
    err.code = 'receipt_invalid';
    return err;
  };
  let r = receipt;
  if (typeof r === 'string') {
    try { r = JSON.parse(r); } catch { throw refuse('it is not JSON'); }
  }
  if (r === null || typeof r !== 'object') throw refuse('it is not a receipt');
  r = ownData(r);
  const { version, receipt_id: id, status, received_at: at } = r;
  if (version !== 1) throw refuse(`it is of version ${version}, not 1`);
  if (typeof id !== 'string' || typeof at !== 'string' || !receiptStatuses.includes(status)) throw refuse('a field is missing or of the wrong type');
  const sum = fromBase64(r.report_sha384);
  const mac = fromBase64(r.mac);
  if (!mac) throw refuse('it carries no MAC (an older server, or not the server the capture was sealed to)');
  if (!sum || sum.length !== 48 || !equalBytes(sum, reportSha384)) throw refuse('it names another attestation report than the one the capture was sealed to');
  const ok = await crypto.subtle.verify('HMAC', await key, mac, receiptMessage({ version, receipt_id: id, status, report_sha384: sum, received_at: at }));
  if (!ok) throw refuse('its MAC does not verify (it was not made by the attested server for this upload)');
  return Object.freeze({ version, receipt_id: id, status, report_sha384: r.report_sha384, received_at: at, mac: r.mac });
}

function fromBase64(s) {
  if (typeof s !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s) || !s) return null;
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

// Not secret-dependent: both sides are public report hashes.
function equalBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) { out.set(p, i); i += p.length; }
  return out;
}

function gatewayBase(gateway) {
  const url = new URL(gateway, globalThis.document?.baseURI ?? undefined);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

// Every request is bounded: a timeout covers the answer's headers and body,
// and a body is read as a stream up to a size cap, never whole first.
// renew() starts the time again (the wasm's download: a bound on a stall).
function withTimeout(timeoutMs) {
  const controller = new AbortController();
  let expired = false;
  let timer;
  const renew = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      expired = true;
      controller.abort();
    }, timeoutMs);
  };
  renew();
  return { signal: controller.signal, expired: () => expired, renew, clear: () => clearTimeout(timer), abort: () => controller.abort() };
}

function timeoutError(url, what, timeoutMs, cause) {
  const err = new Error(`The server at ${url.origin} did not answer ${what} within ${Math.round(timeoutMs / 1000)} seconds. It may be overloaded or down; try again later.`, { cause });
  err.code = 'timeout';
  return err;
}

async function readCapped(res, maxBytes, what, url, deadline, timeoutMs) {
  const declared = Number(res.headers.get('content-length'));
  const tooLarge = () => {
    deadline.abort();
    const err = new Error(`The server at ${url.origin} sent more than ${maxBytes} bytes for ${what}, far more than it should. This is the server’s fault; nothing was used.`);
    err.code = 'too_large';
    return err;
  };
  if (declared > maxBytes) throw tooLarge();
  if (!res.body) return '';
  let bytes;
  try {
    bytes = await readBytes(res.body, (n) => {
      if (n > maxBytes) throw tooLarge();
    });
  } catch (err) {
    if (err.code === 'too_large') throw err;
    if (deadline.expired()) throw timeoutError(url, `with ${what}`, timeoutMs, err);
    throw new Error(`The connection to ${url.origin} broke while it sent ${what}. Try again.`, { cause: err });
  }
  return new TextDecoder().decode(bytes);
}

/**
 * Reads a byte stream to its end into one Uint8Array. onChunk(total) runs
 * as each part arrives, before it is kept; if it throws, the stream is
 * cancelled and readBytes rejects with what it threw.
 */
async function readBytes(stream, onChunk) {
  const reader = stream.getReader();
  const chunks = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    try {
      onChunk(n);
    } catch (err) {
      reader.cancel().catch(() => {});
      throw err;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.length;
  }
  return bytes;
}

/** Fetches url as text, read as a stream up to maxBytes and within timeoutMs; errors in plain words. */
export async function fetchText(fetchFn, url, what, { maxBytes, timeoutMs = defaultTimeoutMs }) {
  const deadline = withTimeout(timeoutMs);
  try {
    let res;
    try {
      res = await fetchFn(url, ownData({ cache: 'no-store', signal: deadline.signal }));
    } catch (err) {
      if (deadline.expired()) throw timeoutError(url, `with ${what}`, timeoutMs, err);
      throw new Error(`Could not reach ${url.origin} to fetch ${what}. Check your connection and try again.`, { cause: err });
    }
    const text = await readCapped(res, maxBytes, what, url, deadline, timeoutMs);
    if (!res.ok) {
      let body = null;
      try { body = JSON.parse(text); } catch { /* not JSON */ }
      throw new Error(`The server did not send ${what} (HTTP ${res.status}${body?.error ? `: ${body.error}` : ''}).`);
    }
    return text;
  } finally {
    deadline.clear();
  }
}

// Evidence that lacks what protocol v1 requires is the server's fault, and
// is said so before the verifier sees it.
function checkEvidenceComplete(text) {
  let ev;
  try { ev = ownData(JSON.parse(text)); } catch { ev = null; }
  const missing = !ev || typeof ev !== 'object' ? 'is not JSON'
    : typeof ev.report !== 'string' || !ev.report ? 'has no attestation report'
      : typeof ev.hpke?.public_key !== 'string' || !ev.hpke.public_key ? 'has no encryption key (hpke.public_key)'
        : '';
  if (missing) {
    const err = new Error(`The server sent incomplete evidence: it ${missing}. This is the server’s fault, not yours; its operator must fix it.`);
    err.code = 'incomplete_evidence';
    throw err;
  }
}

// The engine's own encoder where it has one (Uint8Array.prototype.toBase64):
// a capture is encoded twice on its way out (the image, then the
// ciphertext), and WebKitGTK takes 20–60 ms for 60 KB with btoa over spread
// 32 KiB chunks, under 1 ms with toBase64. Otherwise btoa, in 4 KiB chunks
// (spreading large arrays into a call is slow in JavaScriptCore).
function base64(bytes) {
  if (typeof bytes.toBase64 === 'function') return bytes.toBase64();
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x1000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x1000));
  return btoa(s);
}

function base64url(bytes) {
  return base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
