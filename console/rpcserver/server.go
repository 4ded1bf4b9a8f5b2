// Package rpcserver implements the magpie.v1 gRPC services on the console:
// enrollment, the responder control stream and evidence upload.
package rpcserver

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/magpie-ir/magpie/console/dispatch"
	"github.com/magpie-ir/magpie/console/pki"
	"github.com/magpie-ir/magpie/console/repository"
	"github.com/magpie-ir/magpie/console/store"
	"github.com/magpie-ir/magpie/console/tasks"
	pb "github.com/magpie-ir/magpie/proto/magpie/v1"
)

// HeartbeatInterval is how often responders are asked to send a heartbeat.
const HeartbeatInterval = 30 * time.Second

// MaxChunkSize is the largest upload chunk the console accepts.
const MaxChunkSize = 4 << 20

// Config configures a Server.
type Config struct {
	Store      store.Store
	Hub        *dispatch.Hub
	Tasks      *tasks.Service
	CA         *pki.CA
	Repository *repository.Local
	Log        *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Server implements pb.EnrollmentServer and pb.RespondersServer.
type Server struct {
	pb.UnimplementedEnrollmentServer
	pb.UnimplementedRespondersServer

	store store.Store
	hub   *dispatch.Hub
	tasks *tasks.Service
	ca    *pki.CA
	repo  *repository.Local
	log   *slog.Logger
	now   func() time.Time
}

// New returns a Server.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, hub: cfg.Hub, tasks: cfg.Tasks, ca: cfg.CA, repo: cfg.Repository, log: cfg.Log, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// NewGRPCServer returns a gRPC server with both services registered. Its
// TLS configuration requests a certificate from every client and verifies
// any it receives against the console's CA. The interceptors then require a
// verified certificate for every method except Enroll.
func (s *Server) NewGRPCServer(serverCert tls.Certificate) *grpc.Server {
	tlsConfig := &tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    s.ca.Pool(),
		MinVersion:   tls.VersionTLS13,
	}
	gs := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(tlsConfig)),
		grpc.UnaryInterceptor(s.unaryAuth),
		grpc.StreamInterceptor(s.streamAuth),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Minute, Timeout: 20 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.MaxRecvMsgSize(MaxChunkSize+64<<10),
		// Large fixed windows let uploads stream without waiting on flow
		// control; the default window starts at 64 KiB and grows.
		grpc.InitialWindowSize(8<<20),
		grpc.InitialConnWindowSize(8<<20),
		grpc.ReadBufferSize(256<<10),
		grpc.WriteBufferSize(256<<10),
	)
	pb.RegisterEnrollmentServer(gs, s)
	pb.RegisterRespondersServer(gs, s)
	return gs
}

// revokedMessage explains a rejected revoked responder; its arguments are
// the responder ID and the revocation time.
const revokedMessage = "responder %s was revoked on the console at %s: to bring this machine back, delete the responder's state directory and enroll it again with a new token"

type responderIDKey struct{}

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if info.FullMethod == pb.Enrollment_Enroll_FullMethodName {
		return handler(ctx, req)
	}
	ctx, err := s.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := s.authenticate(ss.Context())
	if err != nil {
		return err
	}
	return handler(srv, &authedStream{ServerStream: ss, ctx: ctx})
}

type authedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (a *authedStream) Context() context.Context { return a.ctx }

// authenticate reads the responder ID from the verified client certificate
// and checks that the responder is still enrolled.
func (s *Server) authenticate(ctx context.Context) (context.Context, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no peer information")
	}
	tlsInfo, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(tlsInfo.State.VerifiedChains) == 0 || len(tlsInfo.State.VerifiedChains[0]) == 0 {
		return nil, status.Error(codes.Unauthenticated, "client certificate required: enroll this responder with an enrollment token first")
	}
	id := tlsInfo.State.VerifiedChains[0][0].Subject.CommonName
	r, err := s.store.GetResponder(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, status.Errorf(codes.PermissionDenied, "responder %s is not enrolled on this console: delete the responder's state directory and enroll again", id)
		}
		return nil, status.Errorf(codes.Internal, "look up responder: %v", err)
	}
	if !r.RevokedAt.IsZero() {
		return nil, status.Errorf(codes.PermissionDenied, revokedMessage, id, r.RevokedAt.Format(time.RFC3339))
	}
	return context.WithValue(ctx, responderIDKey{}, id), nil
}

func responderID(ctx context.Context) string {
	id, _ := ctx.Value(responderIDKey{}).(string)
	return id
}

func (s *Server) audit(ctx context.Context, actor, action, target, detail string) {
	err := s.store.AppendAudit(ctx, store.AuditEvent{Time: s.now().UTC(), Actor: actor, Action: action, Target: target, Detail: detail})
	if err != nil {
		s.log.Error("append audit event failed", "action", action, "target", target, "error", err)
	}
}
