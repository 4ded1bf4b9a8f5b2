// Package evidence writes and verifies Magpie evidence packages.
//
// A package is one tar stream compressed with zstd. Its first entry is
// manifest.json; then come files/<original path> entries holding collected
// file content, live/<collector>.jsonl entries holding live-data records, and
// collection.log. The manifest lists every collected path with its metadata
// and the SHA-256 of the archived bytes, so a package can be checked with
// tar, zstd, jq and sha256sum alone. docs/evidence-format.md describes the
// format for people who verify packages without Magpie.
//
// Writer builds a package while collectors run. The manifest must come first
// but is only complete at the end. So Writer compresses the body entries
// into a spool file as they arrive, and Close puts a zstd frame with the
// manifest entry in front of the body and a frame with the tar
// end-of-archive blocks after it. A zstd decoder joins concatenated frames
// into one stream, so standard tools read the result as one tar archive.
package evidence
