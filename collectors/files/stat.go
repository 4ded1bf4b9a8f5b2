package files

import (
	"io/fs"
	"time"
)

// fileStat is the metadata the collector records for one path. Fields the
// OS does not report are zero, with hasIDs and hasIno saying whether the
// owner and the device and inode numbers are known.
type fileStat struct {
	mode   fs.FileMode
	size   int64
	uid    uint32
	gid    uint32
	hasIDs bool
	dev    uint64
	ino    uint64
	hasIno bool
	atime  time.Time
	mtime  time.Time
	ctime  time.Time
	btime  time.Time
}

// fileID identifies a directory for loop detection: by device and inode
// where the OS reports them, and by real path otherwise.
type fileID struct {
	dev, ino uint64
	path     string
}

func idOf(st fileStat, real string) fileID {
	if st.hasIno {
		return fileID{dev: st.dev, ino: st.ino}
	}
	return fileID{path: real}
}
