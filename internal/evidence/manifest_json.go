package evidence

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// encodeManifest returns m as indented JSON. The file entries are encoded
// by hand because encoding/json spends several microseconds on each, which
// adds up to a large part of Close for packages with many small files.
// TestEncodeManifestMatchesJSON checks that the result decodes to the same
// value as json.MarshalIndent's.
func encodeManifest(m *Manifest) ([]byte, error) {
	b := make([]byte, 0, 4096+len(m.Files)*512)
	b = append(b, "{\n"...)

	var err error
	field := func(name string, v any, last bool) {
		if err != nil {
			return
		}
		var data []byte
		data, err = json.MarshalIndent(v, "  ", "  ")
		b = append(b, `  "`...)
		b = append(b, name...)
		b = append(b, `": `...)
		b = append(b, data...)
		if !last {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	field("format_version", m.FormatVersion, false)
	field("task_id", m.TaskID, false)
	field("assignment_id", m.AssignmentID, false)
	field("trigger", m.Trigger, false)
	field("profile", m.Profile, false)
	field("responder", m.Responder, false)
	field("root", m.Root, false)
	field("started_at", m.StartedAt, false)
	field("finished_at", m.FinishedAt, false)
	if err != nil {
		return nil, err
	}

	b = append(b, `  "files": [`...)
	for i := range m.Files {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n    "...)
		b = appendFileEntry(b, &m.Files[i])
	}
	if len(m.Files) > 0 {
		b = append(b, "\n  "...)
	}
	b = append(b, "],\n"...)

	field("live", m.Live, false)
	field("log", m.Log, false)
	field("summary", m.Summary, true)
	if err != nil {
		return nil, err
	}
	return append(b, "}\n"...), nil
}

// appendFileEntry appends e as a JSON object indented for its place in the
// files array, with the same field names and omission rules as its struct
// tags.
func appendFileEntry(b []byte, e *FileEntry) []byte {
	const indent = "\n      "
	b = append(b, '{')
	sep := func() { b = append(b, indent...) }
	str := func(name, v string, always bool) {
		if v == "" && !always {
			return
		}
		sep()
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `": `...)
		b = appendJSONString(b, v)
		b = append(b, ',')
	}
	num := func(name string, v int64) {
		sep()
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `": `...)
		b = strconv.AppendInt(b, v, 10)
		b = append(b, ',')
	}
	tm := func(name string, t time.Time) {
		if t.IsZero() {
			return
		}
		sep()
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `": "`...)
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}

	str("path", e.Path, true)
	str("path_raw_base64", e.PathRawBase64, false)
	str("matched_as", e.MatchedAs, false)
	str("archive_path", e.ArchivePath, false)
	str("type", e.Type, true)
	num("size", e.Size)
	str("mode", e.Mode, false)
	str("mode_octal", e.ModeOctal, false)
	if e.UID != nil {
		num("uid", int64(*e.UID))
	}
	if e.GID != nil {
		num("gid", int64(*e.GID))
	}
	str("owner", e.Owner, false)
	str("group", e.Group, false)
	if e.Inode != 0 {
		sep()
		b = append(b, `"inode": `...)
		b = strconv.AppendUint(b, e.Inode, 10)
		b = append(b, ',')
	}
	tm("mtime", e.Mtime)
	tm("atime", e.Atime)
	tm("ctime", e.Ctime)
	tm("btime", e.Btime)
	str("sha256", e.SHA256, false)
	str("link_target", e.LinkTarget, false)
	str("link_target_raw_base64", e.LinkTargetRawBase64, false)
	str("link_resolved", e.LinkResolved, false)
	if len(e.Flags) > 0 {
		sep()
		b = append(b, `"flags": [`...)
		for i, f := range e.Flags {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        "...)
			b = appendJSONString(b, f)
		}
		b = append(b, "\n      ],"...)
	}
	if e.SizeAtEnd != nil {
		num("size_at_end", *e.SizeAtEnd)
	}
	str("skipped", e.Skipped, false)
	str("error", e.Error, false)

	// Every entry has a path, so a trailing comma is always there to drop.
	b = b[:len(b)-1]
	return append(b, "\n    }"...)
}

// appendJSONString appends s as a JSON string. Like encoding/json, it
// replaces invalid UTF-8 with U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
