package live

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.jsonl with the current collector output")

// fixtureLinks are the symlinks of the fixture tree. They are created by
// the test because exe targets must point inside the temporary root. A
// target starting with "/" is relative to that root.
var fixtureLinks = []struct{ path, target string }{
	{"proc/1/exe", "/usr/lib/systemd/systemd"},
	{"proc/1/fd/0", "/dev/null"},
	{"proc/1/fd/3", "socket:[1001]"},
	{"proc/100/exe", "/usr/sbin/sshd"},
	{"proc/100/fd/3", "socket:[2001]"},
	{"proc/100/fd/4", "socket:[2002]"},
	{"proc/101/exe", "/usr/sbin/sshd"},
	{"proc/101/fd/3", "socket:[2001]"},
	{"proc/101/fd/5", "socket:[2003]"},
	{"proc/101/fd/6", "socket:[1002]"},
	{"proc/101/fd/7", "socket:[2003]"},
	{"proc/200/exe", "/tmp/.x/evil (deleted)"},
	{"proc/200/fd/1", "pipe:[77]"},
	{"proc/200/fd/7", "socket:[3001]"},
	{"proc/200/fd/8", "socket:[3002]"},
	{"proc/200/fd/9", "socket:[1003]"},
	{"proc/400/exe", "/usr/bin/python3"},
}

// utmpEntry is the subset of struct utmp that the fixture sets.
type utmpEntry struct {
	typ       int16
	pid       int32
	line, id  string
	user      string
	host      string
	session   int32
	sec, usec int32
	addr      netip.Addr
}

// fixtureLogins are written to run/utmp of the fixture tree. Only the
// USER_PROCESS (type 7) entries may appear in the output.
var fixtureLogins = []utmpEntry{
	{typ: 2, line: "~", id: "~~", user: "reboot", host: "6.1.0-18-amd64", sec: 1700000000},
	{typ: 1, pid: 53, line: "~", id: "~~", user: "runlevel", host: "6.1.0-18-amd64", sec: 1700000010},
	{typ: 6, pid: 612, line: "tty1", id: "tty1", user: "LOGIN", sec: 1700000020},
	{typ: 7, pid: 700, line: "tty2", id: "tty2", user: "root", session: 3, sec: 1700000100, usec: 250000},
	{typ: 7, pid: 1300, line: "pts/0", id: "ts/0", user: "alice", host: "203.0.113.7", session: 7, sec: 1700003600, addr: netip.MustParseAddr("203.0.113.7")},
	{typ: 7, pid: 1400, line: "pts/1", id: "ts/1", user: "alice", host: "workstation.example.net", session: 9, sec: 1700007200, usec: 1, addr: netip.MustParseAddr("2001:db8::2")},
	{typ: 8, pid: 1200, line: "pts/2", id: "ts/2", sec: 1700001000},
}

// encodeUtmp returns entries as a glibc utmp file.
func encodeUtmp(entries []utmpEntry) []byte {
	order := binary.NativeEndian
	var out []byte
	for _, e := range entries {
		b := make([]byte, utmpRecordSize)
		order.PutUint16(b[utmpTypeOffset:], uint16(e.typ))
		order.PutUint32(b[utmpPIDOffset:], uint32(e.pid))
		copy(b[utmpLineOffset:utmpLineOffset+utmpLineSize], e.line)
		copy(b[40:44], e.id)
		copy(b[utmpUserOffset:utmpUserOffset+utmpUserSize], e.user)
		copy(b[utmpHostOffset:utmpHostOffset+utmpHostSize], e.host)
		order.PutUint32(b[utmpSessionOffset:], uint32(e.session))
		order.PutUint32(b[utmpSecOffset:], uint32(e.sec))
		order.PutUint32(b[utmpUsecOffset:], uint32(e.usec))
		if e.addr.IsValid() {
			copy(b[utmpAddrOffset:], e.addr.AsSlice())
		}
		out = append(out, b...)
	}
	return out
}

// newFixtureRoot copies testdata/root to a temporary directory, adds the
// symlinks and the utmp file, and returns the directory.
func newFixtureRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", "root"))); err != nil {
		t.Fatalf("copy fixture tree: %v", err)
	}

	for _, link := range fixtureLinks {
		path := filepath.Join(root, link.path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		target := link.target
		if strings.HasPrefix(target, "/") {
			target = filepath.Join(root, target)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	}

	utmpPath := filepath.Join(root, "run", "utmp")
	if err := os.MkdirAll(filepath.Dir(utmpPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(utmpPath, encodeUtmp(fixtureLogins), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// runCollector runs the named collector against env and returns its output.
func runCollector(t *testing.T, name string, env Env) []byte {
	t.Helper()
	c, ok := Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q) found no collector", name)
	}
	var out bytes.Buffer
	if err := c.Run(t.Context(), env, &out); err != nil {
		t.Fatalf("%s: Run() = %v", name, err)
	}
	return out.Bytes()
}

// NOTE: the /proc/net fixtures encode addresses as a little-endian kernel
// prints them, so the network_sockets golden file fails on big-endian hosts.
func TestCollectorsGolden(t *testing.T) {
	env := Env{Root: newFixtureRoot(t)}

	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			got := runCollector(t, name, env)
			goldenPath := filepath.Join("testdata", name+".golden.jsonl")

			if *update {
				if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("read golden file (run go test -update to create it): %v", err)
			}
			if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
				t.Errorf("%s output differs from %s (-want +got):\n%s", name, goldenPath, diff)
			}
		})
	}
}

func TestCollectorsCanceledContext(t *testing.T) {
	env := Env{Root: newFixtureRoot(t)}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			c, _ := Lookup(name)
			var out bytes.Buffer
			err := c.Run(ctx, env, &out)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run() with a canceled context = %v, want context.Canceled", err)
			}
			if out.Len() != 0 {
				t.Errorf("Run() with a canceled context wrote %q, want nothing", out.String())
			}
		})
	}
}
