// Package hostinfo describes the machine a responder runs on: host name,
// fully qualified domain name, network interfaces and operating system.
// It sends no network traffic, so collecting it cannot alert an attacker
// who watches DNS.
package hostinfo

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
)

// Info describes the host.
type Info struct {
	Hostname string `json:"hostname"`
	// FQDN is the fully qualified domain name, or empty when neither the
	// host name nor the hosts file gives one.
	FQDN       string      `json:"fqdn"`
	Interfaces []Interface `json:"interfaces"`
	// OS and Arch are the GOOS and GOARCH the binary was built for.
	OS   string `json:"os"`
	Arch string `json:"arch"`
	// OSVersion is a human-readable release, for example
	// "Debian GNU/Linux 12 (bookworm)", "Windows 10.0.22631" or
	// "macOS 14.5".
	OSVersion string `json:"os_version"`
}

// Interface is one network interface.
type Interface struct {
	Name string `json:"name"`
	// MAC is the hardware address in colon notation, or empty for
	// interfaces without one, such as loopback.
	MAC string `json:"mac"`
	// Addresses are the IPv4 and IPv6 addresses without prefix length.
	Addresses []string `json:"addresses"`
}

// Collect returns information about the host. A non-empty
// hostnameOverride replaces the name from os.Hostname, for hosts whose
// configured name is not the one investigators know them by.
//
// The FQDN is the host name itself when it contains a dot. Otherwise it
// is the first name of a hosts file entry that lists the host name, when
// that first name contains a dot. No DNS query is made.
func Collect(hostnameOverride string) (Info, error) {
	return collect(hostnameOverride, hostsPath())
}

// collect implements Collect with the hosts file at hostsFile.
func collect(hostnameOverride, hostsFile string) (Info, error) {
	hostname := hostnameOverride
	if hostname == "" {
		name, err := os.Hostname()
		if err != nil {
			return Info{}, fmt.Errorf("get host name: %w; set a host name override", err)
		}
		hostname = name
	}

	interfaces, err := listInterfaces()
	if err != nil {
		return Info{}, err
	}

	return Info{
		Hostname:   hostname,
		FQDN:       fqdn(hostname, hostsFile),
		Interfaces: interfaces,
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		OSVersion:  osVersion(),
	}, nil
}

// fqdn returns hostname when it contains a dot, or else the name that
// the hosts file at hostsFile gives it. A missing or unreadable hosts
// file yields "".
func fqdn(hostname, hostsFile string) string {
	if strings.Contains(strings.TrimSuffix(hostname, "."), ".") {
		return strings.TrimSuffix(hostname, ".")
	}

	f, err := os.Open(hostsFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	return fqdnFromHosts(f, hostname)
}

// fqdnFromHosts returns the canonical name (the first name after the
// address) of the first hosts(5) entry that lists hostname, ignoring
// case, and whose canonical name contains a dot. localhost and
// localhost.localdomain are skipped, because many systems list the host
// name on the loopback line.
func fqdnFromHosts(r io.Reader, hostname string) string {
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		line, _, _ := strings.Cut(scanner.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}

		names := fields[1:]
		listed := false
		for _, name := range names {
			if strings.EqualFold(name, hostname) {
				listed = true
				break
			}
		}
		canonical := strings.TrimSuffix(names[0], ".")
		if !listed || !strings.Contains(canonical, ".") || isLocalhost(canonical) {
			continue
		}
		return canonical
	}
	return ""
}

// isLocalhost reports whether name is localhost or a name under it, such
// as localhost.localdomain.
func isLocalhost(name string) bool {
	name = strings.ToLower(name)
	return name == "localhost" || strings.HasPrefix(name, "localhost.")
}

// listInterfaces returns every network interface, loopback and interfaces
// that are down included.
func listInterfaces() ([]Interface, error) {
	netInterfaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}

	interfaces := make([]Interface, 0, len(netInterfaces))
	for _, netInterface := range netInterfaces {
		addrs, err := netInterface.Addrs()
		if err != nil {
			return nil, fmt.Errorf("list addresses of interface %s: %w", netInterface.Name, err)
		}

		addresses := make([]string, 0, len(addrs))
		for _, addr := range addrs {
			switch a := addr.(type) {
			case *net.IPNet:
				addresses = append(addresses, a.IP.String())
			case *net.IPAddr:
				addresses = append(addresses, a.String())
			default:
				addresses = append(addresses, addr.String())
			}
		}

		interfaces = append(interfaces, Interface{
			Name:      netInterface.Name,
			MAC:       netInterface.HardwareAddr.String(),
			Addresses: addresses,
		})
	}
	return interfaces, nil
}
