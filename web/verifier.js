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

/**
 * Fetches evidence from a gateway with a fresh nonce and verifies it.
 * Resolves with the Result whether or not it verified (result.verified says
 * which); rejects only when verification could not take place (the gateway
 * is unreachable, the arguments are unusable).
 * @param {import('./index.js').VerifyGatewayOptions} options
 * @returns {Promise<import('./index.js').Result>}
 */
export async function verifyGateway({ gateway, measurements, trustSimulatedRoot, kdsProxy, expectation = {}, fetch: fetchFn = globalThis.fetch, ...load } = {}) {
  if (!gateway) throw new TypeError('verifyGateway: gateway is required');
  if (!Array.isArray(measurements) || measurements.length === 0) {
    if (!expectation.anyMeasurementUnsafe) throw new TypeError('verifyGateway: measurements must list at least one launch measurement (hex)');
  }
  const base = gatewayBase(gateway);
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const [ns, evidence, simulatedRoot] = await Promise.all([
    loadVerifier(load),
    fetchText(fetchFn, new URL(`attestation?nonce=${nonce}`, base), 'the server’s attestation'),
    trustSimulatedRoot ? fetchText(fetchFn, new URL(trustSimulatedRoot, globalThis.document?.baseURI), 'the simulated root') : '',
  ]);
  mark('cvmtrust:evidence');
  const result = await ns.verify(evidence, {
    ...expectation,
    measurements: measurements ?? [],
    nonce,
    ...(simulatedRoot ? { simulatedRoot } : {}),
    ...(kdsProxy ? { kdsProxy: new URL(kdsProxy, globalThis.document?.baseURI).href } : {}),
  });
  mark('cvmtrust:verified');
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
export async function enroll(result, { image, contentType = 'image/jpeg', width, height }, { fetch: fetchFn = globalThis.fetch } = {}) {
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
  let res;
  try {
    res = await fetchFn(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(request) });
  } catch (err) {
    throw new Error(`Could not reach the server at ${url.origin} to upload.`, { cause: err });
  }
  const body = await res.json().catch(() => null);
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

async function fetchText(fetchFn, url, what) {
  let res;
  try {
    res = await fetchFn(url, { cache: 'no-store' });
  } catch (err) {
    throw new Error(`Could not reach ${url.origin} to fetch ${what}.`, { cause: err });
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new Error(`The server did not send ${what} (HTTP ${res.status}${body?.error ? `: ${body.error}` : ''}).`);
  }
  return res.text();
}

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function base64url(bytes) {
  return base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
