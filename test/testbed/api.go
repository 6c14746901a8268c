package testbed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// API is a client of a running steer's HTTP API (metrics.listen), on one
// keep-alive connection when requests are made one at a time.
type API struct {
	Base  string // http://127.0.0.1:9464
	Token string // bearer token for changes; "" sends none
	HTTP  *http.Client
}

// NewAPI is a client for the API at host:port addr.
func NewAPI(addr, token string) *API {
	return &API{
		Base:  "http://" + addr,
		Token: token,
		HTTP: &http.Client{
			Timeout:   10 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true},
		},
	}
}

// Do sends one request with in as its JSON body (nil: none) and returns the
// status and the body, read to the end (so the connection is kept).
func (a *API) Do(method, path string, in any) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimRight(a.Base, "/")+path, body)
	if err != nil {
		return 0, nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// expect is Do that wants one status.
func (a *API) expect(want int, method, path string, in any) error {
	code, body, err := a.Do(method, path, in)
	if err != nil {
		return err
	}
	if code != want {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, code, strings.TrimSpace(string(body)))
	}
	return nil
}

// AddRoute adds (or replaces) a static route: POST /api/v1/routes, 201.
func (a *API) AddRoute(prefix, via string) error {
	return a.expect(http.StatusCreated, "POST", "/api/v1/routes", map[string]string{"prefix": prefix, "via": via})
}

// DeleteRoute deletes a static route: DELETE /api/v1/routes/<prefix>, 204.
func (a *API) DeleteRoute(prefix string) error {
	return a.expect(http.StatusNoContent, "DELETE", "/api/v1/routes/"+prefix, nil)
}

// CloseIdle closes the kept connection.
func (a *API) CloseIdle() { a.HTTP.CloseIdleConnections() }

// FreeLoopback returns a TCP address on 127.0.0.1 that was free a moment
// ago, for a steer API to listen on.
func FreeLoopback() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
