package api

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReload(t *testing.T) {
	f := distributor()
	calls := 0
	result := struct {
		ok  bool
		msg string
	}{true, "reload applied: routes 1 added"}
	h := New(f, Options{Token: "s3cret", Reload: func() (bool, string) { calls++; return result.ok, result.msg }})
	if r := do(t, h, "POST", "/api/v1/reload", ""); r.code != 401 || calls != 0 {
		t.Fatalf("without the token: %d, %d reloads", r.code, calls)
	}
	r := do(t, h, "POST", "/api/v1/reload", "", "Authorization", "Bearer s3cret")
	var out struct{ Outcome, Message string }
	if r.code != 200 || json.Unmarshal([]byte(r.body), &out) != nil || out.Outcome != "applied" || out.Message != result.msg || calls != 1 {
		t.Errorf("applied: %d %s (%d reloads)", r.code, r.body, calls)
	}
	result.ok, result.msg = false, "reload refused: eal.lcores changed; needs a restart"
	r = do(t, h, "POST", "/api/v1/reload", "", "Authorization", "Bearer s3cret")
	if r.code != 409 || jsonErr(t, r).Error != result.msg {
		t.Errorf("refused: %d %s", r.code, r.body)
	}
	if r := do(t, New(f, Options{}), "POST", "/api/v1/reload", ""); r.code != 404 {
		t.Errorf("no reloader: %d", r.code)
	}
}

func TestRunningConfig(t *testing.T) {
	f := distributor()
	h := New(f, Options{Token: "s3cret", RunningConfig: func() ([]byte, error) { return []byte("eal: {}\n"), nil }})
	r := do(t, h, "GET", "/api/v1/config", "")
	if r.code != 200 || r.body != "eal: {}\n" || !strings.HasPrefix(r.hdr.Get("Content-Type"), "application/yaml") {
		t.Errorf("GET /api/v1/config: %d %q %q", r.code, r.hdr.Get("Content-Type"), r.body)
	}
	if r := do(t, New(f, Options{}), "GET", "/api/v1/config", ""); r.code != 404 {
		t.Errorf("without a config: %d", r.code)
	}
}

func TestDeferred(t *testing.T) {
	var d Deferred
	if r := do(t, &d, "GET", "/healthz", ""); r.code != 503 || r.body != "unavailable: starting\n" {
		t.Errorf("healthz while starting: %d %q", r.code, r.body)
	}
	if r := do(t, &d, "GET", "/api/v1/stats", ""); r.code != 503 || jsonErr(t, r).Error != "steer is starting" {
		t.Errorf("stats while starting: %d %q", r.code, r.body)
	}
	d.Set(New(distributor(), Options{}))
	if r := do(t, &d, "GET", "/healthz", ""); r.code != 200 {
		t.Errorf("healthz once set: %d %q", r.code, r.body)
	}
}
