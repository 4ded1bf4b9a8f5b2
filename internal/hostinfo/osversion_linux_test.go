package hostinfo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOSRelease(t *testing.T) {
	input := `# comment
NAME="Debian GNU/Linux"
VERSION_ID="12"
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
ID=debian
HOME_URL='https://www.debian.org/'
EMPTY=
not a variable
` + "ESCAPED=\"say \\\"hi\\\" for \\$5 \\\\ \\` and \\n\"\n"
	want := map[string]string{
		"NAME":        "Debian GNU/Linux",
		"VERSION_ID":  "12",
		"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)",
		"ID":          "debian",
		"HOME_URL":    "https://www.debian.org/",
		"ESCAPED":     "say \"hi\" for $5 \\ ` and \\n",
		"EMPTY":       "",
	}

	if diff := cmp.Diff(want, parseOSRelease(strings.NewReader(input))); diff != "" {
		t.Errorf("parseOSRelease() mismatch (-want +got):\n%s", diff)
	}
}

func TestLinuxVersion(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pretty := write("pretty", "NAME=Fedora\nPRETTY_NAME=\"Fedora Linux 40 (Server Edition)\"\n")
	nameOnly := write("name-only", "NAME=\"Alpine Linux\"\nVERSION=3.20\n")
	bare := write("bare", "ID=minimal\n")
	kernel := write("osrelease", "6.1.0-18-amd64\n")
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name          string
		osRelease     []string
		kernelRelease string
		want          string
	}{
		{"pretty name", []string{pretty}, kernel, "Fedora Linux 40 (Server Edition)"},
		{"name and version", []string{nameOnly}, kernel, "Alpine Linux 3.20"},
		{"no names", []string{bare}, kernel, "Linux"},
		{"second file", []string{missing, pretty}, kernel, "Fedora Linux 40 (Server Edition)"},
		{"kernel release", []string{missing}, kernel, "Linux 6.1.0-18-amd64"},
		{"nothing", []string{missing}, missing, "Linux"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := linuxVersion(tt.osRelease, tt.kernelRelease); got != tt.want {
				t.Errorf("linuxVersion() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOSVersionThisHost(t *testing.T) {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		t.Skipf("this host has no /etc/os-release: %v", err)
	}
	want := parseOSRelease(strings.NewReader(string(data)))["PRETTY_NAME"]
	if want == "" {
		t.Skip("/etc/os-release of this host has no PRETTY_NAME")
	}

	if got := osVersion(); got != want {
		t.Errorf("osVersion() = %q, want PRETTY_NAME %q", got, want)
	}
}
