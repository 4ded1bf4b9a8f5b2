package auth

import (
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	tok := NewToken("mgpk")
	parsed, err := ParseToken(tok.String(), "mgpk")
	if err != nil {
		t.Fatal(err)
	}
	if parsed != tok {
		t.Fatalf("ParseToken(%q) = %+v, want %+v", tok.String(), parsed, tok)
	}
	if strings.Contains(tok.ID, "_") {
		t.Fatalf("ID %q contains the separator", tok.ID)
	}
}

func TestParseTokenRejectsMalformed(t *testing.T) {
	for _, s := range []string{"", "mgpk", "mgpk_", "mgpk_id", "mgpk__secret", "other_id_secret"} {
		if _, err := ParseToken(s, "mgpk"); err == nil {
			t.Errorf("ParseToken(%q) accepted a malformed token", s)
		}
	}
}

func TestSecretWithUnderscoreParses(t *testing.T) {
	tok := Token{Prefix: "mget", ID: "abc", Secret: "x_y-z"}
	parsed, err := ParseToken(tok.String(), "mget")
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Secret != "x_y-z" {
		t.Fatalf("secret = %q, want x_y-z", parsed.Secret)
	}
}

func TestEqual(t *testing.T) {
	secret := NewSecret()
	stored := Hash(secret)
	if !Equal(stored, secret) {
		t.Fatal("Equal rejected the right secret")
	}
	if Equal(stored, secret+"x") {
		t.Fatal("Equal accepted a wrong secret")
	}
	if Equal(nil, secret) {
		t.Fatal("Equal accepted a secret against an empty hash")
	}
}
