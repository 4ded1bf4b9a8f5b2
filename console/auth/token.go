// Package auth creates and checks the console's bearer secrets: API keys,
// enrollment tokens and trigger tokens.
//
// A secret is 32 random bytes. Only its SHA-256 is stored, and checks compare
// hashes in constant time. SHA-256 without a slow KDF is enough here because
// the secrets are random, not chosen by people, so a leaked hash cannot be
// brute-forced.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
)

// ErrMalformed reports a secret that does not have the expected shape.
var ErrMalformed = errors.New("malformed token")

// Token is a secret with a public ID. Its string form is
// PREFIX_ID_SECRET; the ID lets the console find the stored hash without
// searching by secret.
type Token struct {
	Prefix string
	ID     string
	Secret string
}

// String returns the form handed to users.
func (t Token) String() string {
	return t.Prefix + "_" + t.ID + "_" + t.Secret
}

// NewToken returns a token with a random 12-character hex ID and a random
// 43-character secret. The ID is hex so that it never contains the "_"
// separator.
func NewToken(prefix string) Token {
	id := make([]byte, 6)
	if _, err := rand.Read(id); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return Token{Prefix: prefix, ID: hex.EncodeToString(id), Secret: randomString(32)}
}

// ParseToken splits s into its parts and checks that the prefix is prefix.
func ParseToken(s, prefix string) (Token, error) {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok {
		return Token{}, ErrMalformed
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || id == "" || secret == "" {
		return Token{}, ErrMalformed
	}
	return Token{Prefix: prefix, ID: id, Secret: secret}, nil
}

// NewSecret returns a random secret without an ID, for trigger tokens: the
// trigger name in the URL already finds the stored hash.
func NewSecret() string {
	return randomString(32)
}

// Hash returns the SHA-256 of secret, the form stored at rest.
func Hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// Equal reports whether secret hashes to stored, in time independent of
// where the two differ.
func Equal(stored []byte, secret string) bool {
	return subtle.ConstantTimeCompare(stored, Hash(secret)) == 1
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
