package evidence

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// rewritePackage copies the tar stream of src into a new package at dst,
// passing each entry's content through edit. edit returns the new content,
// or nil to drop the entry. extra entries are appended at the end.
func rewritePackage(t *testing.T, src, dst string, edit func(name string, data []byte) []byte, extra map[string][]byte) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	zr, err := zstd.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()

	var out bytes.Buffer
	zw, err := zstd.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	tw := tar.NewWriter(zw)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		data = edit(hdr.Name, data)
		if data == nil {
			continue
		}
		hdr.Size = int64(len(data))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	for name, data := range extra {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644})
		tw.Write(data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func buildSmallPackage(t *testing.T) *Package {
	t.Helper()
	w, _ := newTestWriter(t)
	addBytes(t, w, "/etc/hosts", []byte("127.0.0.1 localhost\n"))
	addBytes(t, w, "/etc/passwd", []byte("root:x:0:0::/root:/bin/sh\n"))
	addBytes(t, w, "/etc/group", []byte("root:x:0:\n"))
	pkg, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

func TestVerifyFindsProblems(t *testing.T) {
	pkg := buildSmallPackage(t)
	bad := filepath.Join(t.TempDir(), "bad.tar.zst")
	rewritePackage(t, pkg.Path, bad, func(name string, data []byte) []byte {
		switch name {
		case "files/etc/hosts":
			return []byte("10.0.0.1 evil\n")
		case "files/etc/group":
			return nil
		}
		return data
	}, map[string][]byte{"files/planted": []byte("x")})

	report, err := VerifyFile(bad)
	if err != nil {
		t.Fatalf("VerifyFile: %v", err)
	}
	want := []string{
		"files/etc/hosts: size",
		"files/etc/hosts: SHA-256",
		"files/planted: in the archive but not listed",
		"files/etc/group: listed in the manifest but missing",
	}
	if len(report.Problems) != len(want) {
		t.Fatalf("problems = %q, want %d", report.Problems, len(want))
	}
	for i, prefix := range want {
		if !strings.HasPrefix(report.Problems[i], prefix) {
			t.Errorf("problem %d = %q, want prefix %q", i, report.Problems[i], prefix)
		}
	}
}

func TestVerifyRejectsManifestNotFirst(t *testing.T) {
	pkg := buildSmallPackage(t)
	var manifest []byte
	bad := filepath.Join(t.TempDir(), "late.tar.zst")
	rewritePackage(t, pkg.Path, bad, func(name string, data []byte) []byte {
		if name == ManifestName {
			manifest = data
			return nil
		}
		return data
	}, nil)
	// Put the manifest back, but after the file entries.
	late := filepath.Join(t.TempDir(), "late2.tar.zst")
	rewritePackage(t, bad, late, func(_ string, data []byte) []byte { return data }, map[string][]byte{ManifestName: manifest})

	_, err := VerifyFile(late)
	if !errors.Is(err, ErrNotPackage) {
		t.Errorf("VerifyFile error = %v, want ErrNotPackage", err)
	}
	if _, err := ReadManifest(late); !errors.Is(err, ErrNotPackage) {
		t.Errorf("ReadManifest error = %v, want ErrNotPackage", err)
	}
}

func TestVerifyCorruptPackage(t *testing.T) {
	pkg := buildSmallPackage(t)
	data, err := os.ReadFile(pkg.Path)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.tar.zst")
	if err := os.WriteFile(truncated, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyFile(truncated); err == nil {
		t.Error("VerifyFile of a truncated package returned no error")
	}

	if _, err := VerifyFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("VerifyFile of a missing file returned no error")
	}
}
