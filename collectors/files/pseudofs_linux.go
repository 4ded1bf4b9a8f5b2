package files

import (
	"os"

	"golang.org/x/sys/unix"
)

// isPseudoFS reports whether f is on a file system whose stat sizes do not
// give the content length: procfs reports 0 for most files and sysfs 4096
// for attributes that hold a few bytes. Such files are read to EOF with a
// cap instead of for their stat size.
func isPseudoFS(f *os.File) bool {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return false
	}
	switch int64(st.Type) {
	case unix.PROC_SUPER_MAGIC, unix.SYSFS_MAGIC, unix.DEBUGFS_MAGIC, unix.TRACEFS_MAGIC,
		unix.SECURITYFS_MAGIC, unix.CGROUP_SUPER_MAGIC, unix.CGROUP2_SUPER_MAGIC:
		return true
	}
	return false
}
