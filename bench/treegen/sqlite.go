package treegen

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
)

// SQLiteMagic starts the first page of every SQLite-like file, as it
// starts every SQLite 3 database.
const SQLiteMagic = "SQLite format 3\x00"

// Page types of the SQLite file format (https://www.sqlite.org/fileformat.html).
const (
	pageLeafTable     = 0x0d
	pageInteriorTable = 0x05
)

var (
	sqliteHosts  = []string{"www.example.com", "mail.example.org", "docs.example.net", "intranet.corp.example", "github.com", "news.example.com", "cdn.example.net", "login.example.org"}
	sqliteTitles = []string{"Inbox", "Sign in", "Dashboard", "Release notes", "Search results", "Pull request", "Quarterly report", "Settings", "Untitled", "Home"}
	sqliteWords  = []string{"report", "invoice", "download", "update", "password", "reset", "vpn", "backup", "payroll", "agenda"}
)

// writeSQLite writes size/PageSize pages. The first page carries the
// 100-byte database header and a schema row. The others are table B-tree
// pages whose cells are browser-history-like records: rowid, URL, title,
// visit count and a timestamp. About one page in 16 is an interior page
// and one in 12 is a zeroed free page, as real databases have.
func writeSQLite(w *bufio.Writer, rng *rand.Rand, size int64) error {
	pages := size / PageSize
	page := make([]byte, PageSize)
	rowid := int64(1 + rng.IntN(1000))
	visitTime := int64(13_350_000_000_000_000) + rng.Int64N(1e15) // Chrome's microseconds since 1601

	for n := range pages {
		clear(page)
		switch {
		case n == 0:
			fillHeaderPage(page, pages)
		case rng.IntN(12) == 0:
			// A free page: all zero.
		case rng.IntN(16) == 0:
			fillInteriorPage(page, rng, pages)
		default:
			rowid, visitTime = fillLeafPage(page, rng, rowid, visitTime)
		}
		if _, err := w.Write(page); err != nil {
			return err
		}
	}
	return nil
}

// fillHeaderPage writes the database header and a leaf page holding one
// schema record.
func fillHeaderPage(page []byte, pages int64) {
	copy(page, SQLiteMagic)
	binary.BigEndian.PutUint16(page[16:], PageSize)
	page[18], page[19] = 1, 1 // legacy file format versions
	page[21], page[22], page[23] = 64, 32, 32
	binary.BigEndian.PutUint32(page[24:], 7)             // file change counter
	binary.BigEndian.PutUint32(page[28:], uint32(pages)) // database size in pages
	binary.BigEndian.PutUint32(page[44:], 4)             // schema format
	binary.BigEndian.PutUint32(page[56:], 1)             // text encoding: UTF-8
	binary.BigEndian.PutUint32(page[96:], 3045001)       // SQLite version number

	schema := "CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT,url LONGVARCHAR,title LONGVARCHAR,visit_count INTEGER DEFAULT 0 NOT NULL,last_visit_time INTEGER NOT NULL)"
	record := appendRecord(nil, []any{"table", "urls", "urls", int64(2), schema})
	cell := appendVarint(nil, uint64(len(record)))
	cell = appendVarint(cell, 1)
	cell = append(cell, record...)
	start := PageSize - len(cell)
	copy(page[start:], cell)

	hdr := page[100:]
	hdr[0] = pageLeafTable
	binary.BigEndian.PutUint16(hdr[3:], 1)
	binary.BigEndian.PutUint16(hdr[5:], uint16(start))
	binary.BigEndian.PutUint16(hdr[8:], uint16(start))
}

// fillInteriorPage writes an interior table page: child page numbers and
// rowid keys.
func fillInteriorPage(page []byte, rng *rand.Rand, pages int64) {
	const headerSize = 12
	cells := 20 + rng.IntN(100)
	end := PageSize
	key := uint64(rng.IntN(100000))
	for i := range cells {
		key += uint64(1 + rng.IntN(50))
		cell := binary.BigEndian.AppendUint32(nil, uint32(1+rng.Int64N(pages)))
		cell = appendVarint(cell, key)
		end -= len(cell)
		copy(page[end:], cell)
		binary.BigEndian.PutUint16(page[headerSize+2*i:], uint16(end))
	}
	page[0] = pageInteriorTable
	binary.BigEndian.PutUint16(page[3:], uint16(cells))
	binary.BigEndian.PutUint16(page[5:], uint16(end))
	binary.BigEndian.PutUint32(page[8:], uint32(1+rng.Int64N(pages)))
}

// fillLeafPage fills a leaf table page with records until the cell content
// area would meet the cell pointer array. It returns the next rowid and
// visit time.
func fillLeafPage(page []byte, rng *rand.Rand, rowid, visitTime int64) (int64, int64) {
	const headerSize = 8
	end := PageSize
	cells := 0
	for {
		url := fmt.Sprintf("https://%s/%s/%s?id=%d", pick(rng, sqliteHosts), pick(rng, sqliteWords), pick(rng, sqliteWords), rng.IntN(100000))
		title := pick(rng, sqliteTitles) + " - " + pick(rng, sqliteWords)
		visitTime += rng.Int64N(600_000_000)
		record := appendRecord(nil, []any{nil, url, title, int64(1 + rng.IntN(40)), visitTime})
		cell := appendVarint(nil, uint64(len(record)))
		cell = appendVarint(cell, uint64(rowid))
		cell = append(cell, record...)

		if end-len(cell) < headerSize+2*(cells+1) {
			break
		}
		end -= len(cell)
		copy(page[end:], cell)
		binary.BigEndian.PutUint16(page[headerSize+2*cells:], uint16(end))
		cells++
		rowid++
	}
	page[0] = pageLeafTable
	binary.BigEndian.PutUint16(page[3:], uint16(cells))
	binary.BigEndian.PutUint16(page[5:], uint16(end))
	return rowid, visitTime
}

// appendRecord appends a record in the SQLite record format: a header of
// serial types, then the values. It supports nil, int64 and string.
func appendRecord(b []byte, values []any) []byte {
	var types, body []byte
	for _, v := range values {
		switch v := v.(type) {
		case nil:
			types = appendVarint(types, 0)
		case int64:
			types = appendVarint(types, 6) // 64-bit big-endian integer
			body = binary.BigEndian.AppendUint64(body, uint64(v))
		case string:
			types = appendVarint(types, uint64(13+2*len(v)))
			body = append(body, v...)
		}
	}
	// The header size counts itself; for headers under 127 bytes it is one byte.
	b = appendVarint(b, uint64(len(types)+1))
	b = append(b, types...)
	return append(b, body...)
}

// appendVarint appends v as an SQLite varint: big-endian groups of 7 bits,
// the high bit set on every byte but the last. Values here stay below
// 2^56, so the 9-byte form is never needed.
func appendVarint(b []byte, v uint64) []byte {
	var tmp [9]byte
	n := 0
	for {
		tmp[n] = byte(v & 0x7f)
		n++
		v >>= 7
		if v == 0 {
			break
		}
	}
	for i := n - 1; i >= 0; i-- {
		c := tmp[i]
		if i > 0 {
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}
