package harness

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/magpie-ir/magpie/collectors/profile"
)

func TestWriteProfileLoads(t *testing.T) {
	dir := t.TempDir()
	if err := WriteProfile(dir, "Bench", "Benchmark tree.", []string{"/bench/tree/**"}); err != nil {
		t.Fatal(err)
	}
	if err := WriteProfile(dir, "Empty", "Matches nothing.", []string{"/bench/empty/*"}); err != nil {
		t.Fatal(err)
	}

	catalog, err := profile.Load(dir)
	if err != nil {
		t.Fatalf("profile.Load: %v", err)
	}
	for name, want := range map[string]profile.OSSpec{
		"Bench": {Files: []string{"/bench/tree/**"}, Live: []string{}},
		"Empty": {Files: []string{"/bench/empty/*"}, Live: []string{}},
	} {
		p, err := catalog.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := p.For("linux")
		if !ok {
			t.Fatalf("profile %q has no linux section", name)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("profile %q linux section (-want +got):\n%s", name, diff)
		}
	}
}
