package live

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net"
	"os"
	"testing"
)

// The smoke tests run each collector against the real /proc of the
// machine running the tests.

func TestProcessesSmoke(t *testing.T) {
	records := decodeLines(t, runCollector(t, "processes", Env{}))

	var self map[string]any
	for _, rec := range records {
		if rec["pid"] == float64(os.Getpid()) {
			self = rec
		}
	}
	if self == nil {
		t.Fatalf("no record for the test process (pid %d) among %d records", os.Getpid(), len(records))
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if self["exe_sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("exe_sha256 of the test process = %v, want the SHA-256 of %s", self["exe_sha256"], exe)
	}
	if self["ppid"] != float64(os.Getppid()) {
		t.Errorf("ppid of the test process = %v, want %d", self["ppid"], os.Getppid())
	}
}

func TestNetworkSocketsSmoke(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	records := decodeLines(t, runCollector(t, "network_sockets", Env{}))

	var listener map[string]any
	for _, rec := range records {
		if rec["protocol"] == "tcp" && rec["local_address"] == "127.0.0.1" && rec["local_port"] == float64(port) {
			listener = rec
		}
	}
	if listener == nil {
		t.Fatalf("no record for the listener on 127.0.0.1:%d among %d records", port, len(records))
	}
	if listener["state"] != "LISTEN" {
		t.Errorf("listener state = %v, want LISTEN", listener["state"])
	}
	if listener["pid"] != float64(os.Getpid()) {
		t.Errorf("listener pid = %v, want the test process %d", listener["pid"], os.Getpid())
	}
}

func TestLoggedInUsersSmoke(t *testing.T) {
	c, _ := Lookup("logged_in_users")
	var out bytes.Buffer

	err := c.Run(t.Context(), Env{}, &out)

	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("this machine has no utmp file: %v", err)
	}
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	// The machine may have no login sessions, so only the format is checked.
	for _, rec := range decodeLines(t, out.Bytes()) {
		if rec["user"] == "" {
			t.Errorf("login record without a user: %v", rec)
		}
	}
}

func TestKernelModulesSmoke(t *testing.T) {
	if _, err := os.Stat("/proc/modules"); errors.Is(err, fs.ErrNotExist) {
		t.Skip("this kernel has no /proc/modules (modules disabled, or a sandbox such as gVisor)")
	}

	records := decodeLines(t, runCollector(t, "kernel_modules", Env{}))

	for _, rec := range records {
		if rec["name"] == "" {
			t.Errorf("module record without a name: %v", rec)
		}
	}
}

func TestMountsSmoke(t *testing.T) {
	records := decodeLines(t, runCollector(t, "mounts", Env{}))

	var rootFound bool
	for _, rec := range records {
		if rec["mount_point"] == "/" {
			rootFound = true
		}
	}
	if !rootFound {
		t.Errorf("no mount of / among %d records", len(records))
	}
}
