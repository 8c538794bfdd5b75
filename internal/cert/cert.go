// Package cert parses X.509 certificates and CRLs with cryptobyte: those of
// AMD's SEV-SNP key hierarchy (ARK, ASK, ASVK, VCEK, VLEK; Parse, which
// accepts only AMD's algorithms) and those of Sigstore (Fulcio, TSAs;
// ParseAny). It is deliberately narrow: it reads what the verifiers check
// and keeps the raw bytes the signatures cover. crypto/x509 is not used so
// that the browser build stays small.
package cert

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ErrMalformed is wrapped by every parse error.
var ErrMalformed = errors.New("malformed certificate")

// Object identifiers used by AMD's certificates.
var (
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSASSAPSS     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP384          = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidP256          = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP521          = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
	oidEd25519       = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidRSASHA256     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidRSASHA384     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidRSASHA512     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidCommonName    = asn1.ObjectIdentifier{2, 5, 4, 3}
)

// AMD KDS certificate extensions (KDS specification, "VCEK Certificate
// Extensions"), below 1.3.6.1.4.1.3704.1.
var (
	OIDStructVersion = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 1}
	OIDProductName   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 2}
	OIDBlSPL         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 3, 1}
	OIDTeeSPL        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 3, 2}
	OIDSnpSPL        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 3, 3}
	OIDUcodeSPL      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 3, 8}
	OIDFmcSPL        = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 3, 9} // Turin and later
	OIDHWID          = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 4}
	OIDCSPID         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 3704, 1, 5} // VLEK only
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
func (c *Certificate) Extension(oid asn1.ObjectIdentifier) ([]byte, bool) {
	v, ok := c.Extensions[oid.String()]
	return v, ok
}

// ExtensionInt decodes an AMD SPL extension: an OCTET STRING holding a DER
// INTEGER in 0..255.
func (c *Certificate) ExtensionInt(oid asn1.ObjectIdentifier) (uint8, bool, error) {
	v, ok := c.Extension(oid)
	if !ok {
		return 0, false, nil
	}
	s := cryptobyte.String(v)
	var n int64
	if !s.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) || !s.Empty() || n < 0 || n > 255 {
		return 0, true, fmt.Errorf("%w: extension %v is not a small integer", ErrMalformed, oid)
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
		return nil, fmt.Errorf("%w: signature algorithm is not RSASSA-PSS SHA-384 with a 48-byte salt", ErrMalformed)
	}
	if c.KeyType != KeyRSA && c.KeyType != KeyECDSAP384 {
		return nil, fmt.Errorf("%w: key is neither RSA nor P-384", ErrMalformed)
	}
	return c, nil
}

// ParseAny parses one DER certificate signed with any algorithm SigAlg
// names, holding an RSA, ECDSA (P-256, P-384, P-521) or Ed25519 key.
func ParseAny(der []byte) (*Certificate, error) {
	c := &Certificate{Raw: der, Extensions: map[string][]byte{}}
	input := cryptobyte.String(der)
	var certSeq, tbs cryptobyte.String
	if !input.ReadASN1(&certSeq, cbasn1.SEQUENCE) || !input.Empty() {
		return nil, fmt.Errorf("%w: not a DER SEQUENCE", ErrMalformed)
	}
	if !certSeq.ReadASN1Element(&tbs, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: missing tbsCertificate", ErrMalformed)
	}
	c.RawTBS = tbs
	var outerAlg cryptobyte.String
	if !certSeq.ReadASN1Element(&outerAlg, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: missing signatureAlgorithm", ErrMalformed)
	}
	sig, err := readBitString(&certSeq)
	if err != nil || !certSeq.Empty() {
		return nil, fmt.Errorf("%w: bad signatureValue", ErrMalformed)
	}
	c.Signature = sig

	if !tbs.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: bad tbsCertificate", ErrMalformed)
	}
	var version int64
	var hasVersion bool
	var versionField cryptobyte.String
	if !tbs.ReadOptionalASN1(&versionField, &hasVersion, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("%w: bad version", ErrMalformed)
	}
	if hasVersion && (!versionField.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || version != 2) {
		return nil, fmt.Errorf("%w: not an X.509 v3 certificate", ErrMalformed)
	}
	var serial cryptobyte.String
	if !tbs.ReadASN1(&serial, cbasn1.INTEGER) || len(serial) == 0 {
		return nil, fmt.Errorf("%w: bad serial number", ErrMalformed)
	}
	c.Serial = serial
	var innerAlg cryptobyte.String
	if !tbs.ReadASN1Element(&innerAlg, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: bad signature algorithm", ErrMalformed)
	}
	// The algorithm inside the signed part must be the one outside it.
	if !bytes.Equal(innerAlg, outerAlg) {
		return nil, fmt.Errorf("%w: signature algorithms inside and outside differ", ErrMalformed)
	}
	if c.SigAlg, err = readSigAlg(outerAlg); err != nil {
		return nil, err
	}
	if c.RawIssuer, c.IssuerCN, err = readName(&tbs); err != nil {
		return nil, err
	}
	var validity cryptobyte.String
	if !tbs.ReadASN1(&validity, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: bad validity", ErrMalformed)
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
	for _, tag := range []cbasn1.Tag{cbasn1.Tag(1).ContextSpecific(), cbasn1.Tag(2).ContextSpecific()} {
		if !tbs.SkipOptionalASN1(tag) {
			return nil, fmt.Errorf("%w: bad unique id", ErrMalformed)
		}
	}
	var extsField cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&extsField, &hasExts, cbasn1.Tag(3).Constructed().ContextSpecific()) {
		return nil, fmt.Errorf("%w: bad extensions", ErrMalformed)
	}
	if hasExts {
		var exts cryptobyte.String
		if !extsField.ReadASN1(&exts, cbasn1.SEQUENCE) || !extsField.Empty() {
			return nil, fmt.Errorf("%w: bad extensions", ErrMalformed)
		}
		for !exts.Empty() {
			var ext cryptobyte.String
			var oid asn1.ObjectIdentifier
			var value cryptobyte.String
			var critical cryptobyte.String
			if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&oid) ||
				!ext.ReadOptionalASN1(&critical, nil, cbasn1.BOOLEAN) ||
				!ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
				return nil, fmt.Errorf("%w: bad extension", ErrMalformed)
			}
			key := oid.String()
			if len(critical) == 1 && critical[0] != 0 {
				c.Critical = append(c.Critical, key)
			}
			if _, dup := c.Extensions[key]; dup {
				return nil, fmt.Errorf("%w: duplicate extension %s", ErrMalformed, key)
			}
			c.Extensions[key] = value
		}
	}
	if !tbs.Empty() {
		return nil, fmt.Errorf("%w: trailing data in tbsCertificate", ErrMalformed)
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
				return nil, fmt.Errorf("%w: PEM block %q is not a CERTIFICATE", ErrMalformed, block.Type)
			}
			ders = append(ders, block.Bytes)
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return nil, fmt.Errorf("%w: trailing data after PEM certificates", ErrMalformed)
		}
	} else {
		s := cryptobyte.String(data)
		for !s.Empty() {
			var el cryptobyte.String
			if !s.ReadASN1Element(&el, cbasn1.SEQUENCE) {
				return nil, fmt.Errorf("%w: neither PEM nor DER", ErrMalformed)
			}
			ders = append(ders, el)
		}
	}
	if len(ders) == 0 {
		return nil, fmt.Errorf("%w: no certificate found", ErrMalformed)
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

func readBitString(s *cryptobyte.String) ([]byte, error) {
	var bs asn1.BitString
	if !s.ReadASN1BitString(&bs) || bs.BitLength%8 != 0 {
		return nil, fmt.Errorf("%w: bad BIT STRING", ErrMalformed)
	}
	return bs.Bytes, nil
}

// checkRSAPSSSHA384 accepts exactly RSASSA-PSS with SHA-384, MGF1 with
// SHA-384, a 48-byte salt and the standard trailer.
func checkRSAPSSSHA384(alg cryptobyte.String) error {
	bad := fmt.Errorf("%w: signature algorithm is not RSASSA-PSS SHA-384 with a 48-byte salt", ErrMalformed)
	var oid asn1.ObjectIdentifier
	var params cryptobyte.String
	if !alg.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidRSASSAPSS) ||
		!alg.ReadASN1(&params, cbasn1.SEQUENCE) || !alg.Empty() {
		return bad
	}
	var hashField, mgfField, saltField, trailerField cryptobyte.String
	var hasHash, hasMGF, hasSalt, hasTrailer bool
	if !params.ReadOptionalASN1(&hashField, &hasHash, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!params.ReadOptionalASN1(&mgfField, &hasMGF, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!params.ReadOptionalASN1(&saltField, &hasSalt, cbasn1.Tag(2).Constructed().ContextSpecific()) ||
		!params.ReadOptionalASN1(&trailerField, &hasTrailer, cbasn1.Tag(3).Constructed().ContextSpecific()) ||
		!params.Empty() || !hasHash || !hasMGF || !hasSalt {
		return bad
	}
	if !isSHA384(hashField) {
		return bad
	}
	var mgf cryptobyte.String
	if !mgfField.ReadASN1(&mgf, cbasn1.SEQUENCE) || !mgfField.Empty() ||
		!mgf.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidMGF1) || !isSHA384(mgf) {
		return bad
	}
	var salt, trailer int64
	if !saltField.ReadASN1Int64WithTag(&salt, cbasn1.INTEGER) || !saltField.Empty() || salt != 48 {
		return bad
	}
	if hasTrailer && (!trailerField.ReadASN1Int64WithTag(&trailer, cbasn1.INTEGER) || !trailerField.Empty() || trailer != 1) {
		return bad
	}
	return nil
}

// readSigAlg names a certificate's signature algorithm. ECDSA and Ed25519
// identifiers must have no parameters, PKCS#1 v1.5 ones NULL or none.
func readSigAlg(alg cryptobyte.String) (SigAlg, error) {
	if checkRSAPSSSHA384(alg) == nil {
		return SigRSAPSSSHA384, nil
	}
	var oid asn1.ObjectIdentifier
	var body cryptobyte.String
	if !alg.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&oid) {
		return 0, fmt.Errorf("%w: bad signature algorithm", ErrMalformed)
	}
	noParams := body.Empty()
	nullParams := noParams || (body.SkipASN1(cbasn1.NULL) && body.Empty())
	for _, a := range []struct {
		oid  asn1.ObjectIdentifier
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
	return 0, fmt.Errorf("%w: unsupported signature algorithm %v", ErrMalformed, oid)
}

// isSHA384 reads an AlgorithmIdentifier for SHA-384 (parameters absent or
// NULL) that must fill s.
func isSHA384(s cryptobyte.String) bool {
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !s.Empty() || !alg.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidSHA384) {
		return false
	}
	if !alg.Empty() && !alg.SkipASN1(cbasn1.NULL) {
		return false
	}
	return alg.Empty()
}

func readName(s *cryptobyte.String) (raw []byte, cn string, err error) {
	var name cryptobyte.String
	if !s.ReadASN1Element(&name, cbasn1.SEQUENCE) {
		return nil, "", fmt.Errorf("%w: bad name", ErrMalformed)
	}
	raw = name
	var rdns cryptobyte.String
	if !name.ReadASN1(&rdns, cbasn1.SEQUENCE) {
		return nil, "", fmt.Errorf("%w: bad name", ErrMalformed)
	}
	for !rdns.Empty() {
		var set cryptobyte.String
		if !rdns.ReadASN1(&set, cbasn1.SET) {
			return nil, "", fmt.Errorf("%w: bad name", ErrMalformed)
		}
		for !set.Empty() {
			var atv cryptobyte.String
			var oid asn1.ObjectIdentifier
			var value cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) ||
				!atv.ReadAnyASN1(&value, &tag) || !atv.Empty() {
				return nil, "", fmt.Errorf("%w: bad name attribute", ErrMalformed)
			}
			if oid.Equal(oidCommonName) {
				cn = string(value)
			}
		}
	}
	return raw, cn, nil
}

func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if !s.ReadASN1UTCTime(&t) {
			return t, fmt.Errorf("%w: bad UTCTime", ErrMalformed)
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if !s.ReadASN1GeneralizedTime(&t) {
			return t, fmt.Errorf("%w: bad GeneralizedTime", ErrMalformed)
		}
	default:
		return t, fmt.Errorf("%w: missing time", ErrMalformed)
	}
	return t, nil
}

// ParseSPKI parses a DER SubjectPublicKeyInfo, such as a PEM "PUBLIC KEY",
// and returns its type and its importable form (see readSPKI).
func ParseSPKI(der []byte) (KeyType, []byte, error) {
	s := cryptobyte.String(der)
	kt, spki, err := readSPKI(&s)
	if err == nil && !s.Empty() {
		err = fmt.Errorf("%w: trailing data after the public key", ErrMalformed)
	}
	return kt, spki, err
}

// readSPKI reads a SubjectPublicKeyInfo: RSA (under rsaEncryption or
// id-RSASSA-PSS), ECDSA on P-256, P-384 or P-521, or Ed25519. RSA keys come
// back re-encoded under rsaEncryption, the one form every importer takes.
func readSPKI(s *cryptobyte.String) (KeyType, []byte, error) {
	var spki, body, alg cryptobyte.String
	if !s.ReadASN1Element(&spki, cbasn1.SEQUENCE) {
		return 0, nil, fmt.Errorf("%w: bad subjectPublicKeyInfo", ErrMalformed)
	}
	body = spki
	var oid asn1.ObjectIdentifier
	if !body.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return 0, nil, fmt.Errorf("%w: bad subjectPublicKeyInfo", ErrMalformed)
	}
	key, err := readBitString(&body)
	if err != nil || !body.Empty() {
		return 0, nil, fmt.Errorf("%w: bad subjectPublicKey", ErrMalformed)
	}
	switch {
	case oid.Equal(oidRSAEncryption) || oid.Equal(oidRSASSAPSS):
		ks := cryptobyte.String(key)
		var rsaKey cryptobyte.String
		if !ks.ReadASN1(&rsaKey, cbasn1.SEQUENCE) || !ks.Empty() ||
			!rsaKey.SkipASN1(cbasn1.INTEGER) || !rsaKey.SkipASN1(cbasn1.INTEGER) || !rsaKey.Empty() {
			return 0, nil, fmt.Errorf("%w: bad RSA public key", ErrMalformed)
		}
		if oid.Equal(oidRSAEncryption) {
			return KeyRSA, spki, nil
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidRSAEncryption)
				b.AddASN1NULL()
			})
			b.AddASN1BitString(key)
		})
		out, err := b.Bytes()
		if err != nil {
			return 0, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		return KeyRSA, out, nil
	case oid.Equal(oidECPublicKey):
		var curve asn1.ObjectIdentifier
		if !alg.ReadASN1ObjectIdentifier(&curve) || !alg.Empty() {
			return 0, nil, fmt.Errorf("%w: bad EC key parameters", ErrMalformed)
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
			return 0, nil, fmt.Errorf("%w: EC key on an unsupported curve %v", ErrMalformed, curve)
		}
		if len(key) != 1+2*size || key[0] != 4 {
			return 0, nil, fmt.Errorf("%w: EC key not an uncompressed point", ErrMalformed)
		}
		return kt, spki, nil
	case oid.Equal(oidEd25519):
		if !alg.Empty() || len(key) != 32 {
			return 0, nil, fmt.Errorf("%w: bad Ed25519 key", ErrMalformed)
		}
		return KeyEd25519, spki, nil
	}
	return 0, nil, fmt.Errorf("%w: unsupported public key algorithm %v", ErrMalformed, oid)
}
