package gateway

import (
	"container/list"
	"crypto/sha512"
	"sync"
	"time"
)

// servedReports remembers the reports the gateway served, by SHA-384 (all
// the HPKE info needs), so an upload can name the report it is sealed to.
// It is bounded in count and age: a report older than the TTL can no longer
// be used and the browser fetches fresh evidence. When it is full, no new
// report is served until one expires: a report is never pushed out before
// its TTL, so a flood of GET /attestation cannot fail a served user's upload.
//
// Each report also remembers the uploads sealed to it (by SHA-256 of the
// ciphertext), so the same ciphertext cannot be enrolled twice; that memory
// lives and dies with the report, and a ciphertext for a forgotten report
// cannot be opened at all.
type servedReports struct {
	ttl        time.Duration
	max        int
	maxUploads int
	now        func() time.Time

	mu     sync.Mutex
	byHash map[[48]byte]*list.Element
	order  *list.List // of *servedReport, oldest first
}

type servedReport struct {
	hash     [48]byte
	servedAt time.Time
	// uploads holds SHA-256(ciphertext) of every upload enrolled or being
	// processed for this report.
	uploads map[[32]byte]struct{}
}

func newServedReports(ttl time.Duration, max, maxUploads int, now func() time.Time) *servedReports {
	return &servedReports{
		ttl: ttl, max: max, maxUploads: maxUploads, now: now,
		byHash: make(map[[48]byte]*list.Element),
		order:  list.New(),
	}
}

// add remembers report, or reports false when the memory is full.
func (s *servedReports) add(report []byte) bool {
	h := sha512.Sum384(report)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now)
	if _, ok := s.byHash[h]; ok {
		return true
	}
	if s.order.Len() >= s.max {
		return false
	}
	s.byHash[h] = s.order.PushBack(&servedReport{hash: h, servedAt: now})
	return true
}

func (s *servedReports) expireLocked(now time.Time) {
	for e := s.order.Front(); e != nil; e = s.order.Front() {
		if now.Sub(e.Value.(*servedReport).servedAt) < s.ttl {
			return
		}
		s.removeLocked(e)
	}
}

func (s *servedReports) removeLocked(e *list.Element) {
	delete(s.byHash, e.Value.(*servedReport).hash)
	s.order.Remove(e)
}

// known reports whether hash names a report served within the TTL.
func (s *servedReports) known(hash [48]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(s.now())
	_, ok := s.byHash[hash]
	return ok
}

// reserveResult says why an upload could not be reserved.
type reserveResult int

const (
	reserved reserveResult = iota
	unknownReport
	replayedUpload
	tooManyUploads
)

// reserve looks up the report named by hash and claims the upload ctHash
// for it. If the upload then fails, the caller must release the claim.
func (s *servedReports) reserve(hash [48]byte, ctHash [32]byte) reserveResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(s.now())
	e, ok := s.byHash[hash]
	if !ok {
		return unknownReport
	}
	r := e.Value.(*servedReport)
	if _, seen := r.uploads[ctHash]; seen {
		return replayedUpload
	}
	if len(r.uploads) >= s.maxUploads {
		return tooManyUploads
	}
	if r.uploads == nil {
		r.uploads = make(map[[32]byte]struct{})
	}
	r.uploads[ctHash] = struct{}{}
	return reserved
}

// release forgets a reservation whose upload failed, so nothing of it
// remains. The report may have expired meanwhile; then there is nothing to do.
func (s *servedReports) release(hash [48]byte, ctHash [32]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byHash[hash]; ok {
		delete(e.Value.(*servedReport).uploads, ctHash)
	}
}
