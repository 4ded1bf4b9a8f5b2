package evidence

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"unicode/utf8"
)

// maxComponent is the longest path component, in bytes, that an archive path
// may contain. It is NAME_MAX on Linux and the limit of most file systems that
// packages are extracted onto.
const maxComponent = 255

// shortSuffixLen is the length of the "~" plus 16 hex digits appended to a
// shortened component.
const shortSuffixLen = 1 + 16

const hexDigits = "0123456789ABCDEF"

// DisplayPath returns raw as a valid UTF-8 string for the manifest. When raw
// is not valid UTF-8, each invalid byte becomes \xNN and rawBase64 holds the
// standard base64 of raw, so the original bytes can be recovered.
func DisplayPath(raw string) (display, rawBase64 string) {
	if utf8.ValidString(raw) {
		return raw, ""
	}

	var b strings.Builder
	b.Grow(len(raw) + 8)
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRuneInString(raw[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\x%02x`, raw[i])
		} else {
			b.WriteString(raw[i : i+size])
		}
		i += size
	}
	return b.String(), base64.StdEncoding.EncodeToString([]byte(raw))
}

// RawPath returns the original bytes of e.Path, decoding PathRawBase64 when
// it is set.
func (e *FileEntry) RawPath() (string, error) {
	if e.PathRawBase64 == "" {
		return e.Path, nil
	}
	raw, err := base64.StdEncoding.DecodeString(e.PathRawBase64)
	if err != nil {
		return "", fmt.Errorf("decode path_raw_base64 of %q: %w", e.Path, err)
	}
	return string(raw), nil
}

// SetPath sets Path and PathRawBase64 from the raw path bytes.
func (e *FileEntry) SetPath(raw string) {
	e.Path, e.PathRawBase64 = DisplayPath(raw)
}

// SetLinkTarget sets LinkTarget and LinkTargetRawBase64 from the raw
// symlink content.
func (e *FileEntry) SetLinkTarget(raw string) {
	e.LinkTarget, e.LinkTargetRawBase64 = DisplayPath(raw)
}

// ArchivePath returns the tar entry name for the file at the absolute, clean
// path raw: "files/" followed by raw without its leading slash. A component
// that is not valid UTF-8 or that holds an ASCII control character has each
// such byte written as %XX and each literal '%' as %25; other components are
// kept as they are. A component
// longer than 255 bytes after escaping is cut and ends in "~" plus the first
// 16 hex digits of the SHA-256 of the raw component.
func ArchivePath(raw string) (string, error) {
	if !path.IsAbs(raw) || path.Clean(raw) != raw || raw == "/" {
		return "", fmt.Errorf("invalid file path %q: must be absolute and clean, and not the root", raw)
	}

	var b strings.Builder
	b.Grow(len(FilesPrefix) + len(raw))
	b.WriteString(FilesPrefix)
	for i, comp := range strings.Split(raw[1:], "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(archiveComponent(comp))
	}
	return b.String(), nil
}

func archiveComponent(raw string) string {
	escaped := raw
	if needsEscape(raw) {
		escaped = escapeComponent(raw)
	}
	if len(escaped) <= maxComponent {
		return escaped
	}
	return shortenComponent(escaped, raw)
}

// needsEscape reports whether a component must be escaped: when it is not
// valid UTF-8, or when it holds an ASCII control character such as a
// newline, which would break line-based tools like sha256sum -c.
func needsEscape(comp string) bool {
	for i := 0; i < len(comp); i++ {
		if comp[i] < 0x20 || comp[i] == 0x7f {
			return true
		}
	}
	return !utf8.ValidString(comp)
}

func escapeComponent(raw string) string {
	var b strings.Builder
	b.Grow(len(raw) + 16)
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRuneInString(raw[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f:
			c := raw[i]
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0x0f])
		case r == '%':
			b.WriteString("%25")
		default:
			b.WriteString(raw[i : i+size])
		}
		i += size
	}
	return b.String()
}

// shortenComponent cuts escaped to fit maxComponent bytes including the hash
// suffix of the raw component.
func shortenComponent(escaped, raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return cutComponent(escaped, maxComponent-shortSuffixLen) + "~" + hex.EncodeToString(sum[:8])
}

// cutComponent returns the longest prefix of s of at most n bytes that splits
// neither a UTF-8 sequence nor a %XX escape.
func cutComponent(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	start := max(0, cut-2)
	if i := strings.LastIndexByte(s[start:cut], '%'); i >= 0 {
		cut = start + i
	}
	return s[:cut]
}

// TypeOf returns the FileEntry.Type for a file mode.
func TypeOf(m fs.FileMode) string {
	switch m.Type() {
	case 0:
		return TypeFile
	case fs.ModeDir:
		return TypeDir
	case fs.ModeSymlink:
		return TypeSymlink
	case fs.ModeNamedPipe:
		return TypeFIFO
	case fs.ModeSocket:
		return TypeSocket
	case fs.ModeDevice:
		return TypeBlockDevice
	case fs.ModeDevice | fs.ModeCharDevice:
		return TypeCharDevice
	default:
		return TypeOther
	}
}

// ModeString returns m the way ls -l prints it, for example "-rw-r--r--" or
// "drwxrwxrwt", and the Unix octal mode with the setuid, setgid and sticky
// bits, for example "0644" or "1777".
func ModeString(m fs.FileMode) (str, octal string) {
	var b [10]byte
	b[0] = typeChar(m)
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			b[i+1] = rwx[i]
		} else {
			b[i+1] = '-'
		}
	}
	special := []struct {
		bit        fs.FileMode
		pos        int
		set, unset byte
	}{
		{fs.ModeSetuid, 3, 's', 'S'},
		{fs.ModeSetgid, 6, 's', 'S'},
		{fs.ModeSticky, 9, 't', 'T'},
	}
	for _, s := range special {
		if m&s.bit == 0 {
			continue
		}
		if b[s.pos] == '-' {
			b[s.pos] = s.unset
		} else {
			b[s.pos] = s.set
		}
	}
	return string(b[:]), fmt.Sprintf("%04o", UnixMode(m)&0o7777)
}

// UnixMode returns the permission bits of m with the setuid, setgid and
// sticky bits at their Unix positions.
func UnixMode(m fs.FileMode) uint32 {
	mode := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

func typeChar(m fs.FileMode) byte {
	switch TypeOf(m) {
	case TypeFile:
		return '-'
	case TypeDir:
		return 'd'
	case TypeSymlink:
		return 'l'
	case TypeFIFO:
		return 'p'
	case TypeSocket:
		return 's'
	case TypeCharDevice:
		return 'c'
	case TypeBlockDevice:
		return 'b'
	default:
		return '?'
	}
}
