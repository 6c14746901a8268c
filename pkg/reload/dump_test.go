package reload

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/report"
	"github.com/steer-router/steer/pkg/rib"
)

func TestDump(t *testing.T) {
	running := parse(t, baseYAML) // metrics.token: s3cret-token
	routes := []rib.Route{
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Source: rib.Static, Via: netip.MustParseAddr("203.0.113.2")},
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Source: rib.Static, Via: netip.MustParseAddr("203.0.113.9")}, // added through the API
		{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Source: rib.Connected},
	}
	neighbors := []report.Neighbor{
		{IP: netip.MustParseAddr("203.0.113.2"), MAC: "02:00:00:00:00:03", Port: "wan", Static: true},
		{IP: netip.MustParseAddr("10.0.0.2"), MAC: "02:00:00:00:00:02", Port: "lan", Static: true},
		{IP: netip.MustParseAddr("10.0.0.7"), MAC: "02:00:00:00:00:07", Port: "lan", State: "reachable"}, // learnt
	}
	out, err := Dump(running, routes, neighbors, "/etc/steer/steer.yaml", time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	y := string(out)
	if strings.Contains(y, "s3cret-token") {
		t.Errorf("the dump shows the token:\n%s", y)
	}
	for _, want := range []string{"# steer's running config, dumped 2026-12-06T08:00:00Z (started from /etc/steer/steer.yaml)", "metrics.token is not shown"} {
		if !strings.Contains(y, want) {
			t.Errorf("dump lacks %q:\n%s", want, y)
		}
	}
	back, err := config.Parse(out)
	if err != nil {
		t.Fatalf("steer run would refuse the dump: %v\n%s", err, y)
	}
	var got []string
	for _, r := range back.Routes {
		got = append(got, r.Prefix+">"+r.Via)
	}
	if s := strings.Join(got, " "); s != "198.51.100.0/24>203.0.113.2 192.0.2.0/24>203.0.113.9" {
		t.Errorf("routes %s: want the static ones, the API's included, and not the connected subnet", s)
	}
	got = nil
	for _, n := range back.Neighbors {
		got = append(got, n.IP+"@"+n.MAC+"/"+n.Port)
	}
	if s := strings.Join(got, " "); s != "10.0.0.2@02:00:00:00:00:02/lan 203.0.113.2@02:00:00:00:00:03/wan" {
		t.Errorf("neighbours %s: want the static ones in address order", s)
	}
	if back.EAL.Lcores != running.EAL.Lcores || len(back.Ports) != len(running.Ports) || back.Ports[1].Device != running.Ports[1].Device {
		t.Errorf("the rest of the config changed: %+v", back)
	}
	if running.Metrics.Token != "s3cret-token" || len(running.Neighbors) != 1 || len(running.Routes) != 1 {
		t.Error("Dump changed the config it was given")
	}
}
