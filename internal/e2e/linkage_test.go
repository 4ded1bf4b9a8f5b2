package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// The responder runs on every endpoint; console code (store, CA key
// handling, API) must never be linked into it.
func TestResponderDoesNotLinkConsole(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../responder/cmd/magpie-responder").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/magpie-ir/magpie/console") {
			t.Errorf("magpie-responder links console package %s", pkg)
		}
	}
}
