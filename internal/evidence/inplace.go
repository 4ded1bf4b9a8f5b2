package evidence

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// skippableMagic is the magic number of the first of the zstd skippable
// frame types (0x184D2A50 to 0x184D2A5F), which decoders skip.
const skippableMagic = 0x184D2A50

// errInPlaceUnavailable means that the package cannot be finished in place
// and Close must copy the body.
var errInPlaceUnavailable = errors.New("cannot prepend the manifest in place")

// prependInPlace turns the spool file into the package without copying the
// body. It writes head and a skippable frame into the gap reserved before
// the body, removes the rest of the gap with collapseRange and renames the
// spool file to the package name. It returns an error wrapping
// errInPlaceUnavailable, with the body unchanged, when the file system
// cannot do this, so that the caller can copy instead.
func (w *Writer) prependInPlace(head []byte) (*Package, error) {
	align := blockSize(w.spool)
	if align <= 0 || w.bodyOffset%align != 0 {
		return nil, fmt.Errorf("%w: block size %d", errInPlaceUnavailable, align)
	}
	// The prefix is head and a skippable frame that pads it to a block
	// boundary, because collapseRange works on whole blocks.
	used := int64(len(head)) + skippableHeaderLen
	used = (used + align - 1) / align * align
	if used > w.bodyOffset {
		return nil, fmt.Errorf("%w: manifest frame of %d bytes does not fit", errInPlaceUnavailable, len(head))
	}
	var skip [skippableHeaderLen]byte
	binary.LittleEndian.PutUint32(skip[0:], skippableMagic)
	binary.LittleEndian.PutUint32(skip[4:], uint32(used-int64(len(head))-skippableHeaderLen))

	sum, size, err := w.hashAndSync(head, skip[:], used)
	if err != nil {
		return nil, err
	}

	// The skippable frame's payload is the part of the gap that is kept.
	// It was never written, so it reads as zero bytes.
	if _, err := w.spool.WriteAt(head, 0); err != nil {
		return nil, fmt.Errorf("%w: %v", errInPlaceUnavailable, err)
	}
	if _, err := w.spool.WriteAt(skip[:], int64(len(head))); err != nil {
		return nil, fmt.Errorf("%w: %v", errInPlaceUnavailable, err)
	}
	if err := collapseRange(w.spool, used, w.bodyOffset-used); err != nil {
		return nil, fmt.Errorf("%w: %v", errInPlaceUnavailable, err)
	}
	if err := w.spool.Sync(); err != nil {
		return nil, fmt.Errorf("sync package: %w", err)
	}
	if err := os.Rename(w.spool.Name(), w.finalPath); err != nil {
		return nil, fmt.Errorf("rename package: %w", err)
	}
	delete(w.temps, w.spool.Name())
	return &Package{Path: w.finalPath, Size: size, SHA256: sum}, nil
}

// hashAndSync returns the SHA-256 and size of the package that the spool
// file becomes once the prefix (head, the skippable frame header skip and
// zero bytes up to used) replaces the gap. It hashes the body from the page
// cache before collapseRange, which drops the cached pages, and writes the
// body back to disk at the same time, so that collapseRange has no data left
// to write.
func (w *Writer) hashAndSync(head, skip []byte, used int64) (string, int64, error) {
	synced := make(chan error, 1)
	go func() { synced <- w.spool.Sync() }()

	h := sha256.New()
	h.Write(head)
	h.Write(skip)
	for pad := used - int64(len(head)+len(skip)); pad > 0; {
		n := min(pad, int64(len(zeros)))
		h.Write(zeros[:n])
		pad -= n
	}
	body := io.NewSectionReader(w.spool, w.bodyOffset, math.MaxInt64-w.bodyOffset)
	n, err := io.CopyBuffer(h, body, w.buf)

	if syncErr := <-synced; syncErr != nil {
		return "", 0, fmt.Errorf("sync package: %w", syncErr)
	}
	if err != nil {
		return "", 0, fmt.Errorf("hash package: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), used + n, nil
}
