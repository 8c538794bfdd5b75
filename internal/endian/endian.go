// Package endian reads and writes fixed-size integers in byte slices, as
// encoding/binary's LittleEndian and BigEndian do, for the packages the
// browser links (the report parser, the launch digest, the protocol).
//
// encoding/binary imports reflect for binary.Read and Write, which nothing
// here uses; the linker drops that code, but the import keeps reflect in the
// browser build's dependency list, where internal/browserdeps refuses it so
// that fmt-style reflection cannot come back unnoticed. endian_test.go
// compares every function with encoding/binary.
//
// Like encoding/binary's, each function panics when b is too short: callers
// check lengths first (a parser's bounds checks are its own).
package endian

// LittleEndian is the little-endian byte order (AMD's report and VMSA
// layouts, OVMF's tables).
var LittleEndian littleEndian

// BigEndian is the big-endian byte order (the protocol's length prefixes).
var BigEndian bigEndian

type littleEndian struct{}

func (littleEndian) Uint16(b []byte) uint16 {
	_ = b[1] // one bounds check
	return uint16(b[0]) | uint16(b[1])<<8
}

func (littleEndian) Uint32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func (littleEndian) Uint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func (littleEndian) PutUint16(b []byte, v uint16) {
	_ = b[1]
	b[0], b[1] = byte(v), byte(v>>8)
}

func (littleEndian) PutUint32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func (littleEndian) PutUint64(b []byte, v uint64) {
	_ = b[7]
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	b[4], b[5], b[6], b[7] = byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
}

type bigEndian struct{}

func (bigEndian) AppendUint32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
