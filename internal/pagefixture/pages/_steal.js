parent.document.querySelector('cvm-attest').shadowRoot.querySelector('video');
