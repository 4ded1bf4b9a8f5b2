package files

import (
	"os"
	"syscall"
	"time"
)

// lstat returns the metadata of path without following a final symlink,
// including the birth time that macOS file systems record.
func lstat(path string) (fileStat, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileStat{}, err
	}
	st := fileStat{mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime().UTC()}
	s, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return st, nil
	}
	st.uid, st.gid, st.hasIDs = s.Uid, s.Gid, true
	st.dev, st.ino, st.hasIno = uint64(s.Dev), s.Ino, true
	st.atime = time.Unix(s.Atimespec.Unix()).UTC()
	st.mtime = time.Unix(s.Mtimespec.Unix()).UTC()
	st.ctime = time.Unix(s.Ctimespec.Unix()).UTC()
	st.btime = time.Unix(s.Birthtimespec.Unix()).UTC()
	return st, nil
}
