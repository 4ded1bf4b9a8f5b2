package evidence

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/klauspost/compress/zstd"
)

// FormatVersion is the manifest format this package writes. Version 1 is the
// first release of the format.
const FormatVersion = 1

// Names of the fixed entries in a package.
const (
	ManifestName = "manifest.json"
	LogName      = "collection.log"
	FilesPrefix  = "files/"
	LivePrefix   = "live/"
)

// File types recorded in FileEntry.Type.
const (
	TypeFile        = "file"
	TypeSymlink     = "symlink"
	TypeDir         = "dir"
	TypeFIFO        = "fifo"
	TypeSocket      = "socket"
	TypeCharDevice  = "char_device"
	TypeBlockDevice = "block_device"
	TypeOther       = "other"
)

// Flags recorded in FileEntry.Flags.
const (
	// FlagGrew marks a file that was larger after reading than when it was
	// opened. Only the size seen at open is archived.
	FlagGrew = "grew_while_reading"
	// FlagShrank marks a file that returned fewer bytes than its size at
	// open. The archived content is padded with zero bytes to that size.
	FlagShrank = "shrank_while_reading"
	// FlagTruncatedAtCap marks a file that was read to EOF because its stat
	// size was zero or untrustworthy, and whose content was cut at the
	// collector's cap.
	FlagTruncatedAtCap = "truncated_at_cap"
	// FlagSizeZeroReadToEOF marks a file whose stat size was zero but which
	// returned data when read to EOF, as /proc and /sys files do.
	FlagSizeZeroReadToEOF = "size_zero_read_to_eof"
	// FlagPseudoFSReadToEOF marks a file on procfs, sysfs or a similar file
	// system whose stat size does not give the content length, for example
	// 4096 for a sysfs attribute. The content was read to EOF instead.
	FlagPseudoFSReadToEOF = "pseudo_fs_read_to_eof"
	// FlagPaddedAfterReadError marks a file whose read failed part way. The
	// rest of the archived content is zero bytes and Error holds the reason.
	FlagPaddedAfterReadError = "padded_after_read_error"
	// FlagTimeOutOfRange marks an entry with a timestamp outside the years
	// 0 to 9999 that RFC 3339 can express. Such timestamps are left out.
	FlagTimeOutOfRange = "time_out_of_range"
	// FlagSymlinkLoop marks a directory symlink that points to one of its
	// own ancestors, so it was not followed.
	FlagSymlinkLoop = "symlink_loop"
	// FlagDanglingSymlink marks a symlink whose target does not exist.
	FlagDanglingSymlink = "dangling_symlink"
)

// Header is the part of the manifest that the caller knows before collection
// starts.
type Header struct {
	TaskID       string
	AssignmentID string
	Trigger      string
	Profile      string
	// Root is the collection root: "/" for a live system, or the mount point
	// of an image. Collected paths in the manifest are relative to it.
	Root      string
	Responder ResponderIdentity
	// Started is when collection started. Zero means the time NewWriter ran.
	Started time.Time
}

// ResponderIdentity describes the responder that built a package.
type ResponderIdentity struct {
	ID       string   `json:"id"`
	Hostname string   `json:"hostname"`
	FQDN     string   `json:"fqdn"`
	OS       string   `json:"os"`
	Arch     string   `json:"arch"`
	Version  string   `json:"version"`
	IPs      []string `json:"ips"`
}

// Manifest is the content of manifest.json.
type Manifest struct {
	FormatVersion int               `json:"format_version"`
	TaskID        string            `json:"task_id"`
	AssignmentID  string            `json:"assignment_id"`
	Trigger       string            `json:"trigger"`
	Profile       string            `json:"profile"`
	Responder     ResponderIdentity `json:"responder"`
	Root          string            `json:"root"`
	StartedAt     time.Time         `json:"started_at"`
	FinishedAt    time.Time         `json:"finished_at"`
	Files         []FileEntry       `json:"files"`
	Live          []LiveEntry       `json:"live"`
	Log           LogEntry          `json:"log"`
	Summary       Summary           `json:"summary"`
}

// FileEntry is one collected path. Entries with an ArchivePath have their
// content in the package. Other entries record metadata only: directories,
// symlinks, skipped special files and paths that failed.
type FileEntry struct {
	// Path is the absolute path inside the collection root, with no symlink
	// components. Bytes that are not valid UTF-8 appear as \xNN, and the raw
	// path is then in PathRawBase64.
	Path          string `json:"path"`
	PathRawBase64 string `json:"path_raw_base64,omitempty"`
	// MatchedAs is the path under which a pattern reached the entry when it
	// differs from Path, for example through a symlinked directory.
	MatchedAs   string `json:"matched_as,omitempty"`
	ArchivePath string `json:"archive_path,omitempty"`
	Type        string `json:"type"`
	// Size is the number of bytes archived for entries with content, and the
	// stat size otherwise.
	Size      int64   `json:"size"`
	Mode      string  `json:"mode,omitempty"`
	ModeOctal string  `json:"mode_octal,omitempty"`
	UID       *uint32 `json:"uid,omitempty"`
	GID       *uint32 `json:"gid,omitempty"`
	Owner     string  `json:"owner,omitempty"`
	Group     string  `json:"group,omitempty"`
	Inode     uint64  `json:"inode,omitempty"`
	// Times are UTC. Btime is the birth time where the file system and OS
	// report one, and is omitted otherwise.
	Mtime time.Time `json:"mtime,omitzero"`
	Atime time.Time `json:"atime,omitzero"`
	Ctime time.Time `json:"ctime,omitzero"`
	Btime time.Time `json:"btime,omitzero"`
	// SHA256 is the lowercase hex SHA-256 of exactly the archived bytes.
	SHA256 string `json:"sha256,omitempty"`
	// LinkTarget is the symlink content as read, escaped like Path.
	LinkTarget          string `json:"link_target,omitempty"`
	LinkTargetRawBase64 string `json:"link_target_raw_base64,omitempty"`
	// LinkResolved is the symlink target resolved inside the collection root.
	LinkResolved string   `json:"link_resolved,omitempty"`
	Flags        []string `json:"flags,omitempty"`
	// SizeAtEnd is the stat size after reading, set when it differs from
	// the size at open.
	SizeAtEnd *int64 `json:"size_at_end,omitempty"`
	// Skipped is the reason content was not collected, for example
	// "fifo not collected".
	Skipped string `json:"skipped,omitempty"`
	// Error is the failure that stopped or cut collection, for example
	// "open: permission denied".
	Error string `json:"error,omitempty"`
}

// HasFlag reports whether e carries flag.
func (e *FileEntry) HasFlag(flag string) bool {
	for _, f := range e.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// AddFlag appends flag unless e already carries it.
func (e *FileEntry) AddFlag(flag string) {
	if !e.HasFlag(flag) {
		e.Flags = append(e.Flags, flag)
	}
}

// LiveEntry is one live/<collector>.jsonl entry.
type LiveEntry struct {
	Collector   string `json:"collector"`
	ArchivePath string `json:"archive_path"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	// Records is the number of newline characters in the entry.
	Records int64  `json:"records"`
	Error   string `json:"error,omitempty"`
}

// LogEntry describes collection.log.
type LogEntry struct {
	ArchivePath string `json:"archive_path"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
}

// Summary counts the file entries. An entry whose read failed part way has
// both content and an error, so it counts as collected and as failed.
type Summary struct {
	FilesCollected int64 `json:"files_collected"`
	FilesSkipped   int64 `json:"files_skipped"`
	FilesFailed    int64 `json:"files_failed"`
	BytesCollected int64 `json:"bytes_collected"`
}

// Package is a finished evidence package on disk.
type Package struct {
	Path     string
	Size     int64
	SHA256   string
	Manifest *Manifest
}

// ErrNotPackage is returned when a file is not an evidence package, for
// example because its first entry is not manifest.json.
var ErrNotPackage = errors.New("not an evidence package")

func summarize(files []FileEntry) Summary {
	var s Summary
	for i := range files {
		e := &files[i]
		if e.ArchivePath != "" {
			s.FilesCollected++
			s.BytesCollected += e.Size
		}
		if e.Skipped != "" {
			s.FilesSkipped++
		}
		if e.Error != "" {
			s.FilesFailed++
		}
	}
	return s
}

// ReadManifest reads manifest.json from the package at path. It decompresses
// only the start of the package, because the manifest is the first entry.
func ReadManifest(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open package: %w", err)
	}
	defer f.Close()

	zr, err := zstd.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", path, err)
	}
	defer zr.Close()

	return readManifestEntry(tar.NewReader(zr), path)
}

func readManifestEntry(tr *tar.Reader, path string) (*Manifest, error) {
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("read first entry of %s: %w", path, err)
	}
	if hdr.Name != ManifestName {
		return nil, fmt.Errorf("%w: %s starts with %q, expected %q", ErrNotPackage, path, hdr.Name, ManifestName)
	}

	var m Manifest
	if err := json.NewDecoder(io.LimitReader(tr, hdr.Size)).Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: decode %s in %s: %v", ErrNotPackage, ManifestName, path, err)
	}
	return &m, nil
}
