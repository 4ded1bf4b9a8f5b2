package hostinfo

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sampleHosts = `# Static table lookup for hostnames.
127.0.0.1	localhost
127.0.1.1	localhost.localdomain	web1
::1		localhost ip6-localhost ip6-loopback

10.0.0.5	web1.corp.example.com	web1	# primary address
10.0.0.6	db1	db1.corp.example.com
10.0.0.7	Mail.Corp.Example.com.	MAIL
10.0.0.8
bogus-line-without-address
`

func TestFQDNFromHosts(t *testing.T) {
	tests := []struct {
		hostname string
		want     string
	}{
		{"web1", "web1.corp.example.com"},
		{"WEB1", "web1.corp.example.com"},
		// db1's entry lists the dotted name as an alias, not first.
		{"db1", ""},
		{"mail", "Mail.Corp.Example.com"},
		{"localhost", ""},
		{"absent", ""},
		{"primary", ""},
	}
	for _, tt := range tests {
		t.Run(tt.hostname, func(t *testing.T) {
			if got := fqdnFromHosts(strings.NewReader(sampleHosts), tt.hostname); got != tt.want {
				t.Errorf("fqdnFromHosts(%q) = %q, want %q", tt.hostname, got, tt.want)
			}
		})
	}
}

func TestFQDNDottedHostname(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "hosts")

	for _, hostname := range []string{"web1.corp.example.com", "web1.corp.example.com."} {
		if got := fqdn(hostname, missing); got != "web1.corp.example.com" {
			t.Errorf("fqdn(%q) = %q, want %q", hostname, got, "web1.corp.example.com")
		}
	}
}

func TestFQDNMissingHostsFile(t *testing.T) {
	if got := fqdn("web1", filepath.Join(t.TempDir(), "hosts")); got != "" {
		t.Errorf("fqdn() without a hosts file = %q, want empty", got)
	}
}

func TestCollectUsesHostsFile(t *testing.T) {
	hostsFile := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hostsFile, []byte(sampleHosts), 0o644); err != nil {
		t.Fatal(err)
	}

	info, err := collect("web1", hostsFile)
	if err != nil {
		t.Fatalf("collect() = %v", err)
	}

	if info.Hostname != "web1" {
		t.Errorf("Hostname = %q, want the override %q", info.Hostname, "web1")
	}
	if info.FQDN != "web1.corp.example.com" {
		t.Errorf("FQDN = %q, want %q", info.FQDN, "web1.corp.example.com")
	}
}

func TestCollectLocalHost(t *testing.T) {
	info, err := Collect("")
	if err != nil {
		t.Fatalf("Collect() = %v", err)
	}

	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if info.Hostname != hostname {
		t.Errorf("Hostname = %q, want %q from os.Hostname", info.Hostname, hostname)
	}
	if info.OS != runtime.GOOS {
		t.Errorf("OS = %q, want %q", info.OS, runtime.GOOS)
	}
	if info.Arch != runtime.GOARCH {
		t.Errorf("Arch = %q, want %q", info.Arch, runtime.GOARCH)
	}
	if info.OSVersion == "" {
		t.Error("OSVersion is empty")
	}
}

func TestCollectInterfaces(t *testing.T) {
	netInterfaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}

	info, err := Collect("")
	if err != nil {
		t.Fatalf("Collect() = %v", err)
	}

	var wantNames, gotNames []string
	for _, netInterface := range netInterfaces {
		wantNames = append(wantNames, netInterface.Name)
	}
	for _, iface := range info.Interfaces {
		gotNames = append(gotNames, iface.Name)
	}
	if diff := cmp.Diff(wantNames, gotNames); diff != "" {
		t.Errorf("interface names mismatch (-want +got):\n%s", diff)
	}

	var loopbackAddresses []string
	for _, iface := range info.Interfaces {
		loopbackAddresses = append(loopbackAddresses, iface.Addresses...)
		for _, address := range iface.Addresses {
			if strings.Contains(address, "/") {
				t.Errorf("interface %s address %q has a prefix length", iface.Name, address)
			}
		}
	}
	if !slices.Contains(loopbackAddresses, "127.0.0.1") && !slices.Contains(loopbackAddresses, "::1") {
		t.Errorf("no interface has 127.0.0.1 or ::1; addresses: %v", loopbackAddresses)
	}
}

func TestCollectDottedOverride(t *testing.T) {
	info, err := Collect("responder-7.lab.example.org")
	if err != nil {
		t.Fatalf("Collect() = %v", err)
	}

	if info.FQDN != "responder-7.lab.example.org" {
		t.Errorf("FQDN = %q, want the dotted override", info.FQDN)
	}
}
