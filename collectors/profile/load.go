package profile

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/bmatcuk/doublestar/v4"
	"go.yaml.in/yaml/v3"

	"github.com/magpie-ir/magpie/collectors/live"
)

//go:embed builtin/*.yaml
var builtinFiles embed.FS

// supportedOS are the keys allowed under "os" in a profile.
var supportedOS = []string{"darwin", "linux", "windows"}

// builtinCatalog parses the embedded profiles once. The catalog is never
// modified afterwards, so every caller can share it.
var builtinCatalog = sync.OnceValues(func() (*Catalog, error) {
	return loadFS(builtinFiles, "builtin", "builtin")
})

// Builtin returns the profiles embedded in the binary.
func Builtin() (*Catalog, error) {
	return builtinCatalog()
}

// Load returns the built-in profiles plus every *.yaml file in dir, which
// is not searched recursively. A file whose profile name equals a built-in
// one, ignoring case, replaces the built-in profile. With dir "" Load
// returns the built-in profiles only.
//
// The error for an invalid file wraps ErrInvalidProfile and names the
// file, the line and the field.
func Load(dir string) (*Catalog, error) {
	builtin, err := Builtin()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return builtin, nil
	}

	custom, err := loadFS(os.DirFS(dir), ".", dir)
	if err != nil {
		return nil, err
	}

	merged := &Catalog{profiles: maps.Clone(builtin.profiles)}
	maps.Copy(merged.profiles, custom.profiles)
	return merged, nil
}

// loadFS parses every *.yaml file in directory dir of fsys. displayDir
// replaces dir in the file names of error messages.
func loadFS(fsys fs.FS, dir, displayDir string) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read profile directory %s: %w", displayDir, err)
	}

	c := &Catalog{profiles: make(map[string]entry)}
	for _, dirEntry := range entries {
		if dirEntry.IsDir() || !strings.HasSuffix(dirEntry.Name(), ".yaml") {
			continue
		}
		displayName := filepath.Join(displayDir, dirEntry.Name())

		data, err := fs.ReadFile(fsys, path.Join(dir, dirEntry.Name()))
		if err != nil {
			return nil, fmt.Errorf("read profile file %s: %w", displayName, err)
		}
		p, err := parseProfile(data, displayName)
		if err != nil {
			return nil, err
		}

		key := catalogKey(p.Name)
		if previous, ok := c.profiles[key]; ok {
			return nil, invalid(displayName, 0, "name", "profile name %q is already used by %s; rename one of them", p.Name, previous.source)
		}
		c.profiles[key] = entry{profile: p, source: displayName}
	}
	return c, nil
}

// parseProfile decodes and validates one profile file. file is used in
// error messages only.
func parseProfile(data []byte, file string) (Profile, error) {
	// The node tree gives line numbers for validation errors.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Profile{}, invalid(file, 0, "", "%s", yamlErrorText(err))
	}
	if len(root.Content) == 0 {
		return Profile{}, invalid(file, 0, "", "file is empty; it needs at least name and os")
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return Profile{}, invalid(file, 0, "", "%s", yamlErrorText(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Profile{}, invalid(file, extra.Line, "", "file contains more than one YAML document; put each profile in its own file")
	}

	if err := validate(p, &root, file); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// unknownFieldPattern matches the yaml.v3 message for a key that the
// target struct has no field for.
var unknownFieldPattern = regexp.MustCompile(`^line (\d+): field (.+) not found in type .+$`)

// yamlErrorText returns err without the "yaml: " prefix and with unknown
// field messages rephrased without Go type names.
func yamlErrorText(err error) string {
	var typeErr *yaml.TypeError
	if !errors.As(err, &typeErr) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}

	messages := make([]string, 0, len(typeErr.Errors))
	for _, msg := range typeErr.Errors {
		if m := unknownFieldPattern.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("line %s: unknown field %q; valid fields are name, description, os and, per operating system, files and live", m[1], m[2])
		}
		messages = append(messages, msg)
	}
	return strings.Join(messages, "; ")
}

// validate checks the parts of p that decoding does not: required
// fields, operating system names, patterns and live collector names.
func validate(p Profile, root *yaml.Node, file string) error {
	if strings.TrimSpace(p.Name) == "" {
		return invalid(file, lineOf(root, "name"), "name", "missing or empty; every profile needs a name")
	}
	if len(p.OS) == 0 {
		return invalid(file, lineOf(root, "os"), "os", "missing or empty; list what to collect under at least one of %s", strings.Join(supportedOS, ", "))
	}

	liveNames := live.Names()
	for _, goos := range slices.Sorted(maps.Keys(p.OS)) {
		spec := p.OS[goos]
		field := "os." + goos

		if !slices.Contains(supportedOS, goos) {
			return invalid(file, lineOf(root, "os", goos), field, "unsupported operating system %q; use one of %s", goos, strings.Join(supportedOS, ", "))
		}
		if len(spec.Files) == 0 && len(spec.Live) == 0 {
			return invalid(file, lineOf(root, "os", goos), field, "no files and no live collectors; list at least one")
		}

		for i, pattern := range spec.Files {
			if msg := checkPattern(goos, pattern); msg != "" {
				return invalid(file, lineOf(root, "os", goos, "files", i), fmt.Sprintf("%s.files[%d]", field, i), "%s", msg)
			}
		}
		for i, name := range spec.Live {
			itemField := fmt.Sprintf("%s.live[%d]", field, i)
			if !slices.Contains(liveNames, name) {
				return invalid(file, lineOf(root, "os", goos, "live", i), itemField, "unknown live collector %q; use one of %s", name, strings.Join(liveNames, ", "))
			}
			if slices.Index(spec.Live, name) != i {
				return invalid(file, lineOf(root, "os", goos, "live", i), itemField, "live collector %q is listed twice", name)
			}
		}
	}
	return nil
}

// checkPattern returns why pattern is not a valid file pattern for goos,
// or "" when it is valid.
func checkPattern(goos, pattern string) string {
	if pattern == "" {
		return "empty pattern"
	}
	if goos == "windows" && strings.Contains(pattern, `\`) {
		return fmt.Sprintf("pattern %q contains a backslash; use / as the path separator, also on Windows", pattern)
	}
	if !isAbsolutePattern(goos, pattern) {
		if goos == "windows" {
			return fmt.Sprintf("pattern %q is relative; start it with a drive letter such as C:/ or with /", pattern)
		}
		return fmt.Sprintf("pattern %q is relative; start it with /", pattern)
	}
	if !doublestar.ValidatePattern(pattern) {
		return fmt.Sprintf("pattern %q is not a valid glob; check that brackets and braces are closed", pattern)
	}
	if slices.Contains(strings.Split(pattern, "/"), "..") {
		return fmt.Sprintf("pattern %q contains \"..\", which would leave the collection root", pattern)
	}
	return ""
}

// isAbsolutePattern reports whether pattern starts at the root of the
// collection: "/" everywhere, or a drive letter and "/" on Windows.
func isAbsolutePattern(goos, pattern string) bool {
	if strings.HasPrefix(pattern, "/") {
		return true
	}
	if goos != "windows" || len(pattern) < 3 {
		return false
	}
	drive := pattern[0] | 0x20 // lower case for ASCII letters
	return drive >= 'a' && drive <= 'z' && pattern[1] == ':' && pattern[2] == '/'
}

// lineOf returns the line of the element at keys below the document root.
// A string key selects a mapping entry and yields the line of the key. An
// int selects a sequence item and yields its line. When the path ends
// early, lineOf returns the line of the deepest element found, or 0.
func lineOf(root *yaml.Node, keys ...any) int {
	node := root
	if node.Kind == yaml.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}

	line := 0
	for _, key := range keys {
		var next *yaml.Node
		switch k := key.(type) {
		case string:
			if node.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(node.Content); i += 2 {
					if node.Content[i].Value == k {
						line = node.Content[i].Line
						next = node.Content[i+1]
						break
					}
				}
			}
		case int:
			if node.Kind == yaml.SequenceNode && k < len(node.Content) {
				next = node.Content[k]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		node = next
	}
	return line
}

// invalid returns an error wrapping ErrInvalidProfile that names file,
// line (when not 0) and field (when not "").
func invalid(file string, line int, field, format string, args ...any) error {
	var where strings.Builder
	where.WriteString(file)
	if line > 0 {
		fmt.Fprintf(&where, ": line %d", line)
	}
	if field != "" {
		where.WriteString(": " + field)
	}
	return fmt.Errorf("%w %s: %s", ErrInvalidProfile, where.String(), fmt.Sprintf(format, args...))
}
