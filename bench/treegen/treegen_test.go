package treegen

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlanTotals(t *testing.T) {
	for _, s := range []Spec{
		{Size: 64 << 20, Files: 2000, Seed: 1},
		{Size: 1 << 30, Files: 2000, Seed: 7},
		{Size: 3<<20 + 123, Files: 37, Seed: 2},
	} {
		files, err := Plan(s)
		if err != nil {
			t.Fatalf("Plan(%+v): %v", s, err)
		}
		st := statsOf(s, files)
		if st.Files != s.Files {
			t.Errorf("Plan(%+v) has %d files, want %d", s, st.Files, s.Files)
		}
		if st.Bytes != s.Size {
			t.Errorf("Plan(%+v) sizes add up to %d, want %d", s, st.Bytes, s.Size)
		}
		for _, kind := range Kinds {
			share := float64(st.ByKind[kind].Bytes) / float64(s.Size)
			if d := share - shares[kind]; d < -0.01 || d > 0.01 {
				t.Errorf("Plan(%+v) gives %s %.3f of the bytes, want %.2f", s, kind, share, shares[kind])
			}
		}
		for _, f := range files {
			if f.Size <= 0 {
				t.Errorf("Plan(%+v): %s has size %d", s, f.Path, f.Size)
			}
			if f.Kind == KindSQLite && f.Size%PageSize != 0 {
				t.Errorf("Plan(%+v): SQLite-like %s has size %d, not a multiple of %d", s, f.Path, f.Size, PageSize)
			}
		}
	}
}

func TestPlanKindShares(t *testing.T) {
	files, err := Plan(Spec{Size: 64 << 20, Files: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := statsOf(Spec{}, files).ByKind
	want := map[Kind]int{KindLog: 800, KindSQLite: 600, KindRandom: 600}
	for kind, n := range want {
		if got[kind].Files != n {
			t.Errorf("%s files = %d, want %d", kind, got[kind].Files, n)
		}
	}
}

func TestPlanUniquePaths(t *testing.T) {
	files, err := Plan(Spec{Size: 64 << 20, Files: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, f := range files {
		if seen[f.Path] {
			t.Errorf("path %s is planned twice", f.Path)
		}
		seen[f.Path] = true
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		ok   bool
	}{
		{"default", Spec{Size: 1 << 30, Files: 2000}, true},
		{"minimum average", Spec{Size: 3 * MinAverageFileSize, Files: 3}, true},
		{"too few files", Spec{Size: 1 << 20, Files: 2}, false},
		{"files too small", Spec{Size: 1 << 20, Files: 2000}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.ok && err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("Validate() = %v, want ErrInvalidSpec", err)
			}
		})
	}
}

// treeDigest returns the SHA-256 of every file's path and content under dir.
func treeDigest(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	sums := make(map[string][32]byte)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		sums[filepath.ToSlash(rel)] = sha256.Sum256(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestEnsureDeterministic(t *testing.T) {
	spec := Spec{Size: 2 << 20, Files: 40, Seed: 3}
	a := filepath.Join(t.TempDir(), "tree")
	b := filepath.Join(t.TempDir(), "tree")
	if _, err := Ensure(a, spec); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(b, spec); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(treeDigest(t, a), treeDigest(t, b)); diff != "" {
		t.Errorf("two trees of the same spec differ (-a +b):\n%s", diff)
	}

	c := filepath.Join(t.TempDir(), "tree")
	if _, err := Ensure(c, Spec{Size: spec.Size, Files: spec.Files, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	if cmp.Equal(treeDigest(t, a), treeDigest(t, c)) {
		t.Error("trees of seeds 3 and 4 are identical, want different content")
	}
}

func TestEnsureWritesPlannedSizes(t *testing.T) {
	spec := Spec{Size: 2<<20 + 17, Files: 30, Seed: 1}
	dir := filepath.Join(t.TempDir(), "tree")
	st, err := Ensure(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Reused {
		t.Error("first Ensure reports Reused, want a fresh tree")
	}
	files, _ := Plan(spec)
	var total int64
	for _, f := range files {
		info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() != f.Size {
			t.Errorf("%s is %d bytes, want %d", f.Path, info.Size(), f.Size)
		}
		total += info.Size()
	}
	if total != spec.Size {
		t.Errorf("tree holds %d bytes, want %d", total, spec.Size)
	}
}

func TestEnsureReuse(t *testing.T) {
	spec := Spec{Size: 1 << 20, Files: 20, Seed: 1}
	dir := filepath.Join(t.TempDir(), "tree")
	if _, err := Ensure(dir, spec); err != nil {
		t.Fatal(err)
	}

	st, err := Ensure(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Reused {
		t.Error("second Ensure with the same spec did not reuse the tree")
	}

	// A truncated file makes the tree unusable; Ensure must rewrite it.
	files, _ := Plan(spec)
	victim := filepath.Join(dir, filepath.FromSlash(files[0].Path))
	if err := os.Truncate(victim, 1); err != nil {
		t.Fatal(err)
	}
	st, err = Ensure(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Reused {
		t.Error("Ensure reused a tree with a truncated file")
	}
	if info, _ := os.Stat(victim); info.Size() != files[0].Size {
		t.Errorf("rewritten %s is %d bytes, want %d", files[0].Path, info.Size(), files[0].Size)
	}

	st, err = Ensure(dir, Spec{Size: spec.Size, Files: spec.Files, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st.Reused {
		t.Error("Ensure with another seed reused the tree")
	}
}

// syslogLine matches "Mmm dd hh:mm:ss hostNN program[pid]: message" and
// the kernel's "hostNN kernel: message".
var syslogLine = regexp.MustCompile(`^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d host\d\d [a-zA-Z]+(\[\d+\])?: .+$`)

func TestLogContent(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := writeLog(w, newTestRand(), 64<<10, 3); err != nil {
		t.Fatal(err)
	}
	w.Flush()

	if buf.Len() != 64<<10 {
		t.Fatalf("log is %d bytes, want %d", buf.Len(), 64<<10)
	}
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	// The last line is cut to fit the size, so only the others are checked.
	for _, line := range lines[:len(lines)-1] {
		if !syslogLine.Match(line) {
			t.Errorf("line %q is not in syslog format", line)
		}
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		t.Error("log does not end with a newline")
	}
}

func TestSQLiteContent(t *testing.T) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	const pages = 64
	if err := writeSQLite(w, newTestRand(), pages*PageSize); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	data := buf.Bytes()

	if len(data) != pages*PageSize {
		t.Fatalf("file is %d bytes, want %d", len(data), pages*PageSize)
	}
	if !bytes.HasPrefix(data, []byte(SQLiteMagic)) {
		t.Errorf("file starts with %q, want %q", data[:16], SQLiteMagic)
	}
	if got := binary.BigEndian.Uint16(data[16:]); got != PageSize {
		t.Errorf("header page size = %d, want %d", got, PageSize)
	}
	if got := binary.BigEndian.Uint32(data[28:]); got != pages {
		t.Errorf("header page count = %d, want %d", got, pages)
	}

	leaves := 0
	for n := 1; n < pages; n++ {
		page := data[n*PageSize : (n+1)*PageSize]
		switch page[0] {
		case pageLeafTable:
			leaves++
			cells := int(binary.BigEndian.Uint16(page[3:]))
			start := int(binary.BigEndian.Uint16(page[5:]))
			if cells == 0 || start < 8+2*cells || start >= PageSize {
				t.Errorf("leaf page %d has %d cells starting at %d, want cells above the pointer array", n, cells, start)
			}
			if !bytes.Contains(page[start:], []byte("https://")) {
				t.Errorf("leaf page %d holds no URL record", n)
			}
		case pageInteriorTable, 0:
		default:
			t.Errorf("page %d has type %#x, want a table B-tree page or a free page", n, page[0])
		}
	}
	if leaves < pages/2 {
		t.Errorf("%d of %d pages are leaf pages, want most", leaves, pages)
	}
}

func TestAppendVarint(t *testing.T) {
	tests := []struct {
		v    uint64
		want []byte
	}{
		{0, []byte{0x00}},
		{127, []byte{0x7f}},
		{128, []byte{0x81, 0x00}},
		{300, []byte{0x82, 0x2c}},
		{1 << 21, []byte{0x81, 0x80, 0x80, 0x00}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, appendVarint(nil, tt.v)); diff != "" {
			t.Errorf("appendVarint(%d) (-want +got):\n%s", tt.v, diff)
		}
	}
}
