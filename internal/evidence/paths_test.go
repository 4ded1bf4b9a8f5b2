package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestArchivePath(t *testing.T) {
	long := strings.Repeat("a", 255)
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"plain", "/home/u1/x", "files/home/u1/x"},
		{"utf8 kept", "/home/jürgen/%41", "files/home/jürgen/%41"},
		{"invalid byte escaped", "/tmp/a\xffb", "files/tmp/a%FFb"},
		{"percent escaped in invalid component", "/tmp/50%\xfe", "files/tmp/50%25%FE"},
		{"percent kept in valid sibling", "/tmp/50%/\xfe", "files/tmp/50%/%FE"},
		{"newline escaped", "/tmp/a\nb%", "files/tmp/a%0Ab%25"},
		{"255 bytes kept", "/d/" + long, "files/d/" + long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ArchivePath(tt.raw)
			if err != nil {
				t.Fatalf("ArchivePath(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("ArchivePath(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestArchivePathShortensLongComponent(t *testing.T) {
	// 200 invalid bytes escape to 600 bytes.
	comp := strings.Repeat("\xfe", 200)
	got, err := ArchivePath("/x/" + comp)
	if err != nil {
		t.Fatal(err)
	}

	last := got[strings.LastIndexByte(got, '/')+1:]
	if len(last) > 255 {
		t.Errorf("component has %d bytes, want at most 255", len(last))
	}
	sum := sha256.Sum256([]byte(comp))
	if want := "~" + hex.EncodeToString(sum[:8]); !strings.HasSuffix(last, want) {
		t.Errorf("component %q does not end in %q", last, want)
	}
	if !utf8.ValidString(got) {
		t.Errorf("archive path %q is not valid UTF-8", got)
	}
	prefix := strings.TrimSuffix(last, last[len(last)-17:])
	if strings.Count(prefix, "%")*3 != len(prefix) {
		t.Errorf("cut split a %%XX escape: %q", prefix)
	}
}

func TestArchivePathShortenKeepsRunes(t *testing.T) {
	// Multi-byte runes mixed with an invalid byte so that the component is
	// escaped, then cut: the cut must not split a rune.
	comp := strings.Repeat("é", 150) + "\xff"
	got, err := ArchivePath("/" + comp)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.ValidString(got) {
		t.Errorf("archive path %q is not valid UTF-8", got)
	}
	if n := len(strings.TrimPrefix(got, FilesPrefix)); n > 255 {
		t.Errorf("component has %d bytes, want at most 255", n)
	}
}

func TestArchivePathRejectsInvalid(t *testing.T) {
	for _, raw := range []string{"", "/", "relative/x", "/a/../b", "/a//b", "/a/"} {
		if _, err := ArchivePath(raw); err == nil {
			t.Errorf("ArchivePath(%q) returned no error", raw)
		}
	}
}

func TestDisplayPath(t *testing.T) {
	display, raw := DisplayPath("/tmp/a\xffb")
	if display != `/tmp/a\xffb` {
		t.Errorf("display = %q, want %q", display, `/tmp/a\xffb`)
	}
	if raw != "L3RtcC9h/2I=" {
		t.Errorf("raw base64 = %q, want %q", raw, "L3RtcC9h/2I=")
	}

	e := FileEntry{}
	e.SetPath("/tmp/a\xffb")
	back, err := e.RawPath()
	if err != nil {
		t.Fatal(err)
	}
	if back != "/tmp/a\xffb" {
		t.Errorf("RawPath() = %q, want the original bytes", back)
	}

	display, raw = DisplayPath("/tmp/ok")
	if display != "/tmp/ok" || raw != "" {
		t.Errorf("DisplayPath(valid) = %q, %q; want the path and no base64", display, raw)
	}
}

func TestModeString(t *testing.T) {
	tests := []struct {
		mode      fs.FileMode
		str, octl string
	}{
		{0o644, "-rw-r--r--", "0644"},
		{fs.ModeDir | 0o755, "drwxr-xr-x", "0755"},
		{fs.ModeDir | fs.ModeSticky | 0o777, "drwxrwxrwt", "1777"},
		{fs.ModeSetuid | 0o755, "-rwsr-xr-x", "4755"},
		{fs.ModeSetgid | 0o640, "-rw-r-S---", "2640"},
		{fs.ModeSymlink | 0o777, "lrwxrwxrwx", "0777"},
		{fs.ModeNamedPipe | 0o600, "prw-------", "0600"},
		{fs.ModeSocket | 0o755, "srwxr-xr-x", "0755"},
		{fs.ModeDevice | fs.ModeCharDevice | 0o666, "crw-rw-rw-", "0666"},
		{fs.ModeDevice | 0o660, "brw-rw----", "0660"},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			str, octal := ModeString(tt.mode)
			if str != tt.str {
				t.Errorf("mode string = %q, want %q", str, tt.str)
			}
			if octal != tt.octl {
				t.Errorf("octal = %q, want %q", octal, tt.octl)
			}
		})
	}
}

func FuzzArchivePath(f *testing.F) {
	f.Add("/home/u1/x")
	f.Add("/tmp/a\xffb/%25")
	f.Add("/" + strings.Repeat("\xfe", 200))
	f.Add("/a/new\nline")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := ArchivePath(raw)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, FilesPrefix) {
			t.Fatalf("ArchivePath(%q) = %q, want the %s prefix", raw, got, FilesPrefix)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("ArchivePath(%q) = %q is not valid UTF-8", raw, got)
		}
		for _, comp := range strings.Split(strings.TrimPrefix(got, FilesPrefix), "/") {
			if len(comp) == 0 || len(comp) > 255 || comp == "." || comp == ".." {
				t.Fatalf("ArchivePath(%q) has component %q", raw, comp)
			}
			if strings.ContainsFunc(comp, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("ArchivePath(%q) has a control character in %q", raw, comp)
			}
		}
	})
}
