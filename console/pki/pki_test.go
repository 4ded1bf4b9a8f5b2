package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateReusesCA(t *testing.T) {
	dir := t.TempDir()
	first, created, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("first start did not create a CA")
	}
	second, created, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Fatal("second start created a new CA")
	}
	if !first.Cert.Equal(second.Cert) {
		t.Fatal("reloaded CA certificate differs")
	}
	info, err := os.Stat(filepath.Join(dir, caKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Fatalf("CA key mode = %o, want 600", mode)
	}
}

func TestLoadOrCreateRejectsHalfCA(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, caKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(dir); err == nil {
		t.Fatal("LoadOrCreate accepted a data directory without the CA key")
	}
}

func TestSignResponderVerifiesAgainstCA(t *testing.T) {
	ca, _, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "chosen-by-client"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.SignResponder(csr, "r-123")
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "r-123" {
		t.Fatalf("common name = %q, want the console-chosen id r-123", cert.Subject.CommonName)
	}
	_, err = cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatalf("client certificate does not verify against the CA: %v", err)
	}
}

func TestServerCertificateNames(t *testing.T) {
	ca, _, err := LoadOrCreate(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCertificate([]string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: name}); err != nil {
			t.Errorf("server certificate does not verify for %s: %v", name, err)
		}
	}
}
