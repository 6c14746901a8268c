package e2e

import (
	"encoding/json"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/trafgen"
)

// fibEntry is one entry of GET /api/v1/routes?all=1.
type fibEntry struct {
	Prefix  string `json:"prefix"`
	Source  string `json:"source"`
	Via     string `json:"via"`
	NextHop struct {
		Kind string `json:"kind"`
		Port int    `json:"port"`
		MAC  string `json:"mac"`
		Via  string `json:"via"`
	} `json:"next_hop"`
}

// entry is the FIB's entry for prefix, "" when it has none, as
// "source kind mac-or-via".
func (a *apiClient) entry(prefix string) string {
	a.t.Helper()
	var rs struct{ Routes []fibEntry }
	if err := json.Unmarshal([]byte(a.must(200, "GET", "/api/v1/routes?all=1", "")), &rs); err != nil {
		a.t.Fatal(err)
	}
	for _, r := range rs.Routes {
		if r.Prefix == prefix {
			return strings.TrimSpace(r.Source + " " + r.NextHop.Kind + " " + r.NextHop.MAC + r.NextHop.Via)
		}
	}
	return ""
}

// One route table, one precedence rule: a static neighbour N and a route
// N/32 via a gateway G give the same FIB entry however they were reached
// (config at start-up, API, SIGHUP reload, in any order), the route winning
// as in Linux; and no change removes or shadows one of the router's own
// entries, which validate, the API and reload all refuse alike.
func TestOneRouteTable(t *testing.T) {
	const n, g = "203.0.113.5", "203.0.113.2"
	const macN, macG = "02:00:00:00:00:05", "02:00:00:00:00:03" // G is Standard's wan peer
	viaG, toN := "static forward "+macG, "neighbor forward "+macN
	lanMAC, _ := PortMACs(t)
	b := NewBed(t)
	api, section := withAPI(t, "t0ken")
	// Traffic to N keeps steer busy (an empty infinite_rx file makes the
	// pcap PMD keep mbufs past close).
	b.WritePcap("lan-in.pcap", gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts,
		Dst: netip.MustParsePrefix(n + "/32"), Flows: 4, PacketsPerFlow: 4, TTL: 64}))
	b.WritePcap("wan-in.pcap", nil)
	c := Standard()
	c.Ports[0].RxFiles = []string{"lan-in.pcap,infinite_rx=1"} // keeps steer running
	c.Ports[0].TxFiles, c.Ports[0].TxQueues = nil, 1
	c.Ports[1].TxFiles, c.Ports[1].TxQueues = nil, 1
	c.Routes = append(c.Routes, [2]string{n + "/32", g})
	c.Neighbors = append(c.Neighbors, [3]string{n, macN, "wan"})
	c.Extra = section
	path := b.WriteConfig(c)
	p := b.Start("run", "--config", path)
	api.waitReady(p)
	auth := []string{"Authorization", "Bearer t0ken"}
	step := func(what, want string) {
		t.Helper()
		if got := api.entry(n + "/32"); got != want {
			t.Errorf("%s: %s/32 is %q, want %q", what, n, got, want)
		}
	}

	step("start-up: neighbour and route", viaG)
	api.must(204, "DELETE", "/api/v1/neighbors/"+n, "", auth...)
	step("neighbour deleted", viaG)
	api.must(201, "POST", "/api/v1/neighbors", `{"ip":"`+n+`","mac":"`+macN+`","port":"wan"}`, auth...)
	step("neighbour back", viaG)
	api.must(204, "DELETE", "/api/v1/routes/"+n+"/32", "", auth...)
	step("route deleted", toN)
	api.must(201, "POST", "/api/v1/routes", `{"prefix":"`+n+`/32","via":"`+g+`"}`, auth...)
	step("route back through the API", viaG)

	// The router's own entries: a route for them is refused, deleting one
	// finds no route, and they stay.
	own := "local local"
	if got := api.entry("203.0.113.1/32"); got != own {
		t.Fatalf("own address: %q", got)
	}
	for _, body := range []string{`{"prefix":"203.0.113.1/32","via":"` + g + `"}`, `{"prefix":"203.0.113.255/32","via":"` + g + `"}`,
		`{"prefix":"203.0.113.0/24","via":"` + g + `"}`} {
		code, out, _, err := api.do("POST", "/api/v1/routes", body, auth...)
		if err != nil || code != 400 || !strings.Contains(out, `"field":"prefix"`) {
			t.Errorf("POST %s: %d %s, want 400 naming prefix", body, code, out)
		}
	}
	if code, out, _, _ := api.do("DELETE", "/api/v1/routes/203.0.113.1/32", "", auth...); code != 404 {
		t.Errorf("DELETE own address: %d %s, want 404", code, out)
	}
	if got := api.entry("203.0.113.1/32"); got != own {
		t.Errorf("own address after the attempts: %q", got)
	}

	// validate refuses a route for an own address, naming the field; a
	// reload of such a file is refused as a whole and changes nothing.
	bad := c
	bad.Routes = append(append([][2]string{}, c.Routes...), [2]string{"203.0.113.1/32", g})
	badPath := b.WriteFile("bad.yaml", b.YAML(bad))
	if r := b.Run("validate", "--config", badPath); r.Code != 1 || !strings.Contains(r.Output(), "routes[2].prefix") ||
		!strings.Contains(r.Output(), "router's own address") {
		t.Errorf("validate with a route for an own address: exit %d\n%s", r.Code, r)
	}
	b.WriteFile("config.yaml", b.YAML(bad))
	p.Signal(syscall.SIGHUP)
	Eventually(t, 5*time.Second, func() (bool, string) {
		return api.reloads("refused") == 1, "waiting for the refused reload"
	})
	if got := api.entry("203.0.113.1/32"); got != own {
		t.Errorf("own address after a refused reload: %q", got)
	}
	// A reload without the /32 route: N's own entry takes over; with it
	// again, the route.
	noRoute := c
	noRoute.Routes = c.Routes[:1]
	b.WriteFile("config.yaml", b.YAML(noRoute))
	p.Signal(syscall.SIGHUP)
	Eventually(t, 5*time.Second, func() (bool, string) { return api.reloads("applied") == 1, "waiting for the reload" })
	step("route removed by reload", toN)
	b.WriteFile("config.yaml", b.YAML(c))
	p.Signal(syscall.SIGHUP)
	Eventually(t, 5*time.Second, func() (bool, string) { return api.reloads("applied") == 2, "waiting for the reload" })
	step("route back by reload", viaG)

	p.Signal(syscall.SIGTERM)
	if res := p.Wait(); res.Code != 0 {
		t.Fatalf("after SIGTERM: exit %d\n%s", res.Code, res)
	}
}
