/** One check of a verification and what it found (media type application/vnd.cvmtrust.verification.v1+json). */
export interface Check {
  name: string;
  outcome: 'pass' | 'fail' | 'skipped';
  /** On failure: the report or certificate field, and the values found and wanted (hex for bytes). */
  field?: string;
  got?: string;
  want?: string;
  detail?: string;
}

/** A TCB_VERSION decoded for its product. */
export interface TCB {
  /** 16 hex digits, the u64 as AMD tools print it. */
  raw: string;
  bl: number;
  tee: number;
  snp: number;
  ucode: number;
  /** Turin and later. */
  fmc?: number;
}

export interface ReportSummary {
  version: number;
  guestSvn: number;
  policy: string;
  vmpl: number;
  signer: 'VCEK' | 'VLEK' | string;
  chipId: string;
  measurement: string;
  reportData: string;
  hostData: string;
  reportedTcb: TCB;
  committedTcb: TCB;
  currentTcb: TCB;
  launchTcb: TCB;
  /** SHA-384 of the whole report: what an upload is sealed to. */
  sha384: string;
}

/** The verifier's account of one piece of evidence. */
export interface Result {
  mediaType: 'application/vnd.cvmtrust.verification.v1+json';
  verified: boolean;
  /** True when the chain ends at a simulated root the page chose to trust: proves nothing about hardware. */
  simulated: boolean;
  product?: 'Milan' | 'Genoa' | 'Turin' | string;
  report?: ReportSummary;
  /** "checked", or why not. */
  revocation: string;
  /** The floor the TCBs were held to, when there was one: the page's min-tcb raised to the bulletins' floor for the processor line. */
  tcbFloor?: { floor: TCBFloor; line?: string; bulletins?: string[] };
  /** RFC 3339, the browser's clock. */
  verifiedAt: string;
  checks: Check[];
  /**
   * What REPORT_DATA was checked against, when a nonce was given: evidence protocol v1 (nonce and HPKE key) or v2
   * (nonce, the gateway's TLS key, HPKE key).
   */
  binding?: 'cvmtrust-evidence-v1' | 'cvmtrust-evidence-v2';
  /** Evidence v2: the SHA-256 (hex) of the TLS SubjectPublicKeyInfo the report binds. */
  tlsKeySha256?: string;
  /**
   * Added by verifyGateway (not part of the verifier's media type): the release, from one of the manifests or
   * signed releases it was given, whose recomputed launch digest the report carries (undefined when none).
   */
  release?: Release | SignedRelease;
  /** Added by verifyGateway: the release was verified against a SIMULATED Sigstore instance. */
  simulatedSigstore?: boolean;
}

/**
 * A release whose manifest (format cvmtrust-launch-manifest/v1, see measure/README.md) checked out: its launch digest
 * was recomputed in this browser from the OVMF hash, the OVMF layout, the artifact digests and the launch settings,
 * and equals the manifest's measurement.
 */
export interface Release {
  /** The manifest's release name. */
  release: string;
  /** The commit the release was built from, when the manifest states it. */
  sourceCommit?: string;
  /** The recomputed launch digest, 96 lowercase hex digits. */
  measurement: string;
  /** Always true: the digest was recomputed here, not taken from the manifest. */
  recomputed: true;
  vcpus: number;
  vcpuType?: string;
  vmmType: 'QEMU' | 'ec2' | 'gce';
  /** The OVMF hash (snp:ovmf-hash) the computation started from. */
  ovmfHash: string;
  /** Where the manifest was fetched from (absent when it was given as an object). */
  manifestUrl?: string;
}

/**
 * What verifyGateway expects beyond the measurements and the nonce (all optional). Its defaults are the element's
 * (README, "Defaults"): VMPL 0, the TCB floor AMD's security bulletins require for the processor line, revocation
 * checked; each is lifted only by the option named for it.
 */
export interface Expectation {
  /** UNSAFE: accept any launch measurement. For debugging only. */
  anyMeasurementUnsafe?: boolean;
  /** The exact REPORT_DATA (hex), for evidence that does not use protocol v1's or v2's binding. */
  reportData?: string;
  /**
   * The SHA-256 (hex) of the SubjectPublicKeyInfo the gateway must serve TLS with, when the page knows it from
   * elsewhere (a page cannot see the TLS certificate of its own connection). The evidence must be protocol v2 and
   * bind exactly this key; otherwise the check tlsKey fails.
   */
  tlsSpkiSha256?: string;
  /** The exact VMPL; default 0. "any" checks none. */
  vmpl?: number | 'any';
  /** A floor of the page's: raises the bulletins' floor, component by component. */
  minTcb?: TCBFloor;
  /** UNSAFE: accept firmware below the floor AMD's security bulletins require (minTcb, if set, is then the only floor). */
  tcbBelowBulletinsUnsafe?: boolean;
  minGuestSvn?: number;
  policy?: { allowDebug?: boolean; allowMigrationAgent?: boolean; requireNoSmt?: boolean; minAbiMajor?: number; minAbiMinor?: number };
  hostData?: string;
  idKeyDigest?: string;
  /** UNSAFE: accept a server whose certificates' revocation could not be checked (no CRL through kdsProxy). */
  uncheckedRevocationUnsafe?: boolean;
}

/** What the wasm's cvmtrust.verify takes: exactly what is checked, no defaults. */
export interface WasmExpectation extends Omit<Expectation, 'vmpl' | 'tcbBelowBulletinsUnsafe' | 'uncheckedRevocationUnsafe'> {
  measurements?: string[];
  nonce?: string;
  /** The exact VMPL; absent checks none. */
  vmpl?: number;
  /** Raise minTcb to the bulletins' floor for the report's processor line. */
  bulletinTcbFloor?: boolean;
  /** Reject when revocation could not be checked. */
  requireRevocationCheck?: boolean;
  simulatedRoot?: string;
  kdsProxy?: string;
}

export interface LoadOptions {
  /** Where cvmtrust.wasm is; default dist/cvmtrust.wasm beside this module. */
  wasmURL?: string | URL;
  /** Where Go's loader is; default dist/wasm_exec.js beside this module (the build's: a module that exports Go). Go's own wasm_exec.js, which sets globalThis.Go, works too. */
  wasmExecURL?: string | URL;
  /** Subresource Integrity of the wasm; default this build's (dist/integrity.js), which its loader was built with. */
  integrity?: string;
  /** Where the HPKE module is (hpke-js, bundled); default dist/hpke.js beside this module. */
  hpkeURL?: string | URL;
  /** How long the wasm's download may go without a byte before it is given up (error.code 'timeout'); default 20000. */
  stallTimeoutMs?: number;
}

export interface VerifyGatewayOptions extends LoadOptions {
  /** The gateway's base URL; GET attestation and POST enroll are resolved against it. */
  gateway: string | URL;
  /** Accepted launch measurements, hex (96 digits each). measurements, manifests or both. */
  measurements?: string[];
  /**
   * Release manifests (URLs, relative to the page, or parsed manifest objects): each one's launch digest is
   * recomputed here and accepted; one that does not match its stated measurement makes verifyGateway reject.
   */
  manifests?: (string | URL | object)[];
  /** Releases signed through Sigstore by the CI identity the page names; each verified release's recomputed launch digest is accepted (see README, Signed releases). */
  signedReleases?: SignedReleaseOptions;
  /** URL of a simulated AMD root (PEM) to trust besides the pinned AMD roots. Development only. */
  trustSimulatedRoot?: string | URL;
  /** URL of a KDS proxy (untrusted) for a VCEK and chain the evidence lacks, and for AMD's CRL. */
  kdsProxy?: string | URL;
  expectation?: Expectation;
  /**
   * How long each request (evidence, manifest, simulated root) may take, in milliseconds; default 20000. A request
   * past it rejects with error.code 'timeout'; an answer larger than its cap (evidence 256 KiB, manifest 1 MiB)
   * rejects with error.code 'too_large', read no further than the cap. Evidence without a report or an HPKE key
   * rejects with error.code 'incomplete_evidence'.
   */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The JSON body of POST /enroll (protocol v1). Byte fields are base64. */
export interface EnrollRequest {
  version: 1;
  report_sha384: string;
  kem: string;
  ciphertext: string;
}

/** What sealFor resolves with: the EnrollRequest, and the check of the answer to it. */
export interface SealedRequest extends EnrollRequest {
  /**
   * Checks the gateway's answer to this upload: its MAC, keyed by this upload's HPKE exporter secret, must
   * verify. Resolves with the Receipt; rejects with error.code 'receipt_invalid' otherwise. Not enumerable,
   * so JSON.stringify(request) is the body of POST /enroll.
   */
  verifyReceipt(receipt: unknown): Promise<Receipt>;
}

/** The gateway's answer to an enrollment, authenticated by mac (protocol v1). */
export interface Receipt {
  version: 1;
  receipt_id: string;
  status: 'enrolled' | 'already_enrolled';
  report_sha384: string;
  received_at: string;
  /** HMAC-SHA256, base64, keyed by HPKE Export("cvmtrust-receipt-v1", 32) of the upload's context. */
  mac: string;
}

export interface Capture {
  image: Uint8Array;
  contentType?: 'image/jpeg' | 'image/png';
  width?: number;
  height?: number;
}

/** The wasm namespace (globalThis.cvmtrust once loaded). */
export interface Verifier {
  /**
   * A Result that verified with a nonce also has sealTo: the HPKE key bytes bound in REPORT_DATA and the
   * report's SHA-384 (verifyGateway takes it off and seals only to it).
   */
  verify(evidence: string | object, expectation: WasmExpectation): Promise<Result & { sealTo?: { kem: string; kdf: string; aead: string; publicKey: Uint8Array; reportSha384: Uint8Array } }>;
  /** Recomputes a release manifest's launch digest; rejects with an Error when it differs from the stated one. */
  measure(manifest: string | object): Promise<Release>;
  readonly version: number;
}

/**
 * Loads and starts the wasm verifier once per page. Rejects with error.code 'verifier_integrity', without running
 * it, when the wasm's bytes do not match options.integrity (default: this build's, from dist/integrity.js).
 */
export function loadVerifier(options?: LoadOptions): Promise<Verifier>;
/** Who may sign the releases a page accepts, as cvmtrust.verifyRelease takes it. */
export interface ReleasePolicy {
  issuer: string;
  identity?: string;
  /** OWNER/NAME */
  repository?: string;
  /** Glob for the git ref (* and ? do not cross '/'), e.g. refs/tags/v*. */
  refPattern?: string;
  workflow?: string;
  /** The oldest a release may be signed, in seconds: default (and most) 90 days; more takes maxAgeUnsafe. */
  maxAgeSeconds?: number;
  /** UNSAFE: a longer maxAgeSeconds than 90 days, or, without one, a release of any age. */
  maxAgeUnsafe?: boolean;
  /** The lowest release accepted, by version tag (v1.4.0). */
  minTag?: string;
  /** The lowest release accepted, by signing time, in seconds since 1970. */
  minSignedAt?: number;
}

export interface SignedReleaseOptions {
  policy: ReleasePolicy;
  /** Bundle URLs; empty: the gateway's release/bundle.sigstore.json. */
  bundles: string[];
  /** URL of a SIMULATED Sigstore trusted root (development only). */
  trustSimulatedRoot?: string;
}

/** A release verified from its Sigstore bundle, its manifest's launch digest recomputed in the page. */
export interface SignedRelease {
  verified: true;
  release: string;
  name: string;
  measurement: string;
  sourceCommit: string;
  recomputed: true;
  repository: string;
  repositoryUri: string;
  commit: string;
  workflow: string;
  ref: string;
  tag: string;
  signer: string;
  issuer: string;
  signedAt: string;
  logIndex?: number;
  logUrl?: string;
  integratedTime?: string;
  /** True when it was verified against a SIMULATED Sigstore instance. */
  simulated: boolean;
  bundleUrl?: string;
  /** The age limit it was held to, in seconds; null when it was lifted (maxAgeUnsafe). */
  maxAgeSeconds: number | null;
  /** The lowest release it was held to (a tag, or an RFC 3339 time), or null. */
  minimum: string | null;
  /** The Sigstore verifier's Result (media type application/vnd.cvmtrust.sigstore-verification.v1+json). */
  result: object;
}

/** Element attributes of signed releases, mapped to their property names. */
export const releaseAttributes: Record<string, string>;

/** Verifies one release bundle (a URL, or its JSON) against policy; rejects with error.code 'release_refused'. */
export function loadRelease(bundle: string | URL, policy: ReleasePolicy, options?: LoadOptions & { fetch?: typeof fetch; simulatedTrustedRoot?: string }): Promise<SignedRelease>;

/**
 * Fetches a release manifest (or takes the parsed object) and recomputes its launch digest. Rejects, with
 * error.code 'manifest_refused' when the manifest is unusable or its measurement does not follow from it.
 */
export function loadManifest(manifest: string | URL | object, options?: LoadOptions & { fetch?: typeof fetch; timeoutMs?: number }): Promise<Release>;
/** Resolves with the Result, verified or not; rejects only when verification could not take place. */
export function verifyGateway(options: VerifyGatewayOptions): Promise<Result>;
/** Seals bytes (HPKE, in the page) to the key bound in the report of a Result verifyGateway verified. */
export function sealFor(result: Result, bytes: Uint8Array, options?: LoadOptions): Promise<SealedRequest>;
/**
 * Sets up the HPKE sender context (the KEM encapsulation and key schedule) for the next sealFor or enroll with
 * this verified Result, so that sealing then only encrypts. Single use: each seal takes its own context.
 */
export function prepareSeal(result: Result, options?: LoadOptions): Promise<void>;
/**
 * Seals a capture to a verified gateway, uploads it, and resolves with the Receipt only when its MAC verifies
 * (rejects with error.code 'receipt_invalid' otherwise). The answer is bounded like verifyGateway's requests
 * (timeoutMs, default 20000; a receipt larger than 64 KiB rejects with error.code 'too_large').
 */
export function enroll(result: Result, capture: Capture, options?: LoadOptions & { fetch?: typeof fetch; timeoutMs?: number }): Promise<Receipt>;
export function parseMeasurements(value: string): { name: string; measurement: string }[];
/** Parses a min-tcb attribute ("bl=3,tee=0,snp=14,ucode=209[,fmc=0]"); null when empty; throws when malformed. */
export function parseMinTCB(value: string | null): TCBFloor | null;

export interface TCBFloor { bl?: number; tee?: number; snp?: number; ucode?: number; fmc?: number }

/** One line of the summary a person reads without opening the details. */
export interface SummaryRow {
  topic: 'hardware' | 'code' | 'fresh' | 'settings' | 'revocation';
  /** The row's words, e.g. "Genuine AMD hardware". */
  name: string;
  /** What the badge names when the row was not checked, e.g. "revocation". */
  short: string;
  /** pass only when every check of the topic passed; skipped ("not checked") when the page did not ask for it. */
  outcome: 'pass' | 'fail' | 'skipped';
  text: string;
}
/** The summary of a Result (null: nothing could be checked). */
export function summarize(result: Result | null, options?: { release?: string }): SummaryRow[];

export type CvmAttestState = 'verifying' | 'verified' | 'simulated' | 'failed';

export class CvmVerifiedEvent extends Event {
  readonly detail: Result;
}
export class CvmFailedEvent extends Event {
  /** The Result when verification ran and rejected; null when it could not run. */
  readonly detail: Result | null;
  readonly error: Error | null;
}
export class CvmEnrolledEvent extends Event {
  readonly detail: Receipt;
}

/**
 * <cvm-attest gateway="..." release-repository="OWNER/NAME" kds-proxy="URL" [manifest="URL" manifests="URL,URL"
 *             measurements="name=hex,hex"] [vmpl="0"] [min-tcb="bl=3,tee=0,snp=14,ucode=209"] [min-guest-svn="N"]
 *             [require-no-smt] [badge-only] [timeout="20"] [release-max-age="30d"] [release-min="v1.4.0"]
 *             [trust-simulated-root="URL"] [tcb-below-bulletins-unsafe] [unchecked-revocation-unsafe]
 *             [release-max-age-unsafe="none"]>
 *
 * Its shadow root is closed. Parts, for layout only (the verdict's words export none): camera, preview, capture,
 * capture-note, retry.
 */
export class CvmAttestElement extends HTMLElement {
  static define(tag?: string, registry?: CustomElementRegistry): typeof CvmAttestElement;
  gateway: string;
  measurements: string;
  /** URL of a release manifest (recomputed in the page). */
  manifest: string;
  /** Comma-separated URLs of release manifests. */
  manifests: string;
  trustSimulatedRoot: string;
  kdsProxy: string;
  /** The exact VMPL required, 0 to 3; default 0. null (attribute "any") checks none, and the badge says so. */
  vmpl: number | null;
  /** A TCB floor of the page's, which raises the bulletins' (reported, committed, current and launch); null for none. */
  minTcb: TCBFloor | null;
  /** UNSAFE: accept firmware below the floor AMD's security bulletins require; the badge then says the floor was not checked. */
  tcbBelowBulletinsUnsafe: boolean;
  /** The lowest guest SVN accepted; 0 checks none. */
  minGuestSvn: number;
  /** UNSAFE: accept a server whose revocation could not be checked (no CRL through the KDS proxy); the badge says so. */
  uncheckedRevocationUnsafe: boolean;
  /** Reject a guest policy that allows SMT. */
  requireNoSmt: boolean;
  /** The badge only: the camera is never asked for and nothing is uploaded. */
  badgeOnly: boolean;
  /** Seconds each network step may take; default 20. */
  timeout: number;
  readonly state: CvmAttestState;
  readonly result: Result | null;
  readonly receipt: Receipt | null;
  verify(): Promise<Result | null>;
  capture(): Promise<Receipt>;
}

declare global {
  interface HTMLElementTagNameMap {
    'cvm-attest': CvmAttestElement;
  }
  interface HTMLElementEventMap {
    'cvm-verified': CvmVerifiedEvent;
    'cvm-failed': CvmFailedEvent;
    'cvm-enrolled': CvmEnrolledEvent;
  }
}
