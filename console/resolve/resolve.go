// Package resolve maps the endpoint strings of a trigger call (hostnames,
// FQDNs, IP addresses) to enrolled responders.
//
// Rules, in order, for one endpoint string:
//   - An IP address (v4, v6, or v4-mapped v6) matches every responder that
//     reported it on any interface. Loopback, link-local and unspecified
//     addresses never match: every host has them, so they name no host.
//   - A name is compared without case and without a trailing dot. A name with
//     a dot first matches responders whose FQDN (or full hostname) equals it;
//     an exact FQDN match wins over any short-name match.
//   - Otherwise the short name (the first label) matches responders whose
//     hostname's first label equals it. For a dotted input this fallback only
//     considers responders that reported no FQDN, so "ws1.a.example" never
//     matches a responder known as "ws1.b.example".
//
// A string that matches several responders is ambiguous: callers must reject
// the whole request and collect nothing.
package resolve

import (
	"net/netip"
	"slices"
	"strings"
)

// Candidate is the part of a responder that resolution looks at.
type Candidate struct {
	ID       string
	Hostname string
	FQDN     string
	IPs      []string
}

// Match is one endpoint string that resolved to exactly one responder.
type Match struct {
	Endpoint    string
	ResponderID string
}

// Ambiguity is one endpoint string that matched several responders.
type Ambiguity struct {
	Endpoint   string
	Candidates []Candidate
}

// Result is the outcome of resolving a list of endpoint strings.
type Result struct {
	Matches   []Match
	NotFound  []string
	Ambiguous []Ambiguity
}

// ResponderIDs returns the matched responder IDs without duplicates, in the
// order of the endpoint strings.
func (r Result) ResponderIDs() []string {
	var ids []string
	for _, m := range r.Matches {
		if !slices.Contains(ids, m.ResponderID) {
			ids = append(ids, m.ResponderID)
		}
	}
	return ids
}

// SplitEndpoints splits a comma-separated endpoint list, trims spaces and
// drops empty items and duplicates.
func SplitEndpoints(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part != "" && !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	return out
}

// Resolve maps each endpoint string to responders.
func Resolve(endpoints []string, candidates []Candidate) Result {
	var res Result
	for _, ep := range endpoints {
		found := resolveOne(ep, candidates)
		switch len(found) {
		case 0:
			res.NotFound = append(res.NotFound, ep)
		case 1:
			res.Matches = append(res.Matches, Match{Endpoint: ep, ResponderID: found[0].ID})
		default:
			res.Ambiguous = append(res.Ambiguous, Ambiguity{Endpoint: ep, Candidates: found})
		}
	}
	return res
}

func resolveOne(endpoint string, candidates []Candidate) []Candidate {
	if addr, ok := parseIP(endpoint); ok {
		if !identifiesHost(addr) {
			return nil
		}
		return filter(candidates, func(c Candidate) bool {
			return slices.ContainsFunc(c.IPs, func(s string) bool {
				other, ok := parseIP(s)
				return ok && other == addr
			})
		})
	}

	name := normalizeName(endpoint)
	if name == "" {
		return nil
	}
	short, _, dotted := strings.Cut(name, ".")

	if dotted {
		exact := filter(candidates, func(c Candidate) bool {
			return normalizeName(c.FQDN) == name || normalizeName(c.Hostname) == name
		})
		if len(exact) > 0 {
			return exact
		}
	}

	return filter(candidates, func(c Candidate) bool {
		if dotted && c.FQDN != "" {
			return false
		}
		return firstLabel(c.Hostname) == short || (!dotted && firstLabel(c.FQDN) == short)
	})
}

func parseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap().WithZone(""), true
}

// NeverMatches reports whether endpoint is an IP address that never
// matches a responder (loopback, link-local, unspecified).
func NeverMatches(endpoint string) bool {
	addr, ok := parseIP(endpoint)
	return ok && !identifiesHost(addr)
}

// identifiesHost reports whether addr can tell one machine from another.
func identifiesHost(addr netip.Addr) bool {
	return !addr.IsLoopback() && !addr.IsLinkLocalUnicast() && !addr.IsLinkLocalMulticast() && !addr.IsUnspecified()
}

func normalizeName(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}

func firstLabel(s string) string {
	short, _, _ := strings.Cut(normalizeName(s), ".")
	return short
}

func filter(candidates []Candidate, keep func(Candidate) bool) []Candidate {
	var out []Candidate
	for _, c := range candidates {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}
