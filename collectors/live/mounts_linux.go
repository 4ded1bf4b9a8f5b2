package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// mountRecord is one line of the mounts output.
type mountRecord struct {
	Device     string   `json:"device"`
	MountPoint string   `json:"mount_point"`
	FSType     string   `json:"fs_type"`
	Options    []string `json:"options"`
}

func collectMounts(ctx context.Context, env Env, w io.Writer) error {
	// /proc/self/mounts lists the mount namespace of the reader. Older
	// fixtures and some containers provide only /proc/mounts.
	data, err := os.ReadFile(env.path("proc", "self", "mounts"))
	if errors.Is(err, fs.ErrNotExist) {
		data, err = os.ReadFile(env.path("proc", "mounts"))
	}
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}

	return encodeLines(ctx, w, "mounts", data, parseMount)
}

// parseMount parses one line in fstab(5) format as printed by the kernel:
//
//	device mount_point fs_type options dump pass
func parseMount(line string) (mountRecord, error) {
	fields := strings.Fields(line)
	if len(fields) < 4 {
		return mountRecord{}, fmt.Errorf("%d fields, expected at least 4", len(fields))
	}

	options := []string{}
	for option := range strings.SplitSeq(unescapeOctal(fields[3]), ",") {
		if option != "" {
			options = append(options, option)
		}
	}
	return mountRecord{
		Device:     unescapeOctal(fields[0]),
		MountPoint: unescapeOctal(fields[1]),
		FSType:     unescapeOctal(fields[2]),
		Options:    options,
	}, nil
}

// unescapeOctal replaces the \ooo escapes that the kernel writes for space,
// tab, newline and backslash in mount fields (\040, \011, \012, \134). A
// backslash not followed by three octal digits from \000 to \377 is kept as
// it is.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}

	var b strings.Builder
	for i := 0; i < len(s); i++ {
		// The first digit is at most 3 so the value fits in a byte.
		if s[i] == '\\' && i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]) {
			value := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			b.WriteByte(value)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool {
	return c >= '0' && c <= '7'
}
