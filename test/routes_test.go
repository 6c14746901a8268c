package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/trafgen"
)

// routeStats is the part of /api/v1/stats the route test reads.
type routeStats struct {
	Totals struct {
		RxPackets uint64            `json:"rx_packets"`
		TxPackets uint64            `json:"tx_packets"`
		SlowPath  map[string]uint64 `json:"slowpath"`
	} `json:"totals"`
}

// TestRoutesCLI changes routes of a forwarding steer with `steer routes`:
// an infinite pcap sends to 192.0.2.0/24, which has no route (no_route
// grows); after `routes add` those packets are forwarded (no_route stops);
// after `routes del` no_route grows again. The CLI's errors name the field.
func TestRoutesCLI(t *testing.T) {
	lanMAC, _ := PortMACs(t)
	b := NewBed(t)
	api, section := withAPI(t, "t0ken")
	b.WritePcap("lan-in.pcap", gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts,
		Dst: netip.MustParsePrefix("192.0.2.0/24"), Flows: 16, PacketsPerFlow: 4, TTL: 64}))
	b.WritePcap("wan-in.pcap", nil)
	c := Standard()
	c.Ports[0].RxFiles = []string{"lan-in.pcap,infinite_rx=1"} // a source that never runs dry
	c.Ports[0].TxFiles, c.Ports[0].TxQueues = nil, 1           // no tx_pcap: TX counts and frees
	c.Ports[1].TxFiles, c.Ports[1].TxQueues = nil, 1
	c.Extra = section
	cfg := b.WriteConfig(c)
	stats := b.Path("stats.json")
	p := b.Start("run", "--config", cfg, "--stats-file", stats)
	api.waitReady(p)

	read := func() routeStats {
		var s routeStats
		if err := json.Unmarshal([]byte(api.must(200, "GET", "/api/v1/stats", "")), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// growing reports whether no_route (slow) or forwarding (!slow) is
	// still growing over two reads 50 ms apart.
	growing := func(slow bool) (bool, string) {
		a := read()
		time.Sleep(50 * time.Millisecond) // the sampling interval of the comparison
		z := read()
		if slow {
			return z.Totals.SlowPath["no_route"] > a.Totals.SlowPath["no_route"], fmt.Sprintf("no_route %d -> %d", a.Totals.SlowPath["no_route"], z.Totals.SlowPath["no_route"])
		}
		return z.Totals.TxPackets > a.Totals.TxPackets, fmt.Sprintf("forwarded %d -> %d", a.Totals.TxPackets, z.Totals.TxPackets)
	}
	cli := func(want int, args ...string) string {
		t.Helper()
		r := b.Run(append(args, "--api", api.base, "--token", "t0ken")...)
		if r.Code != want {
			t.Fatalf("steer %s: exit %d, want %d\n%s", strings.Join(args, " "), r.Code, want, r)
		}
		return r.Output()
	}

	Eventually(t, 10*time.Second, func() (bool, string) { return growing(true) })
	cli(0, "routes", "add", "192.0.2.0/24", "via", "203.0.113.2")
	Eventually(t, 10*time.Second, func() (bool, string) {
		fwd, why := growing(false)
		stuck, why2 := growing(true)
		return fwd && !stuck, why + ", " + why2
	})
	out := cli(0, "routes", "list")
	for _, want := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.2"} {
		if !strings.Contains(out, want) {
			t.Errorf("routes list lacks %s:\n%s", want, out)
		}
	}
	cli(0, "routes", "del", "192.0.2.0/24")
	Eventually(t, 10*time.Second, func() (bool, string) { return growing(true) })

	if out := cli(1, "routes", "del", "192.0.2.0/24"); !strings.Contains(out, "no such static route") {
		t.Errorf("deleting a missing route: %s", out)
	}
	if out := cli(1, "routes", "add", "192.0.2.0/24", "via", "192.168.7.7"); !strings.Contains(out, "via:") {
		t.Errorf("an off-link gateway: %s", out)
	}
	if out := cli(1, "routes", "add", "10.0.0.1/32", "via", "203.0.113.2"); !strings.Contains(out, "prefix:") {
		t.Errorf("a route over the router's own address: %s", out)
	}
	r := b.Run("routes", "add", "192.0.2.0/24", "via", "203.0.113.2", "--api", api.base, "--token", "wrong")
	if r.Code != 1 || !strings.Contains(r.Stderr, "refused the token: --token or $STEER_API_TOKEN") {
		t.Errorf("a wrong token: exit %d\n%s", r.Code, r)
	}

	p.Signal(syscall.SIGTERM)
	if res := p.Wait(); res.Code != 0 {
		t.Fatalf("after SIGTERM: exit %d\n%s", res.Code, res)
	}
	b.ReadStats(stats) // balance, every reason, no mbuf leak
}
