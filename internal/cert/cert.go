// Package cert parses X.509 certificates and CRLs with package der
// (cryptobyte's reading rules without encoding/asn1): those of
// AMD's SEV-SNP key hierarchy (ARK, ASK, ASVK, VCEK, VLEK; Parse, which
// accepts only AMD's algorithms) and those of Sigstore (Fulcio, TSAs;
// ParseAny). It is deliberately narrow: it reads what the verifiers check
// and keeps the raw bytes the signatures cover. crypto/x509 is not used so
// that the browser build stays small.
package cert

import (
	"bytes"
	"encoding/pem"
	"errors"
	"github.com/cvmtrust/cvmtrust/internal/der"
	"github.com/cvmtrust/cvmtrust/internal/errfmt"
	"time"
)

// ErrMalformed is wrapped by every parse error.
var ErrMalformed = errors.New("malformed certificate")

// OID is an ASN.1 OBJECT IDENTIFIER.
type OID = der.OID

// Object identifiers used by AMD's certificates.
var (
	oidRSAEncryption = OID{1, 2, 840, 113549, 1, 1, 1}
	oidRSASSAPSS     = OID{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1          = OID{1, 2, 840, 113549, 1, 1, 8}
	oidSHA384        = OID{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidECPublicKey   = OID{1, 2, 840, 10045, 2, 1}
	oidP384          = OID{1, 3, 132, 0, 34}
	oidP256          = OID{1, 2, 840, 10045, 3, 1, 7}
	oidP521          = OID{1, 3, 132, 0, 35}
	oidEd25519       = OID{1, 3, 101, 112}
	oidECDSASHA256   = OID{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384   = OID{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512   = OID{1, 2, 840, 10045, 4, 3, 4}
	oidRSASHA256     = OID{1, 2, 840, 113549, 1, 1, 11}
	oidRSASHA384     = OID{1, 2, 840, 113549, 1, 1, 12}
	oidRSASHA512     = OID{1, 2, 840, 113549, 1, 1, 13}
	oidCommonName    = OID{2, 5, 4, 3}
)

// AMD KDS certificate extensions (KDS specification, "VCEK Certificate
// Extensions"), below 1.3.6.1.4.1.3704.1.
var (
	OIDStructVersion = OID{1, 3, 6, 1, 4, 1, 3704, 1, 1}
	OIDProductName   = OID{1, 3, 6, 1, 4, 1, 3704, 1, 2}
	OIDBlSPL         = OID{1, 3, 6, 1, 4, 1, 3704, 1, 3, 1}
	OIDTeeSPL        = OID{1, 3, 6, 1, 4, 1, 3704, 1, 3, 2}
	OIDSnpSPL        = OID{1, 3, 6, 1, 4, 1, 3704, 1, 3, 3}
	OIDUcodeSPL      = OID{1, 3, 6, 1, 4, 1, 3704, 1, 3, 8}
	OIDFmcSPL        = OID{1, 3, 6, 1, 4, 1, 3704, 1, 3, 9} // Turin and later
	OIDHWID          = OID{1, 3, 6, 1, 4, 1, 3704, 1, 4}
	OIDCSPID         = OID{1, 3, 6, 1, 4, 1, 3704, 1, 5} // VLEK only
)

// KeyType is the kind of subject public key.
type KeyType int

const (
	KeyRSA KeyType = iota + 1
	KeyECDSAP384
	KeyECDSAP256
	KeyECDSAP521
	KeyEd25519
)

// SigAlg is a certificate's signature algorithm.
type SigAlg int

const (
	SigRSAPSSSHA384 SigAlg = iota + 1 // with MGF1 SHA-384 and a 48-byte salt
	SigECDSASHA256
	SigECDSASHA384
	SigECDSASHA512
	SigEd25519
	SigRSAPKCS1SHA256
	SigRSAPKCS1SHA384
	SigRSAPKCS1SHA512
)

// Certificate is a parsed certificate. Byte fields alias the input.
type Certificate struct {
	Raw        []byte
	RawTBS     []byte // what the signature covers
	Serial     []byte // big-endian, as encoded
	RawIssuer  []byte
	RawSubject []byte
	IssuerCN   string
	SubjectCN  string
	NotBefore  time.Time
	NotAfter   time.Time
	KeyType    KeyType
	// SPKI is the SubjectPublicKeyInfo in the form WebCrypto and Go import:
	// an RSA key under id-RSASSA-PSS is re-encoded under rsaEncryption (the
	// key itself is unchanged).
	SPKI []byte
	// Signature is the signature value, made with SigAlg. Parse accepts only
	// RSASSA-PSS with SHA-384, MGF1 SHA-384 and a 48-byte salt, which is
	// what AMD uses.
	Signature  []byte
	SigAlg     SigAlg
	Extensions map[string][]byte // OID string → extnValue contents
	// Critical lists the OIDs of the extensions marked critical.
	Critical []string
}

// Extension returns the value of the extension with the given OID.
func (c *Certificate) Extension(oid OID) ([]byte, bool) {
	v, ok := c.Extensions[oid.String()]
	return v, ok
}

// ExtensionInt decodes an AMD SPL extension: an OCTET STRING holding a DER
// INTEGER in 0..255.
func (c *Certificate) ExtensionInt(oid OID) (uint8, bool, error) {
	v, ok := c.Extension(oid)
	if !ok {
		return 0, false, nil
	}
	s := der.String(v)
	var n int64
	if !s.ReadASN1Int64WithTag(&n, der.INTEGER) || !s.Empty() || n < 0 || n > 255 {
		return 0, true, errfmt.Errorf("%w: extension %v is not a small integer", ErrMalformed, oid)
	}
	return uint8(n), true, nil
}

// Parse parses one DER certificate of AMD's hierarchy: signed with
// RSASSA-PSS SHA-384, holding an RSA or P-384 key.
func Parse(der []byte) (*Certificate, error) {
	c, err := ParseAny(der)
	if err != nil {
		return nil, err
	}
	if c.SigAlg != SigRSAPSSSHA384 {
		return nil, errfmt.Errorf("%w: signature algorithm is not RSASSA-PSS SHA-384 with a 48-byte salt", ErrMalformed)
	}
	if c.KeyType != KeyRSA && c.KeyType != KeyECDSAP384 {
		return nil, errfmt.Errorf("%w: key is neither RSA nor P-384", ErrMalformed)
	}
	return c, nil
}

// ParseAny parses one DER certificate signed with any algorithm SigAlg
// names, holding an RSA, ECDSA (P-256, P-384, P-521) or Ed25519 key.
func ParseAny(raw []byte) (*Certificate, error) {
	c := &Certificate{Raw: raw, Extensions: map[string][]byte{}}
	input := der.String(raw)
	var certSeq, tbs der.String
	if !input.ReadASN1(&certSeq, der.SEQUENCE) || !input.Empty() {
		return nil, errfmt.Errorf("%w: not a DER SEQUENCE", ErrMalformed)
	}
	if !certSeq.ReadASN1Element(&tbs, der.SEQUENCE) {
		return nil, errfmt.Errorf("%w: missing tbsCertificate", ErrMalformed)
	}
	c.RawTBS = tbs
	var outerAlg der.String
	if !certSeq.ReadASN1Element(&outerAlg, der.SEQUENCE) {
		return nil, errfmt.Errorf("%w: missing signatureAlgorithm", ErrMalformed)
	}
	sig, err := readBitString(&certSeq)
	if err != nil || !certSeq.Empty() {
		return nil, errfmt.Errorf("%w: bad signatureValue", ErrMalformed)
	}
	c.Signature = sig

	if !tbs.ReadASN1(&tbs, der.SEQUENCE) {
		return nil, errfmt.Errorf("%w: bad tbsCertificate", ErrMalformed)
	}
	var version int64
	var hasVersion bool
	var versionField der.String
	if !tbs.ReadOptionalASN1(&versionField, &hasVersion, der.Tag(0).Constructed().ContextSpecific()) {
		return nil, errfmt.Errorf("%w: bad version", ErrMalformed)
	}
	if hasVersion && (!versionField.ReadASN1Int64WithTag(&version, der.INTEGER) || version != 2) {
		return nil, errfmt.Errorf("%w: not an X.509 v3 certificate", ErrMalformed)
	}
	var serial der.String
	if !tbs.ReadASN1(&serial, der.INTEGER) || len(serial) == 0 {
		return nil, errfmt.Errorf("%w: bad serial number", ErrMalformed)
	}
	c.Serial = serial
	var innerAlg der.String
	if !tbs.ReadASN1Element(&innerAlg, der.SEQUENCE) {
		return nil, errfmt.Errorf("%w: bad signature algorithm", ErrMalformed)
	}
	// The algorithm inside the signed part must be the one outside it.
	if !bytes.Equal(innerAlg, outerAlg) {
		return nil, errfmt.Errorf("%w: signature algorithms inside and outside differ", ErrMalformed)
	}
	if c.SigAlg, err = readSigAlg(outerAlg); err != nil {
		return nil, err
	}
	if c.RawIssuer, c.IssuerCN, err = readName(&tbs); err != nil {
		return nil, err
	}
	var validity der.String
	if !tbs.ReadASN1(&validity, der.SEQUENCE) {
		return nil, errfmt.Errorf("%w: bad validity", ErrMalformed)
	}
	if c.NotBefore, err = readTime(&validity); err != nil {
		return nil, err
	}
	if c.NotAfter, err = readTime(&validity); err != nil {
		return nil, err
	}
	if c.RawSubject, c.SubjectCN, err = readName(&tbs); err != nil {
		return nil, err
	}
	if c.KeyType, c.SPKI, err = readSPKI(&tbs); err != nil {
		return nil, err
	}
	// Unique IDs are not used by AMD; skip them if present.
	for _, tag := range []der.Tag{der.Tag(1).ContextSpecific(), der.Tag(2).ContextSpecific()} {
		if !tbs.SkipOptionalASN1(tag) {
			return nil, errfmt.Errorf("%w: bad unique id", ErrMalformed)
		}
	}
	var extsField der.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&extsField, &hasExts, der.Tag(3).Constructed().ContextSpecific()) {
		return nil, errfmt.Errorf("%w: bad extensions", ErrMalformed)
	}
	if hasExts {
		var exts der.String
		if !extsField.ReadASN1(&exts, der.SEQUENCE) || !extsField.Empty() {
			return nil, errfmt.Errorf("%w: bad extensions", ErrMalformed)
		}
		for !exts.Empty() {
			var ext der.String
			var oid OID
			var value der.String
			var critical der.String
			if !exts.ReadASN1(&ext, der.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) ||
				!ext.ReadOptionalASN1(&critical, nil, der.BOOLEAN) ||
				!ext.ReadASN1(&value, der.OCTET_STRING) || !ext.Empty() {
				return nil, errfmt.Errorf("%w: bad extension", ErrMalformed)
			}
			key := oid.String()
			if len(critical) == 1 && critical[0] != 0 {
				c.Critical = append(c.Critical, key)
			}
			if _, dup := c.Extensions[key]; dup {
				return nil, errfmt.Errorf("%w: duplicate extension %s", ErrMalformed, key)
			}
			c.Extensions[key] = value
		}
	}
	if !tbs.Empty() {
		return nil, errfmt.Errorf("%w: trailing data in tbsCertificate", ErrMalformed)
	}
	return c, nil
}

// ParseAll parses one or more certificates given as PEM blocks or as
// concatenated DER.
func ParseAll(data []byte) ([]*Certificate, error) {
	var ders [][]byte
	if trimmed := bytes.TrimSpace(data); bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		rest := trimmed
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				return nil, errfmt.Errorf("%w: PEM block %q is not a CERTIFICATE", ErrMalformed, block.Type)
			}
			ders = append(ders, block.Bytes)
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return nil, errfmt.Errorf("%w: trailing data after PEM certificates", ErrMalformed)
		}
	} else {
		s := der.String(data)
		for !s.Empty() {
			var el der.String
			if !s.ReadASN1Element(&el, der.SEQUENCE) {
				return nil, errfmt.Errorf("%w: neither PEM nor DER", ErrMalformed)
			}
			ders = append(ders, el)
		}
	}
	if len(ders) == 0 {
		return nil, errfmt.Errorf("%w: no certificate found", ErrMalformed)
	}
	certs := make([]*Certificate, 0, len(ders))
	for _, d := range ders {
		c, err := Parse(d)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	return certs, nil
}

func readBitString(s *der.String) ([]byte, error) {
	var bs der.BitString
	if !s.ReadASN1BitString(&bs) || bs.BitLength%8 != 0 {
		return nil, errfmt.Errorf("%w: bad BIT STRING", ErrMalformed)
	}
	return bs.Bytes, nil
}

// checkRSAPSSSHA384 accepts exactly RSASSA-PSS with SHA-384, MGF1 with
// SHA-384, a 48-byte salt and the standard trailer.
func checkRSAPSSSHA384(alg der.String) error {
	bad := errfmt.Errorf("%w: signature algorithm is not RSASSA-PSS SHA-384 with a 48-byte salt", ErrMalformed)
	var oid OID
	var params der.String
	if !alg.ReadASN1(&alg, der.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidRSASSAPSS) ||
		!alg.ReadASN1(&params, der.SEQUENCE) || !alg.Empty() {
		return bad
	}
	var hashField, mgfField, saltField, trailerField der.String
	var hasHash, hasMGF, hasSalt, hasTrailer bool
	if !params.ReadOptionalASN1(&hashField, &hasHash, der.Tag(0).Constructed().ContextSpecific()) ||
		!params.ReadOptionalASN1(&mgfField, &hasMGF, der.Tag(1).Constructed().ContextSpecific()) ||
		!params.ReadOptionalASN1(&saltField, &hasSalt, der.Tag(2).Constructed().ContextSpecific()) ||
		!params.ReadOptionalASN1(&trailerField, &hasTrailer, der.Tag(3).Constructed().ContextSpecific()) ||
		!params.Empty() || !hasHash || !hasMGF || !hasSalt {
		return bad
	}
	if !isSHA384(hashField) {
		return bad
	}
	var mgf der.String
	if !mgfField.ReadASN1(&mgf, der.SEQUENCE) || !mgfField.Empty() ||
		!mgf.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidMGF1) || !isSHA384(mgf) {
		return bad
	}
	var salt, trailer int64
	if !saltField.ReadASN1Int64WithTag(&salt, der.INTEGER) || !saltField.Empty() || salt != 48 {
		return bad
	}
	if hasTrailer && (!trailerField.ReadASN1Int64WithTag(&trailer, der.INTEGER) || !trailerField.Empty() || trailer != 1) {
		return bad
	}
	return nil
}

// readSigAlg names a certificate's signature algorithm. ECDSA and Ed25519
// identifiers must have no parameters, PKCS#1 v1.5 ones NULL or none.
func readSigAlg(alg der.String) (SigAlg, error) {
	if checkRSAPSSSHA384(alg) == nil {
		return SigRSAPSSSHA384, nil
	}
	var oid OID
	var body der.String
	if !alg.ReadASN1(&body, der.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&oid) {
		return 0, errfmt.Errorf("%w: bad signature algorithm", ErrMalformed)
	}
	noParams := body.Empty()
	nullParams := noParams || (body.SkipASN1(der.NULL) && body.Empty())
	for _, a := range []struct {
		oid  OID
		alg  SigAlg
		null bool
	}{
		{oidECDSASHA256, SigECDSASHA256, false}, {oidECDSASHA384, SigECDSASHA384, false},
		{oidECDSASHA512, SigECDSASHA512, false}, {oidEd25519, SigEd25519, false},
		{oidRSASHA256, SigRSAPKCS1SHA256, true}, {oidRSASHA384, SigRSAPKCS1SHA384, true},
		{oidRSASHA512, SigRSAPKCS1SHA512, true},
	} {
		if oid.Equal(a.oid) && (noParams || (a.null && nullParams)) {
			return a.alg, nil
		}
	}
	return 0, errfmt.Errorf("%w: unsupported signature algorithm %v", ErrMalformed, oid)
}

// isSHA384 reads an AlgorithmIdentifier for SHA-384 (parameters absent or
// NULL) that must fill s.
func isSHA384(s der.String) bool {
	var alg der.String
	var oid OID
	if !s.ReadASN1(&alg, der.SEQUENCE) || !s.Empty() || !alg.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidSHA384) {
		return false
	}
	if !alg.Empty() && !alg.SkipASN1(der.NULL) {
		return false
	}
	return alg.Empty()
}

func readName(s *der.String) (raw []byte, cn string, err error) {
	var name der.String
	if !s.ReadASN1Element(&name, der.SEQUENCE) {
		return nil, "", errfmt.Errorf("%w: bad name", ErrMalformed)
	}
	raw = name
	var rdns der.String
	if !name.ReadASN1(&rdns, der.SEQUENCE) {
		return nil, "", errfmt.Errorf("%w: bad name", ErrMalformed)
	}
	for !rdns.Empty() {
		var set der.String
		if !rdns.ReadASN1(&set, der.SET) {
			return nil, "", errfmt.Errorf("%w: bad name", ErrMalformed)
		}
		for !set.Empty() {
			var atv der.String
			var oid OID
			var value der.String
			var tag der.Tag
			if !set.ReadASN1(&atv, der.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) ||
				!atv.ReadAnyASN1(&value, &tag) || !atv.Empty() {
				return nil, "", errfmt.Errorf("%w: bad name attribute", ErrMalformed)
			}
			if oid.Equal(oidCommonName) {
				cn = string(value)
			}
		}
	}
	return raw, cn, nil
}

func readTime(s *der.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(der.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, errfmt.Errorf("%w: bad UTCTime", ErrMalformed)
		}
	case s.PeekASN1Tag(der.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, errfmt.Errorf("%w: bad GeneralizedTime", ErrMalformed)
		}
	default:
		return t, errfmt.Errorf("%w: missing time", ErrMalformed)
	}
	return t, nil
}

// ParseSPKI parses a DER SubjectPublicKeyInfo, such as a PEM "PUBLIC KEY",
// and returns its type and its importable form (see readSPKI).
func ParseSPKI(raw []byte) (KeyType, []byte, error) {
	s := der.String(raw)
	kt, spki, err := readSPKI(&s)
	if err == nil && !s.Empty() {
		err = errfmt.Errorf("%w: trailing data after the public key", ErrMalformed)
	}
	return kt, spki, err
}

// readSPKI reads a SubjectPublicKeyInfo: RSA (under rsaEncryption or
// id-RSASSA-PSS), ECDSA on P-256, P-384 or P-521, or Ed25519. RSA keys come
// back re-encoded under rsaEncryption, the one form every importer takes.
func readSPKI(s *der.String) (KeyType, []byte, error) {
	var spki, body, alg der.String
	if !s.ReadASN1Element(&spki, der.SEQUENCE) {
		return 0, nil, errfmt.Errorf("%w: bad subjectPublicKeyInfo", ErrMalformed)
	}
	body = spki
	var oid OID
	if !body.ReadASN1(&body, der.SEQUENCE) || !body.ReadASN1(&alg, der.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return 0, nil, errfmt.Errorf("%w: bad subjectPublicKeyInfo", ErrMalformed)
	}
	key, err := readBitString(&body)
	if err != nil || !body.Empty() {
		return 0, nil, errfmt.Errorf("%w: bad subjectPublicKey", ErrMalformed)
	}
	switch {
	case oid.Equal(oidRSAEncryption) || oid.Equal(oidRSASSAPSS):
		ks := der.String(key)
		var rsaKey der.String
		if !ks.ReadASN1(&rsaKey, der.SEQUENCE) || !ks.Empty() ||
			!rsaKey.SkipASN1(der.INTEGER) || !rsaKey.SkipASN1(der.INTEGER) || !rsaKey.Empty() {
			return 0, nil, errfmt.Errorf("%w: bad RSA public key", ErrMalformed)
		}
		if oid.Equal(oidRSAEncryption) {
			return KeyRSA, spki, nil
		}
		return KeyRSA, der.RSAEncryptionSPKI(key), nil
	case oid.Equal(oidECPublicKey):
		var curve OID
		if !alg.ReadASN1ObjectIdentifier(&curve) || !alg.Empty() {
			return 0, nil, errfmt.Errorf("%w: bad EC key parameters", ErrMalformed)
		}
		var kt KeyType
		var size int
		switch {
		case curve.Equal(oidP256):
			kt, size = KeyECDSAP256, 32
		case curve.Equal(oidP384):
			kt, size = KeyECDSAP384, 48
		case curve.Equal(oidP521):
			kt, size = KeyECDSAP521, 66
		default:
			return 0, nil, errfmt.Errorf("%w: EC key on an unsupported curve %v", ErrMalformed, curve)
		}
		if len(key) != 1+2*size || key[0] != 4 {
			return 0, nil, errfmt.Errorf("%w: EC key not an uncompressed point", ErrMalformed)
		}
		return kt, spki, nil
	case oid.Equal(oidEd25519):
		if !alg.Empty() || len(key) != 32 {
			return 0, nil, errfmt.Errorf("%w: bad Ed25519 key", ErrMalformed)
		}
		return KeyEd25519, spki, nil
	}
	return 0, nil, errfmt.Errorf("%w: unsupported public key algorithm %v", ErrMalformed, oid)
}
