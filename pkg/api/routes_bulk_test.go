package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func routeList(n int, via string) string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"prefix":"%d.%d.%d.0/24","via":"%s"}`, 100+i>>16, (i>>8)&0xff, i&0xff, via)
	}
	b.WriteString("]")
	return b.String()
}

// A list of routes is added in one call, all or none, and the answer
// says how many; errors name the entry.
func TestRoutesBulk(t *testing.T) {
	f := distributor()
	h := New(f, Options{Token: "s3cret"})
	auth := []string{"Authorization", "Bearer s3cret"}

	body := "\n  " + routeList(3, "203.0.113.2") + "\n"
	if r := do(t, h, "POST", "/api/v1/routes", body); r.code != http.StatusUnauthorized {
		t.Errorf("list without token: %d, want 401", r.code)
	}
	r := do(t, h, "POST", "/api/v1/routes", body, auth...)
	if r.code != http.StatusCreated || strings.TrimSpace(r.body) != `{"added":3}` {
		t.Fatalf("POST list: %d %s", r.code, r.body)
	}
	if len(f.routes) != 3 || f.bulks != 1 || f.routes[netip.MustParsePrefix("100.0.2.0/24")].String() != "203.0.113.2" {
		t.Errorf("router has %v after %d AddRoutes calls", f.routes, f.bulks)
	}

	bad := []struct{ name, body, field, msg string }{
		{"refused by the router", `[{"prefix":"198.51.100.0/24","via":"203.0.113.2"},{"prefix":"198.51.101.0/24","via":"203.0.113.2"},` +
			`{"prefix":"198.51.102.0/24","via":"192.0.2.1"}]`, "routes[2].via", "not on a connected subnet"},
		{"one entry refused by the router", `[{"prefix":"198.51.100.0/24","via":"192.0.2.1"}]`, "routes[0].via", "not on a connected subnet"},
		{"host bits", `[{"prefix":"198.51.100.0/24","via":"203.0.113.2"},{"prefix":"198.51.101.1/24","via":"203.0.113.2"}]`,
			"routes[1].prefix", "host bits set"},
		{"bad gateway", `[{"prefix":"198.51.100.0/24","via":"203.0.113.2"},{"prefix":"198.51.101.0/24","via":"gw"}]`, "routes[1].via", "not an IPv4 address"},
		{"missing prefix", `[{"via":"203.0.113.2"}]`, "routes[0].prefix", "not an IPv4 prefix"},
		{"unknown field", `[{"prefix":"198.51.100.0/24","via":"203.0.113.2"},{"prefix":"198.51.101.0/24","via":"203.0.113.2","metric":5}]`,
			"routes[1].metric", "unknown field"},
		{"wrong type", `[{"prefix":"198.51.100.0/24","via":"203.0.113.2"},{"prefix":24,"via":"203.0.113.2"}]`, "routes[1].prefix", "wrong type"},
		{"not an object", `[{"prefix":"198.51.100.0/24","via":"203.0.113.2"},"198.51.101.0/24 via 203.0.113.2"]`, "routes[1]", "expected a JSON object"},
		{"no comma", `[{"prefix":"198.51.100.0/24","via":"203.0.113.2"} {"prefix":"198.51.101.0/24","via":"203.0.113.2"}]`, "routes[1]", "invalid JSON"},
		{"cut short", `[{"prefix":"198.51.100.0/24","via":"203.0.113.2"},`, "routes[1]", "ends inside the list"},
		{"unterminated", `[{"prefix":"198.51.100.0/24","via":"203.0.113.2"}`, "routes", "ends inside the list"},
		{"trailing data", `[{"prefix":"198.51.100.0/24","via":"203.0.113.2"}] []`, "", "trailing data"},
	}
	for _, b := range bad {
		f.bulks = 0
		r := do(t, h, "POST", "/api/v1/routes", b.body, auth...)
		if r.code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", b.name, r.code, r.body)
			continue
		}
		e := jsonErr(t, r)
		if e.Field != b.field || !strings.Contains(e.Error, b.msg) {
			t.Errorf("%s: field %q, error %q; want %q, %q", b.name, e.Field, e.Error, b.field, b.msg)
		}
		if len(f.routes) != 3 {
			t.Errorf("%s: the router has %d routes: all or none", b.name, len(f.routes))
		}
		if b.name != "refused by the router" && b.name != "one entry refused by the router" && f.bulks != 0 {
			t.Errorf("%s: the router was asked although the list does not parse", b.name)
		}
	}
	// An empty list adds nothing and asks nothing.
	f.bulks = 0
	if r := do(t, h, "POST", "/api/v1/routes", `[]`, auth...); r.code != http.StatusCreated || strings.TrimSpace(r.body) != `{"added":0}` || f.bulks != 0 {
		t.Errorf("empty list: %d %s, %d calls", r.code, r.body, f.bulks)
	}
	// One object is still one route, with the fields of its own.
	r = do(t, h, "POST", "/api/v1/routes", ` {"prefix":"198.51.100.0/24","via":"192.0.2.1"}`, auth...)
	if e := jsonErr(t, r); r.code != http.StatusBadRequest || e.Field != "via" {
		t.Errorf("one object: %d %s", r.code, r.body)
	}
}

// 100,000 routes: one call to the router.
func TestRoutesBulkLarge(t *testing.T) {
	f := distributor()
	h := New(f, Options{})
	r := do(t, h, "POST", "/api/v1/routes", routeList(100_000, "203.0.113.2"))
	var out struct{ Added int }
	if r.code != http.StatusCreated || json.Unmarshal([]byte(r.body), &out) != nil || out.Added != 100_000 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	if len(f.routes) != 100_000 || f.bulks != 1 {
		t.Errorf("%d routes in %d calls", len(f.routes), f.bulks)
	}
}

// spaces is an endless body: "[" and white space.
type spaces struct{ started bool }

func (s *spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	if !s.started && len(p) > 0 {
		p[0], s.started = '[', true
	}
	return len(p), nil
}

// A list is bounded by MaxRoutesBody, one object still by MaxBody.
func TestRoutesBodyLimits(t *testing.T) {
	f := distributor()
	h := New(f, Options{})
	req := httptest.NewRequest("POST", "/api/v1/routes", io.LimitReader(&spaces{}, MaxRoutesBody+1<<20))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), fmt.Sprint(MaxRoutesBody)) {
		t.Errorf("a list over MaxRoutesBody: %d %s", rec.Code, rec.Body.String())
	}
	big := `{"prefix":"198.51.100.0/24","via":"203.0.113.2"` + strings.Repeat(" ", MaxBody) + `}`
	if r := do(t, h, "POST", "/api/v1/routes", big); r.code != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, fmt.Sprint(MaxBody)) {
		t.Errorf("one object over MaxBody: %d %s", r.code, r.body)
	}
	// A list of a million routes written compactly fits.
	if n := len(routeList(1_000_000, "203.0.113.254")); n > MaxRoutesBody/2 {
		t.Errorf("a million routes take %d bytes, more than half of MaxRoutesBody", n)
	}
}

// What reading and parsing a list of 500,000 routes costs, before the
// router is asked (docs/BENCH.md: a bulk POST of a full table).
func BenchmarkPostRoutes500k(b *testing.B) {
	body := routeList(500_000, "203.0.113.2")
	h := New(&fakeRouter{healthy: true}, Options{})
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest("POST", "/api/v1/routes", strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	}
}
