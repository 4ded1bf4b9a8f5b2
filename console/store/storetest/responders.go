package storetest

import (
	"testing"
	"time"

	"github.com/magpie-ir/magpie/console/store"
)

func newResponder(id, hostname string) store.Responder {
	return store.Responder{
		ID:         id,
		Hostname:   hostname,
		FQDN:       hostname + ".corp.example",
		IPs:        []string{"10.0.0.7", "fe80::1"},
		MACs:       []string{"00:11:22:33:44:55"},
		OS:         "linux",
		Arch:       "amd64",
		OSVersion:  "6.8.0",
		Version:    "0.1.0",
		CertSerial: "0a1b2c",
		FirstSeen:  at(0),
		LastSeen:   at(1),
		Online:     true,
	}
}

func testResponderRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	full := newResponder("r1", "Web-01")
	sparse := store.Responder{ID: "r2", Hostname: "db", FirstSeen: at(0)} // no lists, zero LastSeen
	must(t, s.UpsertResponder(ctx, full))
	must(t, s.UpsertResponder(ctx, sparse))

	for _, want := range []store.Responder{full, sparse} {
		got, err := s.GetResponder(ctx, want.ID)
		must(t, err)
		if d := diff(want, got); d != "" {
			t.Errorf("GetResponder(%q) mismatch (-want +got):\n%s", want.ID, d)
		}
	}
}

func testResponderUpsertKeepsFirstSeen(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.UpsertResponder(ctx, newResponder("r1", "web-01")))

	changed := store.Responder{
		ID:         "r1",
		Hostname:   "web-01-renamed",
		IPs:        []string{"10.0.0.8"},
		OS:         "windows",
		Arch:       "arm64",
		OSVersion:  "10.0.26100",
		Version:    "0.2.0",
		CertSerial: "ffee",
		FirstSeen:  at(30),
		LastSeen:   at(31),
		Online:     false,
	}
	must(t, s.UpsertResponder(ctx, changed))

	got, err := s.GetResponder(ctx, "r1")
	must(t, err)
	want := changed
	want.FirstSeen = at(0)
	if d := diff(want, got); d != "" {
		t.Errorf("GetResponder after second upsert mismatch (-want +got):\n%s", d)
	}
}

func testResponderNotFound(t *testing.T, s store.Store) {
	_, err := s.GetResponder(t.Context(), "missing")
	wantErr(t, err, store.ErrNotFound)
}

func testRevokeResponder(t *testing.T, s store.Store) {
	ctx := t.Context()
	r1 := newResponder("r1", "web")
	r1.Online = true
	must(t, s.UpsertResponder(ctx, r1))
	must(t, s.UpsertResponder(ctx, newResponder("r2", "db")))

	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	must(t, s.RevokeResponder(ctx, "r1", at))
	got, err := s.GetResponder(ctx, "r1")
	must(t, err)
	if !got.RevokedAt.Equal(at) || got.Online {
		t.Fatalf("revoked responder: RevokedAt %v Online %v, want %v and false", got.RevokedAt, got.Online, at)
	}
	if got.Hostname != "web" {
		t.Errorf("revoked responder lost its hostname: %q", got.Hostname)
	}

	// An upsert, as a reconnect would make, must not clear the revocation.
	must(t, s.UpsertResponder(ctx, r1))
	got, err = s.GetResponder(ctx, "r1")
	must(t, err)
	if !got.RevokedAt.Equal(at) {
		t.Errorf("upsert cleared RevokedAt: %v", got.RevokedAt)
	}
	other, err := s.GetResponder(ctx, "r2")
	must(t, err)
	if !other.RevokedAt.IsZero() {
		t.Errorf("revoking r1 revoked r2")
	}
	wantErr(t, s.RevokeResponder(ctx, "missing", at), store.ErrNotFound)
}

func testListRespondersOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.ListResponders(ctx)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("ListResponders on empty store returned %d responders, want 0", len(got))
	}

	// Hostnames compare byte by byte, so upper case sorts before lower
	// case, and equal hostnames fall back to the ID.
	for _, r := range []store.Responder{
		newResponder("r3", "web"),
		newResponder("r1", "web"),
		newResponder("r2", "db"),
		newResponder("r4", "Web"),
	} {
		must(t, s.UpsertResponder(ctx, r))
	}

	got, err = s.ListResponders(ctx)
	must(t, err)
	var ids []string
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	if d := diff([]string{"r4", "r2", "r1", "r3"}, ids); d != "" {
		t.Errorf("ListResponders order (-want +got):\n%s", d)
	}
	if d := diff(newResponder("r2", "db"), got[1]); d != "" {
		t.Errorf("ListResponders element mismatch (-want +got):\n%s", d)
	}
}

func testSetResponderOnline(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := newResponder("r1", "web")
	r.Online = false
	must(t, s.UpsertResponder(ctx, r))

	for i, online := range []bool{true, false} {
		seen := at(10 + i)
		must(t, s.SetResponderOnline(ctx, "r1", online, seen))

		got, err := s.GetResponder(ctx, "r1")
		must(t, err)
		if got.Online != online {
			t.Errorf("Online = %t after SetResponderOnline(%t)", got.Online, online)
		}
		if !got.LastSeen.Equal(seen) {
			t.Errorf("LastSeen = %v, want %v", got.LastSeen, seen)
		}
		if !got.FirstSeen.Equal(r.FirstSeen) {
			t.Errorf("FirstSeen = %v, want unchanged %v", got.FirstSeen, r.FirstSeen)
		}
	}

	err := s.SetResponderOnline(ctx, "missing", true, at(20))
	wantErr(t, err, store.ErrNotFound)
}

func testMarkAllOffline(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"r1", "r2", "r3"} {
		r := newResponder(id, "host-"+id)
		r.Online = id != "r3"
		must(t, s.UpsertResponder(ctx, r))
	}

	must(t, s.MarkAllOffline(ctx))

	got, err := s.ListResponders(ctx)
	must(t, err)
	if len(got) != 3 {
		t.Fatalf("ListResponders returned %d responders, want 3", len(got))
	}
	for _, r := range got {
		if r.Online {
			t.Errorf("responder %s still online after MarkAllOffline", r.ID)
		}
		if !r.LastSeen.Equal(at(1)) {
			t.Errorf("responder %s LastSeen = %v, want unchanged %v", r.ID, r.LastSeen, at(1))
		}
	}
}
