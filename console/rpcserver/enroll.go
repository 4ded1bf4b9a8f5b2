package rpcserver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/magpie-ir/magpie/console/auth"
	"github.com/magpie-ir/magpie/console/store"
	"github.com/magpie-ir/magpie/console/tasks"
	pb "github.com/magpie-ir/magpie/proto/magpie/v1"
)

// EnrollTokenPrefix starts every enrollment token.
const EnrollTokenPrefix = "mget"

var errWrongSecret = errors.New("wrong secret")

// Enroll checks the enrollment token and signs the responder's key.
func (s *Server) Enroll(ctx context.Context, req *pb.EnrollRequest) (*pb.EnrollResponse, error) {
	tok, err := auth.ParseToken(req.GetToken(), EnrollTokenPrefix)
	if err != nil {
		return nil, status.Error(codes.Unauthenticated, "enrollment token is malformed: copy it again from 'magpie enroll-token create'")
	}
	if req.GetHost().GetHostname() == "" {
		return nil, status.Error(codes.InvalidArgument, "enrollment request has no hostname")
	}

	id := tasks.NewID("r")
	err = s.store.ConsumeEnrollToken(ctx, tok.ID, s.now().UTC(), id, func(t store.EnrollToken) error {
		if !auth.Equal(t.SecretHash, tok.Secret) {
			return errWrongSecret
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errWrongSecret):
		s.log.Warn("enrollment rejected", "token_id", tok.ID, "hostname", req.GetHost().GetHostname(), "reason", "unknown token")
		return nil, status.Error(codes.Unauthenticated, "enrollment token is not valid on this console: create one with 'magpie enroll-token create'")
	case errors.Is(err, store.ErrExpired):
		return nil, status.Error(codes.Unauthenticated, "enrollment token has expired: create a new one with 'magpie enroll-token create'")
	case errors.Is(err, store.ErrUsed):
		return nil, status.Error(codes.Unauthenticated, "enrollment token was single-use and is already used: create a new one with 'magpie enroll-token create'")
	case err != nil:
		return nil, status.Errorf(codes.Internal, "consume enrollment token: %v", err)
	}

	cert, err := s.ca.SignResponder(req.GetCsrDer(), id)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%v", err)
	}

	now := s.now().UTC()
	r := responderFromHost(id, req.GetHost())
	r.CertSerial = fmt.Sprintf("%x", cert.SerialNumber)
	r.FirstSeen = now
	r.LastSeen = now
	if err := s.store.UpsertResponder(ctx, r); err != nil {
		return nil, status.Errorf(codes.Internal, "register responder: %v", err)
	}
	s.log.Info("responder enrolled", "responder_id", id, "hostname", r.Hostname, "token_id", tok.ID)
	s.audit(ctx, "enroll-token:"+tok.ID, "responder.enroll", id, "hostname="+r.Hostname)

	return &pb.EnrollResponse{
		ResponderId:      id,
		CertificateDer:   cert.Raw,
		CaCertificateDer: s.ca.Cert.Raw,
	}, nil
}

// responderFromHost copies what the responder reported about its host.
func responderFromHost(id string, h *pb.HostInfo) store.Responder {
	r := store.Responder{
		ID:        id,
		Hostname:  h.GetHostname(),
		FQDN:      h.GetFqdn(),
		OS:        h.GetOs(),
		Arch:      h.GetArch(),
		OSVersion: h.GetOsVersion(),
		Version:   h.GetResponderVersion(),
	}
	for _, iface := range h.GetInterfaces() {
		if iface.GetMac() != "" {
			r.MACs = append(r.MACs, iface.GetMac())
		}
		for _, a := range iface.GetAddresses() {
			if addr, err := netip.ParseAddr(a); err == nil {
				r.IPs = append(r.IPs, addr.String())
			}
		}
	}
	return r
}
