package verifier

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/cvmtrust/cvmtrust/internal/cert"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"github.com/cvmtrust/cvmtrust/internal/hex"
	"github.com/cvmtrust/cvmtrust/internal/sha2"
	"github.com/cvmtrust/cvmtrust/protocol"
	"github.com/cvmtrust/cvmtrust/verifier/internal/snp"
)

// Verifier checks SEV-SNP evidence against pinned AMD roots. It is safe for
// concurrent use.
type Verifier struct {
	roots   *Roots
	now     func() time.Time
	sigs    SignatureVerifier
	fetcher Fetcher

	// chain remembers certificate signatures that verified (see sigCache).
	chain *sigCache
}

// sigCache remembers signatures that verified, keyed by a hash of (key,
// message, signature). The AMD chain is the same for every report from a
// product, so a warm verifier only checks the report's own signature. Only
// successes are cached, so a changed byte always misses.
type sigCache struct {
	mu   sync.Mutex
	seen map[[32]byte]struct{}
}

const maxChainCache = 1024

func newSigCache() *sigCache { return &sigCache{seen: map[[32]byte]struct{}{}} }

func (c *sigCache) has(key [32]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.seen[key]
	return ok
}

func (c *sigCache) add(key [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) >= maxChainCache {
		clear(c.seen)
	}
	c.seen[key] = struct{}{}
}

// New returns a Verifier with the given trust setup.
func New(opts Options) (*Verifier, error) {
	v := &Verifier{roots: opts.Roots, now: opts.Now, sigs: opts.Signatures, fetcher: opts.Fetcher}
	if v.roots == nil {
		v.roots = AMDRoots()
	}
	if v.roots.err != nil {
		return nil, v.roots.err
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.sigs == nil {
		v.sigs = defaultSignatures()
	}
	if v.sigs == nil {
		return nil, errors.New("verifier: Options.Signatures is required in this build")
	}
	v.chain = cacheFor(v.sigs)
	return v, nil
}

// Verify checks ev against exp. It returns a Result if and only if every
// check passed. Otherwise the error is a *RejectedError carrying the Result
// with every check's outcome (errors.Is matches the sentinel of each failed
// check), or wraps ErrBadExpectation when exp itself is unusable.
func (v *Verifier) Verify(ctx context.Context, ev Evidence, exp Expectation) (*Result, error) {
	if err := exp.validate(); err != nil {
		return nil, err
	}
	s := &session{v: v, ctx: ctx, exp: exp, now: v.now().UTC()}
	s.res = &Result{MediaType: MediaType, VerifiedAt: s.now.Format(time.RFC3339), Revocation: "not checked"}
	s.run(ev)
	res := s.res
	res.Verified = len(res.Failed()) == 0 && !s.blocked
	res.Simulated = s.simulated
	if !res.Verified {
		return nil, &RejectedError{Result: res}
	}
	return res, nil
}

func (exp *Expectation) validate() error {
	bad := func(format string, a ...any) error {
		return errfmt.Errorf("%w: %s", ErrBadExpectation, errfmt.Sprintf(format, a...))
	}
	switch {
	case len(exp.Measurements) == 0 && !exp.AnyMeasurementUnsafe:
		return bad("no allowed measurement given (set Measurements, or AnyMeasurementUnsafe to skip the check)")
	case len(exp.Measurements) > 0 && exp.AnyMeasurementUnsafe:
		return bad("Measurements and AnyMeasurementUnsafe contradict each other")
	case exp.ReportData != nil && exp.Binding != nil:
		return bad("ReportData and Binding contradict each other; set one")
	case exp.ReportData != nil && len(exp.ReportData) != 64:
		return bad("ReportData is %d bytes, want 64", len(exp.ReportData))
	case exp.Binding != nil && len(exp.Binding.Nonce) != protocol.NonceSize:
		return bad("Binding.Nonce is %d bytes, want %d", len(exp.Binding.Nonce), protocol.NonceSize)
	case exp.Binding != nil && len(exp.Binding.HPKEPublicKey) == 0:
		return bad("Binding.HPKEPublicKey is empty")
	case exp.Binding != nil && exp.Binding.TLSKeySHA256 != nil && len(exp.Binding.TLSKeySHA256) != protocol.TLSKeySize:
		return bad("Binding.TLSKeySHA256 is %d bytes, want %d", len(exp.Binding.TLSKeySHA256), protocol.TLSKeySize)
	case exp.TLSKeySHA256 != nil && len(exp.TLSKeySHA256) != protocol.TLSKeySize:
		return bad("TLSKeySHA256 is %d bytes, want %d", len(exp.TLSKeySHA256), protocol.TLSKeySize)
	case exp.HostData != nil && len(exp.HostData) != 32:
		return bad("HostData is %d bytes, want 32", len(exp.HostData))
	case exp.IDKeyDigest != nil && len(exp.IDKeyDigest) != 48:
		return bad("IDKeyDigest is %d bytes, want 48", len(exp.IDKeyDigest))
	case exp.VMPL != nil && (*exp.VMPL < 0 || *exp.VMPL > 3):
		return bad("VMPL %d is not 0..3", *exp.VMPL)
	}
	for i, m := range exp.Measurements {
		if len(m) != 48 {
			return bad("measurement %d is %d bytes, want 48", i, len(m))
		}
	}
	return nil
}

// session is the state of one Verify call.
type session struct {
	v   *Verifier
	ctx context.Context
	exp Expectation
	now time.Time
	res *Result
	// blocked is set when a check could not run because one it depends on
	// failed; the dependent check is recorded as skipped.
	blocked   bool
	simulated bool

	evChain []byte
	report  *snp.Report
	product snp.Product // established by the certificate (and the report, if it names one)
	// reportProduct is the product the report's CPUID names (version 3+),
	// or empty.
	reportProduct snp.Product
	signer        string            // "VCEK" or "VLEK"
	ek            *cert.Certificate // endorsement key: VCEK or VLEK
	inter         *cert.Certificate // ASK or ASVK
	ark           *trustedARK
}

func (s *session) pass(name string) {
	s.res.Checks = append(s.res.Checks, Check{Name: name, Outcome: Pass})
}

func (s *session) fail(name string, err error, field, got, want, detail string) {
	s.res.Checks = append(s.res.Checks, Check{Name: name, Outcome: Fail, Field: field, Got: got, Want: want, Detail: detail, err: err})
}

func (s *session) skip(name, detail string) {
	s.res.Checks = append(s.res.Checks, Check{Name: name, Outcome: Skipped, Detail: detail})
}

// blockedBy records that name could not run because of an earlier failure.
func (s *session) blockedBy(name, dep string) {
	s.blocked = true
	s.skip(name, "not checked: "+dep+" failed")
}

func (s *session) run(ev Evidence) {
	r, err := snp.Parse(ev.Report)
	if err != nil {
		s.fail("report.format", ErrMalformedReport, "report", errfmt.Sprintf("%d bytes", len(ev.Report)),
			errfmt.Sprintf("%d bytes", snp.ReportSize), err.Error())
		s.blocked = true
		return
	}
	s.report = r
	s.evChain = ev.Chain
	if r.HasCPUID {
		// An unknown CPU is reported by identify, as the product check.
		s.reportProduct, _ = snp.ProductFromCPUID(r.CPUIDFamily, r.CPUIDModel)
		s.res.Product = string(s.reportProduct)
	}
	s.pass("report.format")
	s.checkReportFields()
	if !s.identify(ev) {
		s.blocked = true
		s.summarize()
		return
	}
	s.summarize()
	wellFormed := len(s.res.Failed()) == 0 // version, reserved fields, algorithm
	chainOK := s.checkChain()
	if chainOK {
		s.checkValidity()
	}
	switch {
	case !chainOK:
		s.blockedBy("report.signature", "chain")
	case !wellFormed:
		// A malformed report is rejected already; the costly signature
		// check would add nothing.
		s.blockedBy("report.signature", "report format")
	default:
		s.checkReportSignature()
	}
	s.checkEndorsementKeyFields()
	s.checkPolicy()
	s.checkTCBFloors()
	s.checkGuest()
	if chainOK {
		s.checkRevocation(ev.CRL)
	} else {
		s.blockedBy("revocation", "chain")
	}
}

func (s *session) checkReportFields() {
	r := s.report
	if r.KnownVersion() {
		s.pass("report.version")
	} else {
		s.fail("report.version", ErrMalformedReport, "VERSION", errfmt.Sprintf("%d", r.Version), "2, 3 or 5", "unknown report layout")
	}
	if off := r.FirstNonZeroReserved(); off >= 0 || r.SignerInfoReserved != 0 {
		field := errfmt.Sprintf("reserved byte %#x", off)
		if off < 0 {
			field = "SIGNER_INFO bits 31:5"
		}
		s.fail("report.reserved", ErrMalformedReport, field, "non-zero", "zero", "a reserved field is set")
	} else {
		s.pass("report.reserved")
	}
	if r.SignatureAlgo == snp.SignatureAlgoECDSAP384SHA384 {
		s.pass("report.signatureAlgorithm")
	} else {
		s.fail("report.signatureAlgorithm", ErrMalformedReport, "SIGNATURE_ALGO", errfmt.Sprintf("%d", r.SignatureAlgo), "1 (ECDSA P-384 with SHA-384)", "")
	}
}

// identify settles which key signed the report, finds its certificate and
// the product, and checks that the report and the certificate agree.
func (s *session) identify(ev Evidence) bool {
	r := s.report
	// The report names its product from version 3 on. Known this early, it
	// also decodes the report's TCBs in the Result when a later step of
	// identification fails.
	reportProduct := s.reportProduct
	if r.HasCPUID && reportProduct == "" {
		s.fail("product", ErrUnknownProduct, "CPUID_FAM_ID/CPUID_MOD_ID", errfmt.Sprintf("%#x/%#x", r.CPUIDFamily, r.CPUIDModel), "Milan, Genoa or Turin",
			"the report names a CPU this verifier does not know")
		return false
	}
	var ekBytes []byte
	switch {
	case len(ev.VCEK) > 0 && len(ev.VLEK) > 0:
		s.fail("report.signingKey", ErrKeyMismatch, "certificates", "VCEK and VLEK", "one of them", "evidence carries both a VCEK and a VLEK")
		return false
	case len(ev.VLEK) > 0:
		s.signer, ekBytes = "VLEK", ev.VLEK
	case len(ev.VCEK) > 0:
		s.signer, ekBytes = "VCEK", ev.VCEK
	}
	reportSigner := map[uint32]string{snp.SigningKeyVCEK: "VCEK", snp.SigningKeyVLEK: "VLEK"}[r.SigningKey]
	if reportSigner == "" {
		s.fail("report.signingKey", ErrKeyMismatch, "SIGNING_KEY", errfmt.Sprintf("%d", r.SigningKey), "0 (VCEK) or 1 (VLEK)", "report is not signed by an endorsement key")
		return false
	}
	if s.signer == "" {
		s.signer = reportSigner
	}
	if s.signer != reportSigner {
		s.fail("report.signingKey", ErrKeyMismatch, "SIGNING_KEY", reportSigner, s.signer, "the report names a different signing key than the certificate supplied")
		return false
	}
	s.pass("report.signingKey")

	if len(ekBytes) == 0 {
		var err error
		if ekBytes, err = s.fetchEndorsementKey(reportProduct); err != nil {
			s.fail("certificates", ErrMissingCerts, s.signer, "", "", err.Error())
			return false
		}
	}
	certs, err := cert.ParseAll(ekBytes)
	if err != nil || len(certs) != 1 {
		detail := "want exactly one certificate"
		if err != nil {
			detail = err.Error()
		}
		s.fail("certificates", ErrMalformedCert, s.signer, "", "", detail)
		return false
	}
	s.ek = certs[0]

	// The certificate's issuer names the product: SEV-<product> for a VCEK,
	// SEV-VLEK-<product> for a VLEK.
	prefix := "SEV-"
	if s.signer == "VLEK" {
		prefix = "SEV-VLEK-"
	}
	certProduct, ok := productFromName(s.ek.IssuerCN, prefix)
	if !ok {
		s.fail("product", ErrUnknownProduct, s.signer+" issuer", s.ek.IssuerCN, prefix+"Milan|Genoa|Turin", "certificate issuer names no known product")
		return false
	}
	if reportProduct != "" && reportProduct != certProduct {
		s.fail("product", ErrUnknownProduct, "CPUID_FAM_ID/CPUID_MOD_ID", string(reportProduct), string(certProduct), "report and certificate name different products")
		return false
	}
	if _, ok := s.v.roots.products[certProduct]; !ok {
		s.fail("product", ErrUnknownProduct, "product", string(certProduct), "a product with trusted roots", "")
		return false
	}
	s.product = certProduct
	s.res.Product = string(certProduct)
	s.pass("product")
	return true
}

func (s *session) fetchEndorsementKey(p snp.Product) ([]byte, error) {
	if s.v.fetcher == nil {
		return nil, errors.New("evidence has no endorsement key certificate and no KDS fetcher is configured")
	}
	if s.signer == "VLEK" {
		return nil, errors.New("a VLEK cannot be fetched by chip id; the evidence must carry it")
	}
	if p == "" {
		return nil, errors.New("report version 2 does not name its product; the evidence must carry the VCEK")
	}
	return s.v.fetcher.Fetch(s.ctx, VCEKPath(p, s.report.ChipID, s.report.ReportedTCB))
}

// VCEKPath returns the KDS path of the VCEK for a chip and reported TCB.
func VCEKPath(p snp.Product, chipID []byte, reportedTCB uint64) string {
	t := snp.DecodeTCB(p, reportedTCB)
	hwid := chipID
	if p == snp.Turin {
		hwid = chipID[:8]
	}
	path := errfmt.Sprintf("/vcek/v1/%s/%s?blSPL=%d&teeSPL=%d&snpSPL=%d&ucodeSPL=%d", p, hex.Encode(hwid),
		t.Bootloader, t.TEE, t.SNP, t.Microcode)
	if t.HasFMC {
		path += errfmt.Sprintf("&fmcSPL=%d", t.FMC)
	}
	return path
}

// checkChain establishes ARK → ASK/ASVK → VCEK/VLEK by signature.
func (s *session) checkChain() bool {
	pr := s.v.roots.products[s.product]
	// The intermediate and any ARK come from the evidence; without them the
	// pinned intermediate is used. An evidence ARK is only ever compared.
	inter := pr.ask
	if s.signer == "VLEK" {
		inter = pr.asvk
	}
	var evidenceARK *cert.Certificate
	if len(s.evChain) > 0 {
		certs, err := cert.ParseAll(s.evChain)
		if err != nil {
			s.fail("chain.format", ErrMalformedCert, "chain", "", "", err.Error())
			return false
		}
		if len(certs) > 2 {
			s.fail("chain.intermediate", ErrBadChain, "chain", errfmt.Sprintf("%d certificates", len(certs)), "ASK/ASVK, optionally followed by the ARK", "")
			return false
		}
		inter = certs[0]
		if len(certs) == 2 {
			evidenceARK = certs[1]
		}
	}
	s.inter = inter

	// An ARK in the evidence is only compared with the trusted ones.
	if evidenceARK != nil {
		known := false
		for _, a := range pr.arks {
			known = known || bytes.Equal(evidenceARK.Raw, a.cert.Raw)
		}
		if !known {
			s.fail("chain.ark", ErrUntrustedRoot, "ARK", fingerprint(evidenceARK.Raw), s.pinnedARKFingerprints(pr), "the ARK in the evidence is not the pinned AMD root for "+string(s.product))
			return false
		}
	}
	// Find the trusted ARK that signed the intermediate.
	for i := range pr.arks {
		a := &pr.arks[i]
		if bytes.Equal(a.cert.RawSubject, inter.RawIssuer) && s.certSignedBy(inter, a.cert) == nil {
			s.ark = a
			break
		}
	}
	if s.ark == nil {
		s.fail("chain.intermediate", ErrBadChain, inter.SubjectCN, inter.IssuerCN, "signed by ARK-"+string(s.product), "the intermediate is not signed by a trusted AMD root")
		return false
	}
	s.simulated = s.ark.simulated
	if err := s.certSignedBy(s.ark.cert, s.ark.cert); err != nil {
		s.fail("chain.ark", ErrBadChain, "ARK", "", "", "ARK self-signature does not verify: "+err.Error())
		return false
	}
	s.pass("chain.ark")
	s.pass("chain.intermediate")

	if !bytes.Equal(s.ek.RawIssuer, inter.RawSubject) {
		s.fail("chain.endorsementKey", ErrBadChain, s.signer+" issuer", s.ek.IssuerCN, inter.SubjectCN, "")
		return false
	}
	if err := s.certSignedBy(s.ek, inter); err != nil {
		s.fail("chain.endorsementKey", ErrBadChain, s.signer, "", "", s.signer+" is not signed by "+inter.SubjectCN)
		return false
	}
	if s.ek.KeyType != cert.KeyECDSAP384 {
		s.fail("chain.endorsementKey", ErrBadChain, s.signer+" key", "", "ECDSA P-384", "")
		return false
	}
	s.pass("chain.endorsementKey")
	return true
}

// checkValidity checks every certificate of an established chain at s.now.
func (s *session) checkValidity() {
	for _, c := range []struct {
		name string
		c    *cert.Certificate
	}{{"validity.ark", s.ark.cert}, {"validity.intermediate", s.inter}, {"validity." + lowerSigner(s.signer), s.ek}} {
		if s.now.Before(c.c.NotBefore) || s.now.After(c.c.NotAfter) {
			s.fail(c.name, ErrCertExpired, c.c.SubjectCN+" validity", s.now.Format(time.RFC3339),
				c.c.NotBefore.Format(time.RFC3339)+" .. "+c.c.NotAfter.Format(time.RFC3339), "certificate not valid at the verification time")
		} else {
			s.pass(c.name)
		}
	}
}

func lowerSigner(s string) string {
	if s == "VLEK" {
		return "vlek"
	}
	return "vcek"
}

func (s *session) pinnedARKFingerprints(pr *productRoots) string {
	var b bytes.Buffer
	for i, a := range pr.arks {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString(fingerprint(a.cert.Raw))
	}
	return b.String()
}

func fingerprint(der []byte) string {
	sum := sha2.Sum256(der)
	return "sha256:" + hex.Encode(sum[:])
}

// certSignedBy checks child's RSA-PSS signature with parent's key, through
// the chain cache.
func (s *session) certSignedBy(child, parent *cert.Certificate) error {
	if parent.KeyType != cert.KeyRSA {
		return errors.New("issuer key is not RSA")
	}
	h := sha2.New256()
	h.Write(parent.SPKI)
	h.Write([]byte{0})
	h.Write(child.RawTBS)
	h.Write([]byte{0})
	h.Write(child.Signature)
	var key [32]byte
	h.Sum(key[:0])
	if s.v.chain.has(key) {
		return nil
	}
	if err := s.v.sigs.VerifyRSAPSSSHA384(s.ctx, parent.SPKI, child.RawTBS, child.Signature); err != nil {
		return err
	}
	s.v.chain.add(key)
	return nil
}

func (s *session) checkReportSignature() {
	sig, err := s.report.SignatureP1363()
	if err == nil {
		err = s.v.sigs.VerifyECDSAP384SHA384(s.ctx, s.ek.SPKI, s.report.Signed(), sig)
	}
	if err != nil {
		s.fail("report.signature", ErrBadSignature, "SIGNATURE", "", "", "the report is not signed by the "+s.signer+": "+err.Error())
		return
	}
	s.pass("report.signature")
}

// checkEndorsementKeyFields compares the VCEK/VLEK extensions with the
// report: the chip it was issued for and the TCB it was issued at.
func (s *session) checkEndorsementKeyFields() {
	if s.signer == "VCEK" {
		s.checkHWID()
	} else {
		s.skip("vlek.hwid", "a VLEK is issued to a cloud provider, not to a chip")
	}
	s.checkEndorsementTCB()
}

func (s *session) checkHWID() {
	r := s.report
	hwid, ok := s.ek.Extension(cert.OIDHWID)
	want := r.ChipID
	if s.product == snp.Turin {
		// Turin's chip id is 8 bytes, followed by zeros in the report.
		want = r.ChipID[:8]
		if !allZero(r.ChipID[8:]) {
			s.fail("vcek.hwid", ErrTCBMismatch, "CHIP_ID", hex.Encode(r.ChipID), "8 bytes then zeros", "Turin CHIP_ID has data past its 8 bytes")
			return
		}
	}
	switch {
	case !ok:
		s.fail("vcek.hwid", ErrTCBMismatch, "hwID extension", "absent", "present", "the VCEK names no chip")
	case r.MaskChipKey && allZero(r.ChipID):
		s.skip("vcek.hwid", "the guest masked CHIP_ID; the VCEK signature still binds the chip")
	case !bytes.Equal(hwid, want):
		s.fail("vcek.hwid", ErrTCBMismatch, "CHIP_ID", hex.Encode(want), hex.Encode(hwid), "the VCEK was issued for another chip")
	default:
		s.pass("vcek.hwid")
	}
}

func (s *session) checkEndorsementTCB() {
	r := s.report
	name := lowerSigner(s.signer) + ".tcb"
	for _, p := range snp.DecodeTCB(s.product, r.ReportedTCB).Parts() {
		field := p.Name + "SPL"
		v, present, err := s.ek.ExtensionInt(splOIDs[p.Name])
		switch {
		case err != nil:
			s.fail(name, ErrMalformedCert, field, "", "", err.Error())
			return
		case !present:
			s.fail(name, ErrTCBMismatch, field, "absent", errfmt.Sprintf("%d", p.Value), "the "+s.signer+" does not state its TCB")
			return
		case v != p.Value:
			s.fail(name, ErrTCBMismatch, "REPORTED_TCB."+field, errfmt.Sprintf("%d", p.Value), errfmt.Sprintf("%d", v), "the report's TCB is not the one the "+s.signer+" was issued for")
			return
		}
	}
	s.pass(name)
}

// splOIDs maps each TCB part to the VCEK/VLEK extension that states it.
var splOIDs = map[string]cert.OID{
	"bl": cert.OIDBlSPL, "tee": cert.OIDTeeSPL, "snp": cert.OIDSnpSPL, "ucode": cert.OIDUcodeSPL, "fmc": cert.OIDFmcSPL,
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func (s *session) checkPolicy() {
	p := s.report.Policy
	e := s.exp.Policy
	hexp := errfmt.Sprintf("%#x", p)
	if p&snp.PolicyReserved1 == 0 || p&snp.PolicyReservedMBZ != 0 {
		s.fail("policy.reserved", ErrPolicy, "POLICY", hexp, "bit 17 set, bits 63:26 clear", "")
	} else {
		s.pass("policy.reserved")
	}
	if p&snp.PolicyDebug != 0 && !e.AllowDebug {
		s.fail("policy.debug", ErrPolicy, "POLICY.DEBUG", "1", "0", "the host can read and change the guest's memory when debugging is allowed")
	} else {
		s.pass("policy.debug")
	}
	if p&snp.PolicyMigrateMA != 0 && !e.AllowMigrationAgent {
		s.fail("policy.migrationAgent", ErrPolicy, "POLICY.MIGRATE_MA", "1", "0", "a migration agent could export the guest")
	} else {
		s.pass("policy.migrationAgent")
	}
	if p&snp.PolicySMT != 0 && e.RequireNoSMT {
		s.fail("policy.smt", ErrPolicy, "POLICY.SMT", "1", "0", "SMT is allowed but the expectation forbids it")
	} else {
		s.pass("policy.smt")
	}
	major, minor := uint8(p>>8), uint8(p)
	if major < e.MinABIMajor || major == e.MinABIMajor && minor < e.MinABIMinor {
		s.fail("policy.abi", ErrPolicy, "POLICY.ABI", errfmt.Sprintf("%d.%d", major, minor), errfmt.Sprintf(">= %d.%d", e.MinABIMajor, e.MinABIMinor), "")
	} else {
		s.pass("policy.abi")
	}
	if s.exp.VMPL == nil {
		s.skip("vmpl", "no VMPL expected")
	} else if int(s.report.VMPL) != *s.exp.VMPL {
		s.fail("vmpl", ErrVMPL, "VMPL", errfmt.Sprintf("%d", s.report.VMPL), errfmt.Sprintf("%d", *s.exp.VMPL), "")
	} else {
		s.pass("vmpl")
	}
}

func (s *session) checkTCBFloors() {
	f := s.exp.MinTCB
	applied := &AppliedTCBFloor{}
	if s.exp.BulletinTCBFloor {
		line := lineOf(s.product, s.report)
		bulletins, from := bulletinFloor(line)
		f = f.raisedTo(bulletins)
		applied.Line, applied.Bulletins = string(line), from
	}
	floor := snp.TCB{Bootloader: f.Bootloader, TEE: f.TEE, SNP: f.SNP, Microcode: f.Microcode, FMC: f.FMC}
	noFloor := f == TCBFloor{}
	if !noFloor {
		applied.Floor = f
		s.res.TCBFloor = applied
	}
	r := s.report
	for _, t := range []struct {
		name, field string
		v           uint64
	}{
		{"tcb.reported", "REPORTED_TCB", r.ReportedTCB},
		{"tcb.committed", "COMMITTED_TCB", r.CommittedTCB},
		{"tcb.current", "CURRENT_TCB", r.CurrentTCB},
		{"tcb.launch", "LAUNCH_TCB", r.LaunchTCB},
	} {
		if noFloor {
			s.skip(t.name, "no TCB floor given")
			continue
		}
		part, got, want, below := snp.DecodeTCB(s.product, t.v).Below(floor)
		if below {
			why := "firmware older than the floor"
			if len(applied.Bulletins) > 0 {
				why += " (for " + applied.Line + ": " + strings.Join(applied.Bulletins, ", ") + ")"
			}
			s.fail(t.name, ErrTCBTooLow, t.field+"."+part, errfmt.Sprintf("%d", got), errfmt.Sprintf(">= %d", want), why)
		} else {
			s.pass(t.name)
		}
	}
	if r.GuestSVN < s.exp.MinGuestSVN {
		s.fail("guestSvn", ErrGuestSVN, "GUEST_SVN", errfmt.Sprintf("%d", r.GuestSVN), errfmt.Sprintf(">= %d", s.exp.MinGuestSVN), "")
	} else if s.exp.MinGuestSVN == 0 {
		s.skip("guestSvn", "no minimum guest SVN given")
	} else {
		s.pass("guestSvn")
	}
}

func (s *session) checkGuest() {
	r := s.report
	switch {
	case s.exp.AnyMeasurementUnsafe:
		s.skip("measurement", "UNSAFE: any measurement accepted; the guest may run any code")
	case containsBytes(s.exp.Measurements, r.Measurement):
		s.pass("measurement")
	default:
		want := ""
		for i, m := range s.exp.Measurements {
			if i > 0 {
				want += " or "
			}
			want += hex.Encode(m)
		}
		s.fail("measurement", ErrMeasurement, "MEASUREMENT", hex.Encode(r.Measurement), want, "the guest is not running an expected release")
	}

	var want []byte
	b := s.exp.Binding
	switch {
	case b != nil && b.TLSKeySHA256 != nil:
		rd, _ := protocol.ReportDataV2(b.Nonce, b.TLSKeySHA256, b.HPKEPublicKey) // sizes validated
		want = rd[:]
		s.res.Binding, s.res.TLSKeySHA256 = BindingV2, hex.Encode(b.TLSKeySHA256)
	case b != nil:
		rd, _ := protocol.ReportData(b.Nonce, b.HPKEPublicKey) // sizes validated
		want = rd[:]
		s.res.Binding = BindingV1
	case s.exp.ReportData != nil:
		want = s.exp.ReportData
	}
	switch {
	case want == nil:
		s.skip("reportData", "no report data expected: freshness and key binding not checked")
	case !bytes.Equal(r.ReportData, want):
		detail := "REPORT_DATA is not the expected value"
		switch {
		case b != nil && b.TLSKeySHA256 != nil:
			detail = "REPORT_DATA does not bind this nonce, TLS key and HPKE key (evidence v2): stale or replayed evidence, or a swapped key"
		case b != nil:
			detail = "REPORT_DATA does not bind this nonce and HPKE key: stale or replayed evidence, or a swapped key"
		}
		s.fail("reportData", ErrReportData, "REPORT_DATA", hex.Encode(r.ReportData), hex.Encode(want), detail)
	default:
		s.pass("reportData")
	}
	s.checkTLSKey()

	for _, c := range []struct {
		name, field string
		got, want   []byte
		err         error
	}{
		{"hostData", "HOST_DATA", r.HostData, s.exp.HostData, ErrHostData},
		{"idKeyDigest", "ID_KEY_DIGEST", r.IDKeyDigest, s.exp.IDKeyDigest, ErrIDKeyDigest},
	} {
		switch {
		case c.want == nil:
			s.skip(c.name, "not requested")
		case !bytes.Equal(c.got, c.want):
			s.fail(c.name, c.err, c.field, hex.Encode(c.got), hex.Encode(c.want), "")
		default:
			s.pass(c.name)
		}
	}
}

// checkTLSKey compares the TLS key the caller saw with the one the
// evidence binds. It says only that the two keys are equal; that the bound
// one is attested is the reportData check's.
func (s *session) checkTLSKey() {
	seen, b := s.exp.TLSKeySHA256, s.exp.Binding
	switch {
	case seen == nil:
		s.skip("tlsKey", "no TLS key given: whether TLS ends in the attested machine is not checked")
	case b == nil || b.TLSKeySHA256 == nil:
		s.fail("tlsKey", ErrTLSKey, "tls.spki_sha256", "", hex.Encode(seen), "the evidence binds no TLS key (evidence protocol v1): TLS may end outside the attested machine")
	case !bytes.Equal(b.TLSKeySHA256, seen):
		s.fail("tlsKey", ErrTLSKey, "tls.spki_sha256", hex.Encode(b.TLSKeySHA256), hex.Encode(seen), "the TLS key seen is not the attested one: TLS ends outside the attested machine (a proxy in front of it)")
	default:
		s.pass("tlsKey")
	}
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

// checkRevocation checks AMD's CRL for the product: signed by the trusted
// ARK, current, and naming neither the intermediate nor the endorsement key.
func (s *session) checkRevocation(crlBytes []byte) {
	notChecked := func(why string) {
		s.res.Revocation = "not checked: " + why
		if s.exp.RequireRevocationCheck {
			s.fail("revocation", ErrRevocationUnchecked, "CRL", "", "", why)
		} else {
			s.skip("revocation", "not checked: "+why)
		}
	}
	if len(crlBytes) == 0 {
		if s.v.fetcher == nil {
			notChecked("no CRL in the evidence and no KDS fetcher configured")
			return
		}
		var err error
		crlBytes, err = s.v.fetcher.Fetch(s.ctx, errfmt.Sprintf("/%s/v1/%s/crl", lowerSigner(s.signer), s.product))
		if err != nil {
			notChecked("CRL could not be fetched: " + err.Error())
			return
		}
	}
	crl, err := cert.ParseCRL(crlBytes)
	if err != nil {
		s.fail("revocation", ErrBadCRL, "CRL", "", "", err.Error())
		return
	}
	ark := s.ark.cert
	if !bytes.Equal(crl.RawIssuer, ark.RawSubject) {
		s.fail("revocation", ErrBadCRL, "CRL issuer", "", ark.SubjectCN, "the CRL is not issued by the ARK")
		return
	}
	if err := s.v.sigs.VerifyRSAPSSSHA384(s.ctx, ark.SPKI, crl.RawTBS, crl.Signature); err != nil {
		s.fail("revocation", ErrBadCRL, "CRL signature", "", "", "the CRL is not signed by the ARK")
		return
	}
	if s.now.Before(crl.ThisUpdate) || !crl.NextUpdate.IsZero() && s.now.After(crl.NextUpdate) {
		s.fail("revocation", ErrBadCRL, "CRL validity", s.now.Format(time.RFC3339),
			crl.ThisUpdate.Format(time.RFC3339)+" .. "+crl.NextUpdate.Format(time.RFC3339), "the CRL is not current")
		return
	}
	for _, c := range []*cert.Certificate{s.inter, s.ek} {
		if crl.IsRevoked(c.Serial) {
			s.fail("revocation", ErrRevoked, c.SubjectCN+" serial", hex.Encode(c.Serial), "not on the CRL", c.SubjectCN+" is revoked")
			return
		}
	}
	s.res.Revocation = "checked"
	s.pass("revocation")
}

// summarize fills the Result's report section.
func (s *session) summarize() {
	r := s.report
	p := s.product
	if p == "" {
		p = s.reportProduct
	}
	if p == "" {
		// A version 2 report whose certificate did not establish the
		// product: Milan and Genoa, the products that issued version 2
		// reports, share this layout.
		p = snp.Milan
	}
	sum := sha2.Sum384(r.Raw)
	s.res.Report = &ReportSummary{
		Version:      r.Version,
		GuestSVN:     r.GuestSVN,
		Policy:       errfmt.Sprintf("%#x", r.Policy),
		VMPL:         r.VMPL,
		Signer:       s.signer,
		ChipID:       hex.Encode(r.ChipID),
		Measurement:  hex.Encode(r.Measurement),
		ReportData:   hex.Encode(r.ReportData),
		HostData:     hex.Encode(r.HostData),
		ReportedTCB:  tcbSummary(p, r.ReportedTCB),
		CommittedTCB: tcbSummary(p, r.CommittedTCB),
		CurrentTCB:   tcbSummary(p, r.CurrentTCB),
		LaunchTCB:    tcbSummary(p, r.LaunchTCB),
		SHA384:       hex.Encode(sum[:]),
	}
}

func tcbSummary(p snp.Product, v uint64) TCB {
	t := snp.DecodeTCB(p, v)
	out := TCB{Raw: errfmt.Sprintf("%016x", v), Bootloader: t.Bootloader, TEE: t.TEE, SNP: t.SNP, Microcode: t.Microcode}
	if t.HasFMC {
		fmc := t.FMC
		out.FMC = &fmc
	}
	return out
}
