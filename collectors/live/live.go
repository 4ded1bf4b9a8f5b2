// Package live implements the live-data collectors of an acquisition
// profile: processes, network sockets, logged-in users, kernel modules and
// mounts, read from the running system rather than from files on disk.
//
// Each collector writes JSON lines (one JSON object per line) to an
// io.Writer. Collectors read the system through an Env, so tests can point
// them at a fixture tree instead of the real /proc. The collectors are
// implemented for Linux only; on other operating systems Lookup still
// returns every collector, and Run returns an error wrapping
// ErrNotSupported.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
)

// ErrNotSupported is returned by Collector.Run on an operating system that
// the collector has no implementation for.
var ErrNotSupported = errors.New("not supported")

// Env is the system a collector reads.
type Env struct {
	// Root is the directory the collectors treat as "/": procfs is read at
	// Root/proc, utmp at Root/run/utmp or Root/var/run/utmp and user names
	// at Root/etc/passwd. Empty means "/".
	Root string
}

// Collector is one live-data collector.
type Collector struct {
	// Name identifies the collector in acquisition profiles, for example
	// "processes".
	Name string
	// Description is a one-line summary for help text and the console.
	Description string
	// Run writes one JSON object per line to w. It returns an error when
	// the data source cannot be read, or after writing the valid records
	// when some lines of the source could not be parsed. The processes
	// collector reports a field it could not read in the record's "error"
	// field instead.
	Run func(ctx context.Context, env Env, w io.Writer) error
}

// collectors lists every collector known on every operating system. The
// run functions are defined in the _linux.go files and as stubs returning
// ErrNotSupported in live_other.go.
var collectors = []Collector{
	{
		Name:        "processes",
		Description: "Running processes with parent, user, start time, command line and SHA-256 of the executable.",
		Run:         collectProcesses,
	},
	{
		Name:        "network_sockets",
		Description: "TCP, UDP and Unix domain sockets with addresses, state and owning process.",
		Run:         collectNetworkSockets,
	},
	{
		Name:        "logged_in_users",
		Description: "User login sessions recorded in utmp, with terminal, remote host and login time.",
		Run:         collectLoggedInUsers,
	},
	{
		Name:        "kernel_modules",
		Description: "Loaded kernel modules with size, reference count, dependents, state and address.",
		Run:         collectKernelModules,
	},
	{
		Name:        "mounts",
		Description: "Mounted file systems with device, mount point, type and options.",
		Run:         collectMounts,
	},
}

// Names returns the names of all collectors, sorted.
func Names() []string {
	names := make([]string, 0, len(collectors))
	for _, c := range collectors {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

// Lookup returns the collector with the given name. Names are
// case-sensitive and match the ones returned by Names.
func Lookup(name string) (Collector, bool) {
	for _, c := range collectors {
		if c.Name == name {
			return c, true
		}
	}
	return Collector{}, false
}

// newEncoder returns a JSON encoder that writes one object per line and
// leaves <, > and & unescaped, since the output is evidence, not HTML.
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
