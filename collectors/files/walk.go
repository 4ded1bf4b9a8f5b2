package files

import (
	"errors"
	"io/fs"
	"sort"

	"github.com/bmatcuk/doublestar/v4"
	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/magpie-ir/magpie/internal/evidence"
)

// walk records n when a pattern is complete at it, then descends into n,
// or into the directory a symlink n points to, for the states that need
// more path elements. states must be closed (see closure).
func (c *collector) walk(n *node, states []state) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}

	final := false
	var active []state
	for _, s := range states {
		if s.seg == len(c.patterns[s.pat]) {
			final = true
		} else {
			active = append(active, s)
		}
	}

	dir := c.descendInto(n, active)
	var dirID fileID
	loop := false
	if dir != nil {
		dirID = idOf(dir.st, dir.real)
		loop = c.ancestors[dirID] > 0
		active = c.filterVisited(dirID, active, loop)
	}

	// List before recording, so that a directory that cannot be listed is
	// recorded once, with the error.
	var names []string
	if dir != nil && len(active) > 0 {
		var err error
		names, err = c.childNames(dir, active)
		if err != nil {
			if err := c.recordDirError(dir, err); err != nil {
				return err
			}
		}
	}

	if final {
		if err := c.record(n); err != nil {
			return err
		}
	} else if loop && n.st.mode.Type() == fs.ModeSymlink {
		// The symlink was not matched itself, but the manifest must show
		// why the walk did not go through it.
		if err := c.recordSymlink(n, false); err != nil {
			return err
		}
	}
	if len(names) == 0 {
		return nil
	}

	c.ancestors[dirID]++
	defer func() { c.ancestors[dirID]-- }()
	for _, name := range names {
		next := c.step(active, name)
		if len(next) == 0 {
			continue
		}
		if err := c.walkChild(n, dir, name, c.closure(next)); err != nil {
			return err
		}
	}
	return nil
}

func (c *collector) walkChild(parent, dir *node, name string, states []state) error {
	logical := childPath(parent.logical, name)
	real := childPath(dir.real, name)
	child, err := c.lstatNode(logical, real)
	if isNotExist(err) {
		return nil
	}
	if err != nil {
		return c.recordError(logical, real, "lstat", err)
	}
	return c.walk(child, states)
}

// descendInto returns the directory to list for n: n itself, the target of
// a symlink n, or nil when there is nothing to descend into.
func (c *collector) descendInto(n *node, active []state) *node {
	if len(active) == 0 {
		return nil
	}
	switch {
	case n.st.mode.IsDir():
		return n
	case n.st.mode.Type() == fs.ModeSymlink:
		c.resolve(n)
		if n.target != nil && n.target.st.mode.IsDir() {
			return &node{logical: n.logical, real: n.target.real, st: n.target.st}
		}
	}
	return nil
}

// filterVisited drops the "**" states that already walked the directory id
// and, when the directory is its own ancestor on this route, every "**"
// state: following them would repeat the walk without end. States with a
// fixed number of remaining elements are kept, because they end anyway.
func (c *collector) filterVisited(id fileID, active []state, loop bool) []state {
	kept := active[:0:0]
	for _, s := range active {
		if c.patterns[s.pat][s.seg].kind != segDoubleStar {
			kept = append(kept, s)
			continue
		}
		if loop {
			continue
		}
		key := visitKey{id: id, state: s}
		if _, done := c.visited[key]; done {
			continue
		}
		c.visited[key] = struct{}{}
		kept = append(kept, s)
	}
	return kept
}

// childNames returns the names in dir that the active states may match, in
// byte order. It lists the directory only when a state has a glob or "**"
// segment; literal segments are looked up directly.
func (c *collector) childNames(dir *node, active []state) ([]string, error) {
	literal := make(map[string]struct{})
	for _, s := range active {
		seg := c.patterns[s.pat][s.seg]
		if seg.kind != segLiteral {
			return c.readDirNames(c.hostPath(dir.real))
		}
		literal[seg.text] = struct{}{}
	}
	names := make([]string, 0, len(literal))
	for name := range literal {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

func (c *collector) readDirNames(path string) ([]string, error) {
	f, err := c.open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	// Readdirnames returns the names read before an error, so a directory
	// that fails part way still gives what it could.
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

// step returns the states that follow active for a child called name.
func (c *collector) step(active []state, name string) []state {
	var next []state
	for _, s := range active {
		seg := c.patterns[s.pat][s.seg]
		switch seg.kind {
		case segLiteral:
			if seg.text == name {
				next = append(next, state{pat: s.pat, seg: s.seg + 1})
			}
		case segGlob:
			// parsePattern checked the pattern with ValidatePattern, and
			// Match fails only for invalid patterns.
			if ok, _ := doublestar.Match(seg.text, name); ok {
				next = append(next, state{pat: s.pat, seg: s.seg + 1})
			}
		case segDoubleStar:
			next = append(next, s)
		}
	}
	return next
}

// errTargetChanged is the resolution error for a symlink whose target was
// itself a symlink after resolution, which only a concurrent change causes.
var errTargetChanged = errors.New("target changed while it was resolved")

// resolve sets n's target fields by resolving the symlink n inside the
// root. A target that does not exist leaves n.target nil with
// n.targetReal set.
func (c *collector) resolve(n *node) {
	if n.resolved {
		return
	}
	n.resolved = true

	host, err := securejoin.SecureJoin(c.root, n.real)
	if err != nil {
		n.resolveErr = err
		return
	}
	n.targetReal = c.insidePath(host)
	st, err := lstat(host)
	switch {
	case isNotExist(err):
		return
	case err != nil:
		n.resolveErr = err
	case st.mode.Type() == fs.ModeSymlink:
		n.resolveErr = errTargetChanged
	default:
		n.target = &node{logical: n.logical, real: n.targetReal, st: st}
	}
}

// isLoop reports whether the symlink n points to a directory on the route
// that reached n, so that following it would walk in a circle.
func (c *collector) isLoop(n *node) bool {
	c.resolve(n)
	if n.target == nil || !n.target.st.mode.IsDir() {
		return false
	}
	return c.ancestors[idOf(n.target.st, n.target.real)] > 0
}

func (c *collector) recordDirError(dir *node, err error) error {
	if _, done := c.seen[dir.real]; done {
		c.w.Logf("files: list %s: %v", dir.real, evidence.ErrorText(err))
		return nil
	}
	c.seen[dir.real] = struct{}{}
	e := c.entry(dir)
	e.Error = "readdir: " + evidence.ErrorText(err)
	return c.add(e)
}
