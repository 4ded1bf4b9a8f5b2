package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Files in the state directory.
const (
	keyFile      = "responder-key.pem"
	certFile     = "responder.pem"
	caFile       = "ca.pem"
	identityFile = "identity.json"
)

// identity is the responder's enrollment record: its ID and its console.
type identity struct {
	ResponderID string `json:"responder_id"`
	Console     string `json:"console"`
}

// state is the responder's enrolled identity, loaded from its state
// directory.
type state struct {
	identity
	cert   tls.Certificate
	caPool *x509.CertPool
}

// prepareStateDir creates dir with mode 0700, or tightens it to 0700.
func prepareStateDir(dir string) error {
	if dir == "" {
		return errors.New("missing state directory: pass --state-dir DIR")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restrict state directory: %w", err)
	}
	return nil
}

// loadState returns the enrolled identity, or os.ErrNotExist when the
// responder has not enrolled yet.
func loadState(dir string) (*state, error) {
	raw, err := os.ReadFile(filepath.Join(dir, identityFile))
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(raw, &st.identity); err != nil {
		return nil, fmt.Errorf("parse %s: %w", identityFile, err)
	}
	st.cert, err = tls.LoadX509KeyPair(filepath.Join(dir, certFile), filepath.Join(dir, keyFile))
	if err != nil {
		return nil, fmt.Errorf("load responder certificate from %s: %w (delete the state directory to enroll again)", dir, err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, caFile))
	if err != nil {
		return nil, fmt.Errorf("load console CA: %w", err)
	}
	st.caPool = x509.NewCertPool()
	if !st.caPool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in %s", filepath.Join(dir, caFile))
	}
	return &st, nil
}

// newKeyAndCSR generates the responder's key pair and a certificate
// request for it. The console chooses the certificate's subject.
func newKeyAndCSR(hostname string) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate responder key: %w", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: hostname}}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate request: %w", err)
	}
	return key, csr, nil
}

// saveState writes the enrollment result. The identity file is written
// last, so a crash in between leaves a directory that enrolls again.
func saveState(dir string, key *ecdsa.PrivateKey, certDER, caDER []byte, id identity) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})},
		{certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})},
		{caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})},
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	raw, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, identityFile), raw)
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
