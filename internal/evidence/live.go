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
	"strings"
	"sync"
	"time"
)

// CollectorError is returned by AddLive when the live collector's callback
// fails. The entry is still in the package and the Writer stays usable.
type CollectorError struct {
	Collector string
	Err       error
}

func (e *CollectorError) Error() string {
	return fmt.Sprintf("live collector %s: %v", e.Collector, e.Err)
}

func (e *CollectorError) Unwrap() error { return e.Err }

// AddLive runs fn with a writer for live/<collector>.jsonl and adds the
// result to the package. The output is spooled to a temporary file first,
// because the tar header needs its size. The manifest records its size,
// SHA-256, number of records (newline characters) and fn's error. The entry
// is kept even when fn fails or panics, and AddLive then returns a
// *CollectorError. Any other error means the package cannot be completed.
//
// collector must be a non-empty name of letters, digits, '.', '_' or '-',
// used at most once per package. fn runs without the Writer's lock, so it
// may call Logf.
func (w *Writer) AddLive(collector string, fn func(io.Writer) error) error {
	if err := validateCollectorName(collector); err != nil {
		return err
	}

	w.mu.Lock()
	if err := w.usable(); err != nil {
		w.mu.Unlock()
		return err
	}
	if _, dup := w.liveNames[collector]; dup {
		w.mu.Unlock()
		return fmt.Errorf("add live data: collector %q was already added to this package", collector)
	}
	tmp, err := w.createTemp(".magpie-live-*.spool")
	if err != nil {
		w.mu.Unlock()
		return err
	}
	w.liveNames[collector] = struct{}{}
	w.mu.Unlock()

	lw := &liveWriter{buf: bufio.NewWriterSize(tmp, 256<<10), hash: sha256.New()}
	fnErr := runLive(fn, lw)
	size, sum, records, flushErr := lw.finish()

	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.removeTemp(tmp)

	if err := w.usable(); err != nil {
		return err
	}
	if flushErr != nil {
		return w.fail(flushErr)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return w.fail(err)
	}

	entry := LiveEntry{
		Collector:   collector,
		ArchivePath: LivePrefix + collector + ".jsonl",
		Size:        size,
		SHA256:      sum,
		Records:     records,
	}
	if fnErr != nil {
		entry.Error = fnErr.Error()
	}
	if err := w.writeSpooled(entry.ArchivePath, tmp, size); err != nil {
		return err
	}
	w.manifest.Live = append(w.manifest.Live, entry)

	if fnErr != nil {
		return &CollectorError{Collector: collector, Err: fnErr}
	}
	return nil
}

func validateCollectorName(name string) error {
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("add live data: invalid collector name %q", name)
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-", c)
		if !ok {
			return fmt.Errorf("add live data: invalid collector name %q: use letters, digits, '.', '_' and '-' only", name)
		}
	}
	return nil
}

// runLive calls fn and turns a panic into an error, so that one broken live
// collector does not end the whole collection.
func runLive(fn func(io.Writer) error, lw io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(lw)
}

// writeSpooled adds a tar entry named name with size bytes from r, which
// holds content that was already hashed.
func (w *Writer) writeSpooled(name string, r io.Reader, size int64) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  time.Now().UTC(),
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return w.fail(err)
	}
	n, err := io.CopyBuffer(w.tw, io.LimitReader(onlyReader{r}, size), w.buf)
	if err != nil {
		return w.fail(err)
	}
	if n != size {
		return w.fail(fmt.Errorf("spool file for %s has %d bytes, expected %d", name, n, size))
	}
	return nil
}

// onlyReader hides any WriterTo method of its reader, so that io.CopyBuffer
// uses the caller's buffer.
type onlyReader struct{ io.Reader }

// liveWriter spools live-collector output and hashes it as it is written.
type liveWriter struct {
	mu      sync.Mutex
	buf     *bufio.Writer
	hash    hash.Hash
	size    int64
	records int64
	done    bool
	err     error
}

var errLiveFinished = errors.New("write after the live collector returned")

func (lw *liveWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()

	if lw.done {
		return 0, errLiveFinished
	}
	if lw.err != nil {
		return 0, lw.err
	}
	n, err := lw.buf.Write(p)
	lw.hash.Write(p[:n])
	lw.size += int64(n)
	lw.records += int64(bytes.Count(p[:n], []byte{'\n'}))
	if err != nil {
		lw.err = err
	}
	return n, err
}

func (lw *liveWriter) finish() (size int64, sum string, records int64, err error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()

	lw.done = true
	if lw.err == nil {
		lw.err = lw.buf.Flush()
	}
	return lw.size, hex.EncodeToString(lw.hash.Sum(nil)), lw.records, lw.err
}

// Logf appends a line with a UTC timestamp to collection.log. The log is
// spooled to a temporary file and added to the package by Close. Calls
// after Close or Abort are ignored.
func (w *Writer) Logf(format string, args ...any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	line := time.Now().UTC().Format(time.RFC3339Nano) + " " + msg + "\n"

	w.mu.Lock()
	defer w.mu.Unlock()

	if w.closed || w.err != nil {
		return
	}
	if _, err := w.logBuf.WriteString(line); err != nil {
		w.fail(err)
	}
}
