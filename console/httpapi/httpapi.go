// Package httpapi serves the console's HTTP API: the trigger URLs that
// SIEM, SOAR and EDR integrations call, and the /api/v1 routes that the
// analyst CLI uses. Routes and bodies are listed in package apitypes.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/magpie-ir/magpie/collectors/profile"
	"github.com/magpie-ir/magpie/console/apitypes"
	"github.com/magpie-ir/magpie/console/auth"
	"github.com/magpie-ir/magpie/console/dispatch"
	"github.com/magpie-ir/magpie/console/repository"
	"github.com/magpie-ir/magpie/console/store"
	"github.com/magpie-ir/magpie/console/tasks"
)

// APIKeyPrefix starts every API key.
const APIKeyPrefix = "mgpk"

// DefaultEnrollTokenTTL is the lifetime of an enrollment token created
// without a TTL.
const DefaultEnrollTokenTTL = 24 * time.Hour

// Config configures a Handler.
type Config struct {
	Store      store.Store
	Hub        *dispatch.Hub
	Tasks      *tasks.Service
	Repository *repository.Local
	Profiles   *profile.Catalog
	Log        *slog.Logger
	// PublicURL is the base URL integrations reach the console at, for
	// example "https://console.example:8443"; it is used in trigger URLs.
	PublicURL string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Handler is the console's HTTP API.
type Handler struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	mux *http.ServeMux
}

// New returns the API handler with access logging.
func New(cfg Config) http.Handler {
	h := &Handler{cfg: cfg, log: cfg.Log, now: cfg.Now, mux: http.NewServeMux()}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}

	h.mux.HandleFunc("GET /api/trigger/{name}/{endpoints}", h.trigger)
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })

	h.handleAuthed("POST /api/v1/enrollment-tokens", h.createEnrollToken)
	h.handleAuthed("GET /api/v1/responders", h.listResponders)
	h.handleAuthed("DELETE /api/v1/responders/{id}", h.revokeResponder)
	h.handleAuthed("POST /api/v1/triggers", h.createTrigger)
	h.handleAuthed("GET /api/v1/triggers", h.listTriggers)
	h.handleAuthed("POST /api/v1/triggers/{name}/rotate", h.rotateTrigger)
	h.handleAuthed("GET /api/v1/tasks", h.listTasks)
	h.handleAuthed("GET /api/v1/tasks/{id}", h.getTask)
	h.handleAuthed("POST /api/v1/tasks/{id}/cancel", h.cancelTask)
	h.handleAuthed("GET /api/v1/assignments/{id}/evidence", h.downloadEvidence)
	h.handleAuthed("GET /api/v1/audit", h.listAudit)
	h.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no API route %s %s: see the route list in the documentation", r.Method, r.URL.Path))
	})

	return h.accessLog(h.mux)
}

type actorKey struct{}

// actor returns who made an authenticated request, for the audit trail.
func actor(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

func (h *Handler) handleAuthed(pattern string, fn http.HandlerFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			writeError(w, http.StatusUnauthorized, "missing API key: send \"Authorization: Bearer API_KEY\"")
			return
		}
		tok, err := auth.ParseToken(strings.TrimSpace(bearer), APIKeyPrefix)
		if err != nil {
			writeError(w, http.StatusUnauthorized, "malformed API key")
			return
		}
		key, err := h.cfg.Store.GetAPIKey(r.Context(), tok.ID)
		if err != nil || !auth.Equal(key.SecretHash, tok.Secret) {
			h.log.Warn("api key rejected", "key_id", tok.ID, "remote", r.RemoteAddr)
			writeError(w, http.StatusUnauthorized, "invalid API key")
			return
		}
		ctx := context.WithValue(r.Context(), actorKey{}, "api-key:"+key.Name)
		fn(w, r.WithContext(ctx))
	})
}

// statusRecorder captures the status code for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog logs one line per request. It logs the path without the query
// string, because trigger tokens travel there.
func (h *Handler) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := h.now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		h.log.Info("http request", "method", r.Method, "path", r.URL.Path, "query_redacted", r.URL.RawQuery != "", "status", rec.status, "duration_ms", h.now().Sub(start).Milliseconds(), "remote", r.RemoteAddr)
	})
}

func (h *Handler) audit(ctx context.Context, actor, action, target, detail string) {
	err := h.cfg.Store.AppendAudit(ctx, store.AuditEvent{Time: h.now().UTC(), Actor: actor, Action: action, Target: target, Detail: detail})
	if err != nil {
		h.log.Error("append audit event failed", "action", action, "target", target, "error", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apitypes.Error{Error: msg})
}

// writeStoreError maps a store error to an HTTP status.
func writeStoreError(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s not found", what))
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, fmt.Sprintf("%s already exists", what))
	default:
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("%s: internal error, see the console log", what))
	}
}

func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	return nil
}
