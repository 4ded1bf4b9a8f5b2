package live

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// moduleRecord is one line of the kernel_modules output.
type moduleRecord struct {
	Name string `json:"name"`
	// Size is the module's memory size in bytes.
	Size uint64 `json:"size"`
	// RefCount is omitted when the kernel was built without module
	// unloading and prints "-" instead of a count.
	RefCount *int64 `json:"refcount,omitempty"`
	// UsedBy lists the modules that depend on this one.
	UsedBy []string `json:"used_by"`
	// State is "Live", "Loading" or "Unloading".
	State string `json:"state"`
	// Address is the load address. It reads as all zeros unless the
	// reader has CAP_SYSLOG, because of kernel.kptr_restrict.
	Address string `json:"address"`
	// Taints holds the taint flags of the module, for example "OE" for an
	// out-of-tree, unsigned module; empty when untainted.
	Taints string `json:"taints,omitempty"`
}

func collectKernelModules(ctx context.Context, env Env, w io.Writer) error {
	data, err := os.ReadFile(env.path("proc", "modules"))
	if err != nil {
		return fmt.Errorf("read /proc/modules: %w", err)
	}

	return encodeLines(ctx, w, "/proc/modules", data, parseModule)
}

// parseModule parses one line of /proc/modules:
//
//	name size refcount used_by state address [(taints)]
//
// used_by is "-" or a list of names each followed by a comma.
func parseModule(line string) (moduleRecord, error) {
	fields := strings.Fields(line)
	if len(fields) < 6 {
		return moduleRecord{}, fmt.Errorf("%d fields, expected at least 6", len(fields))
	}

	size, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return moduleRecord{}, fmt.Errorf("invalid size %q", fields[1])
	}
	rec := moduleRecord{
		Name:    fields[0],
		Size:    size,
		UsedBy:  []string{},
		State:   fields[4],
		Address: fields[5],
	}

	if fields[2] != "-" {
		refCount, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil {
			return moduleRecord{}, fmt.Errorf("invalid refcount %q", fields[2])
		}
		rec.RefCount = &refCount
	}
	if fields[3] != "-" {
		for name := range strings.SplitSeq(fields[3], ",") {
			if name != "" {
				rec.UsedBy = append(rec.UsedBy, name)
			}
		}
	}
	if len(fields) > 6 {
		rec.Taints = strings.Trim(fields[6], "()")
	}
	return rec, nil
}
