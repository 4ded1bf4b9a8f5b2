// Package e2e holds end-to-end tests that build and run the real
// magpie-console, magpie-responder and magpie binaries on loopback.
package e2e
