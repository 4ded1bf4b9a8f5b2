package files

import (
	"errors"
	"io/fs"
	"time"

	"golang.org/x/sys/unix"
)

// lstat returns the metadata of path without following a final symlink. It
// uses statx for the birth time and falls back to lstat on kernels without
// statx (before Linux 4.11).
func lstat(path string) (fileStat, error) {
	var stx unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, path,
		unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT|unix.AT_STATX_SYNC_AS_STAT,
		unix.STATX_BASIC_STATS|unix.STATX_BTIME, &stx)
	if errors.Is(err, unix.ENOSYS) {
		return lstatFallback(path)
	}
	if err != nil {
		return fileStat{}, &fs.PathError{Op: "lstat", Path: path, Err: err}
	}

	st := fileStat{
		mode:   fileModeFromUnix(uint32(stx.Mode)),
		size:   int64(stx.Size),
		uid:    stx.Uid,
		gid:    stx.Gid,
		hasIDs: true,
		dev:    unix.Mkdev(stx.Dev_major, stx.Dev_minor),
		ino:    stx.Ino,
		hasIno: true,
		atime:  statxTime(stx.Atime),
		mtime:  statxTime(stx.Mtime),
		ctime:  statxTime(stx.Ctime),
	}
	if stx.Mask&unix.STATX_BTIME != 0 {
		st.btime = statxTime(stx.Btime)
	}
	return st, nil
}

func statxTime(ts unix.StatxTimestamp) time.Time {
	return time.Unix(ts.Sec, int64(ts.Nsec)).UTC()
}

func lstatFallback(path string) (fileStat, error) {
	var s unix.Stat_t
	if err := unix.Lstat(path, &s); err != nil {
		return fileStat{}, &fs.PathError{Op: "lstat", Path: path, Err: err}
	}
	return fileStat{
		mode:   fileModeFromUnix(s.Mode),
		size:   s.Size,
		uid:    s.Uid,
		gid:    s.Gid,
		hasIDs: true,
		dev:    s.Dev,
		ino:    s.Ino,
		hasIno: true,
		atime:  time.Unix(s.Atim.Unix()).UTC(),
		mtime:  time.Unix(s.Mtim.Unix()).UTC(),
		ctime:  time.Unix(s.Ctim.Unix()).UTC(),
	}, nil
}

// fileModeFromUnix converts a Unix st_mode to an fs.FileMode.
func fileModeFromUnix(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	default:
		mode |= fs.ModeIrregular
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
