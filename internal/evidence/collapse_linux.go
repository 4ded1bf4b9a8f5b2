package evidence

import (
	"os"

	"golang.org/x/sys/unix"
)

// reservedGap is the space left free before the body in the spool file on
// Linux. Close writes the manifest frame into it and removes the rest with
// collapseRange, so the body never has to be copied. 64 MiB of compressed
// manifest is several hundred thousand file entries; a larger manifest makes
// Close copy the body instead.
const reservedGap = 64 << 20

// collapseRange removes length bytes at offset from f and shifts the rest of
// the file down, without copying data. ext4 and XFS support it when offset
// and length are multiples of the block size. Other file systems, such as
// tmpfs, return an error, and the caller copies instead.
func collapseRange(f *os.File, offset, length int64) error {
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_COLLAPSE_RANGE, offset, length)
}

// blockSize returns the file system block size of f, or 0 when unknown.
func blockSize(f *os.File) int64 {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0
	}
	return int64(st.Blksize)
}
