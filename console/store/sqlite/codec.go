package sqlite

import (
	"encoding/json"
	"fmt"
	"time"
)

// scanner is the Scan method shared by *sql.Row and *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// toMillis converts t to unix milliseconds, with 0 for the zero time.
// NOTE: 1970-01-01T00:00:00Z itself also becomes 0 and reads back as the
// zero time.
func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of toMillis and returns UTC times.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// encodeList returns l as a JSON array; nil becomes "[]".
// NOTE: json.Marshal replaces invalid UTF-8 with U+FFFD, so such a string
// does not read back byte for byte.
func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

// decodeList parses a JSON array written by encodeList; an empty array
// becomes nil.
func decodeList(column, s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("decode column %s: %w", column, err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// blob returns b, or an empty slice when b is nil, because the hash
// columns are NOT NULL and the driver binds a nil slice as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
