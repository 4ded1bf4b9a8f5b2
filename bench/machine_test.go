package bench

import "testing"

func TestParseCPUInfo(t *testing.T) {
	data := []byte("processor\t: 0\nmodel name\t: Example CPU @ 2.00GHz\nflags\t\t: fpu sse2 avx2 sha_ni\n\nprocessor\t: 1\nmodel name\t: Example CPU @ 2.00GHz\nflags\t\t: fpu sse2 avx2 sha_ni\n")
	model, sha := parseCPUInfo(data)
	if model != "Example CPU @ 2.00GHz" {
		t.Errorf("model = %q, want %q", model, "Example CPU @ 2.00GHz")
	}
	if !sha {
		t.Error("sha_ni not detected")
	}

	_, sha = parseCPUInfo([]byte("model name\t: Old CPU\nflags\t\t: fpu sse2 sha_nix\n"))
	if sha {
		t.Error("sha_ni detected in a flags line without it")
	}
}

func TestParseMemTotal(t *testing.T) {
	data := []byte("MemTotal:       24576000 kB\nMemFree:        20000000 kB\n")
	if got := parseMemTotal(data); got != 24576000<<10 {
		t.Errorf("parseMemTotal = %d, want %d", got, 24576000<<10)
	}
	if got := parseMemTotal([]byte("MemFree: 1 kB\n")); got != 0 {
		t.Errorf("parseMemTotal without MemTotal = %d, want 0", got)
	}
}
