// <cvm-attest>: verifies a gateway in the browser, shows a trust badge that
// expands to the details, and only once the gateway verified offers a camera
// capture, sealed to the attested key and uploaded. This file defines the
// class and its events and registers nothing (see define.js).

import { verifyGateway, enroll } from './verifier.js';
import { releaseAttributes, defineReleaseProperties, releaseOptionsOf, releaseFacts } from './release.js';

/** Fired when the gateway verified (detail: the Result; result.simulated tells a simulated root). */
const BaseEvent = globalThis.Event ?? class {};

export class CvmVerifiedEvent extends BaseEvent {
  constructor(result) {
    super('cvm-verified', { bubbles: true, composed: true });
    this.detail = result;
  }
}

/** Fired when verification failed (detail: the Result) or could not take place (detail: null, error set). */
export class CvmFailedEvent extends BaseEvent {
  constructor(result, error) {
    super('cvm-failed', { bubbles: true, composed: true });
    this.detail = result ?? null;
    this.error = error ?? null;
  }
}

/** Fired when a capture was sealed, uploaded and acknowledged (detail: the Receipt). */
export class CvmEnrolledEvent extends BaseEvent {
  constructor(receipt) {
    super('cvm-enrolled', { bubbles: true, composed: true });
    this.detail = receipt;
  }
}

const markup = `
<style>
  :host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1d2125; max-width: 40rem; }
  [part~="badge"] { display: inline-flex; align-items: center; gap: .5em; border: 1px solid currentColor; border-radius: 999px;
    padding: .3em .9em; background: #fff; font: inherit; font-weight: 600; cursor: pointer; }
  [part~="badge"]::after { content: "▸"; font-weight: 400; }
  [part~="badge"][aria-expanded="true"]::after { content: "▾"; }
  :host([state="verifying"]) [part~="badge"] { color: #52606d; }
  :host([state="verified"]) [part~="badge"] { color: #11703c; background: #e8f6ee; }
  :host([state="simulated"]) [part~="badge"] { color: #8a4b00; background: #fff4e0; }
  :host([state="failed"]) [part~="badge"] { color: #b3261e; background: #fdecea; }
  [part~="details"] { margin: .6em 0; padding: .6em .9em; border: 1px solid #d0d7de; border-radius: 8px; background: #fafbfc; }
  [part~="facts"] { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: 0 0 .6em; }
  [part~="facts"] dt { color: #52606d; }
  [part~="facts"] dd { margin: 0; font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }
  [part~="checks"], [part~="failures"] { margin: .3em 0 0; padding-left: 1.4em; font-size: 12px; overflow-wrap: anywhere; }
  [part~="failures"]:empty { display: none; }
  [part~="failures"] li, [part~="checks"] li[data-outcome="fail"] { color: #b3261e; font-weight: 600; }
  [part~="checks"] li[data-outcome="skipped"] { color: #8a4b00; }
  [part~="checks-summary"] { cursor: pointer; font-size: 13px; }
  [part~="camera"] { display: flex; flex-direction: column; gap: .5em; margin-top: .8em; align-items: flex-start; }
  [part~="preview"] { width: 320px; max-width: 100%; aspect-ratio: 4 / 3; background: #222; border-radius: 8px; object-fit: cover; }
  [part~="preview"]:not([data-live]) { display: none; }
  [part~="capture"] { font: inherit; padding: .4em 1em; }
  [part~="message"]:empty, [part~="receipt"]:empty { display: none; }
  [part~="message"] { margin: .5em 0; }
  [part~="receipt"] { margin: .6em 0 0; padding: .5em .8em; border-radius: 8px; background: #e8f6ee; font-size: 13px; }
  [hidden] { display: none !important; }
</style>
<button part="badge" type="button" aria-expanded="false" aria-controls="details"><span part="badge-label">Checking the server…</span></button>
<p part="message" role="status" aria-live="polite"></p>
<div part="details" id="details" hidden>
  <dl part="facts"></dl>
  <ul part="failures"></ul>
  <details part="all-checks"><summary part="checks-summary"></summary><ol part="checks"></ol></details>
</div>
<div part="camera">
  <video part="preview" autoplay muted playsinline></video>
  <button part="capture" type="button" disabled>Take photo and send securely</button>
</div>
<div part="receipt"></div>
`;

let template;
function shadowContent() {
  if (!template) {
    template = document.createElement('template');
    template.innerHTML = markup;
  }
  return template.content.cloneNode(true);
}

// Importing this file outside a browser (a bundler, server rendering) must not throw.
const BaseElement = globalThis.HTMLElement ?? class {};

const states = ['verifying', 'verified', 'simulated', 'failed'];

export class CvmAttestElement extends BaseElement {
  static observedAttributes = ['gateway', 'measurements', 'manifest', 'manifests', 'trust-simulated-root', 'kds-proxy', ...Object.keys(releaseAttributes)];

  /** Registers the element as tag (default cvm-attest) in registry (default customElements). */
  static define(tag = 'cvm-attest', registry = customElements) {
    if (!registry.get(tag)) registry.define(tag, this);
    return this;
  }

  #root;
  #result = null;
  #receipt = null;
  #run = 0;
  #stream = null;
  #busy = false;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    this.#root.append(shadowContent());
    this.#part('badge').addEventListener('click', () => this.#toggleDetails());
    this.#part('capture').addEventListener('click', () => {
      this.capture().catch(() => { /* shown in the element */ });
    });
  }

  /** The gateway's base URL; /attestation and /enroll are resolved against it. */
  get gateway() { return this.getAttribute('gateway') ?? ''; }
  set gateway(v) { this.setAttribute('gateway', v); }

  /** Accepted launch measurements: comma-separated hex, each optionally "release-name=hex". */
  get measurements() { return this.getAttribute('measurements') ?? ''; }
  set measurements(v) { this.setAttribute('measurements', v); }

  /** URL of a release manifest whose launch digest, recomputed in the page, is accepted. */
  get manifest() { return this.getAttribute('manifest') ?? ''; }
  set manifest(v) {
    if (v) this.setAttribute('manifest', v);
    else this.removeAttribute('manifest');
  }

  /** URLs of release manifests, comma-separated; each one's recomputed launch digest is accepted. */
  get manifests() { return this.getAttribute('manifests') ?? ''; }
  set manifests(v) {
    if (v) this.setAttribute('manifests', v);
    else this.removeAttribute('manifests');
  }

  /** URL of a simulated AMD root to trust besides the real ones. Development only. */
  get trustSimulatedRoot() { return this.getAttribute('trust-simulated-root') ?? ''; }
  set trustSimulatedRoot(v) {
    if (v) this.setAttribute('trust-simulated-root', v);
    else this.removeAttribute('trust-simulated-root');
  }

  /** URL of a KDS proxy (kdsproxy/) for evidence that does not carry its certificates, and for the CRL. */
  get kdsProxy() { return this.getAttribute('kds-proxy') ?? ''; }
  set kdsProxy(v) {
    if (v) this.setAttribute('kds-proxy', v);
    else this.removeAttribute('kds-proxy');
  }

  /** verifying | verified | simulated | failed. Set by the element. */
  get state() { return this.getAttribute('state') ?? 'verifying'; }

  /** The last verification Result, or null. */
  get result() { return this.#result; }

  /** The last enrollment Receipt, or null. */
  get receipt() { return this.#receipt; }

  connectedCallback() {
    if (!this.hasAttribute('state')) this.#setState('verifying');
    this.#scheduleVerify();
  }

  disconnectedCallback() {
    this.#run++;
    this.#stopCamera();
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue !== newValue && this.isConnected) this.#scheduleVerify();
  }

  #scheduled = false;
  #scheduleVerify() {
    // Attributes set one after another in the same task verify once.
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.isConnected) this.verify().catch(() => { /* shown in the element */ });
    });
  }

  /** Verifies the gateway again with a fresh nonce. Resolves with the Result. */
  async verify() {
    const run = ++this.#run;
    this.#result = null;
    this.#stopCamera();
    this.#setState('verifying');
    this.#renderVerifying();
    const releases = parseMeasurements(this.measurements);
    const manifests = [this.manifest, ...this.manifests.split(',')].map((s) => s.trim()).filter(Boolean);
    let result;
    try {
      if (!this.gateway) throw new Error('No gateway is set on this element.');
      const signedReleases = releaseOptionsOf(this) ?? undefined;
      if (releases.length === 0 && manifests.length === 0 && !signedReleases) throw new Error('No expected measurement, release manifest or release signer is set on this element.');
      result = await verifyGateway({
        gateway: this.gateway,
        measurements: releases.map((r) => r.measurement),
        manifests,
        signedReleases,
        trustSimulatedRoot: this.trustSimulatedRoot || undefined,
        kdsProxy: this.kdsProxy || undefined,
      });
    } catch (error) {
      if (run !== this.#run) return null;
      this.#setState('failed');
      this.#renderError(error);
      this.dispatchEvent(new CvmFailedEvent(null, error));
      throw error;
    }
    if (run !== this.#run) return result;
    this.#result = result;
    if (!result.verified) {
      this.#setState('failed');
      this.#renderResult(result, releases);
      this.dispatchEvent(new CvmFailedEvent(result));
      return result;
    }
    this.#setState(result.simulated ? 'simulated' : 'verified');
    this.#renderResult(result, releases);
    this.dispatchEvent(new CvmVerifiedEvent(result));
    await this.#startCamera(run);
    return result;
  }

  /** Captures a frame, seals it to the verified gateway and uploads it. Resolves with the Receipt. */
  async capture() {
    const result = this.#result;
    if (!result?.verified || !this.#stream || this.#busy) {
      throw new Error('The server has not been verified yet: nothing was captured.');
    }
    this.#busy = true;
    const button = this.#part('capture');
    button.disabled = true;
    this.#message('Encrypting your photo to the verified server and sending it…');
    try {
      const capture = await grabJPEG(this.#part('preview'));
      const receipt = await enroll(result, capture);
      capture.image.fill(0);
      this.#receipt = receipt;
      this.#stopCamera();
      this.#renderReceipt(receipt);
      this.dispatchEvent(new CvmEnrolledEvent(receipt));
      return receipt;
    } catch (error) {
      this.#message(`${error.message} You can try again.`);
      button.disabled = !this.#stream;
      throw error;
    } finally {
      this.#busy = false;
    }
  }

  #part(name) { return this.#root.querySelector(`[part~="${name}"]`); }

  #setState(state) {
    if (!states.includes(state)) throw new Error(`bad state ${state}`);
    this.setAttribute('state', state);
  }

  #toggleDetails() {
    const badge = this.#part('badge');
    const open = badge.getAttribute('aria-expanded') !== 'true';
    badge.setAttribute('aria-expanded', String(open));
    this.#part('details').hidden = !open;
  }

  #message(text) { this.#part('message').textContent = text; }

  #renderVerifying() {
    this.#part('badge-label').textContent = 'Checking the server…';
    this.#part('capture').disabled = true;
    this.#part('facts').replaceChildren();
    this.#part('checks').replaceChildren();
    this.#part('failures').replaceChildren();
    this.#part('checks-summary').textContent = '';
    this.#part('receipt').replaceChildren();
    this.#message('');
  }

  #renderError(error) {
    if (error.code === 'release_refused') {
      this.#renderReleaseRefused(error);
      return;
    }
    const refused = error.code === 'manifest_refused';
    this.#part('badge-label').textContent = refused ? 'Not verified — release manifest refused' : 'Could not check the server';
    this.#part('capture').disabled = true;
    // A refused manifest is worded for a person; what exactly did not add up is in the details.
    this.#message(refused
      ? 'The description of the software this page expects (its release manifest) does not add up, so the server was not checked. Nothing was captured or sent. Select the badge for the details.'
      : `${error.message} Nothing was captured or sent.`);
    this.#part('facts').replaceChildren(...fact('Error', error.message));
  }

  #renderReleaseRefused(error) {
    this.#part('badge-label').textContent = 'Not verified — release not proven';
    this.#part('capture').disabled = true;
    this.#message(`${error.message} So the server was not checked, and nothing was captured or sent. Select the badge for the details.`);
    const facts = [
      ['Why', error.detail || error.message],
      ...(error.bundleUrl ? [['Signed release', error.bundleUrl]] : []),
    ];
    this.#part('facts').replaceChildren(...facts.flatMap(([k, v]) => fact(k, String(v))));
    const checks = error.result?.checks ?? [];
    this.#part('failures').replaceChildren(...checks.filter((c) => c.outcome === 'fail').map(checkItem));
    this.#part('checks').replaceChildren(...checks.map(checkItem));
  }

  #renderResult(result, releases) {
    const r = result.report ?? {};
    const label = this.#part('badge-label');
    if (!result.verified) {
      label.textContent = 'Not verified — do not send';
      this.#message(`${explainFailure(result)} Nothing was captured or sent. Select the badge for the details.`);
    } else if (result.simulated) {
      label.textContent = 'SIMULATED — not real AMD hardware';
      this.#message(result.simulatedSigstore
        ? 'This server checked out against SIMULATED roots that this page chose to trust for development: its release was signed through a SIMULATED Sigstore instance. It proves nothing about hardware or about a published release.'
        : 'This server checked out against a SIMULATED root that this page chose to trust for development. It proves nothing about hardware.');
    } else {
      label.textContent = `Verified: genuine AMD SEV-SNP${result.product ? ` (${result.product})` : ''}, expected code`;
      this.#message('');
    }
    // A release from a manifest (recomputed here) names itself; a bare measurement may carry a name.
    const named = releases.find((x) => x.measurement === r.measurement?.toLowerCase());
    const release = result.release ?? (named && { release: named.name || 'an expected release' });
    const facts = [
      ['Verdict', result.verified ? (result.simulated ? 'verified against a SIMULATED root' : 'verified') : 'rejected'],
      ['Product', result.product || '—'],
      ['Signed by', r.signer || '—'],
      ['Chip', r.chipId ? (/^0*$/.test(r.chipId) ? 'masked by the guest' : r.chipId) : '—'],
      ['Reported TCB', r.reportedTcb ? formatTCB(r.reportedTcb) : '—'],
      ['Measurement', r.measurement || '—'],
      ['Release', release ? release.release : 'none of the expected releases'],
      ...(release?.sourceCommit && !release.result ? [['Source commit', release.sourceCommit]] : []),
      ...(release?.result ? releaseFacts(release)
        : release?.recomputed ? [['Launch digest', `recomputed in this browser from the release manifest${release.manifestUrl ? ` ${release.manifestUrl}` : ''}`]] : []),
      ['Policy', r.policy || '—'],
      ['VMPL', r.vmpl ?? '—'],
      ['Revocation', result.revocation || '—'],
      ['Report SHA-384', r.sha384 || '—'],
      ['Verified at', result.verifiedAt || '—'],
    ];
    this.#part('facts').replaceChildren(...facts.flatMap(([k, v]) => fact(k, String(v))));
    const checks = result.checks ?? [];
    this.#part('failures').replaceChildren(...checks.filter((c) => c.outcome === 'fail').map(checkItem));
    this.#part('checks').replaceChildren(...checks.map(checkItem));
    const count = (o) => checks.filter((c) => c.outcome === o).length;
    this.#part('checks-summary').textContent =
      `All ${checks.length} checks: ${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} skipped`;
  }

  #renderReceipt(receipt) {
    const box = this.#part('receipt');
    const p = document.createElement('p');
    p.style.margin = '0';
    p.textContent = receipt.status === 'already_enrolled'
      ? 'Received. You were already enrolled.'
      : 'Received. You are enrolled.';
    const id = document.createElement('code');
    id.textContent = receipt.receipt_id;
    box.replaceChildren(p, document.createTextNode('Receipt '), id);
    this.#message('');
  }

  async #startCamera(run) {
    const button = this.#part('capture');
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
      if (run !== this.#run || !this.isConnected) {
        stream.getTracks().forEach((t) => t.stop());
        return;
      }
      this.#stream = stream;
      const video = this.#part('preview');
      video.srcObject = stream;
      video.setAttribute('data-live', '');
      await video.play().catch(() => {});
      button.disabled = false;
    } catch (error) {
      if (run !== this.#run) return;
      button.disabled = true;
      this.#message(`The server is verified, but the camera could not be opened (${error.name || error.message}).`);
    }
  }

  #stopCamera() {
    this.#stream?.getTracks().forEach((t) => t.stop());
    this.#stream = null;
    const video = this.#root.querySelector('[part~="preview"]');
    if (video) {
      video.srcObject = null;
      video.removeAttribute('data-live');
    }
    const button = this.#root.querySelector('[part~="capture"]');
    if (button) button.disabled = true;
  }
}

// release-repository, release-issuer, … as reflected string properties (release.js).
defineReleaseProperties(CvmAttestElement);

/** Parses "name=hex,hex" into [{name, measurement}], measurements lowercased. */
export function parseMeasurements(value) {
  return String(value ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((item) => {
    const eq = item.lastIndexOf('=');
    const name = eq >= 0 ? item.slice(0, eq).trim() : '';
    const measurement = (eq >= 0 ? item.slice(eq + 1) : item).trim().toLowerCase().replace(/^0x/, '');
    return { name, measurement };
  });
}

// What a failed check means, in words a person understands. The first failed
// check decides; the details list every check.
const failureWords = [
  [/^(chain\.|product$|certificates$|report\.signature|report\.signingKey|vcek\.|vlek\.)/, 'This server could not prove that it runs on genuine AMD SEV-SNP hardware.'],
  [/^validity\./, 'A certificate in this server’s proof is not valid at this time.'],
  [/^measurement$/, 'This server is not running the software this page expects.'],
  [/^reportData$/, 'This server’s proof is not fresh, or not tied to the key your photo would be encrypted to.'],
  [/^(policy\.|vmpl$)/, 'This server’s security settings are not acceptable.'],
  [/tcb|guestSvn/i, 'This server’s firmware or software is older than this page accepts.'],
  [/^revocation$/, 'A certificate in this server’s proof has been revoked, or revocation could not be checked.'],
  [/^report\./, 'The server sent a proof that is damaged or in an unknown format.'],
];

function explainFailure(result) {
  const failed = (result.checks ?? []).find((c) => c.outcome === 'fail');
  if (!failed) return 'This server’s proof did not check out.';
  return failureWords.find(([re]) => re.test(failed.name))?.[1] ?? 'This server’s proof did not check out.';
}

function fact(name, value) {
  const dt = document.createElement('dt');
  dt.textContent = name;
  const dd = document.createElement('dd');
  dd.textContent = value;
  return [dt, dd];
}

function checkItem(c) {
  const li = document.createElement('li');
  li.dataset.outcome = c.outcome;
  li.dataset.check = c.name;
  let text = `${c.outcome === 'pass' ? '✓' : c.outcome === 'fail' ? '✗' : '–'} ${c.name}: ${c.outcome}`;
  if (c.detail) text += ` — ${c.detail}`;
  if (c.outcome === 'fail' && (c.got || c.want)) text += ` (${c.field ? `${c.field}: ` : ''}got ${c.got || '?'}, want ${c.want || '?'})`;
  li.textContent = text;
  return li;
}

function formatTCB(t) {
  const parts = [`bl ${t.bl}`, `tee ${t.tee}`, `snp ${t.snp}`, `ucode ${t.ucode}`];
  if (t.fmc !== undefined) parts.push(`fmc ${t.fmc}`);
  return `${t.raw} (${parts.join(', ')})`;
}

async function grabJPEG(video) {
  const width = video.videoWidth;
  const height = video.videoHeight;
  if (!width || !height) throw new Error('The camera has not produced a picture yet.');
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').drawImage(video, 0, 0, width, height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
  canvas.width = canvas.height = 0;
  if (!blob) throw new Error('The photo could not be encoded.');
  return { image: new Uint8Array(await blob.arrayBuffer()), contentType: 'image/jpeg', width, height };
}
