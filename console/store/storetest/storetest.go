// Package storetest is a conformance suite for store.Store backends. Each
// backend's tests call Run with a function that opens an empty store, so
// every backend is held to the same contract: round trips, ordering,
// sentinel errors and concurrent use.
//
// Test times are whole milliseconds in UTC, the finest precision that every
// backend must keep. Comparisons treat nil and empty slices as equal.
//
// The suite also fixes details that the store.Store comments leave open:
//   - ListResponders compares hostnames and IDs byte by byte, so "Web"
//     sorts before "db" (COLLATE "C" in PostgreSQL).
//   - ListTasks and ListAudit return nothing for a limit of 0 and an error
//     for a negative limit.
//   - MarkAllOffline leaves LastSeen unchanged.
//   - A failed check or mutate function's error comes back from
//     ConsumeEnrollToken or UpdateAssignment so that errors.Is matches it.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/magpie-ir/magpie/console/store"
)

// Run runs the suite. open must return an empty store for each subtest and
// register its Close with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"ResponderRoundTrip", testResponderRoundTrip},
		{"ResponderUpsertKeepsFirstSeen", testResponderUpsertKeepsFirstSeen},
		{"ResponderNotFound", testResponderNotFound},
		{"ListRespondersOrder", testListRespondersOrder},
		{"SetResponderOnline", testSetResponderOnline},
		{"MarkAllOffline", testMarkAllOffline},
		{"RevokeResponder", testRevokeResponder},

		{"EnrollTokenConflict", testEnrollTokenConflict},
		{"ConsumeEnrollTokenMultiUse", testConsumeEnrollTokenMultiUse},
		{"ConsumeEnrollTokenSingleUse", testConsumeEnrollTokenSingleUse},
		{"ConsumeEnrollTokenNotFound", testConsumeEnrollTokenNotFound},
		{"ConsumeEnrollTokenExpired", testConsumeEnrollTokenExpired},
		{"ConsumeEnrollTokenCheckFails", testConsumeEnrollTokenCheckFails},
		{"ConsumeSingleUseConcurrently", testConsumeSingleUseConcurrently},

		{"APIKeyRoundTrip", testAPIKeyRoundTrip},
		{"APIKeyConflict", testAPIKeyConflict},
		{"APIKeyNotFound", testAPIKeyNotFound},
		{"TouchAPIKey", testTouchAPIKey},

		{"TriggerRoundTrip", testTriggerRoundTrip},
		{"TriggerConflict", testTriggerConflict},
		{"TriggerNotFound", testTriggerNotFound},
		{"RotateTriggerToken", testRotateTriggerToken},

		{"TaskRoundTrip", testTaskRoundTrip},
		{"TaskConflict", testTaskConflict},
		{"AssignmentConflictWritesNothing", testAssignmentConflictWritesNothing},
		{"TaskNotFound", testTaskNotFound},
		{"ListTasksNewestFirst", testListTasksNewestFirst},
		{"ListTasksLimit", testListTasksLimit},
		{"OpenAssignments", testOpenAssignments},
		{"UpdateAssignment", testUpdateAssignment},
		{"UpdateAssignmentNotFound", testUpdateAssignmentNotFound},
		{"UpdateAssignmentMutateFails", testUpdateAssignmentMutateFails},
		{"ExpireAssignments", testExpireAssignments},

		{"AuditNewestFirst", testAuditNewestFirst},
		{"AuditLimit", testAuditLimit},

		{"ConcurrentTasksAndUpdates", testConcurrentTasksAndUpdates},
		{"ConcurrentUpdatesSerialize", testConcurrentUpdatesSerialize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

// base is the time the tests count from; it has no sub-millisecond part.
var base = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

// at returns base plus n minutes.
func at(n int) time.Time {
	return base.Add(time.Duration(n) * time.Minute)
}

// equateEmpty makes nil and empty slices equal, because a backend may read
// an empty list back as either.
var equateEmpty = cmpopts.EquateEmpty()

// diff returns a cmp diff of want and got.
func diff(want, got any, opts ...cmp.Option) string {
	return cmp.Diff(want, got, append(opts, equateEmpty)...)
}

// wantErr fails t unless err matches target.
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// must fails t when err is not nil.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
