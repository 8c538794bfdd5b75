//go:build !(js && wasm)

package simulated

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strconv"
	"sync"
)

// merkleTree is an RFC 6962 Merkle tree over its leaves' hashes.
type merkleTree struct {
	leaves [][32]byte
}

func leafHash(data []byte) [32]byte {
	return sha256.Sum256(append([]byte{0}, data...))
}

func nodeHash(l, r [32]byte) [32]byte {
	b := make([]byte, 0, 65)
	b = append(b, 1)
	b = append(b, l[:]...)
	b = append(b, r[:]...)
	return sha256.Sum256(b)
}

// split is the largest power of two smaller than n (RFC 6962 §2.1's k).
func split(n int) int {
	k := 1
	for k<<1 < n {
		k <<= 1
	}
	return k
}

// treeHash is MTH(D[n]) over the given leaf hashes.
func treeHash(leaves [][32]byte) [32]byte {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return leaves[0]
	}
	k := split(len(leaves))
	return nodeHash(treeHash(leaves[:k]), treeHash(leaves[k:]))
}

// path is PATH(m, D[n]), the audit path of leaf m (RFC 6962 §2.1.1).
func path(m int, leaves [][32]byte) [][]byte {
	if len(leaves) <= 1 {
		return nil
	}
	k := split(len(leaves))
	if m < k {
		r := treeHash(leaves[k:])
		return append(path(m, leaves[:k]), r[:])
	}
	r := treeHash(leaves[:k])
	return append(path(m-k, leaves[k:]), r[:])
}

// transparencyLog is a Rekor log: a Merkle tree and the key that signs its
// checkpoints (and, for Rekor v1, entry timestamps).
type transparencyLog struct {
	mu      sync.Mutex
	tree    merkleTree
	origin  string // the checkpoint's first line
	keyName string // the signer name in the checkpoint's signature line
	ecdsa   *ecdsa.PrivateKey
	ed25519 ed25519.PrivateKey
	logID   []byte
	keyHint [4]byte
}

// newRekorV1 is a Rekor v1 log: ECDSA P-256, log ID the SHA-256 of its
// public key, checkpoints from "<host> - <tree id>" signed as Rekor's
// SignedCheckpoint does (key hint the first four bytes of the log ID).
func newRekorV1(host string, treeID int64) (*transparencyLog, error) {
	key, err := newKeyP256()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	id := sha256.Sum256(der)
	l := &transparencyLog{origin: host + " - " + strconv.FormatInt(treeID, 10), keyName: host, ecdsa: key, logID: id[:]}
	copy(l.keyHint[:], id[:4])
	return l, nil
}

// newRekorV2 is a Rekor v2 log: Ed25519, checkpoints in C2SP signed-note
// format with origin the log's host; the key hash, and log ID, is
// SHA-256(origin || "\n" || 0x01 || public key) as signed notes define it.
// Its public key always begins with a 0x00 byte: WebKitGTK refuses such an
// Ed25519 key in SubjectPublicKeyInfo form (1 key in 256), and every run of
// the tests must meet one rather than one run in 256.
func newRekorV2(host string) (*transparencyLog, error) {
	key, err := ed25519KeyWithLeadingZero()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write([]byte(host + "\n"))
	h.Write([]byte{1})
	h.Write(key.Public().(ed25519.PublicKey))
	id := h.Sum(nil)
	l := &transparencyLog{origin: host, keyName: host, ed25519: key, logID: id}
	copy(l.keyHint[:], id[:4])
	return l, nil
}

// maxKeyDraws bounds the search for a key whose first byte is 0x00: one
// key in 256 has it, so 4096 draws miss with a probability of about 1e-7.
const maxKeyDraws = 4096

// ed25519KeyWithLeadingZero draws Ed25519 keys until one's public key
// begins with 0x00.
func ed25519KeyWithLeadingZero() (ed25519.PrivateKey, error) {
	for range maxKeyDraws {
		pub, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		if pub[0] == 0 {
			return key, nil
		}
	}
	return nil, fmt.Errorf("simulated: no Ed25519 key with a leading zero byte in %d draws", maxKeyDraws)
}

// seed appends n unrelated entries, so that entries the tests sign are not
// alone in the tree and their proofs are not trivial.
func (l *transparencyLog) seed(n int) {
	for i := 0; i < n; i++ {
		l.tree.leaves = append(l.tree.leaves, leafHash([]byte(fmt.Sprintf("simulated seed entry %d", i))))
	}
}

// proof is an entry's place in the log and its inclusion proof.
type proof struct {
	index, size int64
	root        [32]byte
	hashes      [][]byte
}

// append adds body to the tree and returns its inclusion proof in the tree
// that results.
func (l *transparencyLog) append(body []byte) proof {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tree.leaves = append(l.tree.leaves, leafHash(body))
	return l.proofLocked(len(l.tree.leaves) - 1)
}

func (l *transparencyLog) proofLocked(m int) proof {
	leaves := l.tree.leaves
	return proof{index: int64(m), size: int64(len(leaves)), root: treeHash(leaves), hashes: path(m, leaves)}
}

// checkpoint returns the signed note for a tree of size with root hash.
func (l *transparencyLog) checkpoint(size int64, root []byte) (string, error) {
	text := fmt.Sprintf("%s\n%d\n%s\n", l.origin, size, base64.StdEncoding.EncodeToString(root))
	var sig []byte
	if l.ed25519 != nil {
		sig = ed25519.Sign(l.ed25519, []byte(text))
	} else {
		digest := sha256.Sum256([]byte(text))
		var err error
		if sig, err = ecdsa.SignASN1(rand.Reader, l.ecdsa, digest[:]); err != nil {
			return "", err
		}
	}
	blob := append(l.keyHint[:], sig...)
	return text + "\n\u2014 " + l.keyName + " " + base64.StdEncoding.EncodeToString(blob) + "\n", nil
}

// signSET signs a Rekor v1 signed entry timestamp: ECDSA over the SHA-256
// of the canonical JSON {body, integratedTime, logID, logIndex}.
// logID is the ID of the log the entry is in (another log's, to break it).
func (l *transparencyLog) signSET(logID, body []byte, integratedTime, logIndex int64) ([]byte, error) {
	digest := sha256.Sum256([]byte(setPayload(logID, body, integratedTime, logIndex)))
	return ecdsa.SignASN1(rand.Reader, l.ecdsa, digest[:])
}

// setPayload is the canonical JSON a SET signs. The keys are in canonical
// (sorted) order and the values need no escaping: base64, decimal and hex.
func setPayload(logID, body []byte, integratedTime, logIndex int64) string {
	return fmt.Sprintf(`{"body":%q,"integratedTime":%d,"logID":%q,"logIndex":%d}`,
		base64.StdEncoding.EncodeToString(body), integratedTime, fmt.Sprintf("%x", logID), logIndex)
}
