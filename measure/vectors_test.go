package measure

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

const fixtureDir = "../testdata/launch-digest"

type vectorFile struct {
	OVMFHash map[string]string `json:"ovmf_hash"`
	Vectors  []vector          `json:"vectors"`
}

type vector struct {
	Name          string  `json:"name"`
	OVMF          string  `json:"ovmf"`
	VCPUs         int     `json:"vcpus"`
	VCPUType      *string `json:"vcpu_type"`
	VMMType       string  `json:"vmm_type"`
	GuestFeatures uint64  `json:"guest_features"`
	Kernel        *string `json:"kernel"`
	Initrd        *string `json:"initrd"`
	Append        *string `json:"append"`
	Expected      string  `json:"expected"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(raw, &vf); err != nil {
		t.Fatal(err)
	}
	if len(vf.Vectors) == 0 || len(vf.OVMFHash) == 0 {
		t.Fatal("vectors.json holds no vectors")
	}
	return vf
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// params turns a vector into launch parameters, reading the fixture image.
func (v vector) params(t testing.TB) Params {
	t.Helper()
	p, err := FirmwareFromOVMF(readFixture(t, v.OVMF))
	if err != nil {
		t.Fatalf("%s: %v", v.Name, err)
	}
	p.VCPUs = v.VCPUs
	p.GuestFeatures = v.GuestFeatures
	if p.VMM, err = ParseVMMType(v.VMMType); err != nil {
		t.Fatal(err)
	}
	if v.VCPUType != nil {
		if p.VCPUSig, err = VCPUSignature(*v.VCPUType); err != nil {
			t.Fatal(err)
		}
	}
	if v.Kernel != nil {
		if *v.Kernel != "EMPTY" || (v.Initrd != nil && *v.Initrd != "EMPTY") {
			t.Fatalf("%s: only empty kernel and initrd files are supported here", v.Name)
		}
		append := ""
		if v.Append != nil {
			append = *v.Append
		}
		h := HashKernel(nil, nil, append)
		p.Kernel = &h
	}
	return p
}

func TestPublishedVectors(t *testing.T) {
	vf := loadVectors(t)
	for _, v := range vf.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			got, err := LaunchDigest(v.params(t))
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != v.Expected {
				t.Errorf("launch digest\n got %s\nwant %s", got, v.Expected)
			}
		})
	}
}

func TestPublishedOVMFHash(t *testing.T) {
	vf := loadVectors(t)
	for name, want := range vf.OVMFHash {
		got, err := OVMFHash(readFixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want {
			t.Errorf("%s: OVMF hash\n got %s\nwant %s", name, got, want)
		}
	}
}
