// The compressed forms of what a page loads, as the build measures them
// (build.json's gzip and brotli sizes) and writes them beside dist/'s files
// for the gateway to send (name.gz, name.br; gateway/static.go): gzip at
// level 9, brotli at quality 11. scripts/bench-browser.mjs serves its floor
// compressed the same way.
const fs = require('node:fs');
const zlib = require('node:zlib');

/** gzip and brotli of bytes. */
function compress(bytes) {
  return {
    gzip: zlib.gzipSync(bytes, { level: 9 }),
    brotli: zlib.brotliCompressSync(bytes, { params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    } }),
  };
}

/**
 * Writes file.gz and file.br, the compressed forms of bytes (file's
 * content), each only when it is smaller than bytes (a module of a few dozen
 * bytes does not shrink), and removes a copy left from before otherwise.
 * Returns what compress returns.
 */
function writeCompressedCopies(file, bytes) {
  const z = compress(bytes);
  for (const [suffix, b] of [['.gz', z.gzip], ['.br', z.brotli]]) {
    if (b.length < bytes.length) fs.writeFileSync(file + suffix, b);
    else fs.rmSync(file + suffix, { force: true });
  }
  return z;
}

module.exports = { compress, writeCompressedCopies };
