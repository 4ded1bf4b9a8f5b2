package rpcserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/magpie-ir/magpie/console/repository"
	"github.com/magpie-ir/magpie/console/store"
	"github.com/magpie-ir/magpie/console/tasks"
	pb "github.com/magpie-ir/magpie/proto/magpie/v1"
)

// UploadEvidence receives one evidence package, checks its size and
// SHA-256, and only then marks the assignment completed.
func (s *Server) UploadEvidence(stream pb.Responders_UploadEvidenceServer) error {
	ctx := stream.Context()
	rid := responderID(ctx)

	first, err := stream.Recv()
	if err != nil {
		return err
	}
	hdr := first.GetHeader()
	if hdr == nil {
		return status.Error(codes.InvalidArgument, "first upload message must be UploadHeader")
	}
	if hdr.GetOffset() != 0 {
		return status.Error(codes.Unimplemented, "resuming an upload at a non-zero offset is not supported by this console: upload from offset 0")
	}
	if hdr.GetSize() < 0 {
		return status.Errorf(codes.InvalidArgument, "invalid package size %d", hdr.GetSize())
	}
	a, err := s.store.GetAssignment(ctx, hdr.GetAssignmentId())
	if err != nil || a.ResponderID != rid {
		return status.Errorf(codes.NotFound, "assignment %s not found for this responder", hdr.GetAssignmentId())
	}
	totals := tasks.Update{FilesDone: hdr.GetFilesCollected(), BytesRead: hdr.GetBytesCollected()}
	if _, err := s.tasks.Transition(ctx, a.ID, store.StateUploading, totals); err != nil {
		return status.Errorf(codes.FailedPrecondition, "assignment %s cannot take an upload: %v", a.ID, err)
	}
	log := s.log.With("responder_id", rid, "assignment_id", a.ID, "task_id", a.TaskID)
	log.Info("upload started", "size", hdr.GetSize())

	key := repository.Key(a.TaskID, a.ID)
	up, err := s.repo.Create(key)
	if err != nil {
		return status.Errorf(codes.AlreadyExists, "%v", err)
	}
	defer up.Abort()

	var trailer *pb.UploadTrailer
	for trailer == nil {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return status.Error(codes.InvalidArgument, "upload ended without UploadTrailer")
		}
		if err != nil {
			log.Warn("upload interrupted", "stored_bytes", up.Written(), "error", err)
			return err
		}
		switch m := msg.Msg.(type) {
		case *pb.UploadRequest_Chunk:
			if up.Written()+int64(len(m.Chunk.GetData())) > hdr.GetSize() {
				return status.Errorf(codes.InvalidArgument, "upload exceeds the declared size of %d bytes", hdr.GetSize())
			}
			if err := up.WriteAt(m.Chunk.GetData(), m.Chunk.GetOffset()); err != nil {
				if errors.Is(err, repository.ErrBadOffset) {
					return status.Errorf(codes.InvalidArgument, "%v", err)
				}
				return status.Errorf(codes.Internal, "%v", err)
			}
		case *pb.UploadRequest_Trailer:
			trailer = m.Trailer
		default:
			return status.Error(codes.InvalidArgument, "unexpected message in upload: send chunks, then one UploadTrailer")
		}
	}

	if up.Written() != hdr.GetSize() {
		reason := fmt.Sprintf("evidence upload incomplete: received %d of %d bytes", up.Written(), hdr.GetSize())
		s.fail(ctx, a.ID, reason)
		return status.Error(codes.DataLoss, reason)
	}
	sum, err := up.Commit(trailer.GetSha256())
	if err != nil {
		reason := fmt.Sprintf("evidence rejected: %v", err)
		s.fail(ctx, a.ID, reason)
		if errors.Is(err, repository.ErrHashMismatch) {
			return status.Error(codes.DataLoss, reason)
		}
		return status.Error(codes.Internal, reason)
	}

	_, err = s.tasks.Transition(ctx, a.ID, store.StateCompleted, tasks.Update{
		EvidencePath:   key,
		EvidenceSHA256: sum,
		EvidenceSize:   up.Written(),
	})
	if err != nil {
		return status.Errorf(codes.Internal, "complete assignment: %v", err)
	}
	log.Info("evidence stored", "sha256", sum, "size", up.Written(), "path", s.repo.Path(key))
	s.audit(ctx, "responder:"+rid, "evidence.store", a.ID, "sha256="+sum)
	return stream.SendAndClose(&pb.UploadResponse{StoredBytes: up.Written(), Sha256: sum})
}

// fail marks an assignment failed after a rejected upload. It uses a
// context that outlives the stream, because the stream may be gone.
func (s *Server) fail(ctx context.Context, assignmentID, reason string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.tasks.Transition(ctx, assignmentID, store.StateFailed, tasks.Update{Error: reason}); err != nil {
		s.log.Error("record failed assignment failed", "assignment_id", assignmentID, "error", err)
	}
}
