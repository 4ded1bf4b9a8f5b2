package files

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/magpie-ir/magpie/internal/evidence"
)

// DefaultMaxVirtualFileSize is the cap for files whose stat size is zero
// when Options.MaxVirtualFileSize is zero.
const DefaultMaxVirtualFileSize = 64 << 20

// progressInterval is the minimum time between two Progress calls.
const progressInterval = 100 * time.Millisecond

// Options configures Collect.
type Options struct {
	// Root is the collection root: "/" or an alternate root such as a
	// mounted image or a fixture tree. Every path, including absolute
	// symlink targets, resolves inside it. Empty means "/".
	Root string
	// Patterns are absolute doublestar patterns as seen inside Root, for
	// example "/home/*/.mozilla/firefox/*/places.sqlite*" or "/var/log/**".
	Patterns []string
	// MaxVirtualFileSize caps, in bytes, the content read from files whose
	// stat size is zero, such as those in /proc and /sys. Zero means
	// DefaultMaxVirtualFileSize.
	MaxVirtualFileSize int64
	// Progress, if set, receives running totals of entries recorded and
	// bytes archived, at most every 100 ms and once at the end.
	Progress func(filesDone, bytesRead int64)
}

// testHooks lets tests in this package change how files are opened, to
// cover failures that root's privileges would otherwise hide.
type testHooks struct {
	// open replaces openFile.
	open func(path string) (*os.File, error)
	// afterStat runs after a regular file was opened and its size read,
	// with the host path and the open file.
	afterStat func(path string, f *os.File)
}

// Collect records every path that matches opts.Patterns under opts.Root in
// w, with the content of regular files. Each path is recorded once even
// when several patterns match it. Directories are walked in byte order of
// their names, so the order of entries is deterministic.
//
// Problems with single paths are recorded in the manifest and collection
// goes on. Collect returns an error for invalid options, a missing root, a
// failure to write the package, or the end of ctx (then ctx.Err()).
func Collect(ctx context.Context, opts Options, w *evidence.Writer) error {
	return collect(ctx, opts, w, testHooks{})
}

func collect(ctx context.Context, opts Options, w *evidence.Writer, hooks testHooks) error {
	c, err := newCollector(ctx, opts, w, hooks)
	if err != nil {
		return err
	}

	rootNode, err := c.lstatNode("/", "/")
	if err != nil {
		return fmt.Errorf("collect files: stat root %s: %w", c.root, err)
	}
	if !rootNode.st.mode.IsDir() {
		return fmt.Errorf("collect files: root %s is not a directory", c.root)
	}

	w.Logf("files: collecting %d patterns under root %s", len(opts.Patterns), c.root)
	err = c.walk(rootNode, c.closure(c.startStates()))
	c.reportProgress(true)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if err != nil {
		return fmt.Errorf("collect files: %w", err)
	}
	w.Logf("files: recorded %d entries, archived %d bytes", c.filesDone, c.bytesRead)
	return nil
}

type collector struct {
	ctx      context.Context
	w        *evidence.Writer
	root     string
	patterns [][]segment
	maxVirt  int64
	progress func(filesDone, bytesRead int64)
	hooks    testHooks
	open     func(path string) (*os.File, error)
	ids      idNames

	seen       map[string]struct{}   // real paths already recorded
	visited    map[visitKey]struct{} // directories walked for a "**" state
	ancestors  map[fileID]int        // directories on the current route
	pseudoDevs map[uint64]bool       // devices that hold a pseudo file system

	filesDone    int64
	bytesRead    int64
	lastProgress time.Time
	virtBuf      []byte
}

// state is a position in one expanded pattern: segment seg of pattern pat
// is the next to match.
type state struct {
	pat, seg int
}

type visitKey struct {
	id    fileID
	state state
}

func newCollector(ctx context.Context, opts Options, w *evidence.Writer, hooks testHooks) (*collector, error) {
	if w == nil {
		return nil, errors.New("collect files: evidence writer is nil")
	}
	root, err := cleanRoot(opts.Root)
	if err != nil {
		return nil, err
	}

	c := &collector{
		ctx:        ctx,
		w:          w,
		root:       root,
		maxVirt:    opts.MaxVirtualFileSize,
		progress:   opts.Progress,
		hooks:      hooks,
		open:       openFile,
		seen:       make(map[string]struct{}),
		visited:    make(map[visitKey]struct{}),
		ancestors:  make(map[fileID]int),
		pseudoDevs: make(map[uint64]bool),
	}
	if c.maxVirt <= 0 {
		c.maxVirt = DefaultMaxVirtualFileSize
	}
	if hooks.open != nil {
		c.open = hooks.open
	}

	unique := make(map[string]struct{})
	for _, p := range opts.Patterns {
		expanded, err := parsePattern(p)
		if err != nil {
			return nil, err
		}
		for _, segs := range expanded {
			key := fmt.Sprint(segs)
			if _, dup := unique[key]; dup {
				continue
			}
			unique[key] = struct{}{}
			c.patterns = append(c.patterns, segs)
		}
	}
	c.ids = loadIDNames(root)
	return c, nil
}

// cleanRoot returns root as an absolute, clean path with symlinks in it
// resolved on the host, as securejoin requires.
func cleanRoot(root string) (string, error) {
	if root == "" {
		root = string(filepath.Separator)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("collect files: invalid root %q: %w", root, err)
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("collect files: invalid root %q: %w", root, err)
	}
	return filepath.Clean(resolved), nil
}

// hostPath returns the host path of the inside path p.
func (c *collector) hostPath(p string) string {
	return filepath.Join(c.root, filepath.FromSlash(p))
}

// insidePath returns the inside path of the host path h, which must be
// under the root.
func (c *collector) insidePath(h string) string {
	rel := strings.TrimPrefix(h, c.root)
	rel = filepath.ToSlash(rel)
	if !strings.HasPrefix(rel, "/") {
		rel = "/" + rel
	}
	return rel
}

func (c *collector) startStates() []state {
	states := make([]state, len(c.patterns))
	for i := range c.patterns {
		states[i] = state{pat: i}
	}
	return states
}

// closure adds, for every state at a "**" segment, the state after it,
// because "**" also matches zero elements. It returns the states sorted and
// without duplicates.
func (c *collector) closure(states []state) []state {
	out := make([]state, 0, len(states)+2)
	for _, s := range states {
		out = append(out, s)
		segs := c.patterns[s.pat]
		if s.seg < len(segs) && segs[s.seg].kind == segDoubleStar {
			out = append(out, state{pat: s.pat, seg: s.seg + 1})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].pat != out[j].pat {
			return out[i].pat < out[j].pat
		}
		return out[i].seg < out[j].seg
	})
	return slices.Compact(out)
}

// node is one path reached by the walk.
type node struct {
	logical string // inside path as the patterns reached it
	real    string // inside path without symlink components
	st      fileStat

	// For symlinks, set by resolve: the target inside the root, its real
	// path (also when it does not exist) and the resolution error.
	resolved   bool
	target     *node
	targetReal string
	resolveErr error
}

func (c *collector) lstatNode(logical, real string) (*node, error) {
	st, err := lstat(c.hostPath(real))
	if err != nil {
		return nil, err
	}
	return &node{logical: logical, real: real, st: st}, nil
}

func childPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// isNotExist reports whether err means that a path does not exist, which
// includes a path through a component that is not a directory.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
