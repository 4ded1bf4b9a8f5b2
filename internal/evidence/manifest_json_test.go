package evidence

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fullEntry returns a FileEntry with every field set, so that a field that
// appendFileEntry omits shows up as a difference.
func fullEntry(t *testing.T) FileEntry {
	t.Helper()
	var e FileEntry
	v := reflect.ValueOf(&e).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		switch f.Interface().(type) {
		case string:
			f.SetString(name + " \"quoted\" back\\slash new\nline tab\t ctl\x01 é <&> bad\xff")
		case int64:
			f.SetInt(int64(1000 + i))
		case uint64:
			f.SetUint(uint64(2000 + i))
		case *uint32:
			n := uint32(3000 + i)
			f.Set(reflect.ValueOf(&n))
		case *int64:
			n := int64(4000 + i)
			f.Set(reflect.ValueOf(&n))
		case time.Time:
			f.Set(reflect.ValueOf(time.Date(2025, 1, 2, 3, 4, 5, 600+i, time.UTC)))
		case []string:
			f.Set(reflect.ValueOf([]string{"a", "b\"c"}))
		default:
			t.Fatalf("FileEntry.%s has type %s, which fullEntry does not set: extend it and appendFileEntry", name, f.Type())
		}
	}
	return e
}

func decodeAny(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, data)
	}
	return v
}

func TestEncodeManifestMatchesJSON(t *testing.T) {
	m := newManifest(testHeader())
	m.FinishedAt = time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	m.Files = []FileEntry{fullEntry(t), {Path: "/minimal", Type: TypeDir}, {Path: "/zero-uid", Type: TypeFile, UID: new(uint32)}}
	m.Live = []LiveEntry{{Collector: "p", ArchivePath: "live/p.jsonl", Size: 3, SHA256: "ab", Records: 1, Error: "x"}}
	m.Log = LogEntry{ArchivePath: LogName, Size: 1, SHA256: "cd"}
	m.Summary = Summary{FilesCollected: 1, FilesSkipped: 2, FilesFailed: 3, BytesCollected: 4}

	got, err := encodeManifest(&m)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(decodeAny(t, want), decodeAny(t, got)); diff != "" {
		t.Errorf("decoded manifest differs from encoding/json's (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(string(got), "{\n  \"format_version\": 1,\n") {
		t.Errorf("manifest is not indented:\n%.200s", got)
	}

	var back Manifest
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.Files[2].UID == nil || *back.Files[2].UID != 0 {
		t.Errorf("uid 0 was dropped: %v", back.Files[2].UID)
	}
}

func TestEncodeManifestEmpty(t *testing.T) {
	m := newManifest(Header{})
	got, err := encodeManifest(&m)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(decodeAny(t, want), decodeAny(t, got)); diff != "" {
		t.Errorf("decoded manifest differs (-want +got):\n%s", diff)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("plain")
	f.Add("quote\" back\\ nl\n ctl\x00\x1f del\x7f é \xff\xfe \u2028")
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("appendJSONString(%q) = %s is invalid JSON: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Fatalf("appendJSONString(%q) decodes to %q, encoding/json gives %q", s, back, wantBack)
		}
	})
}
