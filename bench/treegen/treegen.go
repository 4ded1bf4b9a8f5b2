// Package treegen writes the deterministic file tree that the evidence
// pipeline benchmark collects: syslog-like text logs, SQLite-like page
// files and random bytes, in fixed shares of the total size.
//
// The same Spec always produces the same paths and bytes, on any machine,
// so results from different runs and hosts collect identical input.
package treegen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// Version changes whenever the generated content changes, so that Ensure
// never reuses a tree written by an older generator.
const Version = 1

// PageSize is the page size of the SQLite-like files. Their sizes are
// multiples of it.
const PageSize = 4096

// MinAverageFileSize is the smallest Size/Files that Validate accepts. It
// leaves room for at least one page in every SQLite-like file.
const MinAverageFileSize = 8 << 10

// Kind is the content type of a generated file.
type Kind string

const (
	// KindLog is syslog-like text; zstd compresses it well.
	KindLog Kind = "log"
	// KindSQLite is 4 KiB pages with B-tree page headers and records drawn
	// from a small vocabulary; zstd compresses it somewhat.
	KindSQLite Kind = "sqlite"
	// KindRandom is random bytes, which do not compress.
	KindRandom Kind = "random"
)

// Kinds lists every Kind in the order the byte budget is split.
var Kinds = []Kind{KindLog, KindSQLite, KindRandom}

// shares is the fraction of the total size, and of the file count, that
// each kind gets.
var shares = map[Kind]float64{KindLog: 0.4, KindSQLite: 0.3, KindRandom: 0.3}

// ErrInvalidSpec is returned for a Spec that cannot produce a tree.
var ErrInvalidSpec = errors.New("invalid tree spec")

// Spec describes a tree.
type Spec struct {
	// Size is the total size of all files in bytes.
	Size int64 `json:"size"`
	// Files is the number of files.
	Files int `json:"files"`
	// Seed selects the content; the same seed gives the same bytes.
	Seed uint64 `json:"seed"`
}

// Validate returns an error wrapping ErrInvalidSpec when s cannot produce
// a tree.
func (s Spec) Validate() error {
	if s.Files < len(Kinds) {
		return fmt.Errorf("%w: %d files; use at least %d, one of each kind", ErrInvalidSpec, s.Files, len(Kinds))
	}
	if s.Size/int64(s.Files) < MinAverageFileSize {
		return fmt.Errorf("%w: %d bytes in %d files is less than %d bytes per file; raise the size or lower the file count", ErrInvalidSpec, s.Size, s.Files, MinAverageFileSize)
	}
	return nil
}

// File is one planned file.
type File struct {
	// Path is relative to the tree directory and uses "/".
	Path string
	Kind Kind
	Size int64
	// Index is the file's position in the plan; it seeds the content.
	Index int
}

// Plan returns the files of s in a fixed order. The sizes add up to
// s.Size exactly. Each kind gets its share of the file count (every tenth
// file cycles through 4 logs, 3 SQLite-like files and 3 random files) and
// of the bytes. Within a kind, sizes are log-uniform over a 64:1 range.
func Plan(s Spec) ([]File, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x706c616e)) // "plan"

	files := make([]File, s.Files)
	weights := make([]float64, s.Files)
	byKind := make(map[Kind][]int)
	for i := range files {
		kind := kindOf(i)
		files[i] = File{Path: pathOf(kind, i), Kind: kind, Index: i}
		weights[i] = math.Exp(rng.Float64() * math.Log(64))
		byKind[kind] = append(byKind[kind], i)
	}

	var assigned int64
	for _, kind := range Kinds {
		budget := int64(float64(s.Size) * shares[kind])
		if kind == KindRandom {
			// Random files take whatever is left, so the total is exact.
			budget = s.Size - assigned
		}
		assigned += distribute(files, weights, byKind[kind], budget, kind)
	}
	return files, nil
}

// distribute sets the sizes of the files at indexes in proportion to their
// weights so that they add up to budget, and returns the bytes assigned.
// SQLite-like sizes are rounded to the nearest whole page, and the random
// files, planned last, get the difference. The last random file absorbs
// all rounding.
func distribute(files []File, weights []float64, indexes []int, budget int64, kind Kind) int64 {
	var sum float64
	for _, i := range indexes {
		sum += weights[i]
	}

	var total int64
	for n, i := range indexes {
		size := int64(float64(budget) * weights[i] / sum)
		switch kind {
		case KindSQLite:
			size = max((size+PageSize/2)/PageSize, 1) * PageSize
		case KindRandom:
			if n == len(indexes)-1 {
				size = budget - total
			}
		}
		files[i].Size = max(size, 1)
		total += files[i].Size
	}
	return total
}

func kindOf(i int) Kind {
	switch r := i % 10; {
	case r < 4:
		return KindLog
	case r < 7:
		return KindSQLite
	default:
		return KindRandom
	}
}

var (
	logNames = []string{"syslog", "auth.log", "kern.log", "daemon.log", "nginx-access.log"}
	dbNames  = []string{"History", "Cookies", "places.sqlite", "index.db", "cache.db"}
)

func pathOf(kind Kind, i int) string {
	switch kind {
	case KindLog:
		return fmt.Sprintf("var/log/host%02d/%s.%d", i%20, logNames[i%len(logNames)], i)
	case KindSQLite:
		return fmt.Sprintf("home/user%02d/.local/share/app%d/%s.%d", i%20, i%7, dbNames[i%len(dbNames)], i)
	default:
		return fmt.Sprintf("home/user%02d/Downloads/blob-%05d.bin", i%20, i)
	}
}

// KindStats counts the files and bytes of one kind.
type KindStats struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// Stats describes a written tree.
type Stats struct {
	Spec    Spec               `json:"spec"`
	Version int                `json:"version"`
	Files   int                `json:"files"`
	Bytes   int64              `json:"bytes"`
	ByKind  map[Kind]KindStats `json:"by_kind"`
	// Reused reports that Ensure found a matching tree and wrote nothing.
	Reused bool `json:"-"`
}

// statsOf sums a plan.
func statsOf(s Spec, files []File) Stats {
	st := Stats{Spec: s, Version: Version, ByKind: make(map[Kind]KindStats)}
	for _, f := range files {
		st.Files++
		st.Bytes += f.Size
		k := st.ByKind[f.Kind]
		k.Files++
		k.Bytes += f.Size
		st.ByKind[f.Kind] = k
	}
	return st
}

// Ensure makes dir contain exactly the tree of s. When the stamp file
// dir+".json" records the same spec and generator version and every
// planned file exists with its planned size, it reuses the tree. Otherwise
// it removes dir, writes the tree and then the stamp. The stamp lies
// outside dir, so collecting dir never includes it.
func Ensure(dir string, s Spec) (Stats, error) {
	files, err := Plan(s)
	if err != nil {
		return Stats{}, err
	}
	want := statsOf(s, files)
	stamp := dir + ".json"

	if reusable(dir, stamp, want, files) {
		want.Reused = true
		return want, nil
	}

	if err := os.Remove(stamp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Stats{}, fmt.Errorf("remove tree stamp: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return Stats{}, fmt.Errorf("remove old tree %s: %w", dir, err)
	}
	for _, f := range files {
		if err := writeFile(dir, s.Seed, f); err != nil {
			return Stats{}, err
		}
	}

	raw, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		return Stats{}, err
	}
	if err := os.WriteFile(stamp, append(raw, '\n'), 0o644); err != nil {
		return Stats{}, fmt.Errorf("write tree stamp: %w", err)
	}
	return want, nil
}

// reusable reports whether dir already contains the planned files, as
// recorded in its stamp.
func reusable(dir, stamp string, want Stats, files []File) bool {
	raw, err := os.ReadFile(stamp)
	if err != nil {
		return false
	}
	var have Stats
	if err := json.Unmarshal(raw, &have); err != nil {
		return false
	}
	if have.Spec != want.Spec || have.Version != want.Version || have.Bytes != want.Bytes || have.Files != want.Files {
		return false
	}
	for _, f := range files {
		info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil || !info.Mode().IsRegular() || info.Size() != f.Size {
			return false
		}
	}
	return true
}
