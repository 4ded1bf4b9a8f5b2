package hostinfo

import (
	"bufio"
	"io"
	"os"
	"strings"
)

func osVersion() string {
	return linuxVersion([]string{"/etc/os-release", "/usr/lib/os-release"}, "/proc/sys/kernel/osrelease")
}

// linuxVersion returns PRETTY_NAME from the first os-release file that
// exists, as os-release(5) prescribes. Without PRETTY_NAME it uses NAME
// and VERSION. Without any os-release file it returns "Linux" and the
// kernel release read from kernelReleaseFile.
func linuxVersion(osReleaseFiles []string, kernelReleaseFile string) string {
	for _, path := range osReleaseFiles {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		fields := parseOSRelease(f)
		f.Close()

		if pretty := fields["PRETTY_NAME"]; pretty != "" {
			return pretty
		}
		if name := fields["NAME"]; name != "" {
			return strings.TrimSpace(name + " " + fields["VERSION"])
		}
		// os-release(5) gives "Linux" as the default PRETTY_NAME.
		return "Linux"
	}

	kernel, err := os.ReadFile(kernelReleaseFile)
	if err != nil {
		return "Linux"
	}
	return strings.TrimSpace("Linux " + strings.TrimSpace(string(kernel)))
}

// parseOSRelease returns the variables of an os-release(5) file. Values
// may be unquoted, in single quotes, or in double quotes with backslash
// escapes for ", \, $ and `, following shell syntax.
func parseOSRelease(r io.Reader) map[string]string {
	fields := make(map[string]string)
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		fields[key] = unquoteShell(value)
	}
	return fields
}

// unquoteShell removes the quotes that os-release(5) allows around a value.
func unquoteShell(value string) string {
	if len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'' {
		return value[1 : len(value)-1]
	}
	if len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
		return value
	}

	inner := value[1 : len(value)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\\' && i+1 < len(inner) && strings.IndexByte("\"\\$`", inner[i+1]) >= 0 {
			i++
		}
		b.WriteByte(inner[i])
	}
	return b.String()
}
