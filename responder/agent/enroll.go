package agent

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/magpie-ir/magpie/internal/backoff"
	"github.com/magpie-ir/magpie/internal/hostinfo"
	pb "github.com/magpie-ir/magpie/proto/magpie/v1"
)

// enroll loads the responder's identity from the state directory, or
// enrolls with the console when there is none.
func (a *Agent) enroll(ctx context.Context) (*state, error) {
	st, err := loadState(a.cfg.StateDir)
	if err == nil {
		a.log.Info("responder identity loaded", "responder_id", st.ResponderID, "state_dir", a.cfg.StateDir)
		return st, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}

	if a.cfg.EnrollToken == "" {
		return nil, fmt.Errorf("responder is not enrolled yet (no identity in %s): pass --enroll-token TOKEN from 'magpie enroll-token create'", a.cfg.StateDir)
	}
	pool, err := a.bootstrapCA()
	if err != nil {
		return nil, err
	}
	host, err := hostinfo.Collect(a.cfg.Hostname)
	if err != nil {
		return nil, fmt.Errorf("collect host information: %w", err)
	}
	key, csr, err := newKeyAndCSR(host.Hostname)
	if err != nil {
		return nil, err
	}

	conn, err := grpc.NewClient(a.cfg.ConsoleAddr, grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, "")))
	if err != nil {
		return nil, fmt.Errorf("connect to console %s: %w", a.cfg.ConsoleAddr, err)
	}
	defer conn.Close()

	// A console that is not up yet is retried; a rejected token is not.
	req := &pb.EnrollRequest{Token: a.cfg.EnrollToken, CsrDer: csr, Host: a.hostInfo(host)}
	bo := backoff.New(minReconnectDelay, maxReconnectDelay)
	var resp *pb.EnrollResponse
	for {
		callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err = pb.NewEnrollmentClient(conn).Enroll(callCtx, req)
		cancel()
		if err == nil {
			break
		}
		if status.Code(err) != codes.Unavailable {
			return nil, fmt.Errorf("enroll with console %s: %w", a.cfg.ConsoleAddr, err)
		}
		delay, werr := bo.Wait(ctx)
		a.log.Warn("enrollment failed, retrying", "console", a.cfg.ConsoleAddr, "error", err, "retry_in", delay.Round(time.Millisecond))
		if werr != nil {
			return nil, fmt.Errorf("enroll with console %s: %w", a.cfg.ConsoleAddr, err)
		}
	}
	id := identity{ResponderID: resp.GetResponderId(), Console: a.cfg.ConsoleAddr}
	if err := saveState(a.cfg.StateDir, key, resp.GetCertificateDer(), resp.GetCaCertificateDer(), id); err != nil {
		return nil, err
	}
	a.log.Info("responder enrolled", "responder_id", id.ResponderID, "console", a.cfg.ConsoleAddr)
	return loadState(a.cfg.StateDir)
}

// bootstrapCA reads the CA certificate given with --ca. The responder trusts
// it for the enrollment call only. Afterwards it trusts the CA certificate
// that the console returned at enrollment.
func (a *Agent) bootstrapCA() (*x509.CertPool, error) {
	if a.cfg.CAFile == "" {
		return nil, errors.New("missing console CA: pass --ca FILE (the console's DATA_DIR/ca.pem) for enrollment")
	}
	raw, err := os.ReadFile(a.cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read console CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(raw) {
		return nil, fmt.Errorf("no PEM certificate in %s: pass the console's DATA_DIR/ca.pem", a.cfg.CAFile)
	}
	return pool, nil
}

// hostInfo converts collected host facts to the wire form.
func (a *Agent) hostInfo(h hostinfo.Info) *pb.HostInfo {
	out := &pb.HostInfo{
		Hostname:         h.Hostname,
		Fqdn:             h.FQDN,
		Os:               h.OS,
		Arch:             h.Arch,
		OsVersion:        h.OSVersion,
		ResponderVersion: a.version,
	}
	for _, iface := range h.Interfaces {
		out.Interfaces = append(out.Interfaces, &pb.NetworkInterface{Name: iface.Name, Mac: iface.MAC, Addresses: iface.Addresses})
	}
	return out
}
