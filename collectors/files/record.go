package files

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/magpie-ir/magpie/internal/evidence"
)

// record adds n to the package once: content for a regular file, metadata
// for directories and symlinks (plus the symlink's target), and a skipped
// entry for special files, which are never opened.
func (c *collector) record(n *node) error {
	if _, done := c.seen[n.real]; done {
		return nil
	}

	switch evidence.TypeOf(n.st.mode) {
	case evidence.TypeFile:
		c.seen[n.real] = struct{}{}
		return c.collectFile(n)
	case evidence.TypeSymlink:
		return c.recordSymlink(n, true)
	case evidence.TypeDir:
		c.seen[n.real] = struct{}{}
		return c.add(c.entry(n))
	default:
		c.seen[n.real] = struct{}{}
		e := c.entry(n)
		e.Skipped = e.Type + " not collected"
		return c.add(e)
	}
}

// recordSymlink adds the symlink n and, when withTarget is set, its
// resolved target.
func (c *collector) recordSymlink(n *node, withTarget bool) error {
	if _, done := c.seen[n.real]; done {
		return nil
	}
	c.seen[n.real] = struct{}{}

	e := c.entry(n)
	if raw, err := os.Readlink(c.hostPath(n.real)); err == nil {
		e.SetLinkTarget(raw)
	} else {
		e.Error = "readlink: " + evidence.ErrorText(err)
	}
	c.resolve(n)
	switch {
	case n.resolveErr != nil:
		e.Error = "resolve symlink: " + evidence.ErrorText(n.resolveErr)
	case n.target == nil:
		e.LinkResolved, _ = evidence.DisplayPath(n.targetReal)
		e.AddFlag(evidence.FlagDanglingSymlink)
	default:
		e.LinkResolved, _ = evidence.DisplayPath(n.target.real)
		if c.isLoop(n) {
			e.AddFlag(evidence.FlagSymlinkLoop)
		}
	}
	if err := c.add(e); err != nil {
		return err
	}

	if withTarget && n.target != nil {
		return c.record(n.target)
	}
	return nil
}

// recordError adds an entry for a path whose metadata could not be read.
func (c *collector) recordError(logical, real, op string, err error) error {
	if _, done := c.seen[real]; done {
		return nil
	}
	c.seen[real] = struct{}{}

	e := evidence.FileEntry{Type: evidence.TypeOther}
	e.SetPath(real)
	if logical != real {
		e.MatchedAs, _ = evidence.DisplayPath(logical)
	}
	e.Error = op + ": " + evidence.ErrorText(err)
	return c.add(e)
}

func (c *collector) add(e evidence.FileEntry) error {
	if err := c.w.AddEntry(e); err != nil {
		return err
	}
	c.filesDone++
	c.reportProgress(false)
	return nil
}

// entry returns the manifest entry for n with its metadata filled in.
func (c *collector) entry(n *node) evidence.FileEntry {
	var e evidence.FileEntry
	e.SetPath(n.real)
	if n.logical != n.real {
		e.MatchedAs, _ = evidence.DisplayPath(n.logical)
	}
	e.Type = evidence.TypeOf(n.st.mode)
	e.Size = n.st.size
	e.Mode, e.ModeOctal = evidence.ModeString(n.st.mode)
	if n.st.hasIDs {
		uid, gid := n.st.uid, n.st.gid
		e.UID, e.GID = &uid, &gid
		e.Owner = c.ids.users[uid]
		e.Group = c.ids.groups[gid]
	}
	if n.st.hasIno {
		e.Inode = n.st.ino
	}
	e.Mtime, e.Atime, e.Ctime, e.Btime = n.st.mtime, n.st.atime, n.st.ctime, n.st.btime
	return e
}

// collectFile archives the content of the regular file n. It opens the file
// without following symlinks and without blocking, and checks that the
// open file is still a regular file before reading it.
func (c *collector) collectFile(n *node) error {
	e := c.entry(n)
	host := c.hostPath(n.real)

	f, err := c.open(host)
	if err != nil {
		e.Error = "open: " + evidence.ErrorText(err)
		return c.add(e)
	}
	defer f.Close()

	fi, err := f.Stat()
	if err != nil {
		e.Error = "fstat: " + evidence.ErrorText(err)
		return c.add(e)
	}
	if !fi.Mode().IsRegular() {
		e.Type = evidence.TypeOf(fi.Mode())
		e.Skipped = e.Type + " not collected: the path changed type after it was listed"
		return c.add(e)
	}
	size := fi.Size()
	if c.hooks.afterStat != nil {
		c.hooks.afterStat(host, f)
	}

	r := &fileReader{ctx: c.ctx, f: f}
	if size == 0 || c.onPseudoFS(n, f) {
		return c.collectVirtual(e, r, size)
	}
	recorded, err := c.w.AddFile(e, r, size)
	if err != nil {
		return err
	}
	c.bytesRead += recorded.Size
	c.filesDone++
	c.reportProgress(false)
	return nil
}

// collectVirtual archives a file whose stat size is zero or, on procfs and
// sysfs, not its content length. It reads to EOF, up to the cap, into memory
// first, because the tar header needs the size.
func (c *collector) collectVirtual(e evidence.FileEntry, r *fileReader, statSize int64) error {
	data, readErr := readCapped(r, c.maxVirt+1, c.virtBuf[:0])
	c.virtBuf = data[:0]
	if errors.Is(readErr, context.Canceled) || errors.Is(readErr, context.DeadlineExceeded) {
		return readErr
	}

	if int64(len(data)) > c.maxVirt {
		data = data[:c.maxVirt]
		e.AddFlag(evidence.FlagTruncatedAtCap)
	}
	switch {
	case statSize > 0:
		e.AddFlag(evidence.FlagPseudoFSReadToEOF)
	case len(data) > 0:
		e.AddFlag(evidence.FlagSizeZeroReadToEOF)
	}
	if readErr != nil {
		e.Error = "read: " + evidence.ErrorText(readErr)
		if len(data) == 0 {
			return c.add(e)
		}
	}

	recorded, err := c.w.AddFile(e, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	c.bytesRead += recorded.Size
	c.filesDone++
	c.reportProgress(false)
	return nil
}

// onPseudoFS reports whether n, open as f, is on a pseudo file system. It
// caches the result per device.
func (c *collector) onPseudoFS(n *node, f *os.File) bool {
	if !n.st.hasIno {
		return isPseudoFS(f)
	}
	pseudo, known := c.pseudoDevs[n.st.dev]
	if !known {
		pseudo = isPseudoFS(f)
		c.pseudoDevs[n.st.dev] = pseudo
	}
	return pseudo
}

// readCapped reads r until EOF or until buf holds limit bytes, growing buf
// as needed, and returns the bytes read with any error other than EOF.
func readCapped(r io.Reader, limit int64, buf []byte) ([]byte, error) {
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			grown := min(max(2*cap(buf), 64<<10), int(min(limit, int64(^uint(0)>>1))))
			next := make([]byte, len(buf), grown)
			copy(next, buf)
			buf = next
		}
		end := min(int64(cap(buf)), limit)
		n, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// fileReader reads an open file and stops when ctx ends. Its Stat method
// lets the evidence writer see whether the file grew while it was read.
type fileReader struct {
	ctx context.Context
	f   *os.File
}

func (r *fileReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.f.Read(p)
}

func (r *fileReader) Stat() (fs.FileInfo, error) { return r.f.Stat() }

func (c *collector) reportProgress(force bool) {
	if c.progress == nil {
		return
	}
	now := time.Now()
	if !force && now.Sub(c.lastProgress) < progressInterval {
		return
	}
	c.lastProgress = now
	c.progress(c.filesDone, c.bytesRead)
}
