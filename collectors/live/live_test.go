package live

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNames(t *testing.T) {
	want := []string{"kernel_modules", "logged_in_users", "mounts", "network_sockets", "processes"}

	if diff := cmp.Diff(want, Names()); diff != "" {
		t.Errorf("Names() mismatch (-want +got):\n%s", diff)
	}
}

func TestLookup(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			c, ok := Lookup(name)
			if !ok {
				t.Fatalf("Lookup(%q) found no collector", name)
			}
			if c.Name != name {
				t.Errorf("Lookup(%q).Name = %q", name, c.Name)
			}
			if c.Description == "" {
				t.Errorf("Lookup(%q).Description is empty", name)
			}
			if c.Run == nil {
				t.Errorf("Lookup(%q).Run is nil", name)
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, name := range []string{"", "nope", "Processes"} {
		if _, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) found a collector, want none", name)
		}
	}
}

func TestNamesReturnsCopy(t *testing.T) {
	names := Names()
	names[0] = "changed"

	if slices.Contains(Names(), "changed") {
		t.Error("changing the slice returned by Names changed the registry")
	}
}
