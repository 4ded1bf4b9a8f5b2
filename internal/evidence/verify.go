package evidence

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"

	"github.com/klauspost/compress/zstd"
)

// Report is the result of VerifyFile.
type Report struct {
	Manifest *Manifest
	// EntriesChecked is the number of archive entries whose size and
	// SHA-256 were compared with the manifest.
	EntriesChecked int
	// Problems lists every mismatch, missing entry and extra entry. The
	// package is intact when it is empty.
	Problems []string
}

// OK reports whether verification found no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

type expectedEntry struct {
	size   int64
	sha256 string
	seen   bool
}

// VerifyFile reads the package at path, checks that manifest.json is its
// first entry, and hashes every archived file, live entry and log against the
// manifest. Mismatches, missing entries and entries the manifest does not
// list are reported in Report.Problems. The error is non-nil only when the
// package cannot be read; the report then holds what was checked so far.
func VerifyFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open package: %w", err)
	}
	defer f.Close()

	zr, err := zstd.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", path, err)
	}
	defer zr.Close()

	tr := tar.NewReader(zr)
	m, err := readManifestEntry(tr, path)
	if err != nil {
		return nil, err
	}
	report := &Report{Manifest: m}
	expected := expectedEntries(m, report)

	buf := make([]byte, copyBufferSize)
	h := sha256.New()
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return report, fmt.Errorf("read package %s after %d entries: %w", path, report.EntriesChecked, err)
		}
		if err := checkEntry(tr, hdr, expected, report, h, buf); err != nil {
			return report, fmt.Errorf("read entry %s of %s: %w", hdr.Name, path, err)
		}
	}

	// The trailer frame ends the stream, so nothing may follow the tar
	// end-of-archive marker.
	extra, err := io.CopyBuffer(io.Discard, zr, buf)
	if err != nil {
		return report, fmt.Errorf("read package %s after end of archive: %w", path, err)
	}
	if extra > 0 {
		report.Problems = append(report.Problems, fmt.Sprintf("%d bytes of data after the tar end-of-archive marker", extra))
	}

	var missing []string
	for name, e := range expected {
		if !e.seen {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	for _, name := range missing {
		report.Problems = append(report.Problems, fmt.Sprintf("%s: listed in the manifest but missing from the archive", name))
	}
	return report, nil
}

// expectedEntries maps each archive path that the manifest lists to its
// size and SHA-256, and reports archive paths listed twice.
func expectedEntries(m *Manifest, report *Report) map[string]*expectedEntry {
	expected := make(map[string]*expectedEntry, len(m.Files)+len(m.Live)+1)
	add := func(name string, size int64, sum string) {
		if _, dup := expected[name]; dup {
			report.Problems = append(report.Problems, fmt.Sprintf("%s: listed more than once in the manifest", name))
			return
		}
		expected[name] = &expectedEntry{size: size, sha256: sum}
	}
	for i := range m.Files {
		if e := &m.Files[i]; e.ArchivePath != "" {
			add(e.ArchivePath, e.Size, e.SHA256)
		}
	}
	for _, e := range m.Live {
		add(e.ArchivePath, e.Size, e.SHA256)
	}
	if m.Log.ArchivePath != "" {
		add(m.Log.ArchivePath, m.Log.Size, m.Log.SHA256)
	}
	return expected
}

func checkEntry(tr *tar.Reader, hdr *tar.Header, expected map[string]*expectedEntry, report *Report, h hash.Hash, buf []byte) error {
	want, listed := expected[hdr.Name]
	switch {
	case hdr.Name == ManifestName:
		report.Problems = append(report.Problems, fmt.Sprintf("%s: appears again after the first entry", hdr.Name))
		return nil
	case !listed:
		report.Problems = append(report.Problems, fmt.Sprintf("%s: in the archive but not listed in the manifest", hdr.Name))
		return nil
	case want.seen:
		report.Problems = append(report.Problems, fmt.Sprintf("%s: appears more than once in the archive", hdr.Name))
		return nil
	}
	want.seen = true
	if hdr.Typeflag != tar.TypeReg {
		report.Problems = append(report.Problems, fmt.Sprintf("%s: tar entry type %q, expected a regular file", hdr.Name, hdr.Typeflag))
		return nil
	}

	h.Reset()
	n, err := io.CopyBuffer(h, onlyReader{tr}, buf)
	if err != nil {
		return err
	}
	report.EntriesChecked++
	if n != want.size {
		report.Problems = append(report.Problems, fmt.Sprintf("%s: size %d, manifest says %d", hdr.Name, n, want.size))
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.sha256 {
		report.Problems = append(report.Problems, fmt.Sprintf("%s: SHA-256 %s, manifest says %s", hdr.Name, got, want.sha256))
	}
	return nil
}

// HashFile returns the lowercase hex SHA-256 and size of the file at path.
func HashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("hash file: %w", err)
	}
	defer f.Close()

	h := sha256.New()
	n, err := io.CopyBuffer(h, onlyReader{f}, make([]byte, copyBufferSize))
	if err != nil {
		return "", 0, fmt.Errorf("hash file %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
