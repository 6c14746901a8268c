package router

import (
	"slices"
	"strings"
	"testing"

	"github.com/steer-router/steer/cgo/dpdk/ethdev"
	"github.com/steer-router/steer/pkg/config"
)

// EAL gets the lcores, memory and PCI devices; virtual devices are the
// routers' own (created at Start), never EAL arguments.
func TestEALArgs(t *testing.T) {
	c := &config.Config{
		EAL: config.EAL{Lcores: "0-2", MainLcore: 0, Huge: false, MemoryMB: 256, FilePrefix: "t1", Args: []string{"--no-telemetry"}},
		Ports: []config.Port{
			{Name: "lan", Device: "net_pcap0,rx_pcap=a.pcap"},
			{Name: "wan", Device: "net_tap0,iface=x"},
		},
		Log: config.Log{Level: "info"},
	}
	got := strings.Join(EALArgs(c), " ")
	want := "steer -l 0-2 --main-lcore 0 --file-prefix t1 --no-huge -m 256 --no-pci --log-level *:warning --no-telemetry"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	c.EAL.Lcores, c.EAL.Huge, c.Log.Level, c.EAL.Args = "0@0,1@1,2@1", true, "debug", nil
	c.Ports = []config.Port{{Name: "lan", Device: "0000:03:00.0"}, {Name: "wan", Device: "net_pcap0,rx_pcap=a.pcap"}}
	args := EALArgs(c)
	for _, w := range [][]string{{"--lcores", "0@0,1@1,2@1"}, {"--huge-unlink", "-m"}, {"-m", "256"}, {"-a", "0000:03:00.0"}} {
		i := slices.Index(args, w[0])
		if i < 0 || i+1 >= len(args) || args[i+1] != w[1] {
			t.Errorf("%v: missing %s %s", args, w[0], w[1])
		}
	}
	for _, never := range []string{"--no-huge", "--no-pci", "--log-level", "-l", "--vdev"} {
		if slices.Contains(args, never) {
			t.Errorf("%v: has %s", args, never)
		}
	}
}

func TestResolveSteering(t *testing.T) {
	rss := ethdev.Info{MaxRxQueues: 8, RSSOffloads: ethdev.RSSIPv4}
	none := ethdev.Info{MaxRxQueues: 1}
	cases := []struct {
		steering         string
		rxq              int
		info             ethdev.Info
		sharers, workers int
		want             string
	}{
		{"auto", 4, rss, 4, 2, "rss"},          // one queue per lcore: the NIC spreads
		{"auto", 4, rss, 2, 0, "rss"},          // more queues than lcores
		{"auto", 2, rss, 4, 2, "distributor"},  // fewer queues than lcores: workers help
		{"auto", 2, rss, 4, 0, "rss"},          // nothing else to spread with
		{"auto", 16, rss, 4, 2, "distributor"}, // more queues asked than the NIC has
		{"auto", 16, rss, 4, 0, "rtc"},
		{"auto", 1, rss, 2, 1, "distributor"}, // one queue: RSS spreads nothing
		{"auto", 1, rss, 1, 0, "rtc"},
		{"auto", 1, none, 3, 2, "distributor"},
		{"auto", 1, none, 1, 0, "rtc"},
		{"rss", 1, none, 1, 0, "rss"},
		{"distributor", 4, rss, 4, 2, "distributor"},
	}
	for _, c := range cases {
		got, why := resolveSteering(config.Port{Steering: c.steering, RxQueues: c.rxq}, c.info, c.sharers, c.workers)
		if got != c.want || why == "" {
			t.Errorf("%s, %d rx queues, rss %v, %d sharers, %d workers: %q (%s), want %q",
				c.steering, c.rxq, c.info.CanRSS(), c.sharers, c.workers, got, why, c.want)
		}
	}
}
