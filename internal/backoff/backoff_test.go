package backoff

import (
	"context"
	"testing"
	"time"
)

func TestNextDoublesUpToMax(t *testing.T) {
	b := New(time.Second, 8*time.Second)
	b.rand = func() float64 { return 0.999999 }
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, w := range want {
		got := b.Next()
		if got > w || got < w-w/100 {
			t.Errorf("delay %d = %v, want about %v", i, got, w)
		}
	}
}

func TestJitterStaysInUpperHalf(t *testing.T) {
	b := New(time.Second, time.Second)
	b.rand = func() float64 { return 0 }
	if got := b.Next(); got != 500*time.Millisecond {
		t.Fatalf("delay with zero jitter = %v, want 500ms", got)
	}
}

func TestResetReturnsToMin(t *testing.T) {
	b := New(time.Second, time.Minute)
	b.rand = func() float64 { return 0.999999 }
	b.Next()
	b.Next()
	b.Reset()
	if got := b.Next(); got > time.Second {
		t.Fatalf("delay after Reset = %v, want at most 1s", got)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	b := New(time.Hour, time.Hour)
	b.after = func(time.Duration) <-chan time.Time { return nil }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Wait(ctx); err != context.Canceled {
		t.Fatalf("Wait error = %v, want context.Canceled", err)
	}
}
