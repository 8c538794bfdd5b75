// Registers <cvm-attest>. Import this module for its side effect:
//   <script type="module" src=".../define.js"></script>
import { CvmAttestElement } from './cvm-attest.js';

CvmAttestElement.define();

export { CvmAttestElement };
