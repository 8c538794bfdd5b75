// A stand-in for the widget's loader: it names its files as the real one
// does, with new URL(..., import.meta.url), and imports two of them.
import { wasmIntegrity } from './dist/integrity.js';

const wasmURL = new URL('./dist/cvmtrust.wasm', import.meta.url);
const wasmExecURL = new URL('./dist/wasm_exec.js', import.meta.url);
const hpkeURL = new URL('./dist/hpke.js', import.meta.url);

export async function verifyGateway(gateway) {
  const { Go } = await import(String(wasmExecURL));
  const { seal } = await import(String(hpkeURL));
  return { gateway, wasmURL, wasmIntegrity, Go, seal };
}
