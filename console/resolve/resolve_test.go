package resolve

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

var fleet = []Candidate{
	{ID: "r1", Hostname: "WS-0042", FQDN: "ws-0042.corp.example", IPs: []string{"10.0.0.42", "fe80::1", "127.0.0.1"}},
	{ID: "r2", Hostname: "ws-0042", FQDN: "ws-0042.lab.example", IPs: []string{"10.1.0.42", "127.0.0.1"}},
	{ID: "r3", Hostname: "db01", IPs: []string{"10.0.0.5", "2001:db8::5"}},
	{ID: "r4", Hostname: "web01.corp.example", IPs: []string{"10.0.0.6"}},
	{ID: "r5", Hostname: "mail", FQDN: "mail.corp.example"},
	{ID: "r6", Hostname: "mail-gw", FQDN: "mail.corp.example.net"},
	{ID: "r7", Hostname: "mail"},
	{ID: "r8", Hostname: "nat-a", IPs: []string{"10.2.0.9"}},
	{ID: "r9", Hostname: "nat-b", IPs: []string{"10.2.0.9"}},
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name      string
		endpoints []string
		matched   []string
		notFound  []string
		ambiguous []string
	}{
		{"fqdn exact", []string{"ws-0042.corp.example"}, []string{"r1"}, nil, nil},
		{"fqdn ignores case and trailing dot", []string{"WS-0042.Corp.Example."}, []string{"r1"}, nil, nil},
		{"short name ambiguous", []string{"ws-0042"}, nil, nil, []string{"ws-0042"}},
		{"short name unique", []string{"DB01"}, []string{"r3"}, nil, nil},
		{"short name from fqdn hostname", []string{"web01"}, []string{"r4"}, nil, nil},
		{"fqdn input for host without fqdn", []string{"db01.corp.example"}, []string{"r3"}, nil, nil},
		{"fqdn input never crosses domains", []string{"ws-0042.other.example"}, nil, []string{"ws-0042.other.example"}, nil},
		{"exact fqdn wins over short name", []string{"mail.corp.example"}, []string{"r5"}, nil, nil},
		{"ipv4", []string{"10.0.0.5"}, []string{"r3"}, nil, nil},
		{"ipv6", []string{"2001:DB8:0:0::5"}, []string{"r3"}, nil, nil},
		{"bracketed ipv6", []string{"[2001:db8::5]"}, []string{"r3"}, nil, nil},
		{"v4-mapped v6", []string{"::ffff:10.0.0.5"}, []string{"r3"}, nil, nil},
		{"shared ip ambiguous", []string{"10.2.0.9"}, nil, nil, []string{"10.2.0.9"}},
		{"loopback never matches", []string{"127.0.0.1"}, nil, []string{"127.0.0.1"}, nil},
		{"link-local never matches", []string{"fe80::1"}, nil, []string{"fe80::1"}, nil},
		{"unknown", []string{"nope"}, nil, []string{"nope"}, nil},
		{"mixed", []string{"db01", "nope", "10.0.0.6"}, []string{"r3", "r4"}, []string{"nope"}, nil},
		{"duplicate responder once", []string{"db01", "10.0.0.5"}, []string{"r3"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Resolve(tt.endpoints, fleet)
			if diff := cmp.Diff(tt.matched, res.ResponderIDs()); diff != "" {
				t.Errorf("matched responders (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.notFound, res.NotFound); diff != "" {
				t.Errorf("not found (-want +got):\n%s", diff)
			}
			var ambiguous []string
			for _, a := range res.Ambiguous {
				ambiguous = append(ambiguous, a.Endpoint)
			}
			if diff := cmp.Diff(tt.ambiguous, ambiguous); diff != "" {
				t.Errorf("ambiguous (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAmbiguityListsCandidates(t *testing.T) {
	res := Resolve([]string{"ws-0042"}, fleet)
	if len(res.Ambiguous) != 1 {
		t.Fatalf("got %d ambiguities, want 1", len(res.Ambiguous))
	}
	var ids []string
	for _, c := range res.Ambiguous[0].Candidates {
		ids = append(ids, c.ID)
	}
	if diff := cmp.Diff([]string{"r1", "r2"}, ids); diff != "" {
		t.Errorf("candidates (-want +got):\n%s", diff)
	}
}

func TestSplitEndpoints(t *testing.T) {
	got := SplitEndpoints(" ws1, ,ws2,ws1,10.0.0.1 ")
	if diff := cmp.Diff([]string{"ws1", "ws2", "10.0.0.1"}, got); diff != "" {
		t.Errorf("SplitEndpoints (-want +got):\n%s", diff)
	}
}

func FuzzResolve(f *testing.F) {
	f.Add("ws-0042.corp.example.,10.0.0.5")
	f.Add("[::1]")
	f.Fuzz(func(t *testing.T, s string) {
		res := Resolve(SplitEndpoints(s), fleet)
		total := len(res.Matches) + len(res.NotFound) + len(res.Ambiguous)
		if total != len(SplitEndpoints(s)) {
			t.Fatalf("resolved %d of %d endpoints", total, len(SplitEndpoints(s)))
		}
	})
}
