// Starts loading the verifier (downloading, hashing and compiling the wasm)
// as soon as this module runs, before the page is parsed and the element's
// module graph has run. Put it first in the page's head, with async:
//
//   <script type="module" async src=".../dist/start.js"></script>
//
// The element then finds the verifier on its way (loadVerifier loads once
// per page). This does what a <link rel="preload" as="fetch"> of the wasm
// was meant to do, in every engine: WebKit never serves a fetch() from such
// a preload, so it downloaded the wasm twice (web/README.md). It loads the
// wasm beside this module (dist/cvmtrust.wasm); a page that passes other
// load options to the widget leaves this module out. A failed start is not
// reported here: the element reports it when it verifies, after a retry.
import { loadVerifier } from './verifier.js';

loadVerifier().catch(() => {});
