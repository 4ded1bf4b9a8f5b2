package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/magpie-ir/magpie/console/store"
)

const responderColumns = `id, hostname, fqdn, ips, macs, os, arch, os_version,
	version, cert_serial, first_seen, last_seen, online, revoked_at`

// UpsertResponder inserts r, or updates every field of the responder with
// the same ID except FirstSeen and RevokedAt.
func (s *Store) UpsertResponder(ctx context.Context, r store.Responder) error {
	const query = `INSERT INTO responders (` + responderColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			hostname = excluded.hostname,
			fqdn = excluded.fqdn,
			ips = excluded.ips,
			macs = excluded.macs,
			os = excluded.os,
			arch = excluded.arch,
			os_version = excluded.os_version,
			version = excluded.version,
			cert_serial = excluded.cert_serial,
			last_seen = excluded.last_seen,
			online = excluded.online`
	_, err := s.writer.ExecContext(ctx, query,
		r.ID, r.Hostname, r.FQDN, encodeList(r.IPs), encodeList(r.MACs),
		r.OS, r.Arch, r.OSVersion, r.Version, r.CertSerial,
		toMillis(r.FirstSeen), toMillis(r.LastSeen), r.Online, toMillis(r.RevokedAt))
	if err != nil {
		return fmt.Errorf("upsert responder %q: %w", r.ID, err)
	}
	return nil
}

// GetResponder returns the responder with the given ID.
func (s *Store) GetResponder(ctx context.Context, id string) (store.Responder, error) {
	row := s.reader.QueryRowContext(ctx, `SELECT `+responderColumns+` FROM responders WHERE id = ?`, id)
	r, err := scanResponder(row)
	if err != nil {
		return store.Responder{}, fmt.Errorf("get responder %q: %w", id, mapNoRows(err))
	}
	return r, nil
}

// ListResponders returns all responders ordered by hostname, then ID, both
// compared byte by byte.
func (s *Store) ListResponders(ctx context.Context) ([]store.Responder, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+responderColumns+` FROM responders ORDER BY hostname, id`)
	if err != nil {
		return nil, fmt.Errorf("list responders: %w", err)
	}
	defer rows.Close()

	var rs []store.Responder
	for rows.Next() {
		r, err := scanResponder(rows)
		if err != nil {
			return nil, fmt.Errorf("list responders: %w", err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list responders: %w", err)
	}
	return rs, nil
}

// SetResponderOnline records a connect or disconnect and sets LastSeen.
func (s *Store) SetResponderOnline(ctx context.Context, id string, online bool, at time.Time) error {
	err := s.execOne(ctx, `UPDATE responders SET online = ?, last_seen = ? WHERE id = ?`, online, toMillis(at), id)
	if err != nil {
		return fmt.Errorf("set responder %q online=%t: %w", id, online, err)
	}
	return nil
}

// RevokeResponder marks the responder revoked at at and offline.
func (s *Store) RevokeResponder(ctx context.Context, id string, at time.Time) error {
	if err := s.execOne(ctx, `UPDATE responders SET revoked_at = ?, online = 0 WHERE id = ?`, toMillis(at), id); err != nil {
		return fmt.Errorf("revoke responder %q: %w", id, err)
	}
	return nil
}

// MarkAllOffline sets every responder offline and leaves LastSeen as it is.
func (s *Store) MarkAllOffline(ctx context.Context) error {
	if _, err := s.writer.ExecContext(ctx, `UPDATE responders SET online = 0 WHERE online = 1`); err != nil {
		return fmt.Errorf("mark all responders offline: %w", err)
	}
	return nil
}

func scanResponder(sc scanner) (store.Responder, error) {
	var (
		r                              store.Responder
		ips, macs                      string
		firstSeen, lastSeen, revokedAt int64
	)
	err := sc.Scan(&r.ID, &r.Hostname, &r.FQDN, &ips, &macs, &r.OS, &r.Arch, &r.OSVersion,
		&r.Version, &r.CertSerial, &firstSeen, &lastSeen, &r.Online, &revokedAt)
	if err != nil {
		return store.Responder{}, err
	}
	if r.IPs, err = decodeList("ips", ips); err != nil {
		return store.Responder{}, err
	}
	if r.MACs, err = decodeList("macs", macs); err != nil {
		return store.Responder{}, err
	}
	r.FirstSeen = fromMillis(firstSeen)
	r.LastSeen = fromMillis(lastSeen)
	r.RevokedAt = fromMillis(revokedAt)
	return r, nil
}
