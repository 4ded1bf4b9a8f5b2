// Package profile loads acquisition profiles: named lists of file globs
// and live collectors, per operating system, that a responder collects
// into an evidence package.
//
// Profiles are YAML files. The built-in ones are embedded from
// builtin/*.yaml; Load adds the profiles of a directory and lets them
// replace built-ins of the same name. A file looks like this:
//
//	name: Browsing History
//	description: Browser history of every user.
//	os:
//	  linux:
//	    files: ["/home/*/.mozilla/firefox/*/places.sqlite{,-wal}"]
//	    live: [processes]
//
// File patterns are absolute paths inside the collection root in the
// syntax of github.com/bmatcuk/doublestar/v4: "*" matches within one path
// element, "**" any number of elements, "{a,b}" either alternative. They
// always use "/" as the separator; Windows patterns start with a drive
// letter ("C:/Users/*/NTUSER.DAT") or "/". Live names are those of
// live.Names.
package profile

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

var (
	// ErrUnknownProfile is returned by Catalog.Get for a name that no
	// profile has.
	ErrUnknownProfile = errors.New("unknown acquisition profile")
	// ErrInvalidProfile is returned by Load and Builtin for a profile file
	// that cannot be parsed or fails validation.
	ErrInvalidProfile = errors.New("invalid acquisition profile")
)

// Profile is one acquisition profile.
type Profile struct {
	// Name identifies the profile. Lookups ignore case.
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// OS maps a GOOS value ("linux", "windows", "darwin") to what to
	// collect on that operating system.
	OS map[string]OSSpec `yaml:"os"`
}

// OSSpec lists the files and live collectors of a profile for one
// operating system.
type OSSpec struct {
	// Files are absolute doublestar patterns of files to copy.
	Files []string `yaml:"files"`
	// Live are the names of live collectors to run.
	Live []string `yaml:"live"`
}

// For returns what p collects on goos, and false when p has nothing for
// that operating system.
func (p Profile) For(goos string) (OSSpec, bool) {
	spec, ok := p.OS[goos]
	if !ok {
		return OSSpec{}, false
	}
	return OSSpec{Files: slices.Clone(spec.Files), Live: slices.Clone(spec.Live)}, true
}

// clone returns a deep copy of p, so callers cannot change a catalog
// through the slices and maps of a returned profile.
func (p Profile) clone() Profile {
	out := p
	out.OS = make(map[string]OSSpec, len(p.OS))
	for goos, spec := range p.OS {
		out.OS[goos] = OSSpec{Files: slices.Clone(spec.Files), Live: slices.Clone(spec.Live)}
	}
	return out
}

// Catalog is a set of profiles with unique names, ignoring case. It is
// not modified after Builtin or Load returns it, so it is safe for
// concurrent use.
type Catalog struct {
	// profiles is keyed by the lower-case profile name.
	profiles map[string]entry
}

// entry is a profile with the file it was loaded from.
type entry struct {
	profile Profile
	source  string
}

// catalogKey returns the key of name in Catalog.profiles.
func catalogKey(name string) string {
	return strings.ToLower(name)
}

// Get returns the profile with the given name, ignoring case. For an
// unknown name it returns an error wrapping ErrUnknownProfile that lists
// the available names.
func (c *Catalog) Get(name string) (Profile, error) {
	e, ok := c.profiles[catalogKey(name)]
	if !ok {
		return Profile{}, fmt.Errorf("%w %q; available profiles: %s", ErrUnknownProfile, name, strings.Join(c.Names(), ", "))
	}
	return e.profile.clone(), nil
}

// Names returns the names of all profiles, sorted ignoring case.
func (c *Catalog) Names() []string {
	keys := slices.Sorted(maps.Keys(c.profiles))
	names := make([]string, 0, len(keys))
	for _, key := range keys {
		names = append(names, c.profiles[key].profile.Name)
	}
	return names
}
