//go:build !(js && wasm)

package simulated

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"time"
)

// Organization is the subject organization of every certificate the
// instance issues.
const Organization = "SIMULATED Sigstore instance (cvmtrust development)"

// Object identifiers of the certificates Fulcio issues: Sigstore's arc
// 1.3.6.1.4.1.57264.1 (docs/oid-info.md in sigstore/fulcio) and RFC 6962's.
var (
	oidIssuer                   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidGitHubWorkflowTrigger    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 2}
	oidGitHubWorkflowSHA        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 3}
	oidGitHubWorkflowName       = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 4}
	oidGitHubWorkflowRepository = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 5}
	oidGitHubWorkflowRef        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 6}
	oidIssuerV2                 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
	// .1.9 to .1.22: build signer URI and digest, runner environment,
	// source repository URI, digest, ref, identifier, owner URI, owner
	// identifier, build config URI and digest, build trigger, run invocation
	// URI, source repository visibility at signing.
	oidCIFirst = 9

	oidCTPoison     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 3}
	oidCTSCTList    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}
	oidExtKeyUsage  = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
)

// GitHubActionsIssuer is GitHub Actions' OIDC issuer.
const GitHubActionsIssuer = "https://token.actions.githubusercontent.com"

// Identity is who signs: what Fulcio would read from the OIDC token and put
// in the certificate.
type Identity struct {
	// Issuer is the OIDC issuer.
	Issuer string
	// URI or Email is the subject alternative name; exactly one is set.
	URI   string
	Email string
	// Workflow, when set, fills the GitHub workflow extensions.
	Workflow *GitHubWorkflow
}

// GitHubWorkflow is what a GitHub Actions OIDC token says about the run,
// named after the token's claims.
type GitHubWorkflow struct {
	Repository        string // owner/name
	RepositoryID      string
	RepositoryOwnerID string
	Ref               string // refs/tags/v1.2.3
	SHA               string // the commit
	WorkflowPath      string // .github/workflows/release.yml
	WorkflowName      string // the workflow's name:
	EventName         string // push
	RunID, RunAttempt string
	RunnerEnvironment string // github-hosted
	Visibility        string // public
}

// GitHubActions returns the identity of a GitHub Actions run of the workflow
// at workflowPath in repo ("owner/name") for ref at commit sha, as Fulcio
// derives it: issuer https://token.actions.githubusercontent.com, SAN URI
// https://github.com/{repo}/{workflowPath}@{ref}.
func GitHubActions(repo, workflowPath, ref, sha string) Identity {
	w := &GitHubWorkflow{
		Repository: repo, RepositoryID: "100000001", RepositoryOwnerID: "100000002",
		Ref: ref, SHA: sha, WorkflowPath: workflowPath, WorkflowName: "release",
		EventName: "push", RunID: "1000000003", RunAttempt: "1",
		RunnerEnvironment: "github-hosted", Visibility: "public",
	}
	return Identity{Issuer: GitHubActionsIssuer, URI: w.jobWorkflowURI(), Workflow: w}
}

func (w *GitHubWorkflow) jobWorkflowURI() string {
	return "https://github.com/" + w.Repository + "/" + w.WorkflowPath + "@" + w.Ref
}

func (id Identity) extensions() ([]pkix.Extension, error) {
	if id.Issuer == "" {
		return nil, errors.New("simulated: identity has no issuer")
	}
	// Fulcio writes the deprecated extensions as raw bytes and the newer ones
	// as DER UTF8String.
	raw := func(oid asn1.ObjectIdentifier, v string) pkix.Extension {
		return pkix.Extension{Id: oid, Value: []byte(v)}
	}
	der := func(oid asn1.ObjectIdentifier, v string) (pkix.Extension, error) {
		b, err := asn1.MarshalWithParams(v, "utf8")
		return pkix.Extension{Id: oid, Value: b}, err
	}
	exts := []pkix.Extension{raw(oidIssuer, id.Issuer)}
	w := id.Workflow
	if w != nil {
		exts = append(exts,
			raw(oidGitHubWorkflowTrigger, w.EventName),
			raw(oidGitHubWorkflowSHA, w.SHA),
			raw(oidGitHubWorkflowName, w.WorkflowName),
			raw(oidGitHubWorkflowRepository, w.Repository),
			raw(oidGitHubWorkflowRef, w.Ref))
	}
	e, err := der(oidIssuerV2, id.Issuer)
	if err != nil {
		return nil, err
	}
	exts = append(exts, e)
	if w == nil {
		return exts, nil
	}
	owner, _, _ := cutString(w.Repository, "/")
	gh := "https://github.com/"
	workflowURI := w.jobWorkflowURI()
	for i, v := range []string{
		workflowURI,         // .9  build signer URI ({url}/{job_workflow_ref})
		w.SHA,               // .10 build signer digest (job_workflow_sha)
		w.RunnerEnvironment, // .11
		gh + w.Repository,   // .12 source repository URI
		w.SHA,               // .13 source repository digest
		w.Ref,               // .14 source repository ref
		w.RepositoryID,      // .15
		gh + owner,          // .16 source repository owner URI
		w.RepositoryOwnerID, // .17
		workflowURI,         // .18 build config URI ({url}/{workflow_ref})
		w.SHA,               // .19 build config digest (workflow_sha)
		w.EventName,         // .20 build trigger
		gh + w.Repository + "/actions/runs/" + w.RunID + "/attempts/" + w.RunAttempt, // .21
		w.Visibility, // .22
	} {
		oid := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, oidCIFirst + i}
		e, err := der(oid, v)
		if err != nil {
			return nil, err
		}
		exts = append(exts, e)
	}
	return exts, nil
}

func cutString(s, sep string) (string, string, bool) {
	for i := 0; i+len(sep) <= len(s); i++ {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

// ca is a certificate authority: a root and an intermediate that issues.
type ca struct {
	root, intermediate       *x509.Certificate
	rootKey, intermediateKey *ecdsa.PrivateKey
}

func newKeyP256() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }
func newKeyP384() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) }

func serialNumber() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
}

func keyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(der)
	return sum[:], nil
}

func issue(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	if tmpl.SubjectKeyId, err = keyID(pub); err != nil {
		return nil, err
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// newCA makes a Fulcio-like CA (P-384 root and intermediate, the
// intermediate limited to code signing) valid from notBefore for ten years.
func newCA(name string, notBefore time.Time) (*ca, error) {
	c := &ca{}
	var err error
	if c.rootKey, err = newKeyP384(); err != nil {
		return nil, err
	}
	if c.intermediateKey, err = newKeyP384(); err != nil {
		return nil, err
	}
	notAfter := notBefore.AddDate(10, 0, 0)
	c.root, err = issue(&x509.Certificate{
		Subject:   pkix.Name{Organization: []string{Organization}, CommonName: name},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 1,
	}, nil, c.rootKey.Public(), c.rootKey)
	if err != nil {
		return nil, err
	}
	c.intermediate, err = issue(&x509.Certificate{
		Subject:   pkix.Name{Organization: []string{Organization}, CommonName: name + "-intermediate"},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 0, MaxPathLenZero: true,
	}, c.root, c.intermediateKey.Public(), c.rootKey)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// leafTemplate is the certificate Fulcio issues for id, valid for ten
// minutes from notBefore.
func leafTemplate(id Identity, notBefore time.Time) (*x509.Certificate, error) {
	exts, err := id.extensions()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		NotBefore:       notBefore,
		NotAfter:        notBefore.Add(10 * time.Minute),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: exts,
	}
	switch {
	case id.URI != "" && id.Email == "":
		u, err := url.Parse(id.URI)
		if err != nil {
			return nil, fmt.Errorf("simulated: identity URI: %w", err)
		}
		tmpl.URIs = []*url.URL{u}
	case id.Email != "" && id.URI == "":
		tmpl.EmailAddresses = []string{id.Email}
	default:
		return nil, errors.New("simulated: identity needs exactly one of URI and Email")
	}
	return tmpl, nil
}

// ctLog is a certificate transparency log that signs SCTs.
type ctLog struct {
	key   *ecdsa.PrivateKey
	logID [32]byte
}

func newCTLog() (*ctLog, error) {
	key, err := newKeyP256()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	return &ctLog{key: key, logID: sha256.Sum256(der)}, nil
}

// sct returns a v1 SignedCertificateTimestamp, serialized as RFC 6962 §3.2
// says, for a precertificate entry: the TBSCertificate without the poison
// extension, issued by the CA whose SubjectPublicKeyInfo is issuerSPKI.
func (l *ctLog) sct(tbs, issuerSPKI []byte, at time.Time) ([]byte, error) {
	if len(tbs) >= 1<<24 {
		return nil, errors.New("simulated: TBSCertificate too long for an SCT")
	}
	ms := uint64(at.UnixMilli())
	issuerKeyHash := sha256.Sum256(issuerSPKI)
	var signed []byte
	signed = append(signed, 0, 0) // sct_version v1, signature_type certificate_timestamp
	signed = binary.BigEndian.AppendUint64(signed, ms)
	signed = append(signed, 0, 1) // entry_type precert_entry
	signed = append(signed, issuerKeyHash[:]...)
	signed = append(signed, byte(len(tbs)>>16), byte(len(tbs)>>8), byte(len(tbs)))
	signed = append(signed, tbs...)
	signed = append(signed, 0, 0) // no extensions
	digest := sha256.Sum256(signed)
	sig, err := ecdsa.SignASN1(rand.Reader, l.key, digest[:])
	if err != nil {
		return nil, err
	}
	var sct []byte
	sct = append(sct, 0) // v1
	sct = append(sct, l.logID[:]...)
	sct = binary.BigEndian.AppendUint64(sct, ms)
	sct = append(sct, 0, 0) // no extensions
	sct = append(sct, 4, 3) // sha256, ecdsa
	sct = binary.BigEndian.AppendUint16(sct, uint16(len(sig)))
	sct = append(sct, sig...)
	return sct, nil
}

// sctListExtension is the X.509 extension carrying SCTs: an OCTET STRING
// holding the TLS-encoded SignedCertificateTimestampList.
func sctListExtension(scts ...[]byte) (pkix.Extension, error) {
	var list []byte
	for _, s := range scts {
		list = binary.BigEndian.AppendUint16(list, uint16(len(s)))
		list = append(list, s...)
	}
	tls := binary.BigEndian.AppendUint16(nil, uint16(len(list)))
	tls = append(tls, list...)
	v, err := asn1.Marshal(tls)
	return pkix.Extension{Id: oidCTSCTList, Value: v}, err
}

// tbsCertificate is RFC 5280's TBSCertificate with the parts this package
// does not change kept raw.
type tbsCertificate struct {
	Raw                asn1.RawContent
	Version            int `asn1:"optional,explicit,default:0,tag:0"`
	SerialNumber       *big.Int
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Issuer             asn1.RawValue
	Validity           asn1.RawValue
	Subject            asn1.RawValue
	PublicKey          asn1.RawValue
	IssuerUniqueID     asn1.BitString   `asn1:"optional,tag:1"`
	SubjectUniqueID    asn1.BitString   `asn1:"optional,tag:2"`
	Extensions         []pkix.Extension `asn1:"omitempty,optional,explicit,tag:3"`
}

// withoutExtension re-encodes a TBSCertificate without the extension oid.
func withoutExtension(tbsDER []byte, oid asn1.ObjectIdentifier) ([]byte, error) {
	var tbs tbsCertificate
	rest, err := asn1.Unmarshal(tbsDER, &tbs)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("simulated: data after TBSCertificate")
	}
	kept := tbs.Extensions[:0]
	found := false
	for _, e := range tbs.Extensions {
		if e.Id.Equal(oid) {
			found = true
			continue
		}
		kept = append(kept, e)
	}
	if !found {
		return nil, fmt.Errorf("simulated: TBSCertificate has no extension %v", oid)
	}
	tbs.Extensions, tbs.Raw = kept, nil
	return asn1.Marshal(tbs)
}

// sctMode says whether and how a leaf certificate gets its SCT.
type sctMode int

const (
	sctGood       sctMode = iota // over the precertificate without its poison, as RFC 6962 says
	sctOverPoison                // over the precertificate with its poison
	sctNone                      // no SCT: the certificate was never submitted to a CT log
)

// issueLeaf issues a leaf certificate for key the way Fulcio does with a CT
// log: precertificate with the poison extension, SCT over its
// TBSCertificate without the poison, final certificate with the SCT list.
func (c *ca) issueLeaf(tmpl *x509.Certificate, pub crypto.PublicKey, log *ctLog, sctTime time.Time, sct sctMode) (*x509.Certificate, error) {
	base := tmpl.ExtraExtensions
	if sct == sctNone {
		return issue(tmpl, c.intermediate, pub, c.intermediateKey)
	}
	poison := pkix.Extension{Id: oidCTPoison, Critical: true, Value: asn1.NullBytes}
	tmpl.ExtraExtensions = append(append([]pkix.Extension{}, base...), poison)
	pre, err := issue(tmpl, c.intermediate, pub, c.intermediateKey)
	if err != nil {
		return nil, err
	}
	tbs, err := withoutExtension(pre.RawTBSCertificate, oidCTPoison)
	if err != nil {
		return nil, err
	}
	if sct == sctOverPoison {
		tbs = pre.RawTBSCertificate // not what a verifier reconstructs
	}
	signed, err := log.sct(tbs, c.intermediate.RawSubjectPublicKeyInfo, sctTime)
	if err != nil {
		return nil, err
	}
	ext, err := sctListExtension(signed)
	if err != nil {
		return nil, err
	}
	final := *tmpl
	final.SerialNumber = pre.SerialNumber
	final.ExtraExtensions = append(append([]pkix.Extension{}, base...), ext)
	der, err := x509.CreateCertificate(rand.Reader, &final, c.intermediate, pub, c.intermediateKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	// The final certificate must be the precertificate with the poison
	// replaced by the SCT list, or the SCT would not verify.
	if sct == sctGood {
		got, err := withoutExtension(leaf.RawTBSCertificate, oidCTSCTList)
		if err != nil {
			return nil, err
		}
		if string(got) != string(tbs) {
			return nil, errors.New("simulated: final certificate differs from the precertificate")
		}
	}
	return leaf, nil
}
