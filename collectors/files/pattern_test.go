package files

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpandBraces(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{"/etc/hosts", []string{"/etc/hosts"}},
		{"/{home/*,root}/.bashrc", []string{"/home/*/.bashrc", "/root/.bashrc"}},
		{"/a/{x,y{1,2}}/z", []string{"/a/x/z", "/a/y1/z", "/a/y2/z"}},
		{"/opera{,/*}/History", []string{"/opera/History", "/opera/*/History"}},
		{`/a/\{x,y\}`, []string{`/a/\{x,y\}`}},
		{"/a/[{]b", []string{"/a/[{]b"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := expandBraces(tt.pattern, 0)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("expansion (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpandBracesLimit(t *testing.T) {
	if _, err := expandBraces("/"+strings.Repeat("{a,b}", 13), 0); err == nil {
		t.Error("8192 expansions accepted, want an error")
	}
}

func TestParsePatternSegments(t *testing.T) {
	got, err := parsePattern("/var//log/./**/**/*.log")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]segment{{
		{segLiteral, "var"},
		{segLiteral, "log"},
		{segDoubleStar, "**"},
		{segGlob, "*.log"},
	}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(segment{})); diff != "" {
		t.Errorf("segments (-want +got):\n%s", diff)
	}
}

func TestValidatePattern(t *testing.T) {
	valid := []string{"/", "/var/log/**", "/home/*/.mozilla/firefox/*/places.sqlite*", "/{home/*,root}/.ssh/*"}
	for _, p := range valid {
		if err := ValidatePattern(p); err != nil {
			t.Errorf("ValidatePattern(%q) = %v, want nil", p, err)
		}
	}
	invalid := []string{"", "var/log", "/var/log/[", "/a/{b", "/a/../etc/shadow", "/a/b\x00c"}
	for _, p := range invalid {
		if err := ValidatePattern(p); !errors.Is(err, ErrInvalidPattern) {
			t.Errorf("ValidatePattern(%q) = %v, want ErrInvalidPattern", p, err)
		}
	}
}

func FuzzParsePattern(f *testing.F) {
	f.Add("/{home/*,root}/.config/opera{,/*}/{History,Cookies}{,-wal}")
	f.Add(`/a/\{x,y\}/[{]/**/**`)
	f.Fuzz(func(t *testing.T, p string) {
		expanded, err := parsePattern(p)
		if err != nil {
			return
		}
		for _, segs := range expanded {
			for _, s := range segs {
				if s.text == "" || s.text == "." || s.text == ".." || strings.Contains(s.text, "/") {
					t.Fatalf("parsePattern(%q) gave segment %q", p, s.text)
				}
			}
		}
	})
}
