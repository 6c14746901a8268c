// Package api is steer's HTTP endpoint: Prometheus metrics, a health check,
// the live counters as JSON, the distributor's RETA (read and replace), and
// the static routes and neighbours (list, add, delete).
//
// Reads are open. Changes (PUT, POST, DELETE) need "Authorization: Bearer <token>" when a
// token is configured; config validation makes a token mandatory whenever
// metrics.listen is not on loopback.
package api

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"reflect"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/steer-router/steer/pkg/field"
	"github.com/steer-router/steer/pkg/inet"
	"github.com/steer-router/steer/pkg/metrics"
	"github.com/steer-router/steer/pkg/neigh"
	"github.com/steer-router/steer/pkg/report"
	"github.com/steer-router/steer/pkg/rib"
)

// Router is what the API reads and changes (pkg/router's Router). Changes
// return field errors (pkg/field) for bad input; any error while the
// router is not healthy is answered 503.
type Router interface {
	metrics.Source
	RETA() []int
	SetRETA([]int) error
	ReleaseRETA() error
	Routes(all bool) []rib.Route
	AddRoute(prefix netip.Prefix, via netip.Addr) error
	// AddRoutes adds or replaces routes all or none; with several, its
	// field errors name "routes[i]".
	AddRoutes(routes ...rib.StaticRoute) error
	DeleteRoute(prefix netip.Prefix) error
	Neighbors() []report.Neighbor
	AddNeighbor(ip netip.Addr, mac inet.MAC, port string) error
	DeleteNeighbor(ip netip.Addr) error
}

// Options configure the handler.
type Options struct {
	Token string            // bearer token for changes; "" = none needed
	Build metrics.BuildInfo // steer_build_info labels
	// Logf, when set, is told about authorised changes and rejected
	// credentials (never the token).
	Logf func(format string, args ...any)
	// Collectors are registered next to steer's own metrics (e.g. the
	// config reload counters of `steer run`).
	Collectors []prometheus.Collector
	// Reload, when set, re-reads the config file and applies it (POST
	// /api/v1/reload): whether it took effect, and the line that says why.
	Reload func() (applied bool, message string)
	// RunningConfig, when set, renders the config in effect as YAML (GET
	// /api/v1/config).
	RunningConfig func() ([]byte, error)
}

// MaxBody bounds request bodies (a RETA of 4096 buckets is ~20 KiB).
const MaxBody = 1 << 20

// MaxRoutesBody bounds a list of routes (POST /api/v1/routes): a million
// routes are ~50 MB written compactly, ~80 MB indented. The list is parsed
// as it arrives, entry by entry, before the router is asked: the router's
// lock is held for the load alone (a million routes: about a second).
const MaxRoutesBody = 128 << 20

type server struct {
	r       Router
	token   [sha256.Size]byte
	auth    bool
	logf    func(string, ...any)
	setMu   sync.Mutex // one RETA change at a time
	reload  func() (bool, string)
	running func() ([]byte, error)
}

// New returns the API's handler:
//
//	GET /metrics        Prometheus text format (steer, Go and process collectors)
//	GET /healthz        200 "ok: forwarding", or 503 with the reason
//	GET /api/v1/stats   the live report as JSON
//	GET /api/v1/reta    {"reta": [...], "workers": n}; 404 without a distributor
//	PUT /api/v1/reta    {"reta": [...]}: replace every RX lcore's RETA (-1: the RX lcore
//	                    itself) and pin it against the balancer (token when configured)
//	DELETE /api/v1/reta give the RETA back to the balancer (token)
//	GET /api/v1/routes  {"routes": [{"prefix": "198.51.100.0/24", "source": "static", "via": "203.0.113.2", "next_hop": {...}}]}
//	                    ?all=1: every FIB entry (own addresses, connected subnets, neighbours) too
//	POST /api/v1/routes {"prefix": ..., "via": ...}: add or replace a static route (token);
//	                    [{"prefix": ..., "via": ...}, ...]: add or replace them all or none, {"added": n}
//	DELETE /api/v1/routes/{addr}/{bits}: delete one (token); 404 when there is none
//	GET /api/v1/neighbors  {"neighbors": [{"ip", "mac", "port", "state", "static"}]}
//	POST /api/v1/neighbors {"ip": ..., "mac": ..., "port": ...}: add or replace a static neighbour (token)
//	DELETE /api/v1/neighbors/{ip}: delete a static neighbour (token); 404 when there is none
//	POST /api/v1/reload    re-read the config file, as SIGHUP does (token): 200 {"outcome": "applied",
//	                       "message": ...}, or 409 {"error": ...} when it was refused or failed
//	GET /api/v1/config     the running config as YAML that `steer run` accepts (API changes
//	                       included, the token left out)
func New(r Router, o Options) http.Handler {
	s := &server{r: r, logf: o.Logf, auth: o.Token != "", reload: o.Reload, running: o.RunningConfig}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	// Hashing first makes the comparison constant-time in the length too.
	s.token = sha256.Sum256([]byte(o.Token))

	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.New(r, o.Build),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(o.Collectors...)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /api/v1/stats", s.stats)
	mux.HandleFunc("GET /api/v1/reta", s.getRETA)
	mux.HandleFunc("PUT /api/v1/reta", s.requireToken(s.putRETA))
	mux.HandleFunc("DELETE /api/v1/reta", s.requireToken(s.deleteRETA))
	mux.HandleFunc("GET /api/v1/routes", s.getRoutes)
	mux.HandleFunc("POST /api/v1/routes", s.requireToken(s.postRoute))
	mux.HandleFunc("DELETE /api/v1/routes/{addr}/{bits}", s.requireToken(s.deleteRoute))
	mux.HandleFunc("GET /api/v1/neighbors", s.getNeighbors)
	mux.HandleFunc("POST /api/v1/neighbors", s.requireToken(s.postNeighbor))
	mux.HandleFunc("DELETE /api/v1/neighbors/{ip}", s.requireToken(s.deleteNeighbor))
	mux.HandleFunc("POST /api/v1/reload", s.requireToken(s.postReload))
	mux.HandleFunc("GET /api/v1/config", s.getConfig)
	return mux
}

// apiError is every JSON error body: Field names the offending input
// ("reta[3]") when there is one.
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n')) //nolint:errcheck // the client went away
}

func writeError(w http.ResponseWriter, code int, field, format string, args ...any) {
	writeJSON(w, code, apiError{Error: fmt.Sprintf(format, args...), Field: field})
}

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ok, reason := s.r.Health()
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "unavailable: %s\n", reason)
		return
	}
	fmt.Fprintf(w, "ok: %s\n", reason)
}

// snapshot writes 503 and returns nil while the router is stopping.
func (s *server) snapshot(w http.ResponseWriter) *report.Report {
	rep := s.r.Snapshot()
	if rep == nil {
		_, reason := s.r.Health()
		writeError(w, http.StatusServiceUnavailable, "", "router not running: %s", reason)
	}
	return rep
}

func (s *server) stats(w http.ResponseWriter, _ *http.Request) {
	if rep := s.snapshot(w); rep != nil {
		writeJSON(w, http.StatusOK, rep)
	}
}

// retaBody is the RETA resource.
type retaBody struct {
	RETA    []int `json:"reta"`
	Workers int   `json:"workers"`
}

// reta reads the RETA and the number of workers from one snapshot (guarded
// against teardown); it writes the error and returns ok false when there
// is none.
func (s *server) reta(w http.ResponseWriter) (retaBody, bool) {
	rep := s.snapshot(w)
	if rep == nil {
		return retaBody{}, false
	}
	if len(rep.RETA) == 0 {
		writeError(w, http.StatusNotFound, "", "no distributor: no port uses steering distributor, so there is no RETA")
		return retaBody{}, false
	}
	n := 0
	for _, l := range rep.Lcores {
		if l.Worker >= 0 {
			n++
		}
	}
	return retaBody{RETA: rep.RETA, Workers: n}, true
}

func (s *server) getRETA(w http.ResponseWriter, _ *http.Request) {
	if cur, ok := s.reta(w); ok {
		writeJSON(w, http.StatusOK, cur)
	}
}

func (s *server) putRETA(w http.ResponseWriter, req *http.Request) {
	var in struct {
		RETA []json.RawMessage `json:"reta"`
	}
	if !decodeBody(w, req, &in) {
		return
	}
	if in.RETA == nil {
		writeError(w, http.StatusBadRequest, "reta", `required: {"reta": [worker, ...]}, one entry per bucket`)
		return
	}
	s.setMu.Lock()
	defer s.setMu.Unlock()
	cur, ok := s.reta(w)
	if !ok {
		return
	}
	if len(in.RETA) != len(cur.RETA) {
		writeError(w, http.StatusBadRequest, "reta", "%d entries, want %d (one per bucket: distributor.reta_size)", len(in.RETA), len(cur.RETA))
		return
	}
	reta := make([]int, len(in.RETA))
	for i, raw := range in.RETA {
		field := fmt.Sprintf("reta[%d]", i)
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) || json.Unmarshal(raw, &reta[i]) != nil {
			writeError(w, http.StatusBadRequest, field, "%s is not a worker number (an integer 0..%d)", short(string(raw)), cur.Workers-1)
			return
		}
		if reta[i] < -1 || reta[i] >= cur.Workers {
			writeError(w, http.StatusBadRequest, field, "worker %d out of range: %d workers (0..%d), or -1 for the RX lcore itself", reta[i], cur.Workers, cur.Workers-1)
			return
		}
	}
	if err := s.r.SetRETA(reta); err != nil {
		writeError(w, http.StatusBadRequest, "reta", "%v", err)
		return
	}
	s.logf("RETA replaced and pinned by %s", req.RemoteAddr)
	writeJSON(w, http.StatusOK, retaBody{RETA: reta, Workers: cur.Workers})
}

// deleteRETA gives the RETA back to the balancer.
func (s *server) deleteRETA(w http.ResponseWriter, req *http.Request) {
	if _, ok := s.reta(w); !ok {
		return
	}
	if err := s.r.ReleaseRETA(); err != nil {
		writeError(w, http.StatusServiceUnavailable, "", "%v", err)
		return
	}
	s.logf("RETA released to the balancer by %s", req.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

type routesBody struct {
	Routes []rib.Route `json:"routes"`
}

// routeBody is a route as clients send it: strings, parsed here so errors
// can name the field.
type routeBody struct {
	Prefix string `json:"prefix"`
	Via    string `json:"via"`
}

func (s *server) getRoutes(w http.ResponseWriter, req *http.Request) {
	all := req.URL.Query().Get("all")
	rs := s.r.Routes(all == "1" || all == "true")
	if rs == nil {
		rs = []rib.Route{}
	}
	writeJSON(w, http.StatusOK, routesBody{Routes: rs})
}

// parse checks a route's fields; the error names the one at fault.
func (in routeBody) parse() (rib.StaticRoute, *field.Error) {
	prefix, err := inet.ParseRoutePrefix(in.Prefix)
	if err != nil {
		fe := field.Errorf("prefix", "", "%s: %v", short(in.Prefix), err)
		return rib.StaticRoute{}, &fe
	}
	via, err := inet.ParseAddr(in.Via)
	if err != nil {
		fe := field.Errorf("via", "", "%s: %v", short(in.Via), err)
		return rib.StaticRoute{}, &fe
	}
	return rib.StaticRoute{Prefix: prefix, Via: via}, nil
}

// postRoute adds one route (a JSON object) or many (a JSON list).
func (s *server) postRoute(w http.ResponseWriter, req *http.Request) {
	body := bufio.NewReaderSize(http.MaxBytesReader(w, req.Body, MaxRoutesBody), 64<<10)
	if first, err := firstByte(body); err == nil && first == '[' {
		s.postRoutes(w, req, body)
		return
	}
	var in routeBody
	if !decodeFrom(w, http.MaxBytesReader(w, io.NopCloser(body), MaxBody), &in) {
		return
	}
	rt, fe := in.parse()
	if fe != nil {
		writeError(w, http.StatusBadRequest, fe.Field, "%s", fe.Msg)
		return
	}
	prefix, via := rt.Prefix, rt.Via
	if err := s.r.AddRoute(prefix, via); err != nil {
		s.changeError(w, err, nil)
		return
	}
	s.logf("route %s via %s added by %s", prefix, via, req.RemoteAddr)
	writeJSON(w, http.StatusCreated, routeBody{Prefix: prefix.String(), Via: via.String()})
}

// postRoutes reads a list of routes entry by entry as it arrives (at most
// MaxRoutesBody bytes), then adds them all or none. Errors name the entry:
// "routes[3].via".
func (s *server) postRoutes(w http.ResponseWriter, req *http.Request, body io.Reader) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if _, err := dec.Token(); err != nil { // the '[' firstByte saw
		bodyError(w, err, "")
		return
	}
	var routes []rib.StaticRoute
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		var in routeBody
		err := dec.Decode(&raw)
		if err == nil {
			err = decodeStrict(raw, &in)
		}
		if err != nil {
			bodyError(w, err, fmt.Sprintf("routes[%d]", i))
			return
		}
		rt, fe := in.parse()
		if fe != nil {
			e := fe.In(fmt.Sprintf("routes[%d]", i))
			writeError(w, http.StatusBadRequest, e.Field, "%s", e.Msg)
			return
		}
		routes = append(routes, rt)
	}
	if _, err := dec.Token(); err != nil { // ']'
		bodyError(w, err, "routes")
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		bodyError(w, trailing(err), "")
		return
	}
	if len(routes) > 0 {
		if err := s.r.AddRoutes(routes...); err != nil {
			if fe, ok := field.Of(err); ok && len(routes) == 1 {
				err = fe.In("routes[0]") // the router names one route's fields alone
			}
			s.changeError(w, err, nil)
			return
		}
	}
	s.logf("%d route(s) added or replaced by %s", len(routes), req.RemoteAddr)
	writeJSON(w, http.StatusCreated, struct {
		Added int `json:"added"`
	}{len(routes)})
}

// firstByte skips white space and returns the first byte of the body,
// which stays unread.
func firstByte(r *bufio.Reader) (byte, error) {
	for {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b, r.UnreadByte()
	}
}

func (s *server) deleteRoute(w http.ResponseWriter, req *http.Request) {
	raw := req.PathValue("addr") + "/" + req.PathValue("bits")
	prefix, err := inet.ParsePrefix(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, "prefix", "%s: %v", short(raw), err)
		return
	}
	if err := s.r.DeleteRoute(prefix); err != nil {
		s.changeError(w, err, rib.ErrNoRoute)
		return
	}
	s.logf("route %s deleted by %s", prefix, req.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

// changeError answers a change the router refused: 503 while it is not
// running, 404 when notFound is the cause, else 400 naming the field.
func (s *server) changeError(w http.ResponseWriter, err error, notFound error) {
	fe, isField := field.Of(err)
	switch {
	case notFound != nil && errors.Is(err, notFound):
		writeError(w, http.StatusNotFound, fe.Field, "%v", err)
	case !isField:
		if ok, reason := s.r.Health(); !ok {
			writeError(w, http.StatusServiceUnavailable, "", "%v (%s)", err, reason)
			return
		}
		writeError(w, http.StatusBadRequest, "", "%v", err)
	default:
		writeError(w, http.StatusBadRequest, fe.Field, "%v", err)
	}
}

type neighborsBody struct {
	Neighbors []report.Neighbor `json:"neighbors"`
}

// neighborBody is a static neighbour as clients send it.
type neighborBody struct {
	IP   string `json:"ip"`
	MAC  string `json:"mac"`
	Port string `json:"port"`
}

func (s *server) getNeighbors(w http.ResponseWriter, _ *http.Request) {
	ns := s.r.Neighbors()
	if ns == nil {
		ns = []report.Neighbor{}
	}
	writeJSON(w, http.StatusOK, neighborsBody{Neighbors: ns})
}

func (s *server) postNeighbor(w http.ResponseWriter, req *http.Request) {
	var in neighborBody
	if !decodeBody(w, req, &in) {
		return
	}
	ip, err := inet.ParseAddr(in.IP)
	if err != nil {
		writeError(w, http.StatusBadRequest, "ip", "%s: %v", short(in.IP), err)
		return
	}
	mac, err := inet.ParseMAC(in.MAC)
	if err != nil {
		writeError(w, http.StatusBadRequest, "mac", "%s: %v", short(in.MAC), err)
		return
	}
	if in.Port == "" {
		writeError(w, http.StatusBadRequest, "port", "required: the name of the port the neighbour is reached through")
		return
	}
	if err := s.r.AddNeighbor(ip, mac, in.Port); err != nil {
		s.changeError(w, err, nil)
		return
	}
	s.logf("static neighbour %s at %s on %s added by %s", ip, mac, in.Port, req.RemoteAddr)
	writeJSON(w, http.StatusCreated, report.Neighbor{IP: ip, MAC: mac.String(), Port: in.Port, State: "static", Static: true})
}

func (s *server) deleteNeighbor(w http.ResponseWriter, req *http.Request) {
	raw := req.PathValue("ip")
	ip, err := inet.ParseAddr(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, "ip", "%s: %v", short(raw), err)
		return
	}
	if err := s.r.DeleteNeighbor(ip); err != nil {
		s.changeError(w, err, neigh.ErrNoStatic)
		return
	}
	s.logf("static neighbour %s deleted by %s", ip, req.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

// decodeBody reads one JSON object of at most MaxBody bytes with no
// unknown fields into v; otherwise it writes 400 (413 when too large).
func decodeBody(w http.ResponseWriter, req *http.Request, v any) bool {
	return decodeFrom(w, http.MaxBytesReader(w, req.Body, MaxBody), v)
}

// decodeFrom is decodeBody on a body already bounded.
func decodeFrom(w http.ResponseWriter, body io.Reader, v any) bool {
	data, err := io.ReadAll(body)
	if err == nil {
		err = decodeStrict(data, v)
	}
	if err == nil {
		return true
	}
	bodyError(w, err, "")
	return false
}

// decodeStrict decodes one JSON value into v: no unknown, duplicate or
// case-folded key, nothing after it.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return trailing(err)
	}
	return checkKeys(data)
}

// trailing is the error for what follows a complete JSON value: the body
// limit when that is what reading further hit.
func trailing(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return errors.New("trailing data after the JSON value")
}

// bodyError answers a body that does not decode: 400, or 413 when it is
// too large. in names what was being read inside a list ("routes" for the
// list itself, "routes[3]" for an entry); "" for a body of one object.
func bodyError(w http.ResponseWriter, err error, in string) {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var key keyError
	switch {
	case errors.As(err, &key):
		writeError(w, http.StatusBadRequest, joinField(in, key.field), "%s", key.msg)
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "", "body larger than %d bytes", tooBig.Limit)
	case (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && in != "":
		writeError(w, http.StatusBadRequest, in, "the body ends inside the list: want [{\"prefix\": ..., \"via\": ...}, ...]")
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "", "empty body: want a JSON object")
	case errors.As(err, &syntax):
		writeError(w, http.StatusBadRequest, in, "invalid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ):
		field := typ.Field
		msg := fmt.Sprintf("wrong type: got JSON %s", typ.Value)
		if typ.Type.Kind() == reflect.Slice {
			msg = fmt.Sprintf("expected a list, got JSON %s", typ.Value)
		}
		if field == "" {
			msg = fmt.Sprintf("expected a JSON object, got %s", typ.Value)
		}
		writeError(w, http.StatusBadRequest, joinField(in, field), "%s", msg)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		writeError(w, http.StatusBadRequest, joinField(in, shortName(name)), "unknown field %s", short(name))
	default:
		writeError(w, http.StatusBadRequest, in, "invalid JSON: %v", err)
	}
}

func joinField(parent, name string) string {
	switch {
	case parent == "":
		return name
	case name == "":
		return parent
	}
	return parent + "." + name
}

// requireToken lets a change through only with the configured bearer token.
func (s *server) requireToken(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if s.auth {
			got, ok := bearer(req.Header.Get("Authorization"))
			sum := sha256.Sum256([]byte(got))
			if !ok || subtle.ConstantTimeCompare(sum[:], s.token[:]) != 1 {
				if ok {
					s.logf("rejected a %s %s from %s: wrong token", req.Method, req.URL.Path, req.RemoteAddr)
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="steer"`)
				writeError(w, http.StatusUnauthorized, "", "changes need \"Authorization: Bearer <token>\" with the configured metrics.token")
				return
			}
		}
		next(w, req)
	}
}

// bearer extracts the token of an "Authorization: Bearer <token>" header
// (the scheme is case-insensitive, RFC 9110 11.1).
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
