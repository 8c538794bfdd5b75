//go:build js

package sha2

import "hash"

// Sum256 returns the SHA-256 digest of data.
func Sum256(data []byte) [Size256]byte { return pureSum256(data) }

// Sum384 returns the SHA-384 digest of data.
func Sum384(data []byte) [Size384]byte { return pureSum384(data) }

// Sum512 returns the SHA-512 digest of data.
func Sum512(data []byte) [Size512]byte { return pureSum512(data) }

// New256 returns a SHA-256 hash.Hash.
func New256() hash.Hash { return newPure256() }

// New384 returns a SHA-384 hash.Hash.
func New384() hash.Hash { return newPure512(Size384) }

// New512 returns a SHA-512 hash.Hash.
func New512() hash.Hash { return newPure512(Size512) }
