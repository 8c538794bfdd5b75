export { CvmAttestElement } from './index.js';
