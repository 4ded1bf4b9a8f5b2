package rpcserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/magpie-ir/magpie/console/auth"
	"github.com/magpie-ir/magpie/console/dispatch"
	"github.com/magpie-ir/magpie/console/pki"
	"github.com/magpie-ir/magpie/console/repository"
	"github.com/magpie-ir/magpie/console/store"
	"github.com/magpie-ir/magpie/console/store/sqlite"
	"github.com/magpie-ir/magpie/console/tasks"
	"github.com/magpie-ir/magpie/internal/version"
	pb "github.com/magpie-ir/magpie/proto/magpie/v1"
)

type testConsole struct {
	addr  string
	ca    *pki.CA
	store store.Store
	tasks *tasks.Service
	repo  *repository.Local
}

func startTestConsole(t *testing.T) *testConsole {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	ca, _, err := pki.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "magpie.db"))
	if err != nil {
		t.Fatal(err)
	}
	repo, err := repository.NewLocal(filepath.Join(dir, "evidence"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	hub := dispatch.NewHub()
	svc := tasks.New(tasks.Config{Store: st, Hub: hub, Log: log})
	srv := New(Config{Store: st, Hub: hub, Tasks: svc, CA: ca, Repository: repo, Log: log})
	cert, err := ca.ServerCertificate([]string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	gs := srv.NewGRPCServer(cert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(ln)
	t.Cleanup(func() {
		gs.Stop()
		st.Close()
	})
	return &testConsole{addr: ln.Addr().String(), ca: ca, store: st, tasks: svc, repo: repo}
}

func (c *testConsole) enrollToken(t *testing.T, singleUse bool, ttl time.Duration) string {
	t.Helper()
	tok := auth.NewToken(EnrollTokenPrefix)
	now := time.Now().UTC()
	err := c.store.CreateEnrollToken(context.Background(), store.EnrollToken{ID: tok.ID, SecretHash: auth.Hash(tok.Secret), SingleUse: singleUse, CreatedAt: now, ExpiresAt: now.Add(ttl)})
	if err != nil {
		t.Fatal(err)
	}
	return tok.String()
}

func (c *testConsole) dial(t *testing.T, cert *tls.Certificate) *grpc.ClientConn {
	t.Helper()
	cfg := &tls.Config{RootCAs: c.ca.Pool(), ServerName: "localhost"}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	conn, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// enroll enrolls a responder and returns its ID and client certificate.
func (c *testConsole) enroll(t *testing.T, token, hostname string) (string, *tls.Certificate, error) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := pb.NewEnrollmentClient(c.dial(t, nil)).Enroll(ctx, &pb.EnrollRequest{Token: token, CsrDer: csr, Host: &pb.HostInfo{Hostname: hostname}})
	if err != nil {
		return "", nil, err
	}
	return resp.GetResponderId(), &tls.Certificate{Certificate: [][]byte{resp.GetCertificateDer()}, PrivateKey: key}, nil
}

func TestEnrollTokenRules(t *testing.T) {
	c := startTestConsole(t)

	single := c.enrollToken(t, true, time.Hour)
	if _, _, err := c.enroll(t, single, "ws1"); err != nil {
		t.Fatalf("first use of a single-use token: %v", err)
	}
	if _, _, err := c.enroll(t, single, "ws2"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("second use of a single-use token: %v, want Unauthenticated", err)
	}

	expired := c.enrollToken(t, false, -time.Minute)
	if _, _, err := c.enroll(t, expired, "ws3"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("expired token: %v, want Unauthenticated", err)
	}

	multi := c.enrollToken(t, false, time.Hour)
	wrongSecret := multi[:len(multi)-4] + "AAAA"
	if _, _, err := c.enroll(t, wrongSecret, "ws4"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("wrong secret: %v, want Unauthenticated", err)
	}
	for _, host := range []string{"ws5", "ws6"} {
		if _, _, err := c.enroll(t, multi, host); err != nil {
			t.Errorf("multi-use token for %s: %v", host, err)
		}
	}
}

func TestConnectRequiresClientCertificate(t *testing.T) {
	c := startTestConsole(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := pb.NewRespondersClient(c.dial(t, nil)).Connect(ctx)
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("Connect without a certificate: %v, want Unauthenticated", err)
	}
}

// connect opens a control stream and returns it after the Welcome.
func connect(t *testing.T, ctx context.Context, conn *grpc.ClientConn) pb.Responders_ConnectClient {
	t.Helper()
	stream, err := pb.NewRespondersClient(conn).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = stream.Send(&pb.ResponderMessage{Msg: &pb.ResponderMessage_Hello{Hello: &pb.Hello{ProtocolVersion: version.ProtocolVersion, Host: &pb.HostInfo{Hostname: "ws1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.Recv()
	if err != nil || msg.GetWelcome() == nil {
		t.Fatalf("expected Welcome, got %v, %v", msg, err)
	}
	return stream
}

func TestAssignmentPushedAndUploadVerified(t *testing.T) {
	c := startTestConsole(t)
	id, cert, err := c.enroll(t, c.enrollToken(t, true, time.Hour), "ws1")
	if err != nil {
		t.Fatal(err)
	}
	conn := c.dial(t, cert)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := connect(t, ctx, conn)

	// Two tasks: the first upload is tampered with, the second is good.
	var assignments []*pb.Assignment
	for range 2 {
		if _, _, err := c.tasks.Create(ctx, tasks.CreateRequest{Profile: "Quick Triage", Requester: "test", ResponderIDs: []string{id}}); err != nil {
			t.Fatal(err)
		}
		msg, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if msg.GetAssignment() == nil {
			t.Fatalf("expected an Assignment pushed on the stream, got %v", msg)
		}
		assignments = append(assignments, msg.GetAssignment())
	}

	client := pb.NewRespondersClient(conn)
	data := []byte("a package's bytes")
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])

	err = upload(ctx, client, assignments[0].GetAssignmentId(), append([]byte("X"), data[1:]...), good)
	if status.Code(err) != codes.DataLoss {
		t.Fatalf("tampered upload: %v, want DataLoss", err)
	}
	a, err := c.store.GetAssignment(ctx, assignments[0].GetAssignmentId())
	if err != nil {
		t.Fatal(err)
	}
	if a.State != store.StateFailed || a.EvidencePath != "" {
		t.Errorf("tampered upload left assignment %s with evidence %q, want failed and none", a.State, a.EvidencePath)
	}
	if _, _, err := c.repo.Open(repository.Key(a.TaskID, a.ID)); err == nil {
		t.Error("tampered upload was kept in the repository")
	}

	if err := upload(ctx, client, assignments[1].GetAssignmentId(), data, good); err != nil {
		t.Fatalf("good upload: %v", err)
	}
	a, err = c.store.GetAssignment(ctx, assignments[1].GetAssignmentId())
	if err != nil {
		t.Fatal(err)
	}
	if a.State != store.StateCompleted || a.EvidenceSHA256 != good || a.EvidenceSize != int64(len(data)) {
		t.Errorf("good upload: assignment %+v, want completed with its hash and size", a)
	}
	f, _, err := c.repo.Open(a.EvidencePath)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(f)
	f.Close()
	if string(stored) != string(data) {
		t.Errorf("stored %q, want %q", stored, data)
	}
}

func upload(ctx context.Context, client pb.RespondersClient, assignmentID string, data []byte, sum string) error {
	stream, err := client.UploadEvidence(ctx)
	if err != nil {
		return err
	}
	msgs := []*pb.UploadRequest{
		{Msg: &pb.UploadRequest_Header{Header: &pb.UploadHeader{AssignmentId: assignmentID, Size: int64(len(data))}}},
		{Msg: &pb.UploadRequest_Chunk{Chunk: &pb.UploadChunk{Offset: 0, Data: data[:5]}}},
		{Msg: &pb.UploadRequest_Chunk{Chunk: &pb.UploadChunk{Offset: 5, Data: data[5:]}}},
		{Msg: &pb.UploadRequest_Trailer{Trailer: &pb.UploadTrailer{Sha256: sum}}},
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			break
		}
	}
	_, err = stream.CloseAndRecv()
	return err
}

func TestOtherRespondersAssignmentRejected(t *testing.T) {
	c := startTestConsole(t)
	tok := c.enrollToken(t, false, time.Hour)
	owner, _, err := c.enroll(t, tok, "owner")
	if err != nil {
		t.Fatal(err)
	}
	_, intruderCert, err := c.enroll(t, tok, "other")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, as, err := c.tasks.Create(ctx, tasks.CreateRequest{Profile: "Quick Triage", Requester: "test", ResponderIDs: []string{owner}})
	if err != nil {
		t.Fatal(err)
	}
	err = upload(ctx, pb.NewRespondersClient(c.dial(t, intruderCert)), as[0].ID, []byte("not yours"), "00")
	if status.Code(err) != codes.NotFound {
		t.Fatalf("upload for another responder's assignment: %v, want NotFound", err)
	}
}

func TestRevokedResponderLocked(t *testing.T) {
	c := startTestConsole(t)
	id, cert, err := c.enroll(t, c.enrollToken(t, true, time.Hour), "ws1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := connect(t, ctx, c.dial(t, cert))
	_, as, err := c.tasks.Create(ctx, tasks.CreateRequest{Profile: "Quick Triage", Requester: "test", ResponderIDs: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := stream.Recv(); err != nil || msg.GetAssignment() == nil {
		t.Fatalf("expected the assignment, got %v, %v", msg, err)
	}

	if n, err := c.tasks.RevokeResponder(ctx, id, "test"); err != nil || n != 1 {
		t.Fatalf("RevokeResponder = %d, %v; want 1 cancelled assignment", n, err)
	}
	if _, err := stream.Recv(); status.Code(err) != codes.PermissionDenied {
		t.Errorf("stream after revoke: %v, want PermissionDenied", err)
	}
	if _, err := c.tasks.RevokeResponder(ctx, id, "test"); !errors.Is(err, tasks.ErrAlreadyRevoked) {
		t.Errorf("second revoke: %v, want ErrAlreadyRevoked", err)
	}
	a, err := c.store.GetAssignment(ctx, as[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.State != store.StateCancelled {
		t.Errorf("open assignment after revoke: %s, want cancelled", a.State)
	}

	again, err := pb.NewRespondersClient(c.dial(t, cert)).Connect(ctx)
	if err == nil {
		_, err = again.Recv()
	}
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("reconnect with a revoked certificate: %v, want PermissionDenied", err)
	}
}
