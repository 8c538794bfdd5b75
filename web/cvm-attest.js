// <cvm-attest>: verifies a gateway in the browser, shows a trust badge that
// expands to the details, and only once the gateway verified offers a camera
// capture, sealed to the attested key and uploaded. This file defines the
// class and its events and registers nothing (see define.js).

import { verifyGateway, prepareSeal, enroll, checkPinnedFiles } from './verifier.js';
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

// The element's styles, adopted as a constructable stylesheet: a page whose
// Content-Security-Policy has style-src 'self' (no 'unsafe-inline') styles it
// all the same, and no markup is parsed from strings (Trusted Types).
//
// What says whether the server checked out (the badge, the SIMULATED
// warning, the summary, the message, the details, the receipt) is styled
// here alone: those elements export no part, so no page rule reaches them,
// and .frame starts from initial values (all: initial), so nothing the page
// sets on <cvm-attest> (colour, font size, text-indent…) is inherited into
// them. The badge's colours follow .frame's data-state, which only the
// element sets; the host's state attribute is for the page to read. The
// parts that stay exported are the camera's (camera, preview, capture,
// capture-note) and the retry button, for a page to fit them to its layout;
// they carry no verdict, and no generated content can be added to them.
const css = `
  :host { display: block; max-width: 40rem; }
  .frame { all: initial; display: block; font: 14px/1.4 system-ui, sans-serif; color: #1d2125; }
  .badge { display: inline-flex; align-items: center; gap: .5em; border: 1px solid currentColor; border-radius: 999px;
    padding: .3em .9em; background: #fff; font: inherit; font-weight: 600; cursor: pointer; color: #3d4852; }
  .badge:focus-visible, button:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 2px; }
  .badge-toggle { font-weight: 400; font-size: 12px; text-decoration: underline; }
  .frame[data-state="verified"] .badge { color: #0b5c30; background: #e8f6ee; }
  .frame[data-state="simulated"] .badge { color: #6e3c00; background: #fff4e0; }
  .frame[data-state="failed"] .badge { color: #a1221b; background: #fdecea; }
  .warning { margin: .5em 0; padding: .4em .8em; border-left: 4px solid #8a4b00; background: #fff4e0; color: #4d2a00; font-weight: 600; }
  .summary { list-style: none; margin: .6em 0; padding: 0; display: grid; grid-template-columns: minmax(0, max-content) minmax(0, 1fr); gap: .15em 1em; }
  .summary li { display: contents; }
  .summary-outcome { font-weight: 600; }
  .summary-outcome[data-outcome="pass"] { color: #0b5c30; }
  .summary-outcome[data-outcome="fail"] { color: #a1221b; }
  .summary-outcome[data-outcome="skipped"] { color: #6e3c00; }
  .details { margin: .6em 0; padding: .6em .9em; border: 1px solid #d0d7de; border-radius: 8px; background: #fafbfc; }
  .facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: 0 0 .6em; }
  .facts dt { color: #3d4852; }
  .facts dd { margin: 0; font-family: ui-monospace, monospace; font-size: 12px; overflow-wrap: anywhere; }
  .checks, .failures { margin: .3em 0 0; padding-left: 1.4em; font-size: 12px; overflow-wrap: anywhere; }
  .failures:empty { display: none; }
  .failures li, .checks li[data-outcome="fail"] { color: #a1221b; font-weight: 600; }
  .checks li[data-outcome="skipped"] { color: #6e3c00; }
  .checks-summary { cursor: pointer; font-size: 13px; }
  .camera { display: flex; flex-direction: column; gap: .5em; margin-top: .8em; align-items: flex-start; }
  .preview { width: 320px; max-width: 100%; aspect-ratio: 4 / 3; background: #222; border-radius: 8px; object-fit: cover; }
  .preview:not([data-live]) { display: none; }
  .capture, .retry { font: inherit; padding: .4em 1em; }
  .capture-note { margin: 0; font-size: 13px; color: #3d4852; }
  .message:empty, .receipt:empty, .capture-note:empty { display: none; }
  .message { margin: .5em 0; }
  .receipt { margin: .6em 0 0; padding: .5em .8em; border-radius: 8px; background: #e8f6ee; font-size: 13px; }
  .receipt p { margin: 0; }
  [part]::before, [part]::after { content: none !important; }
  [hidden] { display: none !important; }
`;

let sheet;
function styles() {
  if (sheet === undefined) {
    sheet = null;
    try {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
    } catch {
      sheet = null; // no constructable stylesheets: a <style> element instead
    }
  }
  return sheet;
}

/** Builds an element: h('p', { class: 'message' }, 'text', child). Attributes only, no markup from strings. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === true) el.setAttribute(k, '');
    else if (v !== false && v != null) el.setAttribute(k, String(v));
  }
  el.append(...children);
  return el;
}

/** The element's shadow tree: every element named by its class; the camera's and the retry button's exported as parts too. */
function shadowContent() {
  return h('div', { class: 'frame' },
    h('button', { class: 'badge', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'details' },
      h('span', { class: 'badge-label' }, 'Checking the server…'),
      h('span', { class: 'badge-toggle' }, 'Show details')),
    h('p', { class: 'warning', hidden: true }),
    h('ul', { class: 'summary', 'aria-label': 'What was checked', hidden: true }),
    h('p', { class: 'message', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }),
    h('div', { class: 'details', id: 'details', hidden: true, role: 'region', 'aria-label': 'Details of the check' },
      h('dl', { class: 'facts' }),
      h('ul', { class: 'failures', 'aria-label': 'Checks that failed' }),
      h('details', { class: 'all-checks' }, h('summary', { class: 'checks-summary' }), h('ol', { class: 'checks' }))),
    h('button', { class: 'retry', part: 'retry', type: 'button', hidden: true }, 'Check the server again'),
    h('div', { class: 'camera', part: 'camera', hidden: true },
      h('video', { class: 'preview', part: 'preview', autoplay: true, muted: true, playsinline: true, 'aria-label': 'Camera preview' }),
      h('button', { class: 'capture', part: 'capture', type: 'button', 'aria-describedby': 'capture-note' }, 'Take photo and send securely'),
      h('p', { class: 'capture-note', part: 'capture-note', id: 'capture-note' })),
    h('div', { class: 'receipt', tabindex: '-1' }));
}

// Importing this file outside a browser (a bundler, server rendering) must not throw.
const BaseElement = globalThis.HTMLElement ?? class {};

const states = ['verifying', 'verified', 'simulated', 'failed'];

/** A page's setup that cannot be checked against: the page's fault, said as such. */
class SetupError extends Error {
  constructor(message) {
    super(message);
    this.code = 'page_setup';
  }
}

/**
 * Throws when the page's import map sends this module's imports elsewhere
 * than this build put them. verifier.js is checked with this module's own
 * code (the checks verifier.js exports would be the rerouted module's);
 * once it is known to be this build's, release.js is checked with its
 * checkPinnedFiles, which also refuses a browser that cannot tell.
 */
function checkOwnImports() {
  if (typeof import.meta.resolve === 'function' && import.meta.resolve('./verifier.js') !== new URL('./verifier.js', import.meta.url).href) {
    throw new SetupError('This page is set up wrong: its import map sends the verifier’s own files (verifier.js) to other addresses than this build of the verifier put them, so nothing the verifier checked could be trusted.');
  }
  checkPinnedFiles(import.meta, ['./release.js']);
}

const tcbParts = ['bl', 'tee', 'snp', 'ucode', 'fmc'];

/** Parses min-tcb "bl=3,tee=0,snp=14,ucode=209[,fmc=0]" into {bl, tee, snp, ucode, fmc}; null when empty. */
export function parseMinTCB(value) {
  const s = String(value ?? '').trim();
  if (!s) return null;
  const floor = {};
  for (const item of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^([a-z]+)\s*=\s*(\d{1,3})$/.exec(item);
    if (!m || !tcbParts.includes(m[1]) || Number(m[2]) > 255 || Object.hasOwn(floor, m[1])) {
      throw new SetupError(`This page is set up wrong: its min-tcb "${s}" is not a list like "bl=3,tee=0,snp=14,ucode=209" (each 0 to 255, once).`);
    }
    floor[m[1]] = Number(m[2]);
  }
  return floor;
}

function formatMinTCB(floor) {
  return tcbParts.filter((k) => floor[k] !== undefined).map((k) => `${k}=${floor[k]}`).join(',');
}

function booleanAttribute(el, name, v) {
  if (v) el.setAttribute(name, '');
  else el.removeAttribute(name);
}

function stringAttribute(el, name, v) {
  if (v) el.setAttribute(name, v);
  else el.removeAttribute(name);
}

export class CvmAttestElement extends BaseElement {
  static observedAttributes = [
    'gateway', 'measurements', 'manifest', 'manifests', 'trust-simulated-root', 'kds-proxy',
    'vmpl', 'min-tcb', 'tcb-below-bulletins-unsafe', 'min-guest-svn', 'unchecked-revocation-unsafe', 'require-no-smt', 'badge-only', 'timeout',
    ...Object.keys(releaseAttributes),
  ];

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
  /** The canvas captures are encoded from while the camera is open, its encoder set up (captureCanvas). */
  #canvas = null;
  #busy = false;

  constructor() {
    super();
    // Closed: no page script or frame reaches the tree, its camera preview
    // above all, through the element (el.shadowRoot is null).
    this.#root = this.attachShadow({ mode: 'closed' });
    const adopted = styles();
    if (adopted) this.#root.adoptedStyleSheets = [adopted];
    else this.#root.append(h('style', {}, css));
    this.#root.append(shadowContent());
    this.#part('badge').addEventListener('click', () => this.#toggleDetails());
    this.#part('retry').addEventListener('click', () => {
      // The retry button hides while checking: the focus goes to the badge, which stays.
      this.#part('badge').focus();
      this.verify().catch(() => { /* shown in the element */ });
    });
    this.#part('capture').addEventListener('click', () => {
      if (this.#result?.verified && !this.#stream) {
        // The camera could not be opened: this button asks again.
        this.#startCamera(this.#run);
        return;
      }
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
  set manifest(v) { stringAttribute(this, 'manifest', v); }

  /** URLs of release manifests, comma-separated; each one's recomputed launch digest is accepted. */
  get manifests() { return this.getAttribute('manifests') ?? ''; }
  set manifests(v) { stringAttribute(this, 'manifests', v); }

  /** URL of a simulated AMD root to trust besides the real ones. Development only. */
  get trustSimulatedRoot() { return this.getAttribute('trust-simulated-root') ?? ''; }
  set trustSimulatedRoot(v) { stringAttribute(this, 'trust-simulated-root', v); }

  /** URL of a KDS proxy (kdsproxy/) for evidence that does not carry its certificates, and for the CRL. */
  get kdsProxy() { return this.getAttribute('kds-proxy') ?? ''; }
  set kdsProxy(v) { stringAttribute(this, 'kds-proxy', v); }

  /**
   * The VMPL the gateway must run at: 0 to 3, default 0. null (attribute "any") accepts any VMPL, and the
   * badge says that VMPL was not checked.
   */
  get vmpl() {
    const v = this.getAttribute('vmpl');
    if (v === null || v.trim() === '') return 0;
    if (v.trim() === 'any') return null;
    return /^[0-3]$/.test(v.trim()) ? Number(v) : NaN;
  }
  set vmpl(v) { this.setAttribute('vmpl', v === null ? 'any' : String(v)); }

  /** A TCB floor of the page's, which raises the bulletins' (reported, committed, current, launch), or null for none. */
  get minTcb() {
    try {
      return parseMinTCB(this.getAttribute('min-tcb'));
    } catch {
      return null;
    }
  }
  set minTcb(v) {
    if (v == null || v === '') this.removeAttribute('min-tcb');
    else this.setAttribute('min-tcb', typeof v === 'string' ? v : formatMinTCB(v));
  }

  /** Lowest acceptable guest SVN; 0 (the default) checks none. */
  get minGuestSvn() { return Number(this.getAttribute('min-guest-svn') ?? 0); }
  set minGuestSvn(v) {
    if (!v) this.removeAttribute('min-guest-svn');
    else this.setAttribute('min-guest-svn', String(v));
  }

  /**
   * UNSAFE: accept a server whose certificates' revocation could not be checked (no CRL: set kds-proxy). By
   * default such a server fails; with this, the badge says revocation was not checked.
   */
  get uncheckedRevocationUnsafe() { return this.hasAttribute('unchecked-revocation-unsafe'); }
  set uncheckedRevocationUnsafe(v) { booleanAttribute(this, 'unchecked-revocation-unsafe', v); }

  /**
   * UNSAFE: accept firmware below the floor AMD's security bulletins require; min-tcb, if set, is then the only
   * floor. By default every TCB is held to the bulletins' floor for the server's processor line.
   */
  get tcbBelowBulletinsUnsafe() { return this.hasAttribute('tcb-below-bulletins-unsafe'); }
  set tcbBelowBulletinsUnsafe(v) { booleanAttribute(this, 'tcb-below-bulletins-unsafe', v); }

  /** Fail when the guest policy allows SMT (simultaneous multithreading). */
  get requireNoSmt() { return this.hasAttribute('require-no-smt'); }
  set requireNoSmt(v) { booleanAttribute(this, 'require-no-smt', v); }

  /** Show the trust badge only: never ask for the camera, never upload. */
  get badgeOnly() { return this.hasAttribute('badge-only'); }
  set badgeOnly(v) { booleanAttribute(this, 'badge-only', v); }

  /** Seconds each network step (evidence, manifests, upload) may take; default 20. */
  get timeout() {
    const v = Number(this.getAttribute('timeout') ?? 20);
    return Number.isFinite(v) && v > 0 ? v : 20;
  }
  set timeout(v) { this.setAttribute('timeout', String(v)); }

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

  /** The expectation this element's policy attributes ask for; throws a SetupError for a malformed one. */
  #expectation() {
    const vmpl = this.vmpl;
    if (Number.isNaN(vmpl)) throw new SetupError(`This page is set up wrong: its vmpl "${this.getAttribute('vmpl')}" is not 0, 1, 2, 3 or "any".`);
    const minTcb = parseMinTCB(this.getAttribute('min-tcb'));
    const svn = this.getAttribute('min-guest-svn');
    if (svn !== null && !/^\d{1,10}$/.test(svn.trim())) throw new SetupError(`This page is set up wrong: its min-guest-svn "${svn}" is not a whole number.`);
    // verifyGateway's defaults are the element's (VMPL 0, the bulletins' TCB floor, revocation checked); these
    // attributes only raise them, or lift one in words.
    return {
      vmpl: vmpl === null ? 'any' : vmpl,
      ...(minTcb ? { minTcb } : {}),
      ...(this.tcbBelowBulletinsUnsafe ? { tcbBelowBulletinsUnsafe: true } : {}),
      ...(this.minGuestSvn ? { minGuestSvn: this.minGuestSvn } : {}),
      ...(this.requireNoSmt ? { policy: { requireNoSmt: true } } : {}),
      ...(this.uncheckedRevocationUnsafe ? { uncheckedRevocationUnsafe: true } : {}),
    };
  }

  /** Verifies the gateway again with a fresh nonce. Resolves with the Result. */
  async verify() {
    const run = ++this.#run;
    this.#result = null;
    this.#receipt = null;
    this.#stopCamera();
    this.#setState('verifying');
    this.#renderVerifying();
    const releases = parseMeasurements(this.measurements);
    const manifests = [this.manifest, ...this.manifests.split(',')].map((s) => s.trim()).filter(Boolean);
    let result;
    try {
      if (globalThis.isSecureContext === false) {
        const err = new Error('This page was opened over plain http from another address, so your browser switches off the encryption it needs. Open it over https, or on the server itself as http://localhost.');
        err.code = 'insecure_context';
        throw err;
      }
      checkOwnImports();
      if (!this.gateway) throw new SetupError('This page is set up wrong: it does not say which server to check (the gateway attribute is missing).');
      let signedReleases;
      try {
        signedReleases = releaseOptionsOf(this) ?? undefined;
      } catch (err) {
        throw new SetupError(`This page is set up wrong: ${err.message}`);
      }
      if (releases.length === 0 && manifests.length === 0 && !signedReleases) throw new SetupError('This page is set up wrong: it does not say which software the server must run (set measurements, manifest or release-repository).');
      const bad = releases.find((r) => !/^[0-9a-f]{96}$/.test(r.measurement));
      if (bad) throw new SetupError(`This page is set up wrong: the expected measurement "${bad.measurement.slice(0, 20)}${bad.measurement.length > 20 ? '…' : ''}" is not 96 hexadecimal digits.`);
      result = await verifyGateway({
        gateway: this.gateway,
        measurements: releases.map((r) => r.measurement),
        manifests,
        signedReleases,
        trustSimulatedRoot: this.trustSimulatedRoot || undefined,
        kdsProxy: this.kdsProxy || undefined,
        expectation: this.#expectation(),
        timeoutMs: this.timeout * 1000,
      });
    } catch (error) {
      if (run !== this.#run) return null;
      this.#setState('failed');
      this.#renderError(error);
      markVerdict();
      this.dispatchEvent(new CvmFailedEvent(null, error));
      throw error;
    }
    if (run !== this.#run) return result;
    this.#result = result;
    if (!result.verified) {
      this.#setState('failed');
      this.#renderResult(result, releases);
      markVerdict();
      this.dispatchEvent(new CvmFailedEvent(result));
      return result;
    }
    this.#setState(result.simulated ? 'simulated' : 'verified');
    this.#renderResult(result, releases);
    markVerdict();
    this.dispatchEvent(new CvmVerifiedEvent(result));
    if (!this.badgeOnly) await this.#startCamera(run);
    return result;
  }

  /** Captures a frame, seals it to the verified gateway and uploads it. Resolves with the Receipt. */
  async capture() {
    const result = this.#result;
    if (this.badgeOnly) throw new Error('This element shows the badge only: it takes no photo.');
    if (!result?.verified || !this.#stream || this.#busy) {
      throw new Error('The server has not been verified yet: nothing was captured.');
    }
    this.#busy = true;
    const button = this.#part('capture');
    const hadFocus = this.#root.activeElement === button;
    button.disabled = true;
    this.#note('');
    this.#message('Encrypting your photo to the verified server and sending it…');
    const run = this.#run;
    try {
      globalThis.performance?.mark?.('cvmtrust:capture-start');
      const capture = await grabJPEG(this.#part('preview'), this.#canvas ?? document.createElement('canvas'));
      globalThis.performance?.mark?.('cvmtrust:captured');
      const receipt = await enroll(result, capture, { timeoutMs: this.timeout * 1000 });
      capture.image.fill(0);
      if (run !== this.#run) return receipt;
      this.#receipt = receipt;
      this.#stopCamera();
      this.#part('camera').hidden = true;
      this.#renderReceipt(receipt);
      if (hadFocus) this.#part('receipt').focus();
      this.dispatchEvent(new CvmEnrolledEvent(receipt));
      return receipt;
    } catch (error) {
      this.#message(`${sentence(error.message)} You can try again.`);
      // A try again seals with a new context (each upload its own); have it ready too.
      if (this.#stream && run === this.#run) this.#prepareSeal();
      button.disabled = !this.#stream;
      if (button.disabled) this.#note('The camera stopped. Select “Check the server again” to start over.');
      throw error;
    } finally {
      this.#busy = false;
    }
  }

  #part(name) { return this.#root.querySelector(`.${name}`); }

  // A failure here shows when the capture seals (enroll sets up a context anew and says why).
  #prepareSeal() { return prepareSeal(this.#result).catch(() => {}); }

  #setState(state) {
    if (!states.includes(state)) throw new Error(`bad state ${state}`);
    // The badge is styled by the frame's state, which the page cannot set; the attribute is the page's to read.
    this.#part('frame').dataset.state = state;
    this.setAttribute('state', state);
  }

  #toggleDetails() {
    const badge = this.#part('badge');
    const open = badge.getAttribute('aria-expanded') !== 'true';
    badge.setAttribute('aria-expanded', String(open));
    this.#part('badge-toggle').textContent = open ? 'Hide details' : 'Show details';
    this.#part('details').hidden = !open;
  }

  #message(text) { this.#part('message').textContent = text; }
  #note(text) { this.#part('capture-note').textContent = text; }

  #renderVerifying() {
    this.#part('badge-label').textContent = 'Checking the server…';
    this.#part('camera').hidden = true;
    this.#part('retry').hidden = true;
    this.#part('warning').hidden = true;
    this.#part('summary').hidden = true;
    this.#part('summary').replaceChildren();
    this.#part('facts').replaceChildren();
    this.#part('checks').replaceChildren();
    this.#part('failures').replaceChildren();
    this.#part('checks-summary').textContent = '';
    this.#part('receipt').replaceChildren();
    this.#note('');
    this.#message('Checking that the server is genuine before anything is sent…');
  }

  #renderError(error) {
    if (error.code === 'release_refused') {
      this.#renderReleaseRefused(error);
      return;
    }
    const code = error.code;
    const label = code === 'manifest_refused' ? 'Not verified — release description refused'
      : code === 'page_setup' ? 'Not verified — this page is set up wrong'
        : 'Could not check the server';
    // Checking again does not help what only the page or the browser can change.
    const final = code === 'page_setup' || code === 'insecure_context' || code === 'old_browser';
    this.#part('badge-label').textContent = label;
    this.#part('camera').hidden = true;
    this.#part('retry').hidden = final;
    let text;
    if (code === 'manifest_refused') {
      // What exactly did not add up is in the details.
      text = 'The description of the software this page expects (its release manifest) does not add up, so the server was not checked. Nothing was captured or sent. Select “Show details” to see why.';
    } else if (final) {
      text = `${sentence(error.message)} Nothing was captured or sent.`;
    } else {
      text = `${sentence(error.message)} Nothing was captured or sent. You can check the server again.`;
    }
    this.#message(text);
    this.#part('facts').replaceChildren(...fact('Error', plain(error.message)), ...fact('Checked at', new Date().toISOString()));
    this.#renderSummary(null);
  }

  #renderReleaseRefused(error) {
    this.#part('badge-label').textContent = 'Not verified — release not proven';
    this.#part('camera').hidden = true;
    this.#part('retry').hidden = false;
    this.#message(`${sentence(error.message)} So the server was not checked, and nothing was captured or sent. Select “Show details” to see why.`);
    const facts = [
      ['Why', plain(error.detail || error.message)],
      ...(error.bundleUrl ? [['Signed release', error.bundleUrl]] : []),
      ['Checked at', new Date().toISOString()],
    ];
    this.#part('facts').replaceChildren(...facts.flatMap(([k, v]) => fact(k, String(v))));
    this.#renderSummary(null);
    const checks = error.result?.checks ?? [];
    this.#part('failures').replaceChildren(...checks.filter((c) => c.outcome === 'fail').map(checkItem));
    this.#part('checks').replaceChildren(...checks.map(checkItem));
  }

  #renderResult(result, releases) {
    const r = result.report ?? {};
    const label = this.#part('badge-label');
    // A release from a manifest (recomputed here) names itself; a bare measurement may carry a name.
    const named = releases.find((x) => x.measurement === r.measurement?.toLowerCase());
    const release = result.release ?? (named && { release: named.name || 'an expected release' });
    const summary = this.#renderSummary(result, release?.release);
    const notChecked = summary.filter((s) => s.outcome === 'skipped').map((s) => s.short);
    // A signed release accepted at any age, in words (release-max-age-unsafe): said on the badge too.
    if (release?.result && release.maxAgeSeconds === null) notChecked.push('release age');
    const warning = this.#part('warning');
    warning.hidden = !result.simulated;
    warning.textContent = !result.simulated ? ''
      : result.simulatedSigstore
        ? 'SIMULATED: this server was checked against a fake AMD root, and its release against a SIMULATED Sigstore instance, that this page trusts for development. It proves nothing about real hardware or a published release.'
        : 'SIMULATED: this server was checked against a fake AMD root that this page trusts for development. It proves nothing about real hardware.';
    this.#part('retry').hidden = result.verified;
    if (!result.verified) {
      label.textContent = 'Not verified — do not send';
      this.#message(`${explainFailure(result)} Nothing was captured or sent. Select “Show details” to see which check failed.`);
    } else if (result.simulated) {
      label.textContent = 'SIMULATED — not real AMD hardware';
      this.#message(this.badgeOnly ? 'The checks passed against a simulated root.' : 'The checks passed against a simulated root. You can take a photo to try the flow; it is encrypted before it leaves this page.');
    } else {
      const base = `Verified: genuine AMD SEV-SNP${result.product ? ` (${result.product})` : ''}, expected code`;
      label.textContent = notChecked.length ? `${base} — not checked: ${notChecked.join(', ')}` : base;
      this.#message(this.badgeOnly ? 'The server checked out.' : 'The server checked out. You can take a photo; it is encrypted to this server before it leaves this page.');
    }
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
      ...this.#floorFacts(result),
      ['Revocation', result.revocation || '—'],
      ['Report SHA-384', r.sha384 || '—'],
      ['Checked at', result.verifiedAt || '—'],
    ];
    this.#part('facts').replaceChildren(...facts.flatMap(([k, v]) => fact(k, String(v))));
    const checks = result.checks ?? [];
    this.#part('failures').replaceChildren(...checks.filter((c) => c.outcome === 'fail').map(checkItem));
    this.#part('checks').replaceChildren(...checks.map(checkItem));
    const count = (o) => checks.filter((c) => c.outcome === o).length;
    this.#part('checks-summary').textContent =
      `All ${checks.length} checks: ${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} not checked`;
  }

  /** The floors the server was held to, as the details show them: firmware, guest SVN, VMPL. */
  #floorFacts(result) {
    const f = result.tcbFloor;
    const parts = f ? tcbParts.filter((k) => f.floor[k]).map((k) => `${k} ≥ ${f.floor[k]}`) : [];
    const firmware = !f ? 'none: any firmware accepted (tcb-below-bulletins-unsafe)'
      : `${parts.join(', ') || 'none'}${f.bulletins?.length ? ` (for ${f.line}: ${f.bulletins.join(', ')}${this.minTcb ? ', raised by min-tcb' : ''})` : ' (min-tcb)'}`;
    const vmpl = this.vmpl;
    return [
      ['Firmware floor', firmware],
      ['Guest SVN floor', this.minGuestSvn ? `≥ ${this.minGuestSvn}` : 'none set (min-guest-svn)'],
      ['VMPL required', vmpl === null ? 'any: not checked (vmpl="any")' : String(vmpl)],
    ];
  }

  /** The four questions a person asks, each pass / fail / not checked; returns the rows. */
  #renderSummary(result, release) {
    const rows = summarize(result, { release: release ?? result?.release?.release });
    const list = this.#part('summary');
    list.replaceChildren(...rows.map((row) => h('li', { 'data-topic': row.topic },
      h('span', { class: 'summary-name' }, row.name),
      h('span', { class: 'summary-outcome', 'data-outcome': row.outcome }, row.text))));
    list.hidden = false;
    return rows;
  }

  #renderReceipt(receipt) {
    const box = this.#part('receipt');
    const p = h('p', {}, receipt.status === 'already_enrolled'
      ? 'Received. You were already enrolled, so nothing new was stored.'
      : 'Received. You are enrolled.');
    box.replaceChildren(p, h('p', {}, 'Receipt ', h('code', {}, receipt.receipt_id)));
    this.#message(receipt.status === 'already_enrolled'
      ? 'Your photo was received by the verified server. You were already enrolled.'
      : 'Your photo was received by the verified server. You are enrolled.');
  }

  async #startCamera(run) {
    const camera = this.#part('camera');
    const button = this.#part('capture');
    camera.hidden = false;
    button.disabled = true;
    button.textContent = 'Take photo and send securely';
    this.#note('Waiting for the camera… your browser may ask you to allow it.');
    // The server is verified and a capture is offered: the key encapsulation is done while the camera starts,
    // not after the click.
    const sealing = this.#prepareSeal();
    try {
      if (!navigator.mediaDevices?.getUserMedia) {
        const err = new Error('no mediaDevices');
        err.name = globalThis.isSecureContext === false ? 'InsecureContext' : 'NotSupportedError';
        throw err;
      }
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
      if (run !== this.#run || !this.isConnected) {
        stream.getTracks().forEach((t) => t.stop());
        return;
      }
      this.#stream = stream;
      const video = this.#part('preview');
      video.srcObject = stream;
      video.setAttribute('data-live', '');
      // The camera's size is known before its first frame plays.
      const { width = 640, height = 480 } = stream.getVideoTracks()[0]?.getSettings?.() ?? {};
      const canvas = captureCanvas(width, height);
      // The button waits for the sealing to be set up too: a click then only grabs, encrypts and sends.
      await Promise.all([video.play().catch(() => {}), sealing]);
      if (run !== this.#run || this.#stream !== stream) {
        canvas.width = canvas.height = 0;
        return;
      }
      this.#canvas = canvas;
      button.disabled = false;
      this.#note('');
    } catch (error) {
      if (run !== this.#run) return;
      // The button stays, enabled, to ask for the camera again; the note says why.
      button.disabled = false;
      button.textContent = 'Try the camera again';
      this.#note(cameraWords(error));
      this.#message('The server checked out, but the camera could not be opened. Nothing was captured or sent.');
    }
  }

  #stopCamera() {
    this.#stream?.getTracks().forEach((t) => t.stop());
    this.#stream = null;
    if (this.#canvas) this.#canvas.width = this.#canvas.height = 0;
    this.#canvas = null;
    const video = this.#root.querySelector('.preview');
    if (video) {
      video.srcObject = null;
      video.removeAttribute('data-live');
    }
    const button = this.#root.querySelector('.capture');
    if (button) button.disabled = true;
  }
}

/** Why the camera could not be opened, and what the person can do. */
// The verdict shown, as a performance mark beside the verifier's
// (scripts/bench-browser.mjs reads them, in every engine).
function markVerdict() {
  globalThis.performance?.mark?.('cvmtrust:verdict');
}

function cameraWords(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'The camera is blocked for this page. Allow the camera in your browser’s site settings (often the icon beside the address), then select “Try the camera again”.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found on this device. Connect a camera, or open this page on a phone, then select “Try the camera again”.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera is in use by another app or could not start. Close other apps that use it, then select “Try the camera again”.';
    case 'InsecureContext':
      return 'Your browser allows the camera only on pages opened over https (or as localhost on this device). Open this page over https.';
    default:
      return 'Your browser could not open the camera. Check that this page may use it, then select “Try the camera again”.';
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
  [/^tlsKey$/, 'This server’s proof is not tied to the TLS key this page expects: something in front of the server may be answering.'],
  [/^(policy\.|vmpl$)/, 'This server’s security settings are not acceptable.'],
  [/tcb|guestSvn/i, 'This server’s firmware or software is older than this page accepts.'],
  [/^revocation$/, 'A certificate in this server’s proof has been revoked, or this page requires a revocation check that could not be done (it needs a KDS proxy).'],
  [/^report\./, 'The server sent a proof that is damaged or in an unknown format.'],
];

// The summary a person reads without opening the details: which checks
// answer which question.
const topics = [
  { topic: 'hardware', name: 'Genuine AMD hardware', short: 'hardware', re: /^(chain\.|product$|certificates$|report\.|vcek\.|vlek\.|validity\.)/ },
  { topic: 'code', name: 'Expected code', short: 'code', re: /^measurement$/ },
  { topic: 'fresh', name: 'Fresh, bound to this session', short: 'freshness', re: /^(reportData|tlsKey)$/ },
  { topic: 'settings', name: 'Security settings and firmware', short: 'settings', re: /^(policy\.|vmpl$|tcb\.|guestSvn$)/ },
  { topic: 'revocation', name: 'Certificates not revoked', short: 'revocation', re: /^revocation$/ },
];

/**
 * Rows {topic, name, short, outcome: pass|fail|skipped, text} for a Result
 * (null: nothing was checked). A topic passes only when every check in it
 * passed; one that the page did not ask for is "not checked", never "pass".
 */
export function summarize(result, { release } = {}) {
  const checks = result?.checks ?? [];
  return topics.map(({ topic, name, short: topicShort, re }) => {
    let short = topicShort;
    const mine = checks.filter((c) => re.test(c.name));
    // A chip ID masked by the guest skips vcek.hwid (the VCEK's signature still binds the chip), and no
    // minimum guest SVN skips guestSvn (the measurement already pins the code), and a page that gives no TLS key skips
    // tlsKey (a page cannot see its TLS key): none is a gap.
    const counted = mine.filter((c) => !(c.outcome === 'skipped' && (/hwid$/.test(c.name) || c.name === 'guestSvn' || c.name === 'tlsKey')));
    let outcome;
    if (mine.length === 0) outcome = 'skipped';
    else if (mine.some((c) => c.outcome === 'fail')) outcome = 'fail';
    else if (counted.every((c) => c.outcome === 'pass')) outcome = 'pass';
    else outcome = 'skipped';
    let text = { pass: 'pass', fail: 'FAIL', skipped: 'not checked' }[outcome];
    if (outcome === 'pass' && topic === 'code' && release) text = `pass (release ${release})`;
    if (outcome === 'pass' && topic === 'fresh' && result.binding) text = result.binding === 'cvmtrust-evidence-v2' ? 'pass (protocol v2: includes the server’s TLS key)' : 'pass (protocol v1: no TLS key)';
    if (outcome === 'skipped' && topic === 'settings' && counted.some((c) => c.outcome === 'pass')) {
      const missing = [...new Set(counted.filter((c) => c.outcome === 'skipped').map((c) => (c.name.startsWith('tcb.') ? 'firmware floor' : c.name === 'vmpl' ? 'VMPL' : c.name)))];
      text = `partly: ${missing.join(', ')} not checked`;
      short = missing.join(', ');
    }
    if (outcome === 'skipped' && topic === 'revocation' && result) text = 'not checked (no revocation list)';
    if (outcome === 'skipped' && topic === 'code' && mine.length) text = 'NOT CHECKED: any code accepted';
    return { topic, name, short, outcome, text };
  });
}

/** A message ending in a full stop, without the verifier's internal prefix. */
function sentence(message) {
  const s = plain(message).trim();
  return /[.!?…]$/.test(s) ? s : `${s}.`;
}

function plain(message) {
  return String(message ?? '').replace(/^cvmtrust(\.[a-zA-Z]+)?:\s*/, '');
}

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

// The capture is the camera's own resolution (640×480 asked for), JPEG
// quality 0.92: what the matcher gets is not reduced to make it faster.
// What makes it fast instead, measured in each engine by
// scripts/bench-capture.mjs (WebKitGTK's figures on a loaded machine):
//   - a frame the camera delivers as RGB (WebKitGTK's) is copied out of a
//     VideoFrame as it is, rather than drawn: WebKitGTK's drawImage converts
//     the frame for the canvas, 90–660 ms from the video element and 25–790 ms
//     from a VideoFrame, where the copy takes 10–50 ms. A YUV frame
//     (Chromium's, Firefox's) is drawn, which is fast there, where copying it
//     out would convert it in script (Firefox: 57 ms);
//   - the JPEG is encoded with toDataURL, which does it at once (3–15 ms),
//     where toBlob and reading the Blob each wait for a turn of the page's
//     event loop, 30–400 ms on a busy machine;
//   - one canvas per open camera, at the camera's size, that the CPU reads
//     (willReadFrequently: no readback from the GPU) and that encoded once
//     while the camera started: the first encodes of a page pay the
//     encoder's set-up (200–280 ms in WebKitGTK). It is cleared after each
//     capture.
const jpegQuality = 0.92;
const jpegPrefix = 'data:image/jpeg;base64,';

/** A canvas for captures of width×height whose JPEG encoder is set up (it has encoded its blank self once). */
function captureCanvas(width, height) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d', { willReadFrequently: true });
  canvas.toDataURL('image/jpeg', jpegQuality);
  return canvas;
}

/** How red and blue sit in the RGB layouts a frame is copied from, and whether its fourth byte is alpha. */
const rgbLayouts = {
  RGBA: { swap: false, alpha: true },
  RGBX: { swap: false, alpha: false },
  BGRA: { swap: true, alpha: true },
  BGRX: { swap: true, alpha: false },
};

/** The video's current frame as a JPEG, encoded through canvas (which is left cleared). */
async function grabJPEG(video, canvas) {
  if (!video.videoWidth || !video.videoHeight) throw new Error('The camera has not produced a picture yet. Wait a moment and try again.');
  let frame = null;
  try {
    frame = typeof VideoFrame === 'function' ? new VideoFrame(video) : null;
  } catch {
    // No frame to be had this way (an engine without it for video elements): draw the element.
  }
  const width = frame ? frame.displayWidth : video.videoWidth;
  const height = frame ? frame.displayHeight : video.videoHeight;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  let url;
  try {
    try {
      if (!(frame && await copyRGB(frame, ctx))) ctx.drawImage(frame ?? video, 0, 0, width, height);
    } finally {
      frame?.close();
    }
    globalThis.performance?.mark?.('cvmtrust:frame');
    url = canvas.toDataURL('image/jpeg', jpegQuality);
  } finally {
    ctx.clearRect(0, 0, width, height);
  }
  if (!url.startsWith(jpegPrefix)) throw new Error('The photo could not be encoded.');
  return { image: fromBase64(url.slice(jpegPrefix.length)), contentType: 'image/jpeg', width, height };
}

function fromBase64(s) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(s);
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// Puts a frame in an RGB layout, shown as stored (not scaled, rotated or
// mirrored), into ctx's canvas as it is; false for any other frame.
async function copyRGB(frame, ctx) {
  const layout = rgbLayouts[frame.format];
  const { width, height } = frame.visibleRect ?? {};
  if (!layout || width !== frame.displayWidth || height !== frame.displayHeight || frame.rotation || frame.flip) return false;
  const image = new ImageData(width, height);
  const px = image.data;
  try {
    await frame.copyTo(px, { layout: [{ offset: 0, stride: width * 4 }] });
  } catch {
    return false;
  }
  // ImageData is RGBA. A camera's picture is opaque: a fourth byte that is not alpha is made so.
  if (layout.swap || !layout.alpha) {
    for (let i = 0; i < px.length; i += 4) {
      if (layout.swap) {
        const b = px[i];
        px[i] = px[i + 2];
        px[i + 2] = b;
      }
      px[i + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  px.fill(0);
  return true;
}
