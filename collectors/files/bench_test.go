package files

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/magpie-ir/magpie/internal/evidence"
)

// BenchmarkCollect collects a generated tree of about 128 MiB in files of
// 1 KiB to 1 MiB, half log-like text and half random bytes, with "/**".
// Compare it with BenchmarkWriter in internal/evidence, which archives
// without walking.
func BenchmarkCollect(b *testing.B) {
	root := b.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	var total int64
	for i := 0; total < 128<<20; i++ {
		size := 1 << (10 + rng.IntN(11))
		data := make([]byte, size)
		if i%2 == 0 {
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
		} else {
			line := fmt.Appendf(nil, "Jan  1 00:00:%02d host sshd[%d]: session opened for user u%d\n", i%60, i, i%7)
			for j := range data {
				data[j] = line[j%len(line)]
			}
		}
		path := filepath.Join(root, fmt.Sprintf("d%02d", i%20), fmt.Sprintf("f%05d", i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(size)
	}
	spool := b.TempDir()
	b.SetBytes(total)
	b.ResetTimer()

	for b.Loop() {
		w, err := evidence.NewWriter(evidence.WriterOptions{SpoolDir: spool})
		if err != nil {
			b.Fatal(err)
		}
		if err := Collect(context.Background(), Options{Root: root, Patterns: []string{"/**"}}, w); err != nil {
			b.Fatal(err)
		}
		pkg, err := w.Close()
		if err != nil {
			b.Fatal(err)
		}
		os.Remove(pkg.Path)
	}
}
