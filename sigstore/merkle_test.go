package sigstore

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// refRoot and refPath are RFC 6962 §2.1's definitions, written recursively
// as the RFC states them, as the reference for merkleRoot.
func refRoot(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return leafHash(leaves[0])
	}
	k := split(len(leaves))
	return nodeHash(refRoot(leaves[:k]), refRoot(leaves[k:]))
}

func refPath(m int, leaves [][]byte) [][]byte {
	if len(leaves) == 1 {
		return nil
	}
	k := split(len(leaves))
	if m < k {
		return append(refPath(m, leaves[:k]), refRoot(leaves[k:]))
	}
	return append(refPath(m-k, leaves[k:]), refRoot(leaves[:k]))
}

// split is the largest power of two smaller than n.
func split(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

// TestMerkleInclusion checks every leaf of every tree up to 33 leaves, and
// that a flipped bit in any proof hash or a wrong index fails. (A wrong
// size can lead to the same root, as for sizes 3 and 4 of leaf 0: the size
// is bound by the signed checkpoint, which must state the proof's size.)
func TestMerkleInclusion(t *testing.T) {
	for n := 1; n <= 33; n++ {
		var leaves [][]byte
		for i := 0; i < n; i++ {
			leaves = append(leaves, []byte("leaf "+strconv.Itoa(i)))
		}
		root := refRoot(leaves)
		for m := 0; m < n; m++ {
			proof := refPath(m, leaves)
			got, err := merkleRoot(int64(m), int64(n), leafHash(leaves[m]), proof)
			if err != nil || !bytes.Equal(got, root) {
				t.Fatalf("n=%d m=%d: %x, %v", n, m, got, err)
			}
			for i := range proof {
				bad := make([][]byte, len(proof))
				copy(bad, proof)
				bad[i] = append([]byte(nil), proof[i]...)
				bad[i][i%32] ^= 1
				if got, err := merkleRoot(int64(m), int64(n), leafHash(leaves[m]), bad); err == nil && bytes.Equal(got, root) {
					t.Fatalf("n=%d m=%d: flipped hash %d verified", n, m, i)
				}
			}
			if n > 1 {
				if got, err := merkleRoot(int64((m+1)%n), int64(n), leafHash(leaves[m]), proof); err == nil && bytes.Equal(got, root) {
					t.Fatalf("n=%d m=%d: wrong index verified", n, m)
				}
			}
		}
	}
	if _, err := merkleRoot(3, 3, leafHash(nil), nil); err == nil {
		t.Error("index outside the tree accepted")
	}
	if _, err := merkleRoot(0, 2, leafHash(nil), [][]byte{make([]byte, 31)}); err == nil {
		t.Error("short hash accepted")
	}
}

// TestParseCheckpoint: the signed-note form is read strictly.
func TestParseCheckpoint(t *testing.T) {
	good := "log.example\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 log.example AAAAAAE=\n"
	if _, err := parseCheckpoint(good); err != nil {
		t.Fatal(err)
	}
	for name, cp := range map[string]string{
		"no signature block": "log.example\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"no origin":          "5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 log.example AAAAAAE=\n",
		"size not decimal":   "log.example\n+5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 log.example AAAAAAE=\n",
		"short root hash":    "log.example\n5\nAAAA\n\n\u2014 log.example AAAAAAE=\n",
		"no em dash":         "log.example\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n- log.example AAAAAAE=\n",
		"short signature":    "log.example\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 log.example AAAA\n",
		"no final newline":   "log.example\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 log.example AAAAAAE=",
		"17 signatures": "log.example\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n" +
			strings.Repeat("\u2014 log.example AAAAAAE=\n", 17),
	} {
		if _, err := parseCheckpoint(cp); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
