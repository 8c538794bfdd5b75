// A stand-in for the bundled HPKE module.
export function seal() {}
