package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/trafgen"
)

// routeSet reads GET /api/v1/routes as sorted "prefix via gw" lines.
func (a *apiClient) routeSet() string {
	a.t.Helper()
	var rs struct {
		Routes []struct{ Prefix, Via string }
	}
	if err := json.Unmarshal([]byte(a.must(200, "GET", "/api/v1/routes", "")), &rs); err != nil {
		a.t.Fatal(err)
	}
	var out []string
	for _, r := range rs.Routes {
		out = append(out, r.Prefix+" via "+r.Via)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// reloads is steer_config_reloads_total{result} from /metrics.
func (a *apiClient) reloads(result string) float64 {
	a.t.Helper()
	return a.scrape()[fmt.Sprintf(`steer_config_reloads_total{result=%q}`, result)]
}

// TestReload sends SIGHUP to a forwarding steer. The lan input is an
// endless stream to two prefixes: 198.51.100.0/24 (routed via wan at
// start) and 192.0.2.0/24 (no route: slow path no_route).
//
//  1. A file with 192.0.2.0/24 added, 198.51.100.0/24 now via the lan
//     host and 100.64.0.0/24 removed is applied: the API lists exactly the
//     new routes, no_route stops growing and lan starts sending (the
//     changed gateway is on lan), each change is logged.
//  2. A file that also changes ports[1].device is refused as a whole:
//     logged naming the field, the routes stay, forwarding goes on.
//  3. An invalid file is refused with its problem logged.
func TestReload(t *testing.T) {
	lanMAC, _ := PortMACs(t)
	routed := gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote,
		Flows: 8, PacketsPerFlow: 4, TTL: 64, Seed: 93})
	unrouted := gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: netip.MustParsePrefix("192.0.2.0/24"),
		Flows: 8, PacketsPerFlow: 4, FirstFlow: 100, TTL: 64, Seed: 94})
	tr := startTraffic(t, interleave(routed, unrouted), "", func(c *Config) {
		c.Routes = append(c.Routes, [2]string{"100.64.0.0/24", "203.0.113.2"})
	})
	api := tr.api
	if got, want := api.routeSet(), "100.64.0.0/24 via 203.0.113.2, 198.51.100.0/24 via 203.0.113.2"; got != want {
		t.Fatalf("routes at start: %s, want %s", got, want)
	}
	if v := api.scrape()[`steer_config_last_reload_success`]; v != 1 {
		t.Errorf("steer_config_last_reload_success %v at start, want 1", v)
	}

	// watch compares two reads of the counters 50 ms apart (the sampling
	// interval of the comparison, not a wait for an event). A port
	// forwards when it sent over 1,000 packets in between (the router's own
	// packets, such as ARP, are far fewer) and does not under 100.
	type growth struct{ noRoute, lanTx, wanTx, lanIdle bool }
	watch := func() (growth, string) {
		a := api.live()
		time.Sleep(50 * time.Millisecond)
		z := api.live()
		g := growth{
			noRoute: z.Totals.SlowPath["no_route"] > a.Totals.SlowPath["no_route"],
			lanTx:   z.portTx(t, "lan") > a.portTx(t, "lan")+1000,
			wanTx:   z.portTx(t, "wan") > a.portTx(t, "wan")+1000,
			lanIdle: z.portTx(t, "lan") < a.portTx(t, "lan")+100,
		}
		return g, fmt.Sprintf("no_route %d -> %d, lan TX %d -> %d, wan TX %d -> %d",
			a.Totals.SlowPath["no_route"], z.Totals.SlowPath["no_route"], a.portTx(t, "lan"), z.portTx(t, "lan"), a.portTx(t, "wan"), z.portTx(t, "wan"))
	}
	Eventually(t, 10*time.Second, func() (bool, string) {
		g, why := watch()
		return g.noRoute && g.wanTx && g.lanIdle, "before the reload, want no_route and wan TX growing, lan TX not: " + why
	})

	// 1. Route changes apply.
	c := tr.cfg
	c.Routes = [][2]string{{"198.51.100.0/24", "10.0.0.2"}, {"192.0.2.0/24", "203.0.113.2"}}
	tr.b.WriteConfig(c)
	tr.p.Signal(syscall.SIGHUP)
	want := "192.0.2.0/24 via 203.0.113.2, 198.51.100.0/24 via 10.0.0.2"
	Eventually(t, 10*time.Second, func() (bool, string) {
		got := api.routeSet()
		return got == want, fmt.Sprintf("routes %s, want %s", got, want)
	})
	Eventually(t, 10*time.Second, func() (bool, string) {
		g, why := watch()
		return !g.noRoute && g.wanTx && g.lanTx, "after the reload, want lan and wan TX growing, no_route not: " + why
	})
	if v := api.reloads("applied"); v != 1 {
		t.Errorf("steer_config_reloads_total{result=\"applied\"} = %v, want 1", v)
	}

	// 2. A port change (with route changes too) is refused whole.
	c2 := c
	c2.Ports = append([]Port(nil), c.Ports...)
	c2.Ports[1].RxFiles = []string{"wan-in-2.pcap"}
	c2.Routes = [][2]string{{"198.51.100.0/24", "203.0.113.2"}}
	tr.b.WriteConfig(c2)
	tr.p.Signal(syscall.SIGHUP)
	Eventually(t, 10*time.Second, func() (bool, string) {
		v := api.reloads("refused")
		return v == 1, fmt.Sprintf("steer_config_reloads_total{result=\"refused\"} = %v, want 1", v)
	})
	if got := api.routeSet(); got != want {
		t.Errorf("routes after a refused reload: %s, want %s (unchanged)", got, want)
	}
	if v := api.scrape()[`steer_config_last_reload_success`]; v != 0 {
		t.Errorf("steer_config_last_reload_success %v after a refusal, want 0", v)
	}
	Eventually(t, 10*time.Second, func() (bool, string) {
		g, why := watch()
		return !g.noRoute && g.wanTx && g.lanTx, "after the refused reload, want forwarding as before: " + why
	})

	// 3. An invalid file is refused with its problem.
	c3 := c
	c3.Routes = [][2]string{{"198.51.100.0/24", "10.0.0.2"}, {"192.0.2.0/99", "203.0.113.2"}}
	tr.b.WriteConfig(c3)
	tr.p.Signal(syscall.SIGHUP)
	Eventually(t, 10*time.Second, func() (bool, string) {
		v := api.reloads("refused")
		return v == 2, fmt.Sprintf("steer_config_reloads_total{result=\"refused\"} = %v, want 2", v)
	})
	if got := api.routeSet(); got != want {
		t.Errorf("routes after an invalid reload: %s, want %s (unchanged)", got, want)
	}

	r, st := tr.stop(t)
	for _, line := range []string{
		`"msg":"reload: route 100.64.0.0/24 via 203.0.113.2 removed"`,
		`"msg":"reload: route 192.0.2.0/24 via 203.0.113.2 added"`,
		`"msg":"reload: route 198.51.100.0/24 now via 10.0.0.2 (was via 203.0.113.2)"`,
		`"msg":"reload applied","routes_added":1,"routes_removed":1,"routes_changed":1,`,
		`"msg":"reload refused: ports[1].device changed; needs a restart (nothing was changed)","fields":["ports[1].device changed"]`,
		`routes[1].prefix`,
	} {
		if !strings.Contains(r.Stderr, line) {
			t.Errorf("the log lacks %s", line)
		}
	}
	if n := strings.Count(r.Stderr, `"level":"error"`); n != 2 {
		t.Errorf("%d error lines, want 2 (one per refused reload)", n)
	}
	if st.Totals.SlowPath["no_route"] == 0 || st.Port(t, "lan").TxPackets == 0 {
		t.Errorf("stats: no_route %d, lan TX %d", st.Totals.SlowPath["no_route"], st.Port(t, "lan").TxPackets)
	}
	if t.Failed() {
		t.Logf("%s", r)
	}
}
