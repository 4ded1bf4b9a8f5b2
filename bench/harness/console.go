package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Binary names in the lab's BinDir.
const (
	ConsoleBinary   = "magpie-console"
	ResponderBinary = "magpie-responder"
	CLIBinary       = "magpie"
)

// Files the console writes to its data directory.
const (
	addressesFile = "addresses.json"
	adminKeyFile  = "admin-api-key"
	caFile        = "ca.pem"
)

// startTimeout bounds how long a console or responder may take to start.
const startTimeout = 60 * time.Second

// pollInterval is the pause between two checks of a condition that has no
// event to wait for.
const pollInterval = 100 * time.Millisecond

// Console is a running magpie-console with an API client.
type Console struct {
	Process *Process
	// DataDir is the console's --data-dir.
	DataDir string
	// HTTPAddr and GRPCAddr are the listen addresses from addresses.json.
	HTTPAddr string
	GRPCAddr string
	// CAFile is DataDir/ca.pem, which clients trust.
	CAFile string

	apiKey string
	cliBin string
	client *http.Client
}

// StartConsole starts a console on 127.0.0.1 with ports chosen by the
// kernel, in a new data directory inside the lab. profilesDir is passed as
// --profiles-dir unless it is empty.
func (l *Lab) StartConsole(ctx context.Context, profilesDir string) (*Console, error) {
	dataDir := filepath.Join(l.Dir, "console")
	args := []string{"serve", "--data-dir", dataDir, "--http-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0"}
	if profilesDir != "" {
		args = append(args, "--profiles-dir", profilesDir)
	}
	p, err := l.Start("console", nil, filepath.Join(l.BinDir, ConsoleBinary), args...)
	if err != nil {
		return nil, err
	}

	c := &Console{Process: p, DataDir: dataDir, CAFile: filepath.Join(dataDir, caFile), cliBin: filepath.Join(l.BinDir, CLIBinary)}
	err = WaitFor(ctx, startTimeout, "console addresses file", p, func() (bool, error) {
		return c.readAddresses()
	})
	if err != nil {
		return nil, err
	}
	key, err := os.ReadFile(filepath.Join(dataDir, adminKeyFile))
	if err != nil {
		return nil, fmt.Errorf("read console admin API key: %w", err)
	}
	c.apiKey = strings.TrimSpace(string(key))

	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read console CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("console CA %s contains no PEM certificate", c.CAFile)
	}
	c.client = &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	return c, nil
}

// readAddresses reports whether addresses.json exists and, once it does,
// reads the listen addresses from it.
func (c *Console) readAddresses() (bool, error) {
	raw, err := os.ReadFile(filepath.Join(c.DataDir, addressesFile))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var addrs struct {
		HTTP string `json:"http"`
		GRPC string `json:"grpc"`
	}
	if err := json.Unmarshal(raw, &addrs); err != nil {
		return false, fmt.Errorf("parse %s: %w", addressesFile, err)
	}
	if addrs.HTTP == "" || addrs.GRPC == "" {
		return false, fmt.Errorf("%s lacks the http or grpc address", addressesFile)
	}
	c.HTTPAddr, c.GRPCAddr = addrs.HTTP, addrs.GRPC
	return true, nil
}

// CLI runs the analyst CLI against this console and returns its stdout.
// The API key travels in the environment, not on the command line.
func (c *Console) CLI(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.cliBin, args...)
	cmd.Env = append(os.Environ(),
		"MAGPIE_CONSOLE=https://"+c.HTTPAddr,
		"MAGPIE_CA="+c.CAFile,
		"MAGPIE_API_KEY="+c.apiKey,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("magpie %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// WaitFor calls check every 100 ms until it returns true, it returns an
// error, p exits, ctx ends or timeout passes. p may be nil.
func WaitFor(ctx context.Context, timeout time.Duration, what string, p *Process, check func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		ok, err := check()
		if err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if p != nil && p.Exited() {
			return fmt.Errorf("wait for %s: %w", what, p.exitError())
		}
		select {
		case <-ctx.Done():
			if p != nil {
				return fmt.Errorf("wait for %s: timed out after %v; see %s", what, timeout, p.LogPath)
			}
			return fmt.Errorf("wait for %s: timed out after %v", what, timeout)
		case <-ticker.C:
		}
	}
}
