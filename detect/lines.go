package detect

import (
	"io"
	"net"
	"net/textproto"
)

// maxLine is the longest protocol line the engine accepts (RFC 5321 allows 512 octets
// for a reply line; servers in the wild send longer capability lines, not 4 KiB ones).
const maxLine = 4096

// lineLimitReader fails once a line grows past maxLine, so a flooding server cannot
// make the engine buffer a megabyte waiting for a newline.
type lineLimitReader struct {
	r   io.Reader
	cur int
}

func (l *lineLimitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.cur = 0
			continue
		}
		l.cur++
		if l.cur > maxLine {
			return 0, ErrLineTooLong
		}
	}
	return n, err
}

// lineConn is a connection whose reads are line-limited.
type lineConn struct {
	net.Conn
	lr *lineLimitReader
}

func (c *lineConn) Read(p []byte) (int, error) { return c.lr.Read(p) }

// limitLines wraps conn so every read is line-limited.
func limitLines(conn net.Conn) net.Conn {
	return &lineConn{Conn: conn, lr: &lineLimitReader{r: conn}}
}

// newText returns a textproto connection over a line-limited conn.
func newText(conn net.Conn) *textproto.Conn {
	return textproto.NewConn(limitLines(conn))
}
