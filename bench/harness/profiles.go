package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// WriteProfile writes a Linux acquisition profile with the given file
// patterns and no live collectors to dir/FILE.yaml, where FILE is name in
// lower case with spaces replaced by dashes.
func WriteProfile(dir, name, description string, files []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\n", strconv.Quote(name))
	fmt.Fprintf(&b, "description: %s\n", strconv.Quote(description))
	b.WriteString("os:\n  linux:\n    files:\n")
	for _, f := range files {
		fmt.Fprintf(&b, "      - %s\n", strconv.Quote(f))
	}
	b.WriteString("    live: []\n")

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create profiles directory: %w", err)
	}
	file := strings.ReplaceAll(strings.ToLower(name), " ", "-") + ".yaml"
	if err := os.WriteFile(filepath.Join(dir, file), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write profile %q: %w", name, err)
	}
	return nil
}
