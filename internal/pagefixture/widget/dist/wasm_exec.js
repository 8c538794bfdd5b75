// A stand-in for Go's wasm loader.
export class Go {}
