package live

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHexAddrPort(t *testing.T) {
	tests := []struct {
		in       string
		wantAddr string
		wantPort uint16
	}{
		{"0100007F:0050", "127.0.0.1", 80},
		{"00000000:0016", "0.0.0.0", 22},
		{"0500000A:C822", "10.0.0.5", 51234},
		{"00000000000000000000000000000000:0016", "::", 22},
		{"00000000000000000000000001000000:1F90", "::1", 8080},
		{"B80D0120000000000000000001000000:01BB", "2001:db8::1", 443},
		{"0000000000000000FFFF00000100007F:0035", "::ffff:127.0.0.1", 53},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			addr, port, err := parseHexAddrPort(tt.in)
			if err != nil {
				t.Fatalf("parseHexAddrPort(%q) = %v", tt.in, err)
			}
			if addr != netip.MustParseAddr(tt.wantAddr) {
				t.Errorf("address = %v, want %v", addr, tt.wantAddr)
			}
			if port != tt.wantPort {
				t.Errorf("port = %d, want %d", port, tt.wantPort)
			}
		})
	}
}

func TestParseHexAddrPortInvalid(t *testing.T) {
	for _, in := range []string{"", "0100007F", "0100007F:", "0100007:0050", "0100007G:0050", "0100007F:10000", "0100007F0100007F:0050"} {
		t.Run(in, func(t *testing.T) {
			if _, _, err := parseHexAddrPort(in); err == nil {
				t.Errorf("parseHexAddrPort(%q) succeeded, want an error", in)
			}
		})
	}
}

func TestUnescapeOctal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/mnt/plain", "/mnt/plain"},
		{`/mnt/my\040disk`, "/mnt/my disk"},
		{`/mnt/tab\011and\012newline`, "/mnt/tab\tand\nnewline"},
		{`/mnt/back\134slash`, `/mnt/back\slash`},
		{`/mnt/trailing\04`, `/mnt/trailing\04`},
		{`/mnt/not\999octal`, `/mnt/not\999octal`},
		{`/mnt/too\777big`, `/mnt/too\777big`},
		{`\040\040`, "  "},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := unescapeOctal(tt.in); got != tt.want {
				t.Errorf("unescapeOctal(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseStatCommWithParentheses(t *testing.T) {
	line := "42 (a) b (c)) S 7 42 42 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 1234 1000000 300 0 0\n"

	got, err := parseStat(line)
	if err != nil {
		t.Fatalf("parseStat() = %v", err)
	}
	want := procStat{comm: "a) b (c)", state: "S", ppid: 7, startTicks: 1234}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(procStat{})); diff != "" {
		t.Errorf("parseStat() mismatch (-want +got):\n%s", diff)
	}
}

func TestParseStatInvalid(t *testing.T) {
	for _, in := range []string{"", "42 noparens S 1", "42 (short) S 1 2 3", "42 (x) S notanumber 42 42 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 1234 1"} {
		t.Run(in, func(t *testing.T) {
			if _, err := parseStat(in); err == nil {
				t.Errorf("parseStat(%q) succeeded, want an error", in)
			}
		})
	}
}

func TestExeHasherCachesByInode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "binary")
	if err := os.WriteFile(path, []byte("first"), 0o755); err != nil {
		t.Fatal(err)
	}
	hasher := &exeHasher{sums: make(map[fileID]string)}

	first, err := hasher.hash(path)
	if err != nil {
		t.Fatal(err)
	}
	wantSum := sha256.Sum256([]byte("first"))
	if first != hex.EncodeToString(wantSum[:]) {
		t.Errorf("hash() = %s, want SHA-256 of the file", first)
	}

	// Rewriting the file in place keeps its inode, so a second hash must
	// come from the cache and still return the first digest.
	if err := os.WriteFile(path, []byte("second"), 0o755); err != nil {
		t.Fatal(err)
	}
	second, err := hasher.hash(path)
	if err != nil {
		t.Fatal(err)
	}
	if second != first {
		t.Errorf("second hash() = %s, want the cached %s", second, first)
	}
	if len(hasher.sums) != 1 {
		t.Errorf("cache has %d entries, want 1", len(hasher.sums))
	}
}

// decodeLines decodes JSON lines into maps.
func decodeLines(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var records []map[string]any
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(scanner.Bytes(), &rec); err != nil {
			t.Fatalf("output line %q is not a JSON object: %v", scanner.Text(), err)
		}
		records = append(records, rec)
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return records
}

func TestProcessesSkipsVanishedProcess(t *testing.T) {
	// testdata/root/proc/300 has a status file but no stat file, as when
	// the process exits between listing /proc and reading it.
	records := decodeLines(t, runCollector(t, "processes", Env{Root: newFixtureRoot(t)}))

	for _, rec := range records {
		if rec["pid"] == float64(300) {
			t.Errorf("output contains vanished pid 300: %v", rec)
		}
	}
	if len(records) != 6 {
		t.Errorf("got %d records, want 6", len(records))
	}
}

func TestProcessesReportsUnparsableStat(t *testing.T) {
	root := newFixtureRoot(t)
	if err := os.WriteFile(filepath.Join(root, "proc", "2", "stat"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}

	records := decodeLines(t, runCollector(t, "processes", Env{Root: root}))

	var found bool
	for _, rec := range records {
		if rec["pid"] != float64(2) {
			continue
		}
		found = true
		if msg, _ := rec["error"].(string); !strings.Contains(msg, "invalid stat") {
			t.Errorf("error field = %q, want it to mention the invalid stat file", msg)
		}
	}
	if !found {
		t.Error("output has no record for pid 2")
	}
}

func TestLoggedInUsersFallsBackToVarRun(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "var", "run", "utmp")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, encodeUtmp(fixtureLogins), 0o644); err != nil {
		t.Fatal(err)
	}

	records := decodeLines(t, runCollector(t, "logged_in_users", Env{Root: root}))

	if len(records) != 3 {
		t.Errorf("got %d records from var/run/utmp, want 3", len(records))
	}
}

func TestLoggedInUsersMissingUtmp(t *testing.T) {
	c, _ := Lookup("logged_in_users")

	err := c.Run(t.Context(), Env{Root: t.TempDir()}, &bytes.Buffer{})

	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Run() without utmp = %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func TestLoggedInUsersTruncatedUtmp(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "run", "utmp")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	data := encodeUtmp(fixtureLogins)
	if err := os.WriteFile(path, data[:len(data)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ := Lookup("logged_in_users")
	var out bytes.Buffer

	err := c.Run(t.Context(), Env{Root: root}, &out)

	if err == nil || !strings.Contains(err.Error(), "284 bytes after the last full 384-byte record") {
		t.Errorf("Run() on a truncated utmp = %v, want an error naming the 284 extra bytes", err)
	}
	if got := len(decodeLines(t, out.Bytes())); got != 3 {
		t.Errorf("got %d records before the truncated one, want 3", got)
	}
}

func TestMountsFallsBackToProcMounts(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := "tmpfs /tmp tmpfs rw,nosuid 0 0\n"
	if err := os.WriteFile(filepath.Join(root, "proc", "mounts"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}

	records := decodeLines(t, runCollector(t, "mounts", Env{Root: root}))

	want := []map[string]any{{
		"device":      "tmpfs",
		"mount_point": "/tmp",
		"fs_type":     "tmpfs",
		"options":     []any{"rw", "nosuid"},
	}}
	if diff := cmp.Diff(want, records); diff != "" {
		t.Errorf("mounts from /proc/mounts mismatch (-want +got):\n%s", diff)
	}
}

func TestNetworkSocketsReportsBadLine(t *testing.T) {
	root := newFixtureRoot(t)
	path := filepath.Join(root, "proc", "net", "udp")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("   1: not a socket line\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c, _ := Lookup("network_sockets")
	var out bytes.Buffer

	err = c.Run(t.Context(), Env{Root: root}, &out)

	if err == nil || !strings.Contains(err.Error(), "/proc/net/udp line 3") {
		t.Errorf("Run() = %v, want an error naming /proc/net/udp line 3", err)
	}
	if got := len(decodeLines(t, out.Bytes())); got != 12 {
		t.Errorf("got %d records, want all 12 valid sockets despite the bad line", got)
	}
}

func FuzzParseInetSocket(f *testing.F) {
	f.Add("   0: 0100007F:0277 0100007F:A1B2 06 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0")
	f.Add("   1: B80D0120000000000000000001000000:01BB B80D0120000000000000000002000000:9C40 01 0:0 0:0 0 33 0 5555")
	noOwner := func(uint64) socketOwner { return socketOwner{} }

	f.Fuzz(func(t *testing.T, line string) {
		_, _ = parseInetSocket("tcp", line, noOwner)
	})
}

func FuzzParseUnixSocket(f *testing.F) {
	f.Add("0000000000000000: 00000003 00000000 00000000 0005 03  1004 /tmp/my socket")
	f.Add("0000000000000000: 00000003 00000000 00000000 0001 03  1002")
	noOwner := func(uint64) socketOwner { return socketOwner{} }

	f.Fuzz(func(t *testing.T, line string) {
		_, _ = parseUnixSocket(line, noOwner)
	})
}

func FuzzParseStat(f *testing.F) {
	f.Add("42 (a) b (c)) S 7 42 42 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 1234 1000000 300 0 0")
	f.Add("1 ()")

	f.Fuzz(func(t *testing.T, data string) {
		_, _ = parseStat(data)
	})
}

func FuzzUnescapeOctal(f *testing.F) {
	f.Add(`/mnt/my\040disk`)
	f.Add(`\`)
	f.Add(`\37`)

	f.Fuzz(func(t *testing.T, s string) {
		got := unescapeOctal(s)
		if len(got) > len(s) {
			t.Errorf("unescapeOctal(%q) = %q, longer than its input", s, got)
		}
	})
}
