package api

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestKeysStrict: a duplicate key and a case-folded one (which encoding/json
// would take for "prefix") are refused, naming the key, in a single object
// and inside a list entry; a long rejected value is not echoed whole.
func TestKeysStrict(t *testing.T) {
	h := New(distributor(), Options{})
	for _, c := range []struct {
		body, field, msg string
	}{
		{`{"prefix":"198.51.100.0/24","prefix":"192.0.2.0/24","via":"203.0.113.2"}`, "prefix", "given twice"},
		{`{"Prefix":"198.51.100.0/24","via":"203.0.113.2"}`, "Prefix", "lower case"},
		{`{"prefix":"198.51.100.0/24","VIA":"203.0.113.2","via":"203.0.113.3"}`, "VIA", "lower case"},
		{`[{"prefix":"198.51.100.0/24","via":"203.0.113.2"},{"prefix":"192.0.2.0/24","via":"203.0.113.2","via":"203.0.113.3"}]`, "routes[1].via", "given twice"},
		{`[{"PREFIX":"198.51.100.0/24","via":"203.0.113.2"}]`, "routes[0].PREFIX", "lower case"},
	} {
		r := do(t, h, "POST", "/api/v1/routes", c.body)
		e := jsonErr(t, r)
		if r.code != 400 || e.Field != c.field || !strings.Contains(e.Error, c.msg) {
			t.Errorf("%s: %d %+v, want 400 at %s saying %q", c.body, r.code, e, c.field, c.msg)
		}
	}
	if r := do(t, h, "PUT", "/api/v1/reta", `{"reta":[0,1,0,1,0,1,0,1],"Reta":[1,1,1,1,1,1,1,1]}`); r.code != 400 {
		t.Errorf("PUT /api/v1/reta with reta and Reta: %d %s", r.code, r.body)
	}

	long := strings.Repeat("9", 100000)
	r := do(t, h, "POST", "/api/v1/routes", `{"prefix":"`+long+`","via":"203.0.113.2"}`)
	if r.code != 400 || len(r.body) > 1000 || !strings.Contains(r.body, "100000 bytes") {
		t.Errorf("a 100 kB prefix: %d, %d bytes of answer: %.200s", r.code, len(r.body), r.body)
	}
	r = do(t, h, "POST", "/api/v1/routes", `{"`+long+`":1}`)
	if r.code != 400 || len(r.body) > 1000 {
		t.Errorf("a 100 kB unknown key: %d, %d bytes of answer", r.code, len(r.body))
	}
}

// TestLimitConns: past the limit a connection is closed at once and
// counted; when one closes, another gets in.
func TestLimitConns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan struct{}, 10)
	lim := LimitConns(ln, 2, func() { refused <- struct{}{} })
	defer lim.Close()
	go func() {
		for {
			c, err := lim.Accept()
			if err != nil {
				return
			}
			go func() { // hold it until the client closes
				buf := make([]byte, 1)
				c.Read(buf) //nolint:errcheck // EOF ends it
				c.Close()
			}()
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := dial(), dial()
	defer b.Close()
	third := dial()
	defer third.Close()
	select {
	case <-refused:
	case <-time.After(2 * time.Second):
		t.Fatal("a third connection over a limit of 2 was not refused")
	}
	third.SetReadDeadline(time.Now().Add(2 * time.Second)) //nolint:errcheck
	if n, err := third.Read(make([]byte, 1)); n != 0 || err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("the refused connection reads %d, %v: want it closed", n, err)
	}
	a.Close()
	deadline := time.Now().Add(2 * time.Second)
	for {
		c := dial()
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond)) //nolint:errcheck
		_, err := c.Read(make([]byte, 1))
		c.Close()
		if err != nil && strings.Contains(err.Error(), "timeout") {
			break // held open: it got in
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection got in after one of the two closed")
		}
	}
}
