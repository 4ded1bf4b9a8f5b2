package files

import (
	"os"
	"syscall"
	"time"
)

// lstat returns the metadata of path without following a final symlink.
// Windows reports creation, access and write times but no owner ids, change
// time or inode through this call.
func lstat(path string) (fileStat, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileStat{}, err
	}
	st := fileStat{mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime().UTC()}
	if d, ok := fi.Sys().(*syscall.Win32FileAttributeData); ok {
		st.btime = time.Unix(0, d.CreationTime.Nanoseconds()).UTC()
		st.atime = time.Unix(0, d.LastAccessTime.Nanoseconds()).UTC()
		st.mtime = time.Unix(0, d.LastWriteTime.Nanoseconds()).UTC()
	}
	return st, nil
}
