package files

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// ErrInvalidPattern is returned for a pattern that cannot be used.
var ErrInvalidPattern = errors.New("invalid file pattern")

// maxExpansions bounds the patterns that brace alternatives of one pattern
// may expand to, so that a pattern such as "{a,b}{c,d}..." repeated cannot
// exhaust memory.
const maxExpansions = 4096

type segmentKind int

const (
	segLiteral    segmentKind = iota // matches one element by equality
	segGlob                          // matches one element with doublestar.Match
	segDoubleStar                    // "**": matches zero or more elements
)

type segment struct {
	kind segmentKind
	text string
}

// ValidatePattern checks that p is an absolute doublestar pattern without
// ".." elements.
func ValidatePattern(p string) error {
	_, err := parsePattern(p)
	return err
}

// parsePattern expands the brace alternatives of p and splits each
// expansion into segments.
func parsePattern(p string) ([][]segment, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%w %q: must be an absolute path starting with /", ErrInvalidPattern, p)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return nil, fmt.Errorf("%w %q: contains a NUL byte, which no path can", ErrInvalidPattern, p)
	}
	if !doublestar.ValidatePattern(p) {
		return nil, fmt.Errorf("%w %q: unbalanced brackets or braces, or a trailing backslash", ErrInvalidPattern, p)
	}
	expanded, err := expandBraces(p, 0)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrInvalidPattern, p, err)
	}

	var out [][]segment
	for _, e := range expanded {
		segs, err := splitSegments(e)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrInvalidPattern, p, err)
		}
		out = append(out, segs)
	}
	return out, nil
}

func splitSegments(p string) ([]segment, error) {
	var segs []segment
	for _, part := range strings.Split(p, "/") {
		switch {
		case part == "" || part == ".":
			continue
		case part == "..":
			return nil, errors.New(`".." elements are not allowed`)
		case part == "**":
			if len(segs) > 0 && segs[len(segs)-1].kind == segDoubleStar {
				continue
			}
			segs = append(segs, segment{kind: segDoubleStar, text: part})
		case strings.ContainsAny(part, `*?[\`):
			segs = append(segs, segment{kind: segGlob, text: part})
		default:
			segs = append(segs, segment{kind: segLiteral, text: part})
		}
	}
	return segs, nil
}

// expandBraces returns every pattern that the brace alternatives in p stand
// for, in order: "/{a,b}/c" gives "/a/c" and "/b/c". Escaped braces and
// commas are kept as they are.
func expandBraces(p string, depth int) ([]string, error) {
	if depth > 32 {
		return nil, errors.New("braces nested too deep")
	}
	open, closing, alts := firstBraceGroup(p)
	if open < 0 {
		return []string{p}, nil
	}

	prefix, suffix := p[:open], p[closing+1:]
	var out []string
	for _, alt := range alts {
		more, err := expandBraces(prefix+alt+suffix, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
		if len(out) > maxExpansions {
			return nil, fmt.Errorf("brace alternatives expand to more than %d patterns", maxExpansions)
		}
	}
	return out, nil
}

// firstBraceGroup finds the first unescaped top-level "{...}" in p and
// splits its content at top-level commas. open is -1 when there is none.
func firstBraceGroup(p string) (open, closing int, alts []string) {
	open = -1
	depth := 0
	start := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '[':
			// A bracket expression is matched by doublestar; braces and
			// commas in it are literal.
			if j := strings.IndexByte(p[i+1:], ']'); j >= 0 {
				i += j + 1
			}
		case '{':
			if depth == 0 {
				open, start = i, i+1
			}
			depth++
		case ',':
			if depth == 1 {
				alts = append(alts, p[start:i])
				start = i + 1
			}
		case '}':
			if depth == 0 {
				continue
			}
			depth--
			if depth == 0 {
				return open, i, append(alts, p[start:i])
			}
		}
	}
	return -1, -1, nil
}
