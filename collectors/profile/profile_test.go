package profile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/magpie-ir/magpie/collectors/live"
)

func TestBuiltinNames(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatalf("Builtin() = %v", err)
	}

	want := []string{"Browsing History", "Quick Triage"}
	if diff := cmp.Diff(want, c.Names()); diff != "" {
		t.Errorf("Names() mismatch (-want +got):\n%s", diff)
	}
}

func TestBuiltinProfilesParse(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatalf("Builtin() = %v", err)
	}

	for _, name := range c.Names() {
		t.Run(name, func(t *testing.T) {
			p, err := c.Get(name)
			if err != nil {
				t.Fatal(err)
			}
			if p.Description == "" {
				t.Error("description is empty")
			}
			spec, ok := p.For("linux")
			if !ok {
				t.Fatal("no linux section")
			}
			if len(spec.Files) == 0 {
				t.Error("linux section lists no files")
			}
			// Parsing already validated each pattern; this guards against
			// a built-in file that bypasses validation.
			for _, pattern := range spec.Files {
				if msg := checkPattern("linux", pattern); msg != "" {
					t.Errorf("pattern %q: %s", pattern, msg)
				}
			}
		})
	}
}

func TestQuickTriageLiveCollectors(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Get("Quick Triage")
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := p.For("linux")

	want := []string{"processes", "network_sockets", "logged_in_users", "kernel_modules", "mounts"}
	if diff := cmp.Diff(want, spec.Live); diff != "" {
		t.Errorf("Quick Triage live collectors mismatch (-want +got):\n%s", diff)
	}
	for _, name := range spec.Live {
		if _, ok := live.Lookup(name); !ok {
			t.Errorf("live collector %q is not registered in package live", name)
		}
	}
}

func TestGetIgnoresCase(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"Quick Triage", "quick triage", "QUICK TRIAGE", "qUiCk TrIaGe"} {
		t.Run(name, func(t *testing.T) {
			p, err := c.Get(name)
			if err != nil {
				t.Fatalf("Get(%q) = %v", name, err)
			}
			if p.Name != "Quick Triage" {
				t.Errorf("Get(%q).Name = %q, want %q", name, p.Name, "Quick Triage")
			}
		})
	}
}

func TestGetUnknownProfile(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}

	_, err = c.Get("Full Disk")

	if !errors.Is(err, ErrUnknownProfile) {
		t.Fatalf("Get() = %v, want an error wrapping ErrUnknownProfile", err)
	}
	want := `unknown acquisition profile "Full Disk"; available profiles: Browsing History, Quick Triage`
	if err.Error() != want {
		t.Errorf("Get() error = %q, want %q", err, want)
	}
}

func TestGetReturnsCopy(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Get("Quick Triage")
	if err != nil {
		t.Fatal(err)
	}
	first := p.OS["linux"].Files[0]

	p.OS["linux"].Files[0] = "/changed"
	delete(p.OS, "linux")

	again, err := c.Get("Quick Triage")
	if err != nil {
		t.Fatal(err)
	}
	spec, ok := again.For("linux")
	if !ok {
		t.Fatal("deleting from a returned profile removed the catalog's linux section")
	}
	if spec.Files[0] != first {
		t.Errorf("Files[0] = %q after changing a returned copy, want %q", spec.Files[0], first)
	}
}

func TestForMissingOS(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Get("Browsing History")
	if err != nil {
		t.Fatal(err)
	}

	if spec, ok := p.For("plan9"); ok {
		t.Errorf("For(plan9) = %v, true; want false", spec)
	}
}

// writeFiles writes name → content into a new temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadEmptyDirName(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatalf("Load(\"\") = %v", err)
	}

	if diff := cmp.Diff([]string{"Browsing History", "Quick Triage"}, c.Names()); diff != "" {
		t.Errorf("Names() mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadOverridesBuiltin(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"my-triage.yaml": "name: quick triage\ndescription: Site triage\nos:\n  linux:\n    files: [/etc/hostname]\n",
		"web.yaml":       "name: Web Server\nos:\n  linux:\n    files: [/var/log/nginx/**]\n    live: [network_sockets]\n",
		"README.md":      "not a profile",
	})
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}

	c, err := Load(dir)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}

	wantNames := []string{"Browsing History", "quick triage", "Web Server"}
	if diff := cmp.Diff(wantNames, c.Names()); diff != "" {
		t.Errorf("Names() mismatch (-want +got):\n%s", diff)
	}
	p, err := c.Get("Quick Triage")
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{
		Name:        "quick triage",
		Description: "Site triage",
		OS:          map[string]OSSpec{"linux": {Files: []string{"/etc/hostname"}}},
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("Get(Quick Triage) after override mismatch (-want +got):\n%s", diff)
	}

	// Load must not change the shared built-in catalog.
	builtin, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	original, err := builtin.Get("Quick Triage")
	if err != nil {
		t.Fatal(err)
	}
	if original.Name != "Quick Triage" {
		t.Errorf("built-in profile name = %q after Load, want %q", original.Name, "Quick Triage")
	}
}

func TestLoadMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")

	_, err := Load(dir)

	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(%q) = %v, want an error wrapping os.ErrNotExist", dir, err)
	}
	if err != nil && !strings.Contains(err.Error(), dir) {
		t.Errorf("Load() error %q does not name the directory", err)
	}
}

func TestLoadRejectsInvalidFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		// want is the error message after "invalid acquisition profile
		// <dir>/bad.yaml".
		want string
	}{
		{
			name:    "invalid YAML",
			content: "name: [unclosed\n",
			want:    ": line 1: did not find expected ',' or ']'",
		},
		{
			name:    "empty file",
			content: "# only a comment\n",
			want:    ": file is empty; it needs at least name and os",
		},
		{
			name:    "unknown top-level field",
			content: "name: X\ndescripton: typo\nos:\n  linux:\n    files: [/etc/hosts]\n",
			want:    `: line 2: unknown field "descripton"; valid fields are name, description, os and, per operating system, files and live`,
		},
		{
			name:    "unknown OS field",
			content: "name: X\nos:\n  linux:\n    file: [/etc/hosts]\n",
			want:    `: line 4: unknown field "file"; valid fields are name, description, os and, per operating system, files and live`,
		},
		{
			name:    "wrong type",
			content: "name: X\nos:\n  linux:\n    files: /etc/hosts\n",
			want:    ": line 4: cannot unmarshal !!str `/etc/hosts` into []string",
		},
		{
			name:    "missing name",
			content: "description: no name\nos:\n  linux:\n    files: [/etc/hosts]\n",
			want:    ": name: missing or empty; every profile needs a name",
		},
		{
			name:    "blank name",
			content: "name: '  '\nos:\n  linux:\n    files: [/etc/hosts]\n",
			want:    ": line 1: name: missing or empty; every profile needs a name",
		},
		{
			name:    "missing os",
			content: "name: X\n",
			want:    ": os: missing or empty; list what to collect under at least one of darwin, linux, windows",
		},
		{
			name:    "unsupported OS",
			content: "name: X\nos:\n  plan9:\n    files: [/etc/hosts]\n",
			want:    `: line 3: os.plan9: unsupported operating system "plan9"; use one of darwin, linux, windows`,
		},
		{
			name:    "empty OS section",
			content: "name: X\nos:\n  linux: {}\n",
			want:    ": line 3: os.linux: no files and no live collectors; list at least one",
		},
		{
			name:    "relative glob",
			content: "name: X\nos:\n  linux:\n    files:\n      - /etc/hosts\n      - var/log/*.log\n",
			want:    `: line 6: os.linux.files[1]: pattern "var/log/*.log" is relative; start it with /`,
		},
		{
			name:    "relative Windows glob",
			content: "name: X\nos:\n  windows:\n    files: [Users/*/NTUSER.DAT]\n",
			want:    `: line 4: os.windows.files[0]: pattern "Users/*/NTUSER.DAT" is relative; start it with a drive letter such as C:/ or with /`,
		},
		{
			name:    "Windows backslash",
			content: "name: X\nos:\n  windows:\n    files: ['C:\\Windows\\System32\\config\\SAM']\n",
			want:    `: line 4: os.windows.files[0]: pattern "C:\\Windows\\System32\\config\\SAM" contains a backslash; use / as the path separator, also on Windows`,
		},
		{
			name:    "empty glob",
			content: "name: X\nos:\n  linux:\n    files: ['']\n",
			want:    ": line 4: os.linux.files[0]: empty pattern",
		},
		{
			name:    "unclosed bracket",
			content: "name: X\nos:\n  linux:\n    files: ['/var/log/[ab']\n",
			want:    `: line 4: os.linux.files[0]: pattern "/var/log/[ab" is not a valid glob; check that brackets and braces are closed`,
		},
		{
			name:    "parent directory",
			content: "name: X\nos:\n  linux:\n    files: [/var/../etc/shadow]\n",
			want:    `: line 4: os.linux.files[0]: pattern "/var/../etc/shadow" contains "..", which would leave the collection root`,
		},
		{
			name:    "unknown live collector",
			content: "name: X\nos:\n  linux:\n    live:\n      - processes\n      - procs\n",
			want:    `: line 6: os.linux.live[1]: unknown live collector "procs"; use one of kernel_modules, logged_in_users, mounts, network_sockets, processes`,
		},
		{
			name:    "duplicate live collector",
			content: "name: X\nos:\n  linux:\n    live: [mounts, mounts]\n",
			want:    `: line 4: os.linux.live[1]: live collector "mounts" is listed twice`,
		},
		{
			name:    "two documents",
			content: "name: X\nos:\n  linux:\n    live: [mounts]\n---\nname: Y\n",
			want:    ": line 5: file contains more than one YAML document; put each profile in its own file",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"bad.yaml": tt.content})

			_, err := Load(dir)

			if !errors.Is(err, ErrInvalidProfile) {
				t.Fatalf("Load() = %v, want an error wrapping ErrInvalidProfile", err)
			}
			want := "invalid acquisition profile " + filepath.Join(dir, "bad.yaml") + tt.want
			if err.Error() != want {
				t.Errorf("Load() error:\n got %s\nwant %s", err, want)
			}
		})
	}
}

func TestLoadRejectsDuplicateNames(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.yaml": "name: Web Server\nos:\n  linux:\n    live: [mounts]\n",
		"b.yaml": "name: WEB SERVER\nos:\n  linux:\n    live: [processes]\n",
	})

	_, err := Load(dir)

	if !errors.Is(err, ErrInvalidProfile) {
		t.Fatalf("Load() = %v, want an error wrapping ErrInvalidProfile", err)
	}
	want := "invalid acquisition profile " + filepath.Join(dir, "b.yaml") + `: name: profile name "WEB SERVER" is already used by ` + filepath.Join(dir, "a.yaml") + "; rename one of them"
	if err.Error() != want {
		t.Errorf("Load() error:\n got %s\nwant %s", err, want)
	}
}
