// Package version reports the version the binaries were built as.
package version

// Version is set at link time by the Makefile; "dev" for a plain go build.
var Version = "dev"

// ProtocolVersion is the magpie.v1 protocol version this build speaks. Its
// history is in proto/magpie/v1/magpie.proto.
const ProtocolVersion = 1
