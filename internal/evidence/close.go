package evidence

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
)

// endOfArchive is the tar end-of-archive marker: two zero blocks.
var endOfArchive [2 * 512]byte

// skippableHeaderLen is the size of a zstd skippable frame header: a magic
// number and the payload length, both 32-bit little endian.
const skippableHeaderLen = 8

// Close adds collection.log, then writes the final package to a new file in
// the spool directory: a zstd frame with the manifest.json entry, the spooled
// body and a zstd frame with the tar end-of-archive marker. It removes the
// temporary files and returns the package. After a failed Close, call Abort.
func (w *Writer) Close() (*Package, error) {
	w.mu.Lock()
	defer w.mu.Unlock()

	if err := w.usable(); err != nil {
		return nil, err
	}
	w.closed = true

	if err := w.addLog(); err != nil {
		return nil, err
	}
	if err := w.finishBody(); err != nil {
		return nil, err
	}

	w.manifest.FinishedAt = time.Now().UTC()
	w.manifest.Summary = summarize(w.manifest.Files)
	manifest, err := encodeManifest(&w.manifest)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	var head bytes.Buffer
	if err := writeManifestFrame(&head, manifest, w.manifest.FinishedAt); err != nil {
		return nil, fmt.Errorf("encode manifest frame: %w", err)
	}

	pkg, err := w.writePackage(head.Bytes())
	if err != nil {
		return nil, err
	}

	w.completed = true
	w.removeTemps()
	m := w.manifest
	pkg.Manifest = &m
	return pkg, nil
}

// addLog appends collection.log to the body and records it in the manifest.
func (w *Writer) addLog() error {
	if err := w.logBuf.Flush(); err != nil {
		return w.fail(err)
	}
	size, err := w.logFile.Seek(0, io.SeekCurrent)
	if err != nil {
		return w.fail(err)
	}
	if _, err := w.logFile.Seek(0, io.SeekStart); err != nil {
		return w.fail(err)
	}

	h := sha256.New()
	if err := w.writeSpooled(LogName, io.TeeReader(w.logFile, h), size); err != nil {
		return err
	}
	w.manifest.Log = LogEntry{
		ArchivePath: LogName,
		Size:        size,
		SHA256:      hex.EncodeToString(h.Sum(nil)),
	}
	return nil
}

// finishBody ends the body frame without a tar end-of-archive marker and
// appends the trailer frame, which holds the marker, to the spool file.
func (w *Writer) finishBody() error {
	if err := w.tw.Flush(); err != nil {
		return w.fail(err)
	}
	if err := w.enc.Close(); err != nil {
		return w.fail(err)
	}
	if err := writeFrame(w.spoolBuf, endOfArchive[:]); err != nil {
		return w.fail(err)
	}
	if err := w.spoolBuf.Flush(); err != nil {
		return w.fail(err)
	}
	return nil
}

// writePackage puts the manifest frame head in front of the spooled body
// and trailer. It first tries to do so in place; where that is not possible
// it copies the body to a new file.
func (w *Writer) writePackage(head []byte) (*Package, error) {
	name := "evidence-" + safeName(w.manifest.AssignmentID, w.manifest.TaskID) + "-*.tar.zst"
	f, err := os.CreateTemp(w.opts.SpoolDir, name)
	if err != nil {
		return nil, fmt.Errorf("create package file: %w", err)
	}
	w.finalPath = f.Name()
	defer f.Close()

	if w.bodyOffset > 0 {
		pkg, err := w.prependInPlace(head)
		if err == nil {
			w.prependedInPlace = true
			return pkg, nil
		}
		if !errors.Is(err, errInPlaceUnavailable) {
			return nil, err
		}
	}

	out := &hashingWriter{w: bufio.NewWriterSize(f, spoolBufferSize), h: sha256.New()}
	if _, err := out.Write(head); err != nil {
		return nil, fmt.Errorf("write package %s: %w", f.Name(), err)
	}
	body := io.NewSectionReader(w.spool, w.bodyOffset, math.MaxInt64-w.bodyOffset)
	if _, err := io.CopyBuffer(out, body, w.buf); err != nil {
		return nil, fmt.Errorf("write package %s: %w", f.Name(), err)
	}
	if err := out.w.Flush(); err != nil {
		return nil, fmt.Errorf("write package %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("sync package %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close package %s: %w", f.Name(), err)
	}
	return &Package{Path: f.Name(), Size: out.n, SHA256: hex.EncodeToString(out.h.Sum(nil))}, nil
}

// writeManifestFrame writes one zstd frame holding the tar entry for
// manifest.json.
func writeManifestFrame(out io.Writer, manifest []byte, modTime time.Time) error {
	enc, err := zstd.NewWriter(out, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return err
	}
	tw := tar.NewWriter(enc)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     ManifestName,
		Size:     int64(len(manifest)),
		Mode:     0o644,
		ModTime:  modTime,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := tw.Write(manifest); err != nil {
		return err
	}
	// Flush pads the entry to a block boundary. Closing the tar writer
	// would add an end-of-archive marker here, before the body.
	if err := tw.Flush(); err != nil {
		return err
	}
	return enc.Close()
}

// writeFrame writes data as one zstd frame.
func writeFrame(out io.Writer, data []byte) error {
	enc, err := zstd.NewWriter(out, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	if _, err := enc.Write(data); err != nil {
		return err
	}
	return enc.Close()
}

type hashingWriter struct {
	w *bufio.Writer
	h hash.Hash
	n int64
}

func (hw *hashingWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// safeName returns the first non-empty id reduced to characters that are
// safe in a file name.
func safeName(ids ...string) string {
	for _, id := range ids {
		if id == "" {
			continue
		}
		var b strings.Builder
		for _, c := range id {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				c = '_'
			}
			b.WriteRune(c)
			if b.Len() >= 64 {
				break
			}
		}
		return b.String()
	}
	return "package"
}

// Abort stops the writer and removes every temporary file, and the package
// file too unless Close succeeded. It is safe to call more than once and
// after Close.
func (w *Writer) Abort() {
	w.mu.Lock()
	defer w.mu.Unlock()

	w.closed = true
	if w.enc != nil && !w.completed {
		// Closing the encoder stops its goroutines. Its error does not
		// matter because the spool is being thrown away.
		w.enc.Close()
	}
	w.removeTemps()
	if !w.completed && w.finalPath != "" {
		os.Remove(w.finalPath)
		w.finalPath = ""
	}
}

func (w *Writer) removeTemps() {
	for _, f := range []*os.File{w.spool, w.logFile} {
		if f != nil {
			f.Close()
		}
	}
	for name := range w.temps {
		os.Remove(name)
		delete(w.temps, name)
	}
}
