// The JS API over the wasm verifier: load it, verify a gateway's evidence
// against a fresh nonce, and seal bytes to the key a verified gateway
// attested. No DOM here; the <cvm-attest> element builds on it.

const defaultWasmURL = new URL('./dist/cvmtrust.wasm', import.meta.url);
const defaultWasmExecURL = new URL('./dist/wasm_exec.js', import.meta.url);

/** Results that verified, mapped to the evidence they came from. Only these can be sealed to. */
const verifiedEvidence = new WeakMap();

let loading;

/**
 * Loads and starts the wasm verifier once per page; later calls return the
 * same Promise. A failed load is not cached, so a retry can succeed.
 * @param {import('./index.js').LoadOptions} [options]
 */
export function loadVerifier(options = {}) {
  loading ??= startVerifier(options).catch((err) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

async function startVerifier({ wasmURL = defaultWasmURL, wasmExecURL = defaultWasmExecURL, integrity } = {}) {
  // Compile while Go's loader is fetched: the two do not depend on each other.
  const compiling = compile(wasmURL, integrity);
  if (typeof globalThis.Go !== 'function') {
    // Go's loader is a classic script that defines globalThis.Go.
    await import(String(wasmExecURL));
  }
  const module = await compiling;
  mark('cvmtrust:compiled');
  const go = new globalThis.Go();
  const ready = new Promise((resolve) => {
    globalThis.__cvmtrustReady = (ns) => {
      delete globalThis.__cvmtrustReady;
      mark('cvmtrust:ready');
      resolve(ns);
    };
  });
  const instance = await WebAssembly.instantiate(module, go.importObject);
  const exited = go.run(instance).then(() => {
    throw new Error('cvmtrust: the verifier exited before it was ready (see the console)');
  });
  return Promise.race([ready, exited]);
}

async function compile(wasmURL, integrity) {
  const response = fetch(wasmURL, integrity ? { integrity } : {});
  try {
    return await WebAssembly.compileStreaming(response);
  } catch {
    // A server that does not send application/wasm defeats streaming; fall back.
    const res = await response;
    if (!res.ok) throw new Error(`cvmtrust: cannot load the verifier (${res.status} ${res.statusText} for ${res.url})`);
    return WebAssembly.compile(await res.clone().arrayBuffer());
  }
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
export async function loadManifest(manifest, { fetch: fetchFn = globalThis.fetch, timeoutMs = defaultTimeoutMs, ...load } = {}) {
  let url;
  let body = manifest;
  if (typeof manifest === 'string' || manifest instanceof URL) {
    url = new URL(manifest, globalThis.document?.baseURI);
    body = await fetchText(fetchFn, url, 'the release manifest', { maxBytes: maxManifestBytes, timeoutMs });
  } else if (manifest === null || typeof manifest !== 'object') {
    throw new TypeError('loadManifest: manifest must be a URL or a manifest object');
  }
  const ns = await loadVerifier(load);
  let release;
  try {
    release = await ns.measure(body);
  } catch (err) {
    const where = url ? ` at ${url.href}` : '';
    const refused = new Error(`The release manifest${where} was refused: ${err.message.replace(/^cvmtrust\.measure: /, '')}.`, { cause: err });
    refused.code = 'manifest_refused';
    throw refused;
  }
  mark('cvmtrust:measured');
  return Object.freeze({ ...release, ...(url ? { manifestUrl: url.href } : {}) });
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
export async function verifyGateway({ gateway, measurements, manifests, trustSimulatedRoot, kdsProxy, expectation = {}, timeoutMs = defaultTimeoutMs, fetch: fetchFn = globalThis.fetch, ...load } = {}) {
  if (!gateway) throw new TypeError('verifyGateway: gateway is required');
  if (measurements != null && !Array.isArray(measurements)) throw new TypeError('verifyGateway: measurements must be an array of hex strings');
  if (manifests != null && !Array.isArray(manifests)) throw new TypeError('verifyGateway: manifests must be an array of URLs or manifest objects');
  if (!measurements?.length && !manifests?.length && !expectation.anyMeasurementUnsafe) {
    throw new TypeError('verifyGateway: measurements or manifests must give at least one launch measurement');
  }
  const base = gatewayBase(gateway);
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(32)));
  // The manifests are recomputed while the evidence is on its way; one that
  // is refused stops everything before the evidence is verified.
  const [ns, evidence, simulatedRoot, releases] = await Promise.all([
    loadVerifier(load),
    fetchText(fetchFn, new URL(`attestation?nonce=${nonce}`, base), 'the server’s attestation', { maxBytes: maxEvidenceBytes, timeoutMs }),
    trustSimulatedRoot ? fetchText(fetchFn, new URL(trustSimulatedRoot, globalThis.document?.baseURI), 'the simulated root', { maxBytes: maxRootBytes, timeoutMs }) : '',
    Promise.all((manifests ?? []).map((m) => loadManifest(m, { fetch: fetchFn, timeoutMs, ...load }))),
  ]);
  mark('cvmtrust:evidence');
  checkEvidenceComplete(evidence);
  const result = await ns.verify(evidence, {
    ...expectation,
    measurements: [...(measurements ?? []), ...releases.map((r) => r.measurement)],
    nonce,
    ...(simulatedRoot ? { simulatedRoot } : {}),
    ...(kdsProxy ? { kdsProxy: new URL(kdsProxy, globalThis.document?.baseURI).href } : {}),
  });
  mark('cvmtrust:verified');
  const measured = result.report?.measurement?.toLowerCase();
  const release = releases.find((r) => r.measurement === measured);
  if (release) result.release = release;
  if (result.verified) verifiedEvidence.set(result, { evidence, gateway: base });
  return result;
}

/**
 * Seals bytes to the HPKE key of the gateway whose verified Result this is,
 * bound to its report. Resolves with the EnrollRequest JSON for POST /enroll.
 * @param {import('./index.js').Result} result a verified Result from verifyGateway
 * @param {Uint8Array} bytes
 */
export async function sealFor(result, bytes) {
  const entry = verifiedEvidence.get(result);
  if (!entry) throw new TypeError('sealFor: only a verified Result returned by verifyGateway can be sealed to');
  if (!(bytes instanceof Uint8Array)) throw new TypeError('sealFor: bytes must be a Uint8Array');
  const ns = await loadVerifier();
  return ns.seal(entry.evidence, bytes);
}

/**
 * Seals a capture to the verified gateway and uploads it to its /enroll.
 * Resolves with the gateway's Receipt.
 * @param {import('./index.js').Result} result
 * @param {import('./index.js').Capture} capture
 */
export async function enroll(result, { image, contentType = 'image/jpeg', width, height }, { fetch: fetchFn = globalThis.fetch, timeoutMs = defaultTimeoutMs } = {}) {
  const entry = verifiedEvidence.get(result);
  if (!entry) throw new TypeError('enroll: only a verified Result returned by verifyGateway can be enrolled with');
  const plaintext = new TextEncoder().encode(JSON.stringify({
    content_type: contentType,
    image: base64(image),
    ...(width ? { width } : {}),
    ...(height ? { height } : {}),
  }));
  const request = await sealFor(result, plaintext);
  plaintext.fill(0);
  const url = new URL('enroll', entry.gateway);
  const deadline = withTimeout(timeoutMs);
  let res;
  let body = null;
  try {
    try {
      res = await fetchFn(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request), signal: deadline.signal });
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
  return body;
}

function gatewayBase(gateway) {
  const url = new URL(gateway, globalThis.document?.baseURI ?? undefined);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

// Every request is bounded: a timeout covers the answer's headers and body,
// and a body is read as a stream up to a size cap, never whole first.
function withTimeout(timeoutMs) {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort();
  }, timeoutMs);
  return { signal: controller.signal, expired: () => expired, clear: () => clearTimeout(timer), abort: () => controller.abort() };
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
  const reader = res.body.getReader();
  const chunks = [];
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
      if (n > maxBytes) {
        reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err.code === 'too_large') throw err;
    if (deadline.expired()) throw timeoutError(url, `with ${what}`, timeoutMs, err);
    throw new Error(`The connection to ${url.origin} broke while it sent ${what}. Try again.`, { cause: err });
  }
  const bytes = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(bytes);
}

async function fetchText(fetchFn, url, what, { maxBytes, timeoutMs = defaultTimeoutMs }) {
  const deadline = withTimeout(timeoutMs);
  try {
    let res;
    try {
      res = await fetchFn(url, { cache: 'no-store', signal: deadline.signal });
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
  try { ev = JSON.parse(text); } catch { ev = null; }
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

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function base64url(bytes) {
  return base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
