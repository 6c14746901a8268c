package e2e

// steer between real kernel hosts: two net_tap ports whose kernel sides
// live in two network namespaces (A on lan 10.91.1.0/24, B on wan
// 10.91.2.0/24), each a host with its own MAC and a default route via the
// router. ping, traceroute and iperf3 run in the namespaces; nothing leaves
// them.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/trafgen"
	"github.com/steer-router/steer/test/testbed"
)

// The tap topology's addresses and MACs (the router's MACs are set with
// the tap PMD's mac= devarg).
var (
	tapRouterLanMAC = net.HardwareAddr{0x02, 0x91, 0x01, 0, 0, 0x01}
	tapRouterWanMAC = net.HardwareAddr{0x02, 0x91, 0x02, 0, 0, 0x01}
	tapHostAMAC     = net.HardwareAddr{0x02, 0x91, 0x01, 0, 0, 0x02}
	tapHostBMAC     = net.HardwareAddr{0x02, 0x91, 0x02, 0, 0, 0x02}
)

const (
	tapRouterLan = "10.91.1.1"
	tapRouterWan = "10.91.2.1"
	tapHostA     = "10.91.1.2"
	tapHostB     = "10.91.2.2"
)

var tapCount atomic.Int32

// tapNet is a running steer on two taps with a namespace host on each.
type tapNet struct {
	t            *testing.T
	b            *Bed
	p            *Proc
	api          *apiClient
	A, B         *netns
	LanIf, WanIf string
	Static       bool
	stats        string
	iperfPort    int
}

// startTapNet starts steer on two net_tap ports (lan 10.91.1.1/24, wan
// 10.91.2.1/24, one lcore polling both, only connected routes), waits for
// it to forward and for both tap interfaces, and makes a namespace host
// of each: A 10.91.1.2 and B 10.91.2.2 with their own MACs. static adds
// neighbour entries on both sides (steer's config for the hosts,
// permanent entries for the router in the namespaces), so nothing needs
// ARP; without it, every address is resolved by ARP. When the test ends,
// the namespaces are deleted, steer is stopped, and neither a namespace
// nor a tap interface of the test may remain.
//
// wanExtra are more router addresses on wan ("10.200.0.1/16": a large
// connected subnet).
func startTapNet(t *testing.T, static bool, extra string, wanExtra ...string) *tapNet {
	t.Helper()
	needTools(t, "ip", "ping", "ss", "sysctl")
	b := NewBed(t)
	k := tapCount.Add(1)
	tn := &tapNet{t: t, b: b, Static: static, iperfPort: 5201,
		LanIf: fmt.Sprintf("s%da%d", os.Getpid(), k), WanIf: fmt.Sprintf("s%db%d", os.Getpid(), k)}
	nsA, nsB := nsPrefix()+fmt.Sprintf("%d-a", k), nsPrefix()+fmt.Sprintf("%d-b", k)
	// Registered first, so it runs last: after the namespaces are deleted
	// and steer is gone.
	t.Cleanup(func() {
		for _, n := range netnsList(t) {
			if n == nsA || n == nsB {
				t.Errorf("namespace %s still exists after the test", n)
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for _, ifn := range []string{tn.LanIf, tn.WanIf} {
			for {
				if _, err := net.InterfaceByName(ifn); err != nil {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("tap interface %s still exists after steer ended", ifn)
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	})

	api, section := withAPI(t, "")
	tn.api = api
	c := b.SteerConfig(Config{})
	for i, p := range []struct {
		name, ifn string
		mac       net.HardwareAddr
		addr      string
	}{
		{"lan", tn.LanIf, tapRouterLanMAC, tapRouterLan}, {"wan", tn.WanIf, tapRouterWanMAC, tapRouterWan}} {
		port := config.DefaultPort()
		port.Name, port.Device = p.name, fmt.Sprintf("net_tap%d,iface=%s,mac=%s", i, p.ifn, p.mac)
		port.Addresses = []string{p.addr + "/24"}
		if p.name == "wan" {
			port.Addresses = append(port.Addresses, wanExtra...)
		}
		c.Ports = append(c.Ports, port)
	}
	c.Lcores = []config.Lcore{{Lcore: 1, Rx: []config.RxQueue{{Port: "lan", Queue: 0}, {Port: "wan", Queue: 0}}}}
	if static {
		c.Neighbors = []config.Neighbor{{IP: tapHostA, MAC: tapHostAMAC.String(), Port: "lan"}, {IP: tapHostB, MAC: tapHostBMAC.String(), Port: "wan"}}
	}
	y, err := testbed.RenderConfig(c, section, extra)
	if err != nil {
		t.Fatal(err)
	}
	cfg := b.WriteFile("config.yaml", string(y))
	tn.stats = b.Path("stats.json")
	tn.p = b.Start("run", "--config", cfg, "--stats-file", tn.stats)
	api.waitReady(tn.p)
	Eventually(t, 10*time.Second, func() (bool, string) {
		for _, ifn := range []string{tn.LanIf, tn.WanIf} {
			if _, err := net.InterfaceByName(ifn); err != nil {
				return false, fmt.Sprintf("tap interface %s: %v", ifn, err)
			}
		}
		return true, ""
	})

	tn.A, tn.B = newNetns(t, fmt.Sprintf("%d-a", k)), newNetns(t, fmt.Sprintf("%d-b", k))
	tn.A.Adopt(tn.LanIf, tapHostAMAC, tapHostA+"/24", tapRouterLan)
	tn.B.Adopt(tn.WanIf, tapHostBMAC, tapHostB+"/24", tapRouterWan)
	if static {
		tn.A.IP("neigh", "replace", tapRouterLan, "lladdr", tapRouterLanMAC.String(), "dev", tn.LanIf, "nud", "permanent")
		tn.B.IP("neigh", "replace", tapRouterWan, "lladdr", tapRouterWanMAC.String(), "dev", tn.WanIf, "nud", "permanent")
	}
	t.Cleanup(func() {
		if t.Failed() && !tn.p.Exited() {
			for _, ns := range []*netns{tn.A, tn.B} {
				addr, _ := runCmd(5*time.Second, "ip", "-n", ns.Name, "addr")
				neigh, _ := runCmd(5*time.Second, "ip", "-n", ns.Name, "neigh")
				t.Logf("namespace %s:\n%s%s", ns.Name, addr, neigh)
			}
		}
	})
	return tn
}

// Stop stops steer with SIGTERM and returns its checked stats (exit 0, the
// counters' invariants, no mbuf leak, the configured MACs).
func (tn *tapNet) Stop() (*Stats, Result) {
	t := tn.t
	t.Helper()
	if tn.p.Exited() {
		t.Fatalf("steer exited on its own\n%s", tn.p.Wait())
	}
	tn.p.Signal(syscall.SIGTERM)
	r := tn.p.Wait()
	if r.Code != 0 {
		t.Fatalf("after SIGTERM: want exit 0\n%s", r)
	}
	s := tn.b.ReadStats(tn.stats)
	CheckMACs(t, s, map[string]net.HardwareAddr{"lan": tapRouterLanMAC, "wan": tapRouterWanMAC})
	for _, p := range s.Ports {
		if p.Driver != "net_tap" {
			t.Errorf("port %s: driver %q, want net_tap", p.Name, p.Driver)
		}
	}
	if t.Failed() {
		t.Logf("%s\nstats: %s", r, s.Raw)
	}
	return s, r
}

// counters is what steer's lcores have forwarded and its lan port has
// received so far (/api/v1/stats).
func (tn *tapNet) counters() (tx, lanRx uint64) {
	tn.t.Helper()
	var s apiStats
	if err := json.Unmarshal([]byte(tn.api.must(200, "GET", "/api/v1/stats", "")), &s); err != nil {
		tn.t.Fatalf("/api/v1/stats: %v", err)
	}
	for _, p := range s.Ports {
		if p.Name == "lan" {
			lanRx = p.RxPackets
		}
	}
	return s.Totals.TxPackets, lanRx
}

// ---- ping, traceroute, iperf3 ----

type pingResult struct {
	Sent, Recv int
	AvgRTT     float64 // ms
	Out        string
}

var (
	pingCounts = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)
	pingRTT    = regexp.MustCompile(`rtt min/avg/max/mdev = [\d.]+/([\d.]+)/`)
)

// ping runs ping in ns: count echo requests every interval, each waited
// for at most 1 s, the whole run bounded.
func ping(t *testing.T, ns *netns, dst string, count int, interval string) pingResult {
	t.Helper()
	iv, _ := strconv.ParseFloat(interval, 64)
	deadline := int(float64(count)*iv) + 3
	out, err := ns.Exec(time.Duration(deadline+5)*time.Second, offLcore("ping", "-n", "-c", strconv.Itoa(count), "-i", interval,
		"-W", "1", "-w", strconv.Itoa(deadline), dst)...)
	m := pingCounts.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("ping %s from %s: %v\n%s", dst, ns.Name, err, out)
	}
	r := pingResult{Out: out}
	r.Sent, _ = strconv.Atoi(m[1])
	r.Recv, _ = strconv.Atoi(m[2])
	if m := pingRTT.FindStringSubmatch(out); m != nil {
		r.AvgRTT, _ = strconv.ParseFloat(m[1], 64)
	}
	return r
}

// wantPings fails unless at least min of count pings from ns to dst are
// answered.
func wantPings(t *testing.T, ns *netns, dst string, count, min int) pingResult {
	t.Helper()
	r := ping(t, ns, dst, count, "0.2")
	if r.Recv < min {
		t.Errorf("ping %s from %s: %d of %d answered, want at least %d\n%s", dst, ns.Name, r.Recv, r.Sent, min, r.Out)
	}
	return r
}

// udpRcvbufErrors is B's count of UDP datagrams its kernel dropped for a
// full socket buffer (a receiver that did not keep up, not the network).
func udpRcvbufErrors(t *testing.T, ns *netns) float64 {
	t.Helper()
	out, err := ns.Exec(5*time.Second, "cat", "/proc/net/snmp")
	if err != nil {
		t.Fatalf("/proc/net/snmp in %s: %v\n%s", ns.Name, err, out)
	}
	var names []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseFloat(f[i], 64)
				return v
			}
		}
	}
	t.Fatalf("no Udp RcvbufErrors in /proc/net/snmp of %s:\n%s", ns.Name, out)
	return 0
}

type iperfResult struct {
	BitsPerSecond float64
	Bytes         float64
	Retransmits   float64
	LostPercent   float64
	Lost, Packets float64
	OutOfOrder    float64
	JitterMs      float64
	// RcvbufLost is how many of the lost datagrams B's kernel dropped
	// for a full socket buffer (the iperf3 server did not keep up).
	RcvbufLost float64
}

// NetLostPercent is the loss on the way, B's full socket buffer left out.
func (r iperfResult) NetLostPercent() float64 {
	if r.Packets == 0 {
		return 0
	}
	return 100 * max(r.Lost-r.RcvbufLost, 0) / r.Packets
}

// iperf runs an iperf3 server in B (one test, then it exits) and the
// client in A for secs seconds: TCP, or UDP, at bandwidth bw ("": TCP as
// fast as it goes).
func (tn *tapNet) iperf(t *testing.T, udp bool, secs int, bw string) iperfResult {
	t.Helper()
	needTools(t, "iperf3")
	tn.iperfPort++
	port := strconv.Itoa(tn.iperfPort)
	srv := tn.B.Start(time.Duration(secs+20)*time.Second, offLcore("iperf3", "-s", "-1", "-B", tapHostB, "-p", port)...)
	tn.B.waitListen(t, tn.iperfPort, 5*time.Second)
	args := []string{"iperf3", "-c", tapHostB, "-p", port, "-t", strconv.Itoa(secs), "-J", "--connect-timeout", "3000"}
	if udp {
		args = append(args, "-u")
	}
	if bw != "" {
		args = append(args, "-b", bw)
	}
	rcvbuf0 := udpRcvbufErrors(t, tn.B)
	out, err := tn.A.Exec(time.Duration(secs+15)*time.Second, offLcore(args...)...)
	var j struct {
		Error string `json:"error"`
		End   struct {
			SumSent struct {
				Retransmits float64 `json:"retransmits"`
			} `json:"sum_sent"`
			SumReceived struct {
				Bytes         float64 `json:"bytes"`
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
			Sum struct {
				BitsPerSecond float64 `json:"bits_per_second"`
				Bytes         float64 `json:"bytes"`
				LostPercent   float64 `json:"lost_percent"`
				LostPackets   float64 `json:"lost_packets"`
				Packets       float64 `json:"packets"`
				JitterMs      float64 `json:"jitter_ms"`
			} `json:"sum"`
			Streams []struct {
				UDP *struct {
					OutOfOrder float64 `json:"out_of_order"`
				} `json:"udp"`
			} `json:"streams"`
		} `json:"end"`
	}
	if jerr := json.Unmarshal([]byte(out), &j); jerr != nil || j.Error != "" || err != nil {
		sout, _ := srv.Wait()
		t.Fatalf("iperf3 %v: %v %v %s\n%s\nserver:\n%s", args[1:], err, jerr, j.Error, out, sout)
	}
	if sout, serr := srv.Wait(); serr != nil {
		t.Logf("iperf3 server: %v\n%s", serr, sout)
	}
	r := iperfResult{Retransmits: j.End.SumSent.Retransmits, RcvbufLost: udpRcvbufErrors(t, tn.B) - rcvbuf0}
	if udp {
		r.BitsPerSecond, r.Bytes = j.End.Sum.BitsPerSecond, j.End.Sum.Bytes
		r.LostPercent, r.Lost, r.Packets, r.JitterMs = j.End.Sum.LostPercent, j.End.Sum.LostPackets, j.End.Sum.Packets, j.End.Sum.JitterMs
		if len(j.End.Streams) == 0 || j.End.Streams[0].UDP == nil {
			t.Fatalf("iperf3 UDP: no per-stream UDP results\n%s", out)
		}
		for _, s := range j.End.Streams {
			r.OutOfOrder += s.UDP.OutOfOrder
		}
	} else {
		r.BitsPerSecond, r.Bytes = j.End.SumReceived.BitsPerSecond, j.End.SumReceived.Bytes
	}
	return r
}

// checkIperf runs TCP and UDP A -> B and checks TCP moved data and UDP
// lost little and reordered nothing; the figures are logged.
func (tn *tapNet) checkIperf(t *testing.T) {
	tcp := tn.iperf(t, false, 3, "")
	t.Logf("iperf3 TCP A -> B: %.1f Mbit/s received, %.0f bytes, %.0f retransmits", tcp.BitsPerSecond/1e6, tcp.Bytes, tcp.Retransmits)
	if tcp.BitsPerSecond <= 0 || tcp.Bytes <= 0 {
		t.Errorf("iperf3 TCP: %.0f bit/s, %.0f bytes received", tcp.BitsPerSecond, tcp.Bytes)
	}
	udp := tn.iperf(t, true, 3, "50M")
	t.Logf("iperf3 UDP A -> B at 50 Mbit/s: %.1f Mbit/s, %.0f of %.0f datagrams lost (%.2f%%; %.0f of them by B's full socket buffer), %.0f out of order, jitter %.3f ms",
		udp.BitsPerSecond/1e6, udp.Lost, udp.Packets, udp.LostPercent, udp.RcvbufLost, udp.OutOfOrder, udp.JitterMs)
	if udp.Packets == 0 || udp.NetLostPercent() > 5 {
		t.Errorf("iperf3 UDP: %.0f datagrams, %.2f%% lost on the way (want at most 5%%)", udp.Packets, udp.NetLostPercent())
	}
	if udp.OutOfOrder != 0 {
		t.Errorf("iperf3 UDP: %.0f datagrams out of order, want 0", udp.OutOfOrder)
	}
}

// TestTapStaticNeighbours: the plumbing with static neighbour entries on
// both sides (no ARP needed anywhere): ping across both ways and iperf3
// TCP and UDP from A to B through steer, which forwards everything it
// receives from the hosts and never needs to resolve a next hop.
func TestTapStaticNeighbours(t *testing.T) {
	tn := startTapNet(t, true, "")
	wantPings(t, tn.A, tapHostB, 5, 5)
	wantPings(t, tn.B, tapHostA, 5, 5)
	tn.checkIperf(t)
	s, _ := tn.Stop()
	if n := s.Totals.SlowPath["unresolved"]; n != 0 {
		t.Errorf("slowpath.unresolved = %d with static neighbours", n)
	}
	if s.Totals.TxPackets < 20 {
		t.Errorf("steer forwarded %d packets", s.Totals.TxPackets)
	}
}

// TestTapRouter: steer as the hosts' router with no static entry anywhere:
// ARP both ways, the router's addresses answer ping (the near and the far
// one), ping across, traceroute shows the router then B, a ping to an
// unrouted net gets "Destination Net Unreachable" from 10.91.1.1, and
// iperf3 TCP and UDP go through without reordering.
func TestTapRouter(t *testing.T) {
	tn := startTapNet(t, false, "")
	t.Run("ping router", func(t *testing.T) {
		wantPings(t, tn.A, tapRouterLan, 5, 4)
		wantPings(t, tn.A, tapRouterWan, 5, 4)
		wantPings(t, tn.B, tapRouterWan, 5, 4)
		// A learned the router's MAC by ARP.
		out := tn.A.IP("neigh", "show", tapRouterLan, "dev", tn.LanIf)
		if !strings.Contains(out, tapRouterLanMAC.String()) {
			t.Errorf("A's neighbour entry for %s: %q, want lladdr %v", tapRouterLan, out, tapRouterLanMAC)
		}
	})
	t.Run("ping across", func(t *testing.T) {
		wantPings(t, tn.A, tapHostB, 5, 4)
		wantPings(t, tn.B, tapHostA, 5, 4)
	})
	t.Run("traceroute", func(t *testing.T) {
		needTools(t, "traceroute")
		out, err := tn.A.Exec(20*time.Second, "traceroute", "-n", "-q", "1", "-w", "1", "-m", "5", tapHostB)
		hops := map[int]string{}
		last := 0
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			if n, err := strconv.Atoi(f[0]); err == nil {
				hops[n], last = f[1], max(last, n)
			}
		}
		if hops[1] != tapRouterLan || hops[2] != tapHostB || last != 2 {
			t.Errorf("traceroute: hops %v, want 1 %s, 2 %s and no more (%v)\n%s", hops, tapRouterLan, tapHostB, err, out)
		}
	})
	t.Run("net unreachable", func(t *testing.T) {
		out, _ := tn.A.Exec(10*time.Second, "ping", "-n", "-c", "1", "-W", "2", "10.99.0.1")
		if !strings.Contains(out, "From "+tapRouterLan) || !strings.Contains(out, "Destination Net Unreachable") {
			t.Errorf("ping 10.99.0.1: want Destination Net Unreachable from %s\n%s", tapRouterLan, out)
		}
	})
	t.Run("iperf3", tn.checkIperf)
	s, _ := tn.Stop()
	if s.Totals.SlowPath["arp"] == 0 {
		t.Error("steer saw no ARP packet, though no neighbour was static")
	}
	if sp := slowPathCounters(t, s.Raw); sp != nil {
		t.Logf("slow_path counters: %s", fmtCounters(sp))
	}
}

// arpFlood is n distinct ARP requests for target from random senders:
// MACs 02:f1:..., half of the sender IPs in the lan subnet (10.91.1.10 to
// .250: never the router nor A), half anywhere in 10.200.0.0/16.
func arpFlood(n int, target string) [][]byte {
	rnd := rand.New(rand.NewPCG(1, 2))
	bc := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	var fs [][]byte
	for i := 0; i < n; i++ {
		mac := net.HardwareAddr{0x02, 0xf1, byte(i >> 16), byte(i >> 8), byte(i), byte(rnd.IntN(256))}
		src := fmt.Sprintf("10.91.1.%d", 10+rnd.IntN(241))
		if i%2 == 1 {
			src = fmt.Sprintf("10.200.%d.%d", rnd.IntN(256), 1+rnd.IntN(254))
		}
		fs = append(fs, arpFrame(bc, mac, 1, mac, src, nil, target))
	}
	return fs
}

// tapTxDropped is what the kernel side of a tap in ns dropped on its way
// to steer (the tun queue was full: steer's lcore did not read fast
// enough).
func tapTxDropped(t *testing.T, ns *netns, ifname string) uint64 {
	t.Helper()
	var links []struct {
		Stats64 struct {
			Tx struct {
				Dropped uint64 `json:"dropped"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	out := ns.IP("-s", "-j", "link", "show", "dev", ifname)
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -s -j link show %s: %v\n%s", ifname, err, out)
	}
	return links[0].Stats64.Tx.Dropped
}

// The flood the assertions are made under: 20,000 ARP requests a second
// against a slow path that takes 2,000 (slow_path.rate), so its ring
// overflows all the time, yet far below what one lcore reads from a tap
// even on a busy machine: what is measured is steer, not the tap queue.
const (
	floodPPS      = 20_000
	floodSlowRate = 2_000
)

// TestTapARPFlood: ARP requests for the router's lan address from random
// senders written into A's interface at 20,000/s, ten times what the slow
// path takes (slow_path.rate 2000), while A pings B every 50 ms, then
// while iperf3 UDP runs: at least 90% of the pings are answered, no
// datagram is reordered, steer's lcore keeps forwarding, steer still
// answers ARP afterwards and stops cleanly without leaking. Then the same
// ping under a flood as fast as the kernel writes, more than the tap PMD
// reads (one read() per frame), so the tap's own queue drops pings too:
// logged, and steer must still forward. Traffic generators run off the
// lcore's CPU.
func TestTapARPFlood(t *testing.T) {
	tn := startTapNet(t, false, fmt.Sprintf("slow_path: {rate: %d}\n", floodSlowRate))
	wantPings(t, tn.A, tapHostB, 3, 3) // resolved both ways before measuring
	base := ping(t, tn.A, tapHostB, 40, "0.05")
	baseUDP := tn.iperf(t, true, 2, "50M")
	t.Logf("without flood: ping A -> B every 50 ms %d/%d answered, avg rtt %.3f ms; iperf3 UDP 50 Mbit/s 2 s: %.1f Mbit/s, %.2f%% lost (%.2f%% on the way), %.0f out of order",
		base.Recv, base.Sent, base.AvgRTT, baseUDP.BitsPerSecond/1e6, baseUDP.LostPercent, baseUDP.NetLostPercent(), baseUDP.OutOfOrder)

	fd, err := tn.A.PacketSocket(tn.LanIf)
	if err != nil {
		t.Fatalf("packet socket on %s in %s: %v", tn.LanIf, tn.A.Name, err)
	}
	defer unix.Close(fd)
	frames := arpFlood(4096, tapRouterLan)
	type floodRes struct {
		sent, full int
		took       time.Duration
		err        error
		tapDropped uint64
		forwarded  uint64 // by steer's lcores meanwhile
	}
	var total int
	during := func(pps int, what string, f func()) floodRes {
		t.Helper()
		drop0 := tapTxDropped(t, tn.A, tn.LanIf)
		tx0, rx0 := tn.counters()
		stop, done := make(chan struct{}), make(chan floodRes, 1)
		go func() {
			var r floodRes
			r.sent, r.full, r.took, r.err = flood(fd, frames, pps, 2_000_000, time.Now().Add(10*time.Second), stop)
			done <- r
		}()
		f()
		close(stop)
		r := <-done
		if r.err != nil {
			t.Errorf("flood: %v", r.err)
		}
		tx1, rx1 := tn.counters()
		r.tapDropped, r.forwarded = tapTxDropped(t, tn.A, tn.LanIf)-drop0, tx1-tx0
		total += r.sent
		asked := "top speed"
		if pps > 0 {
			asked = fmt.Sprintf("%d/s asked", pps)
		}
		t.Logf("flood during %s: %d ARP requests in %v (%.0f/s, %s; %d refused by the socket); steer's lan port read %.0f frames/s, the tap dropped %d before steer; steer forwarded %d packets",
			what, r.sent, r.took.Round(time.Millisecond), float64(r.sent)/r.took.Seconds(), asked, r.full,
			float64(rx1-rx0)/r.took.Seconds(), r.tapDropped, r.forwarded)
		return r
	}

	var under pingResult
	f1 := during(floodPPS, "ping", func() { under = ping(t, tn.A, tapHostB, 40, "0.05") })
	t.Logf("with flood at %d/s: ping A -> B %d/%d answered, avg rtt %.3f ms", floodPPS, under.Recv, under.Sent, under.AvgRTT)
	if f1.sent == 0 {
		t.Fatal("no ARP request could be written")
	}
	if under.Recv*10 < under.Sent*9 {
		t.Errorf("under the ARP flood only %d of %d pings were answered, want at least 90%%\n%s", under.Recv, under.Sent, under.Out)
	}
	if f1.forwarded < uint64(2*under.Recv) {
		t.Errorf("steer forwarded %d packets during the flood, the %d answered pings alone needed %d", f1.forwarded, under.Recv, 2*under.Recv)
	}
	var underUDP iperfResult
	during(floodPPS, "iperf3", func() { underUDP = tn.iperf(t, true, 2, "50M") })
	t.Logf("with flood at %d/s: iperf3 UDP 50 Mbit/s 2 s: %.1f Mbit/s, %.2f%% lost (%.2f%% on the way), %.0f out of order",
		floodPPS, underUDP.BitsPerSecond/1e6, underUDP.LostPercent, underUDP.NetLostPercent(), underUDP.OutOfOrder)
	if underUDP.OutOfOrder != 0 || baseUDP.OutOfOrder != 0 {
		t.Errorf("UDP datagrams out of order: %.0f without, %.0f with the flood", baseUDP.OutOfOrder, underUDP.OutOfOrder)
	}

	var fast pingResult
	f3 := during(0, "ping, top speed", func() { fast = ping(t, tn.A, tapHostB, 40, "0.05") })
	t.Logf("with flood at top speed: ping A -> B %d/%d answered, avg rtt %.3f ms", fast.Recv, fast.Sent, fast.AvgRTT)
	if fast.Recv == 0 || f3.forwarded < uint64(2*fast.Recv) {
		t.Errorf("under a top-speed flood steer forwarded %d packets, %d pings answered", f3.forwarded, fast.Recv)
	}

	// The slow path is not wedged: A forgets the router's MAC and must
	// resolve it again.
	tn.A.IP("neigh", "flush", "dev", tn.LanIf)
	wantPings(t, tn.A, tapRouterLan, 3, 2)
	wantPings(t, tn.A, tapHostB, 3, 2)
	s, _ := tn.Stop()
	lan := s.Port(t, "lan")
	t.Logf("steer: lan port rx %d (missed %d, no mbuf %d); slowpath.arp %d; lcores forwarded %d",
		lan.RxPackets, lan.RxMissed, lan.RxNoMbuf, s.Totals.SlowPath["arp"], s.Totals.TxPackets)
	if sp := slowPathCounters(t, s.Raw); sp != nil {
		t.Logf("slow_path counters: %s", fmtCounters(sp))
		if taken, n := counterSum(sp, "taken"); n > 0 {
			t.Logf("the slow path took %.0f of the %d packets handed to it (%.0f dropped or left in the ring)",
				taken, sum(s.Totals.SlowPath), float64(sum(s.Totals.SlowPath))-taken)
		}
	}
	// Ring overflow counters, wherever the stats file has them.
	var all map[string]any
	if json.Unmarshal([]byte(s.Raw), &all) == nil {
		flat := map[string]float64{}
		flatten("", all, flat)
		for k, v := range flat {
			if lk := strings.ToLower(k); v != 0 && (strings.Contains(lk, "exc") || strings.Contains(lk, "ring_drop") || strings.Contains(lk, "ring_full")) {
				t.Logf("stats: %s = %.0f", k, v)
			}
		}
	}
	if s.Totals.SlowPath["arp"] == 0 {
		t.Errorf("steer counted no ARP packet though %d were written into %s", total, tn.LanIf)
	}
}

// TestTapARPIncompleteFlood: A sends UDP at 8,000 packets/s to unused
// addresses of a /16 on wan, each an ARP resolution that never completes;
// meanwhile a new host appears on wan. It must get a neighbour entry and
// answer pings (entries still resolving are bounded, each new one taking
// the place of the oldest, so the flood cannot fill the table with them).
func TestTapARPIncompleteFlood(t *testing.T) {
	tn := startTapNet(t, false, "", "10.200.0.1/16")
	wantPings(t, tn.A, tapHostB, 3, 3)
	fd, err := tn.A.PacketSocket(tn.LanIf)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var frames [][]byte
	rng := rand.New(rand.NewPCG(161, 1))
	for range 16384 { // four times the table (arp.max_entries 4096)
		dst := netip.AddrFrom4([4]byte{10, 200, byte(128 + rng.IntN(128)), byte(1 + rng.IntN(254))})
		p := trafgen.Packet{SrcMAC: tapHostAMAC, DstMAC: tapRouterLanMAC, Src: netip.MustParseAddr(tapHostA), Dst: dst,
			Proto: trafgen.UDP, SrcPort: 4000, DstPort: 9, TTL: 64}
		f, err := p.Build()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		_, _, _, err := flood(fd, frames, 8000, 1_000_000, time.Now().Add(30*time.Second), stop)
		done <- err
	}()
	// Let the flood start more resolutions than the table has entries
	// (arp.max_entries 4096), then a host appears.
	Eventually(t, 20*time.Second, func() (bool, string) {
		sent := tn.arpCounter("requests_sent")
		return sent > 6000, fmt.Sprintf("ARP requests sent %v", sent)
	})
	const hostC = "10.200.100.100"
	tn.B.IP("addr", "add", hostC+"/16", "dev", tn.WanIf)
	r := ping(t, tn.A, hostC, 10, "0.3")
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("during the flood: ping to a new host %d/%d answered; arp incomplete_evicted %v, table_full %v",
		r.Recv, r.Sent, tn.arpCounter("incomplete_evicted"), tn.arpCounter("table_full"))
	if r.Recv < 7 {
		t.Errorf("a host that appeared during an ARP flood answered %d of %d pings, want 7 or more", r.Recv, r.Sent)
	}
	tn.Stop()
}

// arpCounter reads slow_path.arp.<name> from /api/v1/stats.
func (tn *tapNet) arpCounter(name string) float64 {
	tn.t.Helper()
	var s struct {
		SlowPath struct {
			ARP map[string]any `json:"arp"`
		} `json:"slow_path"`
	}
	if err := json.Unmarshal([]byte(tn.api.must(200, "GET", "/api/v1/stats", "")), &s); err != nil {
		tn.t.Fatal(err)
	}
	v, _ := s.SlowPath.ARP[name].(float64)
	return v
}
