package agent

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/magpie-ir/magpie/console/pki"
)

func TestPrepareStateDirRestrictsMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := prepareStateDir(dir); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o700 {
		t.Fatalf("state directory mode = %o, want 700", mode)
	}
}

func TestLoadStateBeforeEnrollment(t *testing.T) {
	if _, err := loadState(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("loadState on an empty directory: %v, want os.ErrNotExist", err)
	}
}

func TestSaveStateRoundTrip(t *testing.T) {
	ca, _, err := pki.LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, csr, err := newKeyAndCSR("ws1")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.SignResponder(csr, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := saveState(dir, key, cert.Raw, ca.Cert.Raw, identity{ResponderID: "r-1", Console: "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}

	st, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.ResponderID != "r-1" || st.Console != "127.0.0.1:1" {
		t.Errorf("identity = %+v", st.identity)
	}
	leaf, err := x509.ParseCertificate(st.cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: st.caPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("saved certificate does not verify against the saved CA: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode = %o, want 600", mode)
	}
}
