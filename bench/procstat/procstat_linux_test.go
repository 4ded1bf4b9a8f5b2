package procstat

import (
	"os"
	"testing"
	"time"
)

func TestReadSelf(t *testing.T) {
	// Burn some CPU so that the counter is above one tick.
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
	}

	s, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.CPU <= 0 {
		t.Errorf("CPU = %v after a busy loop, want > 0", s.CPU)
	}
	if s.RSS <= 0 || s.HWM < s.RSS {
		t.Errorf("RSS = %d, HWM = %d; want RSS > 0 and HWM >= RSS", s.RSS, s.HWM)
	}
}

func TestReadMissingProcess(t *testing.T) {
	// PIDs are at most 2^22 on Linux, so this one never exists.
	if _, err := Read(1 << 23); err == nil {
		t.Error("Read of a missing pid returned no error")
	}
}
