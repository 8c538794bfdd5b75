package gateway

import (
	"container/list"
	"crypto/sha512"
	"net/netip"
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
// Each client (an IPv4 address or an IPv6 /64) may hold at most perClient
// of those places at once, counted from before its report is made: one
// client's flood is refused as soon as it passes its share, before the
// platform signs anything, and cannot fill the memory that everyone else
// needs.
//
// Each report also remembers the uploads sealed to it (by SHA-256 of the
// ciphertext), so the same ciphertext cannot be enrolled twice; that memory
// lives and dies with the report, and a ciphertext for a forgotten report
// cannot be opened at all.
type servedReports struct {
	ttl        time.Duration
	max        int
	perClient  int // 0: no per-client bound
	maxUploads int
	now        func() time.Time

	mu     sync.Mutex
	byHash map[[48]byte]*list.Element
	order  *list.List // of *servedReport, oldest first
	// pending counts places admitted for reports being made.
	pending int
	// clients counts each client's places, served and pending; a client
	// holding none has no entry, so the map is never larger than max.
	clients map[netip.Prefix]int
}

type servedReport struct {
	hash     [48]byte
	client   netip.Prefix
	servedAt time.Time
	// uploads holds SHA-256(ciphertext) of every upload enrolled or being
	// processed for this report.
	uploads map[[32]byte]struct{}
}

func newServedReports(ttl time.Duration, max, perClient, maxUploads int, now func() time.Time) *servedReports {
	return &servedReports{
		ttl: ttl, max: max, perClient: perClient, maxUploads: maxUploads, now: now,
		byHash:  make(map[[48]byte]*list.Element),
		order:   list.New(),
		clients: make(map[netip.Prefix]int),
	}
}

// clientOf is the budget a request is charged to: its IPv4 address, or the
// /64 of its IPv6 address (one subscriber's usual allocation). An address
// that does not parse (not TCP) is charged to one shared budget.
func clientOf(remoteAddr string) netip.Prefix {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return netip.Prefix{}
	}
	a := ap.Addr().Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// admitResult says whether a report may be made for a client.
type admitResult int

const (
	admitted admitResult = iota
	memoryFull
	clientOverBudget
)

// admit claims a place for a report about to be made for client. An
// admitted caller must then call add or cancel with the same client.
func (s *servedReports) admit(client netip.Prefix) admitResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(s.now())
	switch {
	case s.perClient > 0 && s.clients[client] >= s.perClient:
		return clientOverBudget
	case s.order.Len()+s.pending >= s.max:
		return memoryFull
	}
	s.pending++
	s.clients[client]++
	return admitted
}

// cancel gives back an admitted place whose report was not served.
func (s *servedReports) cancel(client netip.Prefix) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending--
	s.dropClientLocked(client)
}

func (s *servedReports) dropClientLocked(client netip.Prefix) {
	if s.clients[client]--; s.clients[client] <= 0 {
		delete(s.clients, client)
	}
}

// add remembers report in the place admitted for client.
func (s *servedReports) add(client netip.Prefix, report []byte) {
	h := sha512.Sum384(report)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending--
	if _, ok := s.byHash[h]; ok { // the same report twice: one place is enough
		s.dropClientLocked(client)
		return
	}
	s.byHash[h] = s.order.PushBack(&servedReport{hash: h, client: client, servedAt: now})
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
	r := e.Value.(*servedReport)
	delete(s.byHash, r.hash)
	s.dropClientLocked(r.client)
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

// everyInterval allows one event per interval.
type everyInterval struct {
	interval time.Duration
	now      func() time.Time

	mu   sync.Mutex
	last time.Time
}

func (e *everyInterval) Allow() bool {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.last.IsZero() && now.Sub(e.last) < e.interval {
		return false
	}
	e.last = now
	return true
}
