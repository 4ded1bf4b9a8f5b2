// Package files collects files that match glob patterns into an evidence
// package.
//
// Patterns are absolute paths as seen inside the collection root, in
// doublestar syntax: "*" matches within one path element, "**" any number of
// elements, "{a,b}" either alternative (which may contain slashes). The root
// is "/" on a live system or the mount point of an image. Every path,
// including absolute symlink targets, resolves inside it as under chroot.
//
// The collector is built for hostile file systems. Symlink loops, FIFOs,
// sockets, devices, /proc files that report size zero, files that change
// while they are read, unreadable files and names that are not valid UTF-8
// are all recorded in the manifest, and collection continues. Files on
// procfs, sysfs and similar Linux file systems are read to EOF up to a cap,
// because their stat sizes are not their content lengths.
//
// Symlinks: a matched symlink is recorded as a symlink entry, and its
// resolved target is recorded under the target's own path, with content when
// it is a regular file. Directory symlinks are followed while matching, with
// loops detected by device and inode. Every entry's path is its real path
// inside the root, without symlink components, and matched_as records the
// path under which a pattern reached it when the two differ. A file reached
// by several patterns or routes is collected once.
package files
