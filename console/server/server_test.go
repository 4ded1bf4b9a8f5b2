package server

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func startTest(t *testing.T, dataDir string, out *bytes.Buffer) *Console {
	t.Helper()
	c, err := Start(context.Background(), Config{
		DataDir:    dataDir,
		HTTPListen: "127.0.0.1:0",
		GRPCListen: "127.0.0.1:0",
		HTTPTLS:    true,
		Log:        slog.New(slog.DiscardHandler),
		Stdout:     out,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFirstStartBootstrapsOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out bytes.Buffer
	startTest(t, dir, &out).Stop()

	key, err := os.ReadFile(filepath.Join(dir, AdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), strings.TrimSpace(string(key))) {
		t.Error("first start did not print the bootstrap admin API key")
	}
	info, err := os.Stat(filepath.Join(dir, AdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s mode = %o, want 600", AdminKeyFile, mode)
	}
	if _, err := os.Stat(filepath.Join(dir, "ca.pem")); err != nil {
		t.Errorf("ca.pem not written: %v", err)
	}

	out.Reset()
	startTest(t, dir, &out).Stop()
	if out.Len() != 0 {
		t.Errorf("second start printed %q, want nothing", out.String())
	}
}

func TestStartRejectsMissingDataDir(t *testing.T) {
	_, err := Start(context.Background(), Config{Log: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("Start without a data directory: %v, want an error naming --data-dir", err)
	}
}
