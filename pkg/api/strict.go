package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// encoding/json takes "PREFIX" for "prefix" and the last of two equal
// keys; a client that sends either meant something the API would not do.
// checkKeys refuses both, in every object of a JSON value: the API's field
// names are lower case.
func checkKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return walkValue(dec, "")
}

// walkValue reads one value from dec; path names it for errors.
func walkValue(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key := kt.(string)
			switch {
			case seen[strings.ToLower(key)]:
				return keyError{joinField(path, shortName(key)), "given twice"}
			case strings.IndexFunc(key, unicode.IsUpper) >= 0:
				return keyError{joinField(path, shortName(key)), "field names are lower case"}
			}
			seen[key] = true
			if err := walkValue(dec, joinField(path, key)); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := walkValue(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// keyError is a key checkKeys refuses.
type keyError struct{ field, msg string }

func (e keyError) Error() string { return e.field + ": " + e.msg }

// short quotes a value for an error answer, cut to maxEcho bytes: a
// client's 1 MiB garbage is not sent back to it.
func short(s string) string {
	if len(s) <= maxEcho {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:maxEcho], len(s))
}

const maxEcho = 64

// shortName is a client's key cut to maxEcho bytes, for a field name.
func shortName(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	return s[:maxEcho] + "..."
}

// MaxConns bounds the API's open connections: beyond it a new connection
// is closed at once, so idle or slow clients cannot take the process's
// file descriptors and memory.
const MaxConns = 64

// LimitConns wraps ln so that at most max connections are open at a time;
// it reports each one refused to refused (may be nil).
func LimitConns(ln net.Listener, max int, refused func()) net.Listener {
	return &limitListener{Listener: ln, max: int64(max), refused: refused}
}

type limitListener struct {
	net.Listener
	open    atomic.Int64
	max     int64
	refused func()
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			c.Close()
			if l.refused != nil {
				l.refused()
			}
			continue
		}
		return &countedConn{Conn: c, l: l}, nil
	}
}

type countedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
