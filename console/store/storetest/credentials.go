package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/magpie-ir/magpie/console/store"
)

func newEnrollToken(id string, singleUse bool) store.EnrollToken {
	return store.EnrollToken{
		ID:         id,
		SecretHash: []byte{0x01, 0x02, 0x03, 0xff},
		SingleUse:  singleUse,
		CreatedAt:  at(0),
		ExpiresAt:  at(60),
		CreatedBy:  "admin-key:k1",
	}
}

// consume calls ConsumeEnrollToken and returns its error together with the
// token that check saw, or nil when check was not called.
func consume(t *testing.T, s store.Store, id string, n int, responderID string) (*store.EnrollToken, error) {
	t.Helper()
	var seen *store.EnrollToken
	err := s.ConsumeEnrollToken(t.Context(), id, at(n), responderID, func(tok store.EnrollToken) error {
		seen = &tok
		return nil
	})
	return seen, err
}

func testEnrollTokenConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateEnrollToken(ctx, newEnrollToken("e1", true)))
	err := s.CreateEnrollToken(ctx, newEnrollToken("e1", false))
	wantErr(t, err, store.ErrConflict)
}

func testConsumeEnrollTokenMultiUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	tok := newEnrollToken("e1", false)
	must(t, s.CreateEnrollToken(ctx, tok))

	seen, err := consume(t, s, "e1", 1, "r1")
	must(t, err)
	if d := diff(tok, *seen); d != "" {
		t.Errorf("token passed to check on first use (-want +got):\n%s", d)
	}

	seen, err = consume(t, s, "e1", 2, "r2")
	must(t, err)
	want := tok
	want.UseCount = 1
	want.LastUsedBy = "r1"
	if d := diff(want, *seen); d != "" {
		t.Errorf("token passed to check on second use (-want +got):\n%s", d)
	}

	seen, err = consume(t, s, "e1", 3, "r3")
	must(t, err)
	if seen.UseCount != 2 || seen.LastUsedBy != "r2" {
		t.Errorf("third use saw UseCount=%d LastUsedBy=%q, want 2 and %q", seen.UseCount, seen.LastUsedBy, "r2")
	}
}

func testConsumeEnrollTokenSingleUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateEnrollToken(ctx, newEnrollToken("e1", true)))

	_, err := consume(t, s, "e1", 1, "r1")
	must(t, err)

	seen, err := consume(t, s, "e1", 2, "r2")
	wantErr(t, err, store.ErrUsed)
	if seen != nil {
		t.Error("check was called for a used single-use token")
	}
}

func testConsumeEnrollTokenNotFound(t *testing.T, s store.Store) {
	seen, err := consume(t, s, "missing", 1, "r1")
	wantErr(t, err, store.ErrNotFound)
	if seen != nil {
		t.Error("check was called for a missing token")
	}
}

func testConsumeEnrollTokenExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateEnrollToken(ctx, newEnrollToken("e1", false)))

	// The token expires at minute 60: minute 59 is in time, and minute 60
	// itself is already too late.
	_, err := consume(t, s, "e1", 59, "r1")
	must(t, err)
	for _, n := range []int{60, 61} {
		seen, err := consume(t, s, "e1", n, "r2")
		wantErr(t, err, store.ErrExpired)
		if seen != nil {
			t.Errorf("check was called at minute %d for a token that expired at minute 60", n)
		}
	}
}

func testConsumeEnrollTokenCheckFails(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateEnrollToken(ctx, newEnrollToken("e1", true)))

	errWrongSecret := errors.New("wrong secret")
	err := s.ConsumeEnrollToken(ctx, "e1", at(1), "r1", func(store.EnrollToken) error {
		return errWrongSecret
	})
	wantErr(t, err, errWrongSecret)

	// The failed check recorded no use, so the single-use token still works.
	seen, err := consume(t, s, "e1", 2, "r2")
	must(t, err)
	if seen.UseCount != 0 || seen.LastUsedBy != "" {
		t.Errorf("after a failed check the token has UseCount=%d LastUsedBy=%q, want 0 and empty", seen.UseCount, seen.LastUsedBy)
	}
}

func testConsumeSingleUseConcurrently(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateEnrollToken(ctx, newEnrollToken("e1", true)))

	const callers = 20
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			errs[i] = s.ConsumeEnrollToken(ctx, "e1", at(1), fmt.Sprintf("r%d", i), func(store.EnrollToken) error {
				return nil
			})
		})
	}
	wg.Wait()

	var ok, used int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrUsed):
			used++
		default:
			t.Errorf("caller %d: unexpected error: %v", i, err)
		}
	}
	if ok != 1 || used != callers-1 {
		t.Errorf("%d callers succeeded and %d got ErrUsed, want 1 and %d", ok, used, callers-1)
	}
}

func newAPIKey(id string) store.APIKey {
	return store.APIKey{
		ID:         id,
		Name:       "soar-" + id,
		SecretHash: []byte{0xde, 0xad, 0xbe, 0xef},
		Role:       "admin",
		CreatedAt:  at(0),
	}
}

func testAPIKeyRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	used := newAPIKey("k2")
	used.LastUsed = at(5)
	for _, want := range []store.APIKey{newAPIKey("k1"), used} {
		must(t, s.CreateAPIKey(ctx, want))
		got, err := s.GetAPIKey(ctx, want.ID)
		must(t, err)
		if d := diff(want, got); d != "" {
			t.Errorf("GetAPIKey(%q) mismatch (-want +got):\n%s", want.ID, d)
		}
	}
}

func testAPIKeyConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateAPIKey(ctx, newAPIKey("k1")))
	err := s.CreateAPIKey(ctx, newAPIKey("k1"))
	wantErr(t, err, store.ErrConflict)
}

func testAPIKeyNotFound(t *testing.T, s store.Store) {
	_, err := s.GetAPIKey(t.Context(), "missing")
	wantErr(t, err, store.ErrNotFound)
}

func testTouchAPIKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateAPIKey(ctx, newAPIKey("k1")))
	must(t, s.TouchAPIKey(ctx, "k1", at(7)))

	got, err := s.GetAPIKey(ctx, "k1")
	must(t, err)
	want := newAPIKey("k1")
	want.LastUsed = at(7)
	if d := diff(want, got); d != "" {
		t.Errorf("GetAPIKey after TouchAPIKey mismatch (-want +got):\n%s", d)
	}

	err = s.TouchAPIKey(ctx, "missing", at(8))
	wantErr(t, err, store.ErrNotFound)
}

func newTrigger(name string) store.Trigger {
	return store.Trigger{
		Name:      name,
		Profile:   "triage",
		Parser:    "URL",
		TokenHash: []byte{0x10, 0x20, 0x30},
		CreatedAt: at(0),
		CreatedBy: "admin-key:k1",
	}
}

func testTriggerRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := []store.Trigger{newTrigger("edr"), newTrigger("siem")}
	want[1].Profile = "memory"
	for _, tr := range want {
		must(t, s.CreateTrigger(ctx, tr))
	}

	got, err := s.GetTrigger(ctx, "siem")
	must(t, err)
	if d := diff(want[1], got); d != "" {
		t.Errorf("GetTrigger mismatch (-want +got):\n%s", d)
	}

	list, err := s.ListTriggers(ctx)
	must(t, err)
	byName := cmpopts.SortSlices(func(a, b store.Trigger) bool { return a.Name < b.Name })
	if d := diff(want, list, byName); d != "" {
		t.Errorf("ListTriggers mismatch (-want +got):\n%s", d)
	}
}

func testTriggerConflict(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateTrigger(ctx, newTrigger("siem")))
	err := s.CreateTrigger(ctx, newTrigger("siem"))
	wantErr(t, err, store.ErrConflict)
}

func testTriggerNotFound(t *testing.T, s store.Store) {
	_, err := s.GetTrigger(t.Context(), "missing")
	wantErr(t, err, store.ErrNotFound)
}

func testRotateTriggerToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CreateTrigger(ctx, newTrigger("siem")))
	newHash := []byte{0xaa, 0xbb}
	must(t, s.RotateTriggerToken(ctx, "siem", newHash, at(9)))

	got, err := s.GetTrigger(ctx, "siem")
	must(t, err)
	want := newTrigger("siem")
	want.TokenHash = newHash
	want.RotatedAt = at(9)
	if d := diff(want, got); d != "" {
		t.Errorf("GetTrigger after rotation mismatch (-want +got):\n%s", d)
	}

	err = s.RotateTriggerToken(ctx, "missing", newHash, at(10))
	wantErr(t, err, store.ErrNotFound)
}
