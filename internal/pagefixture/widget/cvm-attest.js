// A stand-in for the widget's element.
import { verifyGateway } from './verifier.js';

export class CvmAttestElement extends HTMLElement {
  static define() { customElements.define('cvm-attest', this); }
  connectedCallback() { verifyGateway(this.getAttribute('gateway')); }
}
