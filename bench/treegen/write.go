package treegen

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// writeBufferSize buffers each file's content on its way to the disk.
const writeBufferSize = 1 << 20

// writeFile writes f below dir with content seeded by seed and f.Index.
func writeFile(dir string, seed uint64, f File) error {
	path := filepath.Join(dir, filepath.FromSlash(f.Path))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", path, err)
	}
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	w := bufio.NewWriterSize(out, writeBufferSize)

	var seedBytes [32]byte
	binary.LittleEndian.PutUint64(seedBytes[0:], seed)
	binary.LittleEndian.PutUint64(seedBytes[8:], uint64(f.Index))
	binary.LittleEndian.PutUint64(seedBytes[16:], uint64(Version))
	rng := rand.New(rand.NewChaCha8(seedBytes))

	switch f.Kind {
	case KindLog:
		err = writeLog(w, rng, f.Size, f.Index)
	case KindSQLite:
		err = writeSQLite(w, rng, f.Size)
	default:
		err = writeRandom(w, rand.NewChaCha8(seedBytes), f.Size)
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeRandom writes size bytes from src.
func writeRandom(w io.Writer, src *rand.ChaCha8, size int64) error {
	_, err := io.CopyN(w, src, size)
	return err
}
