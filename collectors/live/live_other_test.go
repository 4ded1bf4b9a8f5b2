//go:build !linux

package live

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestRunNotSupported(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			c, _ := Lookup(name)

			err := c.Run(t.Context(), Env{}, &bytes.Buffer{})

			if !errors.Is(err, ErrNotSupported) {
				t.Errorf("Run() = %v, want an error wrapping ErrNotSupported", err)
			}
			if err != nil && !strings.Contains(err.Error(), runtime.GOOS) {
				t.Errorf("Run() error %q does not name %s", err, runtime.GOOS)
			}
		})
	}
}
