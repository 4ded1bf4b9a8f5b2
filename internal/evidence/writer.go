package evidence

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

const (
	// copyBufferSize is the read size for file content and spool copies.
	// Large reads keep the syscall count low on big files.
	copyBufferSize = 1 << 20
	// spoolBufferSize buffers compressed output on its way to the spool.
	spoolBufferSize = 1 << 20
	// windowSize is the zstd window. With concurrent blocks the encoder
	// compresses jobs of four windows in parallel and keeps several jobs in
	// memory. On a 1 GB tree of logs, database pages and random data, 1 MiB
	// gave the same package size and speed as 2 MiB with about half the
	// peak RSS (110 MB instead of 200 MB). Larger windows also left more
	// compression to finish after the last file.
	windowSize = 1 << 20
)

// zeros is the source of the padding written for files that return fewer
// bytes than their declared size.
var zeros [64 << 10]byte

// ErrClosed is returned by Writer methods called after Close or Abort.
var ErrClosed = errors.New("evidence writer is closed")

// Compression selects how hard the Writer compresses the body.
type Compression int

const (
	// CompressionFast uses the zstd encoder's fastest level, which
	// compresses about as well as the zstd command at level 1. It is the
	// default because the encoder's default level, about zstd level 3,
	// took 1.3 to 1.6 times the CPU time on the trees we measured. On two
	// cores the Writer then falls behind `tar | zstd -3 -T1`, because it
	// also hashes every file. Packages of the BenchmarkWriter tree were 1%
	// larger than with CompressionBetter, and of Go's source tree 7%.
	CompressionFast Compression = iota
	// CompressionBetter uses the zstd encoder's default level, which
	// compresses about as well as the zstd command at level 3.
	CompressionBetter
)

func (c Compression) level() (zstd.EncoderLevel, error) {
	switch c {
	case CompressionFast:
		return zstd.SpeedFastest, nil
	case CompressionBetter:
		return zstd.SpeedDefault, nil
	default:
		return 0, fmt.Errorf("create evidence writer: unknown compression %d: use CompressionFast or CompressionBetter", int(c))
	}
}

// WriterOptions configures NewWriter.
type WriterOptions struct {
	// SpoolDir holds the temporary files and the finished package. It is
	// created with mode 0700 when missing. Required.
	SpoolDir string
	// Header is copied into the manifest.
	Header Header
	// Concurrency is the number of goroutines that compress the body.
	// Zero means GOMAXPROCS.
	Concurrency int
	// Compression selects the zstd level. Zero means CompressionFast.
	Compression Compression

	// copyBody makes Close copy the body after the manifest frame even where
	// it could prepend the manifest in place. Tests use it to cover both.
	copyBody bool
}

// Writer builds one evidence package. Its methods may be called from any
// goroutine, but calls are serialized by one lock, so collectors gain nothing
// by calling it in parallel. AddLive runs its callback outside that lock, so
// the callback may call Logf.
//
// After a failure to write the spool, every method returns that error and the
// caller should call Abort.
type Writer struct {
	mu   sync.Mutex
	opts WriterOptions

	manifest     Manifest
	archivePaths map[string]struct{}
	liveNames    map[string]struct{}

	spool    *os.File
	spoolBuf *bufio.Writer
	enc      *zstd.Encoder
	tw       *tar.Writer

	logFile *os.File
	logBuf  *bufio.Writer

	temps     map[string]struct{} // temporary files that Abort and Close remove
	finalPath string              // the package file once Close creates it
	buf       []byte
	hash      hash.Hash
	sum       []byte

	// bodyOffset is the offset of the body in the spool file: reservedGap,
	// or zero when Close must copy the body after the manifest frame.
	bodyOffset int64

	prependedInPlace bool // Close wrote the package without copying the body

	closed    bool  // no more entries accepted
	completed bool  // Close succeeded; the package file is kept
	err       error // first spool failure
}

// NewWriter creates the spool files for a new package in opts.SpoolDir.
func NewWriter(opts WriterOptions) (*Writer, error) {
	if opts.SpoolDir == "" {
		return nil, errors.New("create evidence writer: spool directory is empty: set WriterOptions.SpoolDir")
	}
	if opts.Concurrency < 0 {
		return nil, fmt.Errorf("create evidence writer: concurrency %d is negative", opts.Concurrency)
	}
	if _, err := opts.Compression.level(); err != nil {
		return nil, err
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	if opts.Header.Started.IsZero() {
		opts.Header.Started = time.Now()
	}
	if err := os.MkdirAll(opts.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("create spool directory: %w", err)
	}

	w := &Writer{
		opts:         opts,
		archivePaths: make(map[string]struct{}),
		liveNames:    make(map[string]struct{}),
		temps:        make(map[string]struct{}),
		buf:          make([]byte, copyBufferSize+1),
		hash:         sha256.New(),
		sum:          make([]byte, 0, sha256.Size),
		bodyOffset:   reservedGap,
	}
	if opts.copyBody {
		w.bodyOffset = 0
	}
	w.manifest = newManifest(opts.Header)
	if err := w.openSpool(); err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

func newManifest(h Header) Manifest {
	resp := h.Responder
	if resp.IPs == nil {
		resp.IPs = []string{}
	}
	return Manifest{
		FormatVersion: FormatVersion,
		TaskID:        h.TaskID,
		AssignmentID:  h.AssignmentID,
		Trigger:       h.Trigger,
		Profile:       h.Profile,
		Responder:     resp,
		Root:          h.Root,
		StartedAt:     h.Started.UTC(),
		Files:         []FileEntry{},
		Live:          []LiveEntry{},
	}
}

func (w *Writer) openSpool() error {
	spool, err := w.createTemp(".magpie-body-*.spool")
	if err != nil {
		return err
	}
	w.spool = spool
	if _, err := spool.Seek(w.bodyOffset, io.SeekStart); err != nil {
		return fmt.Errorf("seek spool file: %w", err)
	}
	w.spoolBuf = bufio.NewWriterSize(spool, spoolBufferSize)

	level, err := w.opts.Compression.level()
	if err != nil {
		return err
	}
	enc, err := zstd.NewWriter(w.spoolBuf,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderConcurrency(w.opts.Concurrency),
		zstd.WithConcurrentBlocks(w.opts.Concurrency > 1),
		zstd.WithWindowSize(windowSize),
	)
	if err != nil {
		return fmt.Errorf("create zstd encoder: %w", err)
	}
	w.enc = enc
	w.tw = tar.NewWriter(enc)

	logFile, err := w.createTemp(".magpie-log-*.spool")
	if err != nil {
		return err
	}
	w.logFile = logFile
	w.logBuf = bufio.NewWriterSize(logFile, 64<<10)
	return nil
}

func (w *Writer) createTemp(pattern string) (*os.File, error) {
	f, err := os.CreateTemp(w.opts.SpoolDir, pattern)
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	w.temps[f.Name()] = struct{}{}
	return f, nil
}

func (w *Writer) removeTemp(f *os.File) {
	name := f.Name()
	f.Close()
	os.Remove(name)
	delete(w.temps, name)
}

// usable returns the error that stops the writer from accepting entries.
func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	return nil
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = fmt.Errorf("write evidence spool: %w", err)
	}
	return w.err
}

// statter is implemented by readers that can report the current size of
// their source, such as *os.File.
type statter interface {
	Stat() (fs.FileInfo, error)
}

// AddFile archives exactly size bytes read from r as the content of entry,
// hashing them on the way, and appends entry to the manifest. It sets
// ArchivePath, SHA256 and Size, and returns the entry as recorded.
//
// entry.Path (with PathRawBase64) must be an absolute, clean path. If r ends
// early, the content is padded with zero bytes and flagged
// FlagShrank; if r fails, it is padded and entry.Error records the failure.
// If r has a Stat method and reports a larger size after reading, the entry
// is flagged FlagGrew with SizeAtEnd. The returned error is non-nil only when
// the package itself cannot be written, or when r fails with an error that
// wraps context.Canceled or context.DeadlineExceeded: then the writer stops
// and the caller should call Abort.
func (w *Writer) AddFile(entry FileEntry, r io.Reader, size int64) (FileEntry, error) {
	w.mu.Lock()
	defer w.mu.Unlock()

	if err := w.usable(); err != nil {
		return entry, err
	}
	if size < 0 {
		return entry, fmt.Errorf("add file %q: size %d is negative", entry.Path, size)
	}
	raw, err := entry.RawPath()
	if err != nil {
		return entry, err
	}
	archivePath, err := ArchivePath(raw)
	if err != nil {
		return entry, fmt.Errorf("add file: %w", err)
	}
	archivePath = w.reserveArchivePath(archivePath, raw)

	if entry.Type == "" {
		entry.Type = TypeFile
	}
	normalizeTimes(&entry)
	entry.ArchivePath = archivePath
	entry.Size = size

	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     archivePath,
		Size:     size,
		Mode:     tarMode(entry.ModeOctal),
		ModTime:  entry.Mtime,
		Uname:    entry.Owner,
		Gname:    entry.Group,
	}
	if hdr.ModTime.IsZero() {
		hdr.ModTime = w.manifest.StartedAt
	}
	if entry.UID != nil {
		hdr.Uid = int(*entry.UID)
	}
	if entry.GID != nil {
		hdr.Gid = int(*entry.GID)
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return entry, w.fail(err)
	}

	endSeen, err := w.copyContent(&entry, r, size)
	if err != nil {
		return entry, err
	}
	if s, ok := r.(statter); ok && !endSeen {
		checkSizeAtEnd(&entry, s, size)
	}

	w.manifest.Files = append(w.manifest.Files, entry)
	return entry, nil
}

// copyContent writes size bytes of r to the current tar entry and sets the
// entry's SHA-256, flags and read error. When r is a file (it has a Stat
// method), the last read requests one byte more than needed. Receiving it
// shows that the file grew. Receiving exactly the rest shows that the file
// ended at size, which copyContent reports as endSeen so that AddFile can
// skip the stat call.
func (w *Writer) copyContent(entry *FileEntry, r io.Reader, size int64) (endSeen bool, err error) {
	_, probe := r.(statter)
	w.hash.Reset()
	var done int64
	for done < size {
		want := min(int64(copyBufferSize), size-done)
		ask := want
		if probe && want == size-done {
			ask = want + 1
		}
		k, readErr := r.Read(w.buf[:ask])
		switch {
		case int64(k) > want:
			k = int(want)
			entry.AddFlag(FlagGrew)
		case ask > want && int64(k) == want:
			// A regular file returns less than requested only at its end.
			// NOTE: some network and FUSE file systems return short reads
			// before the end, which hides growth at this point.
			endSeen = true
		}
		if k > 0 {
			w.hash.Write(w.buf[:k])
			if _, err := w.tw.Write(w.buf[:k]); err != nil {
				return false, w.fail(err)
			}
			done += int64(k)
		}
		if readErr == nil {
			continue
		}
		if isCancel(readErr) {
			w.err = fmt.Errorf("add file %q: %w", entry.Path, readErr)
			return false, w.err
		}
		if readErr == io.EOF {
			entry.AddFlag(FlagShrank)
		} else {
			entry.AddFlag(FlagPaddedAfterReadError)
			entry.Error = fmt.Sprintf("read at offset %d: %s", done, ErrorText(readErr))
		}
		break
	}

	for done < size {
		n := min(int64(len(zeros)), size-done)
		w.hash.Write(zeros[:n])
		if _, err := w.tw.Write(zeros[:n]); err != nil {
			return false, w.fail(err)
		}
		done += n
	}

	w.sum = w.hash.Sum(w.sum[:0])
	entry.SHA256 = hex.EncodeToString(w.sum)
	return endSeen && !entry.HasFlag(FlagShrank), nil
}

func checkSizeAtEnd(entry *FileEntry, s statter, size int64) {
	fi, err := s.Stat()
	if err != nil || fi.Size() == size {
		return
	}
	end := fi.Size()
	// A file that was read to EOF because its stat size was zero or
	// untrustworthy does not show growth in its stat size.
	if entry.HasFlag(FlagSizeZeroReadToEOF) || entry.HasFlag(FlagPseudoFSReadToEOF) || entry.HasFlag(FlagTruncatedAtCap) {
		return
	}
	entry.SizeAtEnd = &end
	if end > size {
		entry.AddFlag(FlagGrew)
	} else {
		entry.AddFlag(FlagShrank)
	}
}

// AddEntry appends a metadata-only entry to the manifest: a directory, a
// symlink, a skipped special file or a path that failed. Any ArchivePath and
// SHA256 in entry are cleared because no content is stored.
func (w *Writer) AddEntry(entry FileEntry) error {
	w.mu.Lock()
	defer w.mu.Unlock()

	if err := w.usable(); err != nil {
		return err
	}
	raw, err := entry.RawPath()
	if err != nil {
		return err
	}
	if !path.IsAbs(raw) || path.Clean(raw) != raw {
		return fmt.Errorf("add entry: invalid file path %q: must be absolute and clean", raw)
	}
	if entry.Type == "" {
		return fmt.Errorf("add entry %q: type is empty", entry.Path)
	}

	entry.ArchivePath = ""
	entry.SHA256 = ""
	normalizeTimes(&entry)
	w.manifest.Files = append(w.manifest.Files, entry)
	return nil
}

// reserveArchivePath returns name, or a variant of it when another entry
// already uses name. Different raw paths can escape to the same name, for
// example a valid component "%FF" and an invalid byte 0xFF.
func (w *Writer) reserveArchivePath(name, raw string) string {
	candidate := name
	for i := 0; ; i++ {
		if _, taken := w.archivePaths[candidate]; !taken {
			w.archivePaths[candidate] = struct{}{}
			return candidate
		}
		sum := sha256.Sum256([]byte(raw + strconv.Itoa(i)))
		candidate = withComponentSuffix(name, "~"+hex.EncodeToString(sum[:8]))
	}
}

// withComponentSuffix appends suffix to the last component of name, cutting
// the component so that it stays within maxComponent bytes.
func withComponentSuffix(name, suffix string) string {
	dir, last := "", name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, last = name[:i+1], name[i+1:]
	}
	return dir + cutComponent(last, maxComponent-len(suffix)) + suffix
}

// normalizeTimes converts e's times to UTC and drops those that RFC 3339,
// and so JSON decoders of the manifest, cannot express.
func normalizeTimes(e *FileEntry) {
	for _, t := range []*time.Time{&e.Mtime, &e.Atime, &e.Ctime, &e.Btime} {
		if t.IsZero() {
			continue
		}
		*t = t.UTC()
		if y := t.Year(); y < 0 || y > 9999 {
			*t = time.Time{}
			e.AddFlag(FlagTimeOutOfRange)
		}
	}
}

// tarMode returns the tar header mode for a file with the octal mode
// modeOctal. It always sets the owner read bit, so that an analyst who
// extracts the package without root privileges can read every file. The
// manifest keeps the original mode.
func tarMode(modeOctal string) int64 {
	mode, err := strconv.ParseUint(modeOctal, 8, 32)
	if err != nil {
		return 0o644
	}
	return int64(mode&0o777 | 0o400)
}
