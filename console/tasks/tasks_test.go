package tasks

import (
	"testing"

	"github.com/magpie-ir/magpie/console/store"
)

func TestAllowedTransitions(t *testing.T) {
	tests := []struct {
		from, to store.State
		want     bool
	}{
		{store.StatePending, store.StateAssigned, true},
		{store.StateAssigned, store.StateRunning, true},
		{store.StateRunning, store.StateUploading, true},
		{store.StateUploading, store.StateCompleted, true},
		{store.StateRunning, store.StateRunning, true},
		{store.StateRunning, store.StateCompleted, false},
		{store.StateRunning, store.StateAssigned, false},
		{store.StatePending, store.StateCancelled, true},
		{store.StateUploading, store.StateFailed, true},
		{store.StateAssigned, store.StateExpired, true},
		{store.StateCompleted, store.StateFailed, false},
		{store.StateCancelled, store.StateRunning, false},
		{store.StateExpired, store.StateAssigned, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"->"+string(tt.to), func(t *testing.T) {
			if got := allowed(tt.from, tt.to); got != tt.want {
				t.Errorf("allowed(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}
