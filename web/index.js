// The widget package: the element class (not registered; import ./define.js
// for that), its events, and the JS API.
export { CvmAttestElement, CvmVerifiedEvent, CvmFailedEvent, CvmEnrolledEvent, parseMeasurements, parseMinTCB, summarize } from './cvm-attest.js';
export { loadVerifier, loadManifest, verifyGateway, prepareSeal, sealFor, enroll } from './verifier.js';
export { loadRelease, releaseAttributes } from './release.js';
