package gateway

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/uuid"
)

// fakeQuoteProvider stands for the kernel interface: it answers a fixed
// report followed by a certificate table, as configfs-tsm's outblob+auxblob
// and the extended /dev/sev-guest request do.
type fakeQuoteProvider struct {
	answer []byte
	err    error
	level  uint
}

func (f *fakeQuoteProvider) IsSupported() bool { return true }
func (f *fakeQuoteProvider) GetRawQuoteAtLevel(rd [64]byte, level uint) ([]uint8, error) {
	f.level = level
	return f.answer, f.err
}
func (f *fakeQuoteProvider) Product() *spb.SevProduct { return nil }

func certTable(entries map[string][]byte) []byte {
	var t abi.CertTable
	for guid, b := range entries {
		t.Entries = append(t.Entries, abi.CertTableEntry{GUID: uuid.MustParse(guid), RawCert: b})
	}
	return t.Marshal()
}

func pemCerts(ders ...[]byte) string {
	var b bytes.Buffer
	for _, d := range ders {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: d})
	}
	return b.String()
}

func TestSNPSourceCertificateTable(t *testing.T) {
	report := bytes.Repeat([]byte{7}, abi.ReportSize)
	vcek, vlek, ask, ark := []byte("vcek-der"), []byte("vlek-der"), []byte("ask-der"), []byte("ark-der")
	for _, tc := range []struct {
		name              string
		table             []byte
		wantVCEK, wantVLK []byte
		wantChain         string
	}{
		{"no table", nil, nil, nil, ""},
		{"VCEK, ASK, ARK", certTable(map[string][]byte{abi.VcekGUID: vcek, abi.AskGUID: ask, abi.ArkGUID: ark}), vcek, nil, pemCerts(ask, ark)},
		{"VCEK and ASK", certTable(map[string][]byte{abi.VcekGUID: vcek, abi.AskGUID: ask}), vcek, nil, pemCerts(ask)},
		{"VCEK alone", certTable(map[string][]byte{abi.VcekGUID: vcek, abi.ArkGUID: ark}), vcek, nil, ""},
		{"VLEK", certTable(map[string][]byte{abi.VlekGUID: vlek, abi.AskGUID: ask, abi.ArkGUID: ark}), nil, vlek, ""},
		// A table that points outside itself is ignored: certificates are
		// only hints, the verifier fetches what is missing.
		{"corrupt table", []byte{0: 0x63, 16: 0xff, 17: 0xff, 23: 0}, nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			qp := &fakeQuoteProvider{answer: append(bytes.Clone(report), tc.table...), level: 99}
			src := &SNPSource{qp: qp, vmpl: 2}
			got, certs, err := src.GetReport(context.Background(), [64]byte{})
			if err != nil {
				t.Fatal(err)
			}
			if qp.level != 2 {
				t.Errorf("report requested at VMPL %d, want 2", qp.level)
			}
			if !bytes.Equal(got, report) {
				t.Error("report bytes altered")
			}
			if !bytes.Equal(certs.VCEK, tc.wantVCEK) || !bytes.Equal(certs.VLEK, tc.wantVLK) || certs.Chain != tc.wantChain {
				t.Errorf("certs VCEK %q VLEK %q chain %q; want %q %q %q", certs.VCEK, certs.VLEK, certs.Chain, tc.wantVCEK, tc.wantVLK, tc.wantChain)
			}
		})
	}
}

func TestSNPSourceFailures(t *testing.T) {
	if _, err := OpenSNP(4); err == nil || errors.Is(err, ErrNoSNP) {
		t.Errorf("VMPL 4: err = %v, want a range error", err)
	}
	for _, qp := range []*fakeQuoteProvider{
		{err: errors.New("EIO")},
		{answer: make([]byte, abi.ReportSize-1)},
	} {
		if _, _, err := (&SNPSource{qp: qp}).GetReport(context.Background(), [64]byte{}); err == nil {
			t.Errorf("%+v: no error", qp)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := (&SNPSource{qp: &fakeQuoteProvider{answer: make([]byte, abi.ReportSize)}}).GetReport(ctx, [64]byte{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: err = %v", err)
	}
}
