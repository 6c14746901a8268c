package router

import (
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/trafgen"
)

// writeTraffic writes in.pcap (frames to lanMAC, from 10.0.0.2, one per
// destination, round robin) and an empty empty.pcap into dir.
func writeTraffic(t testing.TB, dir string, lanMAC net.HardwareAddr, n int, dsts ...string) {
	t.Helper()
	var frames [][]byte
	for i := 0; i < n; i++ {
		p := trafgen.Packet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, DstMAC: lanMAC, Src: netip.MustParseAddr("10.0.0.2"),
			Dst: netip.MustParseAddr(dsts[i%len(dsts)]), SrcPort: uint16(1000 + i), DstPort: 5001, TTL: 64}
		frames = append(frames, p.MustBuild())
	}
	if err := trafgen.WritePcap(filepath.Join(dir, "in.pcap"), frames); err != nil {
		t.Fatal(err)
	}
	if err := trafgen.WritePcap(filepath.Join(dir, "empty.pcap"), nil); err != nil {
		t.Fatal(err)
	}
}

func parseConfig(t testing.TB, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const lcoreOne = `eal: {lcores: "0-1", main_lcore: 0, huge: false, memory_mb: 256, file_prefix: steer-router-test}
lcores:
  - {lcore: 1, rx: [{port: lan, queue: 0}, {port: wan, queue: 0}]}
log: {level: warn}
`

// EAL belongs to the process, not to a router: routers start and stop one
// after another in it, each with fresh ports, forwarding everything and
// leaving no mbuf, port or ring behind.
func TestStartStopAgain(t *testing.T) {
	needRoot(t)
	for round := 0; round < 3; round++ {
		dir := t.TempDir()
		macs := nextPcapMACs(2)
		writeTraffic(t, dir, macs[0], 500, "198.51.100.1")
		cfg := parseConfig(t, lcoreOne+pcapPorts(dir, false)+`
routes: [{prefix: "198.51.100.0/24", via: "203.0.113.2"}]
neighbors: [{ip: "203.0.113.2", mac: "02:00:00:00:00:03", port: wan}]
`)
		r, err := Start(cfg, zap.NewNop())
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for r.Counters()[0].TxPackets < 500 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond) // polling the counter, bounded by the deadline
		}
		checkFIBMatchesRIB(t, r)
		if got := r.Snapshot().Ports[0].MAC; got != macs[0].String() {
			t.Errorf("round %d: lan MAC %s, the traffic was made for %s", round, got, macs[0])
		}
		rep, err := r.Stop()
		if err != nil {
			t.Fatalf("round %d: stop: %v", round, err)
		}
		if rep.Totals.TxPackets != 500 || rep.Totals.Unaccounted() != 0 || rep.Mempool.InUseAfterClose != 0 {
			t.Fatalf("round %d: forwarded %d of 500, %d unaccounted, %d mbufs in use after close",
				round, rep.Totals.TxPackets, rep.Totals.Unaccounted(), rep.Mempool.InUseAfterClose)
		}
		if r.Snapshot() != nil {
			t.Errorf("round %d: a stopped router still gives snapshots", round)
		}
	}
}

// A start that fails tears down what it made: the next one succeeds.
func TestFailedStartLeavesNothing(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	nextPcapMACs(2)
	writeTraffic(t, dir, net.HardwareAddr{2, 0, 0, 0, 0, 9}, 1, "198.51.100.1")
	// Two RX queues on a pcap device with one: refused after both ports
	// were created.
	bad := parseConfig(t, strings.Replace(lcoreOne, "{port: wan, queue: 0}", "{port: wan, queue: 0}, {port: wan, queue: 1}", 1)+
		strings.Replace(pcapPorts(dir, false), `addresses: ["203.0.113.1/24"]`, `rx_queues: 2, addresses: ["203.0.113.1/24"]`, 1))
	if _, err := Start(bad, zap.NewNop()); err == nil || !strings.Contains(err.Error(), "ports[1].rx_queues: 2") {
		t.Fatalf("start with too many queues: %v", err)
	}
	nextPcapMACs(2)
	r, err := Start(parseConfig(t, lcoreOne+pcapPorts(dir, false)), zap.NewNop())
	if err != nil {
		t.Fatalf("the start after a failed one: %v", err)
	}
	if _, err := r.Stop(); err != nil {
		t.Fatal(err)
	}
}
