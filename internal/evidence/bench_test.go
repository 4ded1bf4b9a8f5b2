package evidence

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// benchTreeSize is the content size of the tree the benchmarks archive.
const benchTreeSize = 256 << 20

// generateTree writes a mixed tree of about total bytes under dir: 40% text
// logs, 30% SQLite-like 4 KiB pages and 30% random bytes, in files from
// 4 KiB to 8 MiB. The content is the same on every run.
func generateTree(tb testing.TB, dir string, total int64) int64 {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []struct {
		name  string
		share int64
		gen   func(*rand.Rand, int) []byte
	}{
		{"logs", 40, textLog},
		{"db", 30, sqlitePages},
		{"blobs", 30, randomBytes},
	}

	var written int64
	for _, k := range kinds {
		budget := total * k.share / 100
		sub := filepath.Join(dir, k.name)
		for i := 0; budget > 0; i++ {
			size := min(budget, int64(4<<10)<<rng.IntN(12))
			path := filepath.Join(sub, fmt.Sprintf("d%02d", i%16), fmt.Sprintf("%s-%04d", k.name, i))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				tb.Fatal(err)
			}
			if err := os.WriteFile(path, k.gen(rng, int(size)), 0o644); err != nil {
				tb.Fatal(err)
			}
			budget -= size
			written += size
		}
	}
	// Flush the new files to disk, so that their writeback does not slow
	// down the writes of the benchmark itself.
	syncFileSystems()
	return written
}

func textLog(rng *rand.Rand, size int) []byte {
	hosts := []string{"web01", "db02", "cache03"}
	procs := []string{"sshd", "nginx", "postgres", "CRON", "kernel", "systemd"}
	msgs := []string{
		"Accepted publickey for deploy from 198.51.100.%d port %d ssh2",
		"GET /api/v1/items/%d HTTP/1.1 200 %d",
		"connection received: host=10.0.%d.%d port=5432",
		"pam_unix(cron:session): session opened for user root by (uid=%d) %d",
		"TCP: request_sock_TCP: Possible SYN flooding on port %d. Sending cookies. %d",
		"Started Session %d of user u%d.",
	}
	var b bytes.Buffer
	b.Grow(size + 200)
	for b.Len() < size {
		fmt.Fprintf(&b, "Jan %2d %02d:%02d:%02d %s %s[%d]: ", 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60),
			hosts[rng.IntN(len(hosts))], procs[rng.IntN(len(procs))], rng.IntN(65536))
		fmt.Fprintf(&b, msgs[rng.IntN(len(msgs))], rng.IntN(256), rng.IntN(65536))
		b.WriteByte('\n')
	}
	return b.Bytes()[:size]
}

func sqlitePages(rng *rand.Rand, size int) []byte {
	const page = 4096
	out := make([]byte, size)
	for off := 0; off < size; off += page {
		p := out[off:min(off+page, size)]
		if len(p) < 16 {
			break
		}
		p[0] = 0x0d // table b-tree leaf page
		cells := 1 + rng.IntN(40)
		binary.BigEndian.PutUint16(p[3:], uint16(cells))
		// Records fill the end of the page, free space stays zero.
		pos := len(p)
		for c := 0; c < cells && pos > 200; c++ {
			rec := fmt.Appendf(nil, "https://example.test/page/%d\x00visit-%d\x00%016x", rng.IntN(1e6), rng.IntN(1e4), rng.Uint64())
			pos -= len(rec)
			copy(p[pos:], rec)
		}
	}
	return out
}

func randomBytes(rng *rand.Rand, size int) []byte {
	out := make([]byte, size)
	for i := 0; i+8 <= size; i += 8 {
		binary.LittleEndian.PutUint64(out[i:], rng.Uint64())
	}
	return out
}

type benchFile struct {
	path string
	size int64
}

func listTree(tb testing.TB, dir string) []benchFile {
	tb.Helper()
	var files []benchFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, benchFile{path: p, size: fi.Size()})
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// archiveTree writes one package with every file in files, opening each
// file the way the files collector does.
func archiveTree(tb testing.TB, spool string, files []benchFile, compression Compression) *Package {
	w, err := NewWriter(WriterOptions{SpoolDir: spool, Header: testHeader(), Compression: compression})
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Abort()
	for _, f := range files {
		fh, err := os.Open(f.path)
		if err != nil {
			tb.Fatal(err)
		}
		e := FileEntry{Type: TypeFile, ModeOctal: "0644"}
		e.SetPath(f.path)
		if _, err := w.AddFile(e, fh, f.size); err != nil {
			tb.Fatal(err)
		}
		fh.Close()
	}
	pkg, err := w.Close()
	if err != nil {
		tb.Fatal(err)
	}
	return pkg
}

// BenchmarkWriter archives a generated mixed tree with the default
// compression, reading, hashing and compressing every file. Compare it with
// BenchmarkTarZstd on the same machine.
func BenchmarkWriter(b *testing.B) {
	benchmarkWriter(b, CompressionFast)
}

// BenchmarkWriterBetter is BenchmarkWriter with CompressionBetter.
func BenchmarkWriterBetter(b *testing.B) {
	benchmarkWriter(b, CompressionBetter)
}

func benchmarkWriter(b *testing.B, compression Compression) {
	tree := b.TempDir()
	total := generateTree(b, tree, benchTreeSize)
	files := listTree(b, tree)
	spool := b.TempDir()
	b.SetBytes(total)
	b.ResetTimer()

	for b.Loop() {
		pkg := archiveTree(b, spool, files, compression)
		b.ReportMetric(float64(pkg.Size)/float64(total), "ratio")
		os.Remove(pkg.Path)
	}
}

// BenchmarkTarZstd runs `tar -cf - TREE | zstd -3 -T1` over the same tree as
// BenchmarkWriter, as the reference for its throughput.
func BenchmarkTarZstd(b *testing.B) {
	for _, tool := range []string{"tar", "zstd", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("skipping: %s is not installed", tool)
		}
	}
	tree := b.TempDir()
	total := generateTree(b, tree, benchTreeSize)
	out := filepath.Join(b.TempDir(), "tree.tar.zst")
	b.SetBytes(total)
	b.ResetTimer()

	for b.Loop() {
		cmd := exec.Command("sh", "-c", `tar -cf - -C "$1" . | zstd -q -3 -T1 -f -o "$2"`, "sh", tree, out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("tar | zstd: %v\n%s", err, msg)
		}
		fi, err := os.Stat(out)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fi.Size())/float64(total), "ratio")
	}
}
