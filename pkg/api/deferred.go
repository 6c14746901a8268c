package api

import (
	"net/http"
	"sync/atomic"
)

// Deferred serves 503 "starting" until Set gives it the real handler: steer
// binds its API address before it touches a port (a clash fails start-up
// before any NIC is reset), and answers health checks while it starts.
type Deferred struct {
	h atomic.Pointer[http.Handler]
}

// Set installs the handler every later request goes to.
func (d *Deferred) Set(h http.Handler) { d.h.Store(&h) }

func (d *Deferred) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if h := d.h.Load(); h != nil {
		(*h).ServeHTTP(w, req)
		return
	}
	w.Header().Set("Retry-After", "1")
	if req.URL.Path == "/healthz" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("unavailable: starting\n")) //nolint:errcheck // the client went away
		return
	}
	writeError(w, http.StatusServiceUnavailable, "", "steer is starting")
}
