// A stand-in for the widget's define.js: registers <cvm-attest>.
import { CvmAttestElement } from './cvm-attest.js';

CvmAttestElement.define();
