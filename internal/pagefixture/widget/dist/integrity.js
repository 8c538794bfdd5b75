// A stand-in for dist/integrity.js: the wasm's hash, which the loader checks.
export const wasmIntegrity = 'sha384-okyHV17AgVkZ4iL9gMeELR7Q1ISxRPcAHorFgvPJr/8CqM+btjXngbzNX3HOpqc/';
