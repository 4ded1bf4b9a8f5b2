package cli

import (
	"os"
	"testing"
)

func TestScratchCorrupt(t *testing.T) {
	path := writeTestPackage(t)
	data, _ := os.ReadFile(path)
	t.Logf("size %d", len(data))
	for _, cut := range []int{len(data) - 30, len(data) / 2, len(data) - 5} {
		os.WriteFile(path, data[:cut], 0o600)
		res := runCLI(t, nil, "evidence", "verify", path)
		t.Logf("cut %d code %d\n%s\n%s", cut, res.code, res.stdout, res.stderr)
	}
	res := runCLI(t, nil, "evidence", "verify", "nonexist.tar.zst")
	t.Logf("%s", res.stderr)
	res = runCLI(t, map[string]string{envConsole: "127.0.0.1:48305", envAPIKey: "x"}, "tasks", "list")
	t.Logf("%s", res.stderr)
	res = runCLI(t, nil, "evidence", "verify", "-h")
	t.Logf("%s%s", res.stdout, res.stderr)
}
