package api

import (
	"net/http"
)

// postReload re-reads the config file. One reload runs at a time (the
// reloader's lock); a refused or failed one is 409, the router unchanged.
func (s *server) postReload(w http.ResponseWriter, req *http.Request) {
	if s.reload == nil {
		writeError(w, http.StatusNotFound, "", "this steer has no config file to reload")
		return
	}
	applied, msg := s.reload()
	s.logf("config reload asked by %s: %s", req.RemoteAddr, msg)
	if !applied {
		writeError(w, http.StatusConflict, "", "%s", msg)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Outcome string `json:"outcome"`
		Message string `json:"message"`
	}{"applied", msg})
}

// getConfig writes the running config as YAML.
func (s *server) getConfig(w http.ResponseWriter, _ *http.Request) {
	if s.running == nil {
		writeError(w, http.StatusNotFound, "", "this steer does not report its config")
		return
	}
	y, err := s.running()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "", "%v", err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(y) //nolint:errcheck // the client went away
}
