package e2e

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/trafgen"
)

// The distributor tests run more busy lcores than this machine may have
// CPUs (an RX lcore and two workers on 2 CPUs): workers may wait a whole
// time slice for a CPU, so steer gets a longer idle period than the rest
// of the suite before it stops.
const distIdle = time.Second

// distLcores is one RX lcore (1, CPU 1) polling both ports and two
// workers (2 on CPU 1, 3 on CPU 0): workers 0 and 1 in lcore map order.
const distLcores = "0@0,1@1,2@1,3@0"

// distConfig is the standard topology with steering left at auto (on
// net_pcap, no RSS: the distributor, since the map has workers), lan with
// one TX queue and wan with one TX queue per wanOut file. These tests are
// about the distributor's mechanics, so unless d says otherwise the
// balancer is off and the RETA spreads round robin from the start; the
// balancer's tests set d.Balance "auto".
func distConfig(lcores string, lmap []LcoreMap, wanOut []string, d Distributor) Config {
	if d.Balance == "" {
		d.Balance = "off"
	}
	// The workers share CPUs with the RX lcore here and may wait a whole
	// time slice for one: longer than max_stall's default, which is meant
	// for lcores on CPUs of their own.
	if d.OnFull == "backpressure" && d.MaxStall == "" {
		d.MaxStall = "1s"
	}
	c := Standard()
	c.Lcores = lcores
	c.Ports[1].TxFiles = wanOut
	c.LcoreMap = lmap
	c.Distributor = &d
	return c
}

// oneRxTwoWorkers is the lcore map of distLcores.
func oneRxTwoWorkers() []LcoreMap {
	return []LcoreMap{
		{Lcore: 1, Rx: []RxQ{{"lan", 0}, {"wan", 0}}},
		{Lcore: 2, Worker: true},
		{Lcore: 3, Worker: true},
	}
}

// distRun runs steer on c until the inputs are exhausted, requires exit 0
// and returns the stats (checked by ReadStats and checkDistStats) and the
// process result (for its log).
func distRun(t *testing.T, b *Bed, c Config) (*Stats, Result) {
	t.Helper()
	cfg := b.WriteConfig(c)
	stats := b.Path("stats.json")
	r := b.Run("run", "--config", cfg, "--exit-on-idle", distIdle.String(), "--stats-file", stats)
	if r.Code != 0 {
		t.Fatalf("want exit 0\n%s\nconfig:\n%s", r, b.YAML(c))
	}
	t.Logf("steer ran %v", r.Elapsed.Round(time.Millisecond))
	s := b.ReadStats(stats)
	checkDistStats(t, s, c)
	if t.Failed() {
		t.Logf("%s\nstats: %s", r, s.Raw)
	}
	return s, r
}

// lcoreStats returns lcore id's entry of the stats file.
func lcoreStats(t *testing.T, s *Stats, id int) LcoreStats {
	t.Helper()
	for _, l := range s.Lcores {
		if l.Lcore == id {
			return l
		}
	}
	t.Fatalf("stats file has no lcore %d:\n%s", id, s.Raw)
	return LcoreStats{}
}

// workerLcore returns the stats of the lcore that is worker w.
func workerLcore(t *testing.T, s *Stats, w int) LcoreStats {
	t.Helper()
	for _, l := range s.Lcores {
		if l.Worker == w {
			return l
		}
	}
	t.Fatalf("stats file has no worker %d:\n%s", w, s.Raw)
	return LcoreStats{}
}

// checkDistStats checks the distributor's bookkeeping against the lcore map
// of c (workers numbered in map order; a port distributes unless its
// steering is rss):
//   - each lcore reports its worker id (-1 for RX-only lcores);
//   - one ring per (RX lcore, worker) but none from an RX lcore to itself
//     as a worker (its own share is local); every ring empty at exit;
//   - an RX lcore's handed_off is what its rings took; rx = handed_off +
//     local + ring_full drops (rx >= that sum if it also polls a queue it
//     forwards itself);
//   - without workers (run to completion): no links, no RETA;
//   - a worker's from_rings is what its rings took; sum(handed_off) ==
//     sum(from_rings); a worker that polls nothing receives nothing and
//     accounts for everything it took: from_rings = tx + dropped + slowpath;
//   - dropped.ring_full == sum of the links' dropped_full;
//   - the RETA has reta_size buckets: round robin over the workers with
//     the balancer off (no moves happen in these runs), each a worker or
//     local (-1) with it on.
func checkDistStats(t testing.TB, s *Stats, c Config) {
	t.Helper()
	workerOf := map[int]int{}
	rxLcore := map[int]bool{}
	ownQueues := map[int]bool{} // polls a queue that does not distribute
	steering := map[string]string{}
	for _, p := range c.Ports {
		steering[p.Name] = p.Steering
	}
	nw := 0
	for _, l := range c.LcoreMap {
		workerOf[l.Lcore] = -1
		if l.Worker {
			workerOf[l.Lcore] = nw
			nw++
		}
		rxLcore[l.Lcore] = len(l.Rx) > 0
		for _, q := range l.Rx {
			ownQueues[l.Lcore] = ownQueues[l.Lcore] || steering[q.Port] == "rss"
		}
	}
	if len(s.Lcores) != len(c.LcoreMap) {
		t.Errorf("stats: %d lcores, the map has %d", len(s.Lcores), len(c.LcoreMap))
	}
	if nw == 0 {
		// Run to completion: no links, no RETA, nothing distributed.
		if len(s.Rings) != 0 || len(s.RETA) != 0 {
			t.Errorf("stats: no workers, but rings %+v and reta %v", s.Rings, s.RETA)
		}
		for _, l := range s.Lcores {
			if l.Worker != -1 || l.HandedOff != 0 || l.Local != 0 || l.FromRings != 0 {
				t.Errorf("stats: no workers, but lcore %d has worker %d handed_off %d local %d from_rings %d",
					l.Lcore, l.Worker, l.HandedOff, l.Local, l.FromRings)
			}
		}
		return
	}
	type key struct{ from, worker int }
	links := map[key]RingStats{}
	for _, rg := range s.Rings {
		k := key{rg.FromLcore, rg.Worker}
		if _, dup := links[k]; dup {
			t.Errorf("stats: two links from lcore %d to worker %d", rg.FromLcore, rg.Worker)
		}
		links[k] = rg
		if rg.Occupancy != 0 {
			t.Errorf("stats: ring lcore %d -> worker %d holds %d mbufs at exit", rg.FromLcore, rg.Worker, rg.Occupancy)
		}
	}
	var handed, fromRings, ringFull, droppedFull uint64
	toWorker := map[int]uint64{} // enqueued on rings, per worker
	for _, rg := range s.Rings {
		droppedFull += rg.DroppedFull
		toWorker[rg.Worker] += rg.Enqueued
	}
	for _, l := range s.Lcores {
		w, ok := workerOf[l.Lcore]
		if !ok {
			t.Errorf("stats: lcore %d is not in the lcore map", l.Lcore)
			continue
		}
		if l.Worker != w {
			t.Errorf("stats: lcore %d reports worker %d, want %d (workers numbered in lcore map order)", l.Lcore, l.Worker, w)
		}
		handed += l.HandedOff
		fromRings += l.FromRings
		ringFull += l.Dropped["ring_full"]
		if _, ok := l.Dropped["ring_full"]; !ok {
			t.Errorf("stats: lcore %d dropped lacks reason ring_full", l.Lcore)
		}
		if rxLcore[l.Lcore] {
			var ringTook uint64
			for v := 0; v < nw; v++ {
				rg, ok := links[key{l.Lcore, v}]
				switch {
				case v == w && ok:
					t.Errorf("stats: a ring from RX lcore %d to itself as worker %d (its own share is local)", l.Lcore, v)
				case v != w && !ok:
					t.Errorf("stats: no ring from RX lcore %d to worker %d", l.Lcore, v)
				default:
					ringTook += rg.Enqueued
				}
			}
			if l.HandedOff != ringTook {
				t.Errorf("stats: lcore %d handed off %d, its rings took %d", l.Lcore, l.HandedOff, ringTook)
			}
			if dist := l.HandedOff + l.Local + l.Dropped["ring_full"]; l.RxPackets != dist && !ownQueues[l.Lcore] ||
				l.RxPackets < dist {
				t.Errorf("stats: RX lcore %d: rx %d, handed_off %d + local %d + ring_full %d (%s)",
					l.Lcore, l.RxPackets, l.HandedOff, l.Local, l.Dropped["ring_full"],
					map[bool]string{false: "want equal: every queue it polls distributes", true: "want rx >= sum"}[ownQueues[l.Lcore]])
			}
		} else {
			if l.HandedOff != 0 || l.Local != 0 || l.RxPackets != 0 {
				t.Errorf("stats: worker lcore %d polls no queue but has rx %d handed_off %d local %d", l.Lcore, l.RxPackets, l.HandedOff, l.Local)
			}
			if got := l.TxPackets + sum(l.Dropped) + sum(l.SlowPath); got != l.FromRings {
				t.Errorf("stats: worker lcore %d took %d from rings, accounts for %d (tx %d + dropped %d + slowpath %d)",
					l.Lcore, l.FromRings, got, l.TxPackets, sum(l.Dropped), sum(l.SlowPath))
			}
		}
		if w >= 0 && l.FromRings != toWorker[w] {
			t.Errorf("stats: worker %d (lcore %d) took %d from rings, its rings were given %d", w, l.Lcore, l.FromRings, toWorker[w])
		}
		if w < 0 && l.FromRings != 0 {
			t.Errorf("stats: lcore %d is no worker but took %d from rings", l.Lcore, l.FromRings)
		}
	}
	if handed != fromRings {
		t.Errorf("stats: sum(handed_off) %d != sum(from_rings) %d", handed, fromRings)
	}
	if ringFull != droppedFull || s.Totals.Dropped["ring_full"] != ringFull {
		t.Errorf("stats: dropped.ring_full: lcores %d, totals %d; links' dropped_full %d", ringFull, s.Totals.Dropped["ring_full"], droppedFull)
	}
	reta := 128
	if c.Distributor != nil && c.Distributor.RetaSize != 0 {
		reta = c.Distributor.RetaSize
	}
	if len(s.RETA) != reta {
		t.Errorf("stats: reta has %d buckets, want %d", len(s.RETA), reta)
	}
	// The stats file's RETA is the first distributing RX lcore's, where its
	// own worker id shows as local (-1).
	self := -2
	for _, l := range c.LcoreMap {
		if slices.ContainsFunc(l.Rx, func(q RxQ) bool { return steering[q.Port] != "rss" }) {
			self = workerOf[l.Lcore]
			break
		}
	}
	balanced := c.Distributor == nil || c.Distributor.Balance != "off"
	for b, w := range s.RETA {
		rr := b % nw
		if rr == self {
			rr = -1
		}
		if balanced && (w < -1 || w >= nw) || !balanced && w != rr {
			t.Errorf("stats: reta[%d] = %d, want %s", b, w,
				map[bool]string{true: fmt.Sprintf("local (-1) or a worker < %d", nw), false: fmt.Sprintf("%d (round robin, no moves; -1: itself)", rr)}[balanced])
			break
		}
	}
}

// logLines returns the JSON log lines of r whose msg is msg.
func logLines(t *testing.T, r Result, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(r.Output(), "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// checkSteering: every "port up" line says steering want, and its reason
// contains reason.
func checkSteering(t *testing.T, r Result, want, reason string) {
	t.Helper()
	ups := logLines(t, r, "port up")
	if len(ups) != 2 {
		t.Errorf("want 2 \"port up\" log lines, got %d\n%s", len(ups), r.Stderr)
	}
	for _, u := range ups {
		if u["steering"] != want || !strings.Contains(fmt.Sprint(u["steering_reason"]), reason) {
			t.Errorf("port %v: steering %v (%v), want %s (reason with %q)", u["port"], u["steering"], u["steering_reason"], want, reason)
		}
	}
}

// fragmented builds n UDP datagrams of 3 to 6 fragments each; datagram d
// goes from src(d) to dst(d) with IP id 0x4000+d, and each of its fragments
// carries the tag (first+d, k) for its index k, so the harness can match
// every fragment and check that a datagram's fragments keep their order.
// It returns the fragments of each datagram.
func fragmented(t *testing.T, srcMAC, dstMAC net.HardwareAddr, n int, first uint32, src, dst func(d int) netip.Addr) [][][]byte {
	t.Helper()
	var out [][][]byte
	for d := 0; d < n; d++ {
		p := trafgen.Packet{SrcMAC: srcMAC, DstMAC: dstMAC, Src: src(d), Dst: dst(d), Proto: trafgen.UDP,
			SrcPort: uint16(7000 + d), DstPort: 9, TTL: 64, ID: uint16(0x4000 + d)}
		out = append(out, fragmentTagged(t, p, trafgen.Tag{Flow: first + uint32(d)}, 2+d%4, (d*37)%(fragChunk-trafgen.TagLen)))
	}
	return out
}

// fragChunk is the fragments' payload: IP MTU 276.
const fragChunk = 256

// fragmentTagged builds p as a UDP datagram of chunks+1 fragments (the last
// with tail+TagLen bytes) whose fragment k carries tag (Flow, Seq+k): the
// tag of a later fragment is written where that fragment's data starts,
// before splitting; the UDP checksum is zeroed, since the payload changed.
func fragmentTagged(t *testing.T, p trafgen.Packet, tag trafgen.Tag, chunks, tail int) [][]byte {
	t.Helper()
	const l4 = 14 + 20
	p.Tag, p.FrameLen = tag, l4+chunks*fragChunk+trafgen.TagLen+tail
	f, err := p.Build()
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint16(f[l4+6:], 0)
	for k := 1; l4+k*fragChunk+trafgen.TagLen <= len(f); k++ {
		trafgen.PutTag(f[l4+k*fragChunk:], trafgen.Tag{Flow: tag.Flow, Seq: tag.Seq + uint32(k)})
	}
	frags, err := trafgen.Fragment(f, 20+fragChunk)
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != chunks+1 {
		t.Fatalf("datagram %+v: %d fragments, want %d", tag, len(frags), chunks+1)
	}
	for k, fr := range frags {
		in, _ := trafgen.Parse(fr)
		if !in.HasTag || in.Tag != (trafgen.Tag{Flow: tag.Flow, Seq: tag.Seq + uint32(k)}) || in.MF != (k < len(frags)-1) {
			t.Fatalf("datagram %+v fragment %d: tag %+v (ok %v) MF %v", tag, k, in.Tag, in.HasTag, in.MF)
		}
	}
	return frags
}

// lanTraffic is what the lan host sends to 198.51.100.0/24: flows UDP and
// flows TCP flows of ppf packets (flow ids from first, each flow's packets
// in sequence, flows interleaved at random), mixed with fragmented
// datagrams (flows first+1000000...) whose fragments are interleaved with
// the rest in order.
func lanTraffic(t *testing.T, lanMAC net.HardwareAddr, flows, ppf int, first uint32, datagrams int) [][]byte {
	t.Helper()
	udp := gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote, Flows: flows,
		PacketsPerFlow: ppf, FirstFlow: first, Proto: trafgen.UDP, TTL: 64, Mix: "imix", Order: "random", Seed: uint64(first) + 1})
	tcp := gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote, Flows: flows,
		PacketsPerFlow: ppf, FirstFlow: first + uint32(flows), Proto: trafgen.TCP, TTL: 64, Size: 128, Order: "random", Seed: uint64(first) + 2})
	frags := fragmented(t, LanHostMAC, lanMAC, datagrams, first+1000000,
		func(d int) netip.Addr { return trafgen.Host(lanHosts, 3*d) },
		func(d int) netip.Addr { return trafgen.Host(remote, 5*d+1) })
	return interleave(udp, tcp, interleave(frags...))
}

// wanTraffic is the return traffic to 10.0.0.2.
func wanTraffic(t *testing.T, wanMAC net.HardwareAddr, flows, ppf int, first uint32) [][]byte {
	t.Helper()
	return interleave(
		gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.PrefixFrom(lanHost, 32), Flows: flows,
			PacketsPerFlow: ppf, FirstFlow: first, Proto: trafgen.UDP, TTL: 64, Size: 64, Order: "random", Seed: uint64(first) + 3}),
		gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.PrefixFrom(lanHost, 32), Flows: flows,
			PacketsPerFlow: ppf, FirstFlow: first + uint32(flows), Proto: trafgen.TCP, TTL: 128, Mix: "imix", Order: "random", Seed: uint64(first) + 4}),
	)
}

// checkWorkersShared: every worker took at least a quarter of the packets
// that went through rings (2 workers, RETA round robin, thousands of flows).
func checkWorkersShared(t *testing.T, s *Stats, workers int) {
	t.Helper()
	var total uint64
	for _, l := range s.Lcores {
		total += l.FromRings + l.Local
	}
	for w := 0; w < workers; w++ {
		l := workerLcore(t, s, w)
		if got := l.FromRings + l.Local; got*4 < total {
			t.Errorf("worker %d (lcore %d) processed %d of %d packets, want at least a quarter", w, l.Lcore, got, total)
		}
	}
}

// TestDistributorOrderAndSpread: one RX lcore hands thousands of UDP and
// TCP flows and fragmented datagrams (lan -> wan) and return traffic (wan
// -> lan) to two workers over rings (backpressure: nothing may be lost).
// wan and lan have one TX queue each, shared by both workers, so each
// output file is the real TX order. Every packet leaves exactly once,
// rewritten as a router must, every flow and every datagram's fragments
// in order; both workers did a fair share; the counters balance.
func TestDistributorOrderAndSpread(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)
	lanIn := lanTraffic(t, lanMAC, 1000, 5, 0, 24)
	wanIn := wanTraffic(t, wanMAC, 250, 6, 50000)
	b.WritePcap("lan-in.pcap", lanIn)
	b.WritePcap("wan-in.pcap", wanIn)

	c := distConfig(distLcores, oneRxTwoWorkers(), []string{"wan-out.pcap"}, Distributor{OnFull: "backpressure"})
	s, r := distRun(t, b, c)
	checkAllForwarded(t, b, s, lanMAC, wanMAC, len(lanIn), len(wanIn))
	checkSteering(t, r, "distributor", "workers")
	if !strings.Contains(r.Output(), "shared_tx_queues") {
		t.Errorf("two workers share each port's one TX queue, but steer did not warn about shared TX queues\n%s", r.Stderr)
	}
	checkWorkersShared(t, s, 2)
	if l := lcoreStats(t, s, 1); l.RxPackets != uint64(len(lanIn)+len(wanIn)) || l.TxPackets != 0 || l.Local != 0 {
		t.Errorf("RX lcore 1: rx %d tx %d local %d, want rx %d, nothing processed itself", l.RxPackets, l.TxPackets, l.Local, len(lanIn)+len(wanIn))
	}

	checkOutputs(t, b, lanMAC, wanMAC, lanIn, wanIn)
}

// TestDistributorTxQueuePerWorker: wan has two TX queues; a worker's
// packets leave on TX queue (worker id % 2), so wan-out file q holds
// exactly what worker q forwarded (only lan -> wan traffic is sent), and
// one flow only ever reaches one worker. With distributor.hash auto: each
// flow, each fragmented datagram, and all UDP, ICMP and fragments between
// one address pair lie in one file (addresses and protocol only); TCP
// flows that differ only in their ports spread (TCP hashes the 5-tuple).
func TestDistributorTxQueuePerWorker(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)
	one := netip.PrefixFrom(lanHost, 32)
	far := netip.MustParsePrefix("198.51.100.77/32")
	lanIn := interleave(
		lanTraffic(t, lanMAC, 500, 4, 0, 24),
		// 64 UDP and 64 TCP flows between one address pair, different ports.
		gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: one, Dst: far, Flows: 64, PacketsPerFlow: 4,
			FirstFlow: 20000, Proto: trafgen.UDP, TTL: 64, Seed: 9}),
		gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: one, Dst: far, Flows: 64, PacketsPerFlow: 4,
			FirstFlow: 21000, Proto: trafgen.TCP, TTL: 64, Size: 128, Seed: 11}),
		// 16 ICMP "flows" between one address pair.
		gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: one, Dst: far, Flows: 16, PacketsPerFlow: 4,
			FirstFlow: 30000, Proto: trafgen.ICMP, TTL: 64, Size: 98, Seed: 10}),
		// 8 fragmented datagrams between one address pair.
		interleave(fragmented(t, LanHostMAC, lanMAC, 8, 40000,
			func(int) netip.Addr { return lanHost }, func(int) netip.Addr { return far.Addr() })...),
	)
	b.WritePcap("lan-in.pcap", lanIn)
	b.WritePcap("wan-in.pcap", nil)

	c := distConfig(distLcores, oneRxTwoWorkers(), []string{"wan-out0.pcap", "wan-out1.pcap"}, Distributor{OnFull: "backpressure"})
	s, _ := distRun(t, b, c)
	checkAllForwarded(t, b, s, lanMAC, wanMAC, len(lanIn), 0)
	if p := s.Port(t, "wan"); p.TxQueues != 2 {
		t.Errorf("wan: %d tx queues, want 2", p.TxQueues)
	}
	checkWorkersShared(t, s, 2)

	in := NewIndex(t, lanIn)
	seen := map[trafgen.Tag]bool{}
	fileOf := map[uint32]int{} // flow -> file it was seen in
	split := map[uint32]bool{}
	for q := 0; q < 2; q++ {
		name := fmt.Sprintf("wan-out%d", q)
		out := b.ReadForwarded(name + ".pcap")
		if w := workerLcore(t, s, q); uint64(len(out)) != w.TxPackets {
			t.Errorf("%s: %d frames, worker %d (lcore %d) transmitted %d", name, len(out), q, w.Lcore, w.TxPackets)
		}
		for tag := range CheckForwarded(t, name, out, in, Expect{SrcMAC: wanMAC, DstMAC: WanPeerMAC}) {
			if seen[tag] {
				t.Errorf("flow %d seq %d in both wan-out files", tag.Flow, tag.Seq)
			}
			seen[tag] = true
			if f, ok := fileOf[tag.Flow]; ok && f != q {
				split[tag.Flow] = true
			}
			fileOf[tag.Flow] = q
		}
	}
	CheckAllSeen(t, "wan-out0+1", seen, in)
	if len(split) > 0 {
		var fs []uint32
		for f := range split {
			fs = append(fs, f)
		}
		sort.Slice(fs, func(i, j int) bool { return fs[i] < fs[j] })
		t.Errorf("%d flows left through both TX queues (two workers), e.g. flows %v", len(fs), fs[:min(8, len(fs))])
	}
	// Same address pair: ports spread TCP flows; UDP, ICMP and fragments not.
	files := func(lo, hi uint32) map[int]int {
		n := map[int]int{}
		for f, q := range fileOf {
			if f >= lo && f < hi {
				n[q]++
			}
		}
		return n
	}
	if n := files(20000, 20064); len(n) != 1 {
		t.Errorf("64 UDP flows between one address pair, different ports: files %v, want one worker (hash auto: UDP on addresses and protocol)", n)
	}
	if n := files(21000, 21064); len(n) != 2 {
		t.Errorf("64 TCP flows between one address pair, different ports: files %v, want both workers (hash auto: TCP on the 5-tuple)", n)
	}
	if n := files(30000, 30016); len(n) != 1 {
		t.Errorf("16 ICMP flows between one address pair: files %v, want one worker (addresses and protocol only)", n)
	}
	if n := files(40000, 40008); len(n) != 1 {
		t.Errorf("8 fragmented datagrams between one address pair: files %v, want one worker (fragments hash on addresses and protocol)", n)
	}
}

// TestDistributorFragmentMix: 32 UDP flows whose datagrams alternate
// whole and fragmented, through one RX lcore and two workers with a TX
// queue each. With distributor.hash auto every flow stays on one worker,
// fragments included, so each lies whole and in order in one output file;
// with l4, whole datagrams hash on ports that fragments lack, so flows
// split over both workers: the trade-off the docs describe.
func TestDistributorFragmentMix(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	const flows, datagrams = 32, 8
	var perFlow [][][]byte
	for f := 0; f < flows; f++ {
		p := trafgen.Packet{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: trafgen.Host(lanHosts, f), Dst: trafgen.Host(remote, 7*f+1),
			Proto: trafgen.UDP, SrcPort: uint16(5000 + f), DstPort: 9, TTL: 64}
		var frames [][]byte
		seq := uint32(0)
		for d := 0; d < datagrams; d++ {
			p.ID = uint16(f*datagrams + d)
			tag := trafgen.Tag{Flow: uint32(f), Seq: seq}
			if d%2 == 0 {
				w := p
				w.Tag, w.FrameLen = tag, 200
				frame, err := w.Build()
				if err != nil {
					t.Fatal(err)
				}
				frames = append(frames, frame)
				seq++
				continue
			}
			frags := fragmentTagged(t, p, tag, 2, 40)
			frames = append(frames, frags...)
			seq += uint32(len(frags))
		}
		perFlow = append(perFlow, frames)
	}
	lanIn := interleave(perFlow...)
	in := NewIndex(t, lanIn)

	for _, hash := range []string{"auto", "l4"} {
		t.Run(hash, func(t *testing.T) {
			b := NewBed(t)
			b.WritePcap("lan-in.pcap", lanIn)
			b.WritePcap("wan-in.pcap", nil)
			c := distConfig(distLcores, oneRxTwoWorkers(), []string{"wan-out0.pcap", "wan-out1.pcap"},
				Distributor{OnFull: "backpressure", Hash: hash})
			s, _ := distRun(t, b, c)
			checkAllForwarded(t, b, s, lanMAC, wanMAC, len(lanIn), 0)
			seen := map[trafgen.Tag]bool{}
			files := map[uint32]map[int]bool{} // flow -> output files
			for q := 0; q < 2; q++ {
				name := fmt.Sprintf("wan-out%d", q)
				for tag := range CheckForwarded(t, name, b.ReadForwarded(name+".pcap"), in, Expect{SrcMAC: wanMAC, DstMAC: WanPeerMAC}) {
					seen[tag] = true
					if files[tag.Flow] == nil {
						files[tag.Flow] = map[int]bool{}
					}
					files[tag.Flow][q] = true
				}
			}
			CheckAllSeen(t, "wan-out0+1", seen, in)
			split, used := 0, map[int]bool{}
			for _, fs := range files {
				if len(fs) > 1 {
					split++
				}
				for q := range fs {
					used[q] = true
				}
			}
			switch {
			case hash == "auto" && split != 0:
				t.Errorf("hash auto: %d of %d flows left through both workers (whole datagrams and fragments apart): reordered", split, flows)
			case hash == "auto" && len(used) != 2:
				t.Errorf("hash auto: %d flows on %d worker(s), want both used", flows, len(used))
			case hash == "l4" && split == 0:
				t.Errorf("hash l4: no flow split over the workers; whole datagrams hash on their ports, fragments cannot")
			}
		})
	}
}

// TestDistributorLocalShortcut: lcore 1 polls both ports and is worker 0,
// lcore 2 is worker 1: lcore 1 processes its own share inline (local, no
// ring) and hands the rest to lcore 2's ring.
func TestDistributorLocalShortcut(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)
	lanIn := lanTraffic(t, lanMAC, 400, 5, 0, 12)
	wanIn := wanTraffic(t, wanMAC, 200, 5, 50000)
	b.WritePcap("lan-in.pcap", lanIn)
	b.WritePcap("wan-in.pcap", wanIn)

	lmap := []LcoreMap{
		{Lcore: 1, Rx: []RxQ{{"lan", 0}, {"wan", 0}}, Worker: true},
		{Lcore: 2, Worker: true},
	}
	c := distConfig("0@0,1@1,2@0", lmap, []string{"wan-out.pcap"}, Distributor{OnFull: "backpressure"})
	s, r := distRun(t, b, c)
	checkAllForwarded(t, b, s, lanMAC, wanMAC, len(lanIn), len(wanIn))
	checkSteering(t, r, "distributor", "workers")
	checkWorkersShared(t, s, 2)

	if len(s.Rings) != 1 || s.Rings[0].FromLcore != 1 || s.Rings[0].Worker != 1 || s.Rings[0].Enqueued == 0 {
		t.Fatalf("want one ring, lcore 1 -> worker 1, with packets; got %+v", s.Rings)
	}
	l1, l2 := lcoreStats(t, s, 1), lcoreStats(t, s, 2)
	if l1.Local == 0 || l1.FromRings != 0 || l1.Local+l1.HandedOff != l1.RxPackets {
		t.Errorf("lcore 1: rx %d local %d handed_off %d from_rings %d: want local > 0, no ring of its own, rx = local + handed_off",
			l1.RxPackets, l1.Local, l1.HandedOff, l1.FromRings)
	}
	if l1.TxPackets+sum(l1.Dropped)+sum(l1.SlowPath) != l1.Local {
		t.Errorf("lcore 1: tx %d + dropped + slowpath != local %d", l1.TxPackets, l1.Local)
	}
	if l2.FromRings != l1.HandedOff {
		t.Errorf("lcore 2 took %d from rings, lcore 1 handed off %d", l2.FromRings, l1.HandedOff)
	}

	checkOutputs(t, b, lanMAC, wanMAC, lanIn, wanIn)
}

// TestDistributorMatchesRunToCompletion: the same input, with packets of
// several drop and slow-path classes mixed in, through run to completion
// (the demo's one lcore, no workers: auto resolves to rtc) and through the
// distributor: each port transmits the same multiset of frames, and every
// drop and slow-path reason counts the same.
func TestDistributorMatchesRunToCompletion(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	bad := func(first uint32, malform string) [][]byte {
		return gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote, Flows: 10, PacketsPerFlow: 3,
			FirstFlow: first, Proto: trafgen.UDP, TTL: 64, Malform: malform, Seed: uint64(first)})
	}
	lanIn := interleave(
		lanTraffic(t, lanMAC, 300, 5, 0, 12),
		bad(60000, "ttl_exceeded"), bad(61000, "bad_checksum"), bad(62000, "ip_options"), bad(63000, "ipv6"), bad(64000, "arp"),
	)
	wanIn := wanTraffic(t, wanMAC, 150, 5, 50000)

	type run struct {
		s   *Stats
		out map[string][][]byte
	}
	do := func(t *testing.T, c func() Config, steering, reason string) run {
		b := NewBed(t)
		b.WritePcap("lan-in.pcap", lanIn)
		b.WritePcap("wan-in.pcap", wanIn)
		s, r := distRun(t, b, c())
		checkSteering(t, r, steering, reason)
		return run{s, map[string][][]byte{"lan": b.ReadForwarded("lan-out.pcap"), "wan": b.ReadForwarded("wan-out.pcap")}}
	}
	var rtc, dist run
	t.Run("rtc", func(t *testing.T) { rtc = do(t, Standard, "rtc", "no workers") })
	t.Run("distributor", func(t *testing.T) {
		dist = do(t, func() Config {
			return distConfig(distLcores, oneRxTwoWorkers(), []string{"wan-out.pcap"}, Distributor{OnFull: "backpressure"})
		}, "distributor", "workers")
	})
	if rtc.s == nil || dist.s == nil {
		t.FailNow()
	}
	// Of the five bad classes (30 packets each) only ip_options comes out:
	// the slow path forwards it.
	if len(rtc.out["wan"]) != len(lanIn)-4*10*3 || len(rtc.out["lan"]) != len(wanIn) {
		t.Errorf("run to completion forwarded %d to wan (%d sent to lan), %d to lan (%d sent to wan)",
			len(rtc.out["wan"]), len(lanIn), len(rtc.out["lan"]), len(wanIn))
	}
	for _, port := range []string{"lan", "wan"} {
		a, b := sortedFrames(rtc.out[port]), sortedFrames(dist.out[port])
		if len(a) != len(b) {
			t.Errorf("%s: run to completion transmitted %d frames, the distributor %d", port, len(a), len(b))
		}
		diff := 0
		for i, j := 0, 0; i < len(a) || j < len(b); {
			switch {
			case j == len(b) || i < len(a) && bytes.Compare(a[i], b[j]) < 0:
				diff++
				if diff <= 3 {
					t.Errorf("%s: only run to completion transmitted % x", port, a[i][:min(64, len(a[i]))])
				}
				i++
			case i == len(a) || bytes.Compare(a[i], b[j]) > 0:
				diff++
				if diff <= 3 {
					t.Errorf("%s: only the distributor transmitted % x", port, b[j][:min(64, len(b[j]))])
				}
				j++
			default:
				i++
				j++
			}
		}
		if diff > 3 {
			t.Errorf("%s: %d frames differ in all", port, diff)
		}
	}
	for _, r := range append(append([]string{}, DropReasons...), "ring_full") {
		if a, b := rtc.s.Totals.Dropped[r], dist.s.Totals.Dropped[r]; a != b {
			t.Errorf("dropped[%s]: run to completion %d, distributor %d", r, a, b)
		}
	}
	for _, r := range SlowReasons {
		if a, b := rtc.s.Totals.SlowPath[r], dist.s.Totals.SlowPath[r]; a != b {
			t.Errorf("slowpath[%s]: run to completion %d, distributor %d", r, a, b)
		}
	}
	for _, r := range []string{"ttl_exceeded", "ip_options", "arp"} {
		if rtc.s.Totals.SlowPath[r] != 30 {
			t.Errorf("slowpath[%s] = %d, sent 30", r, rtc.s.Totals.SlowPath[r])
		}
	}
	for _, r := range []string{"bad_checksum", "unknown_ethertype"} {
		if rtc.s.Totals.Dropped[r] != 30 {
			t.Errorf("dropped[%s] = %d, sent 30", r, rtc.s.Totals.Dropped[r])
		}
	}
}

func sortedFrames(fs [][]byte) [][]byte {
	out := append([][]byte(nil), fs...)
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i], out[j]) < 0 })
	return out
}

// TestDistributorDropCountsRingFull: with on_full drop and 64-slot rings,
// an RX lcore that reads a pcap faster than oversubscribed workers run
// drops what does not fit. Whatever the timing: the counters balance,
// dropped.ring_full is the sum of the links' dropped_full, nothing else is
// lost (forwarded + ring_full == sent), and what was forwarded is intact
// and in order.
func TestDistributorDropCountsRingFull(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)
	lanIn := lanTraffic(t, lanMAC, 1500, 5, 0, 0)
	wanIn := wanTraffic(t, wanMAC, 500, 5, 50000)
	b.WritePcap("lan-in.pcap", lanIn)
	b.WritePcap("wan-in.pcap", wanIn)
	sent := len(lanIn) + len(wanIn)

	c := distConfig(distLcores, oneRxTwoWorkers(), []string{"wan-out.pcap"}, Distributor{RingSize: 64, OnFull: "drop"})
	s, _ := distRun(t, b, c)
	CheckMACs(t, s, map[string]net.HardwareAddr{"lan": lanMAC, "wan": wanMAC})
	full := s.Totals.Dropped["ring_full"]
	t.Logf("sent %d, ring_full %d", sent, full)
	if s.Totals.RxPackets != uint64(sent) {
		t.Errorf("received %d of the %d packets sent", s.Totals.RxPackets, sent)
	}
	for r, n := range s.Totals.Dropped {
		if n != 0 && r != "ring_full" {
			t.Errorf("dropped[%s] = %d, want 0", r, n)
		}
	}
	for r, n := range s.Totals.SlowPath {
		if n != 0 {
			t.Errorf("slowpath[%s] = %d, want 0", r, n)
		}
	}
	for _, l := range s.Lcores {
		if l.BackpressureSkips != 0 {
			t.Errorf("lcore %d: %d backpressure skips with on_full drop", l.Lcore, l.BackpressureSkips)
		}
	}
	wanOut, lanOut := b.ReadForwarded("wan-out.pcap"), b.ReadForwarded("lan-out.pcap")
	if fw := uint64(len(wanOut) + len(lanOut)); fw+full != uint64(sent) || fw != s.Totals.TxPackets {
		t.Errorf("forwarded %d (tx counted %d) + ring_full %d != sent %d", fw, s.Totals.TxPackets, full, sent)
	}
	CheckForwarded(t, "wan-out", wanOut, NewIndex(t, lanIn), Expect{SrcMAC: wanMAC, DstMAC: WanPeerMAC})
	CheckForwarded(t, "lan-out", lanOut, NewIndex(t, wanIn), Expect{SrcMAC: lanMAC, DstMAC: LanHostMAC})
}

// TestDistributorValidation: workers with no port using the distributor,
// and a port asking for the distributor without workers, are refused with
// exit 1 and a message saying what is wrong (by `run`, and by `validate`
// when it already knows).
func TestDistributorValidation(t *testing.T) {
	// refused: each of want is a set of alternatives separated by "|", one
	// of which the message must contain (the config's own path, which
	// holds the test's name, does not count).
	refused := func(t *testing.T, c Config, want ...string) {
		t.Helper()
		b := NewBed(t)
		b.WritePcap("lan-in.pcap", nil)
		b.WritePcap("wan-in.pcap", nil)
		cfg := b.WriteConfig(c)
		check := func(r Result) {
			t.Helper()
			msg := strings.ToLower(strings.ReplaceAll(r.Output(), b.Dir, "<dir>"))
			for _, w := range want {
				found := false
				for _, alt := range strings.Split(w, "|") {
					found = found || strings.Contains(msg, alt)
				}
				if !found {
					t.Errorf("the message does not mention %q\n%s", w, r)
				}
			}
		}
		r := b.Run("run", "--config", cfg, "--exit-on-idle", distIdle.String())
		if r.Code != 1 {
			t.Fatalf("want exit 1\n%s\nconfig:\n%s", r, b.YAML(c))
		}
		check(r)
		switch v := b.Run("validate", "--config", cfg); v.Code {
		case 0: // found at start only
		case 1:
			check(v)
		default:
			t.Errorf("validate: want exit 0 or 1\n%s", v)
		}
	}
	t.Run("workers_but_all_rss", func(t *testing.T) {
		c := distConfig(distLcores, oneRxTwoWorkers(), []string{"wan-out.pcap"}, Distributor{})
		c.Ports[0].Steering, c.Ports[1].Steering = "rss", "rss"
		refused(t, c, "worker", "rss|distributor")
	})
	t.Run("distributor_without_workers", func(t *testing.T) {
		c := Standard()
		c.Ports[1].Steering = "distributor"
		refused(t, c, "worker", "ports[1].steering")
	})
}

// TestDistributorTopologies: other lcore maps forward everything in order
// with balanced books: two RX lcores (one per port) feeding two workers
// (four rings); two RX lcores that are also the two workers (each keeps
// its share and hands the rest to the other); a single worker; and lan on
// the distributor while wan (steering rss, one queue: run to completion)
// is forwarded by the RX lcore itself; and distributor.burst 8 (RX
// bursts and ring dequeues of at most 8 packets).
func TestDistributorTopologies(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	bp := Distributor{OnFull: "backpressure"}
	lanIn := lanTraffic(t, lanMAC, 300, 5, 0, 8)
	wanIn := wanTraffic(t, wanMAC, 150, 5, 50000)
	cases := []struct {
		name   string
		config func() Config
		rings  int
		check  func(t *testing.T, s *Stats, r Result)
	}{
		{"two_rx_two_workers", func() Config {
			return distConfig("0@0,1@1,2@1,3@0,4@0", []LcoreMap{
				{Lcore: 1, Rx: []RxQ{{"lan", 0}}}, {Lcore: 2, Rx: []RxQ{{"wan", 0}}},
				{Lcore: 3, Worker: true}, {Lcore: 4, Worker: true}}, []string{"wan-out.pcap"}, bp)
		}, 4, nil},
		{"two_rx_workers_crossed", func() Config {
			return distConfig("0@0,1@1,2@0", []LcoreMap{
				{Lcore: 1, Rx: []RxQ{{"lan", 0}}, Worker: true}, {Lcore: 2, Rx: []RxQ{{"wan", 0}}, Worker: true}},
				[]string{"wan-out.pcap"}, bp)
		}, 2, nil}, // each keeps its own share: one ring each way
		// The issue-14 report: one lcore polls both ports and says worker:
		// true; auto on devices without RSS picks the distributor, which
		// has nothing to hand to: it runs everything itself, no ring.
		{"one_lcore_rx_and_worker", func() Config {
			return distConfig("0@0,1@1", []LcoreMap{{Lcore: 1, Rx: []RxQ{{"lan", 0}, {"wan", 0}}, Worker: true}},
				[]string{"wan-out.pcap"}, Distributor{Balance: "auto"})
		}, 0, nil},
		{"one_worker", func() Config {
			return distConfig("0@0,1@1,2@0", []LcoreMap{{Lcore: 1, Rx: []RxQ{{"lan", 0}, {"wan", 0}}}, {Lcore: 2, Worker: true}},
				[]string{"wan-out.pcap"}, bp)
		}, 1, nil},
		{"lan_distributor_wan_rss", func() Config {
			c := distConfig(distLcores, oneRxTwoWorkers(), []string{"wan-out.pcap"}, bp)
			c.Ports[0].Steering, c.Ports[1].Steering = "distributor", "rss"
			return c
		}, 2, func(t *testing.T, s *Stats, r Result) {
			// wan's packets never reach a worker: lcore 1 forwards them.
			l1 := lcoreStats(t, s, 1)
			if l1.TxPackets != uint64(len(wanIn)) || l1.HandedOff != uint64(len(lanIn)) {
				t.Errorf("lcore 1: tx %d handed_off %d, want wan's %d forwarded itself and lan's %d handed off",
					l1.TxPackets, l1.HandedOff, len(wanIn), len(lanIn))
			}
			ups := logLines(t, r, "port up")
			if len(ups) != 2 {
				t.Errorf("want 2 \"port up\" log lines, got %d", len(ups))
			}
			for _, u := range ups {
				if want := map[any]string{"lan": "distributor", "wan": "rss"}[u["port"]]; u["steering"] != want {
					t.Errorf("port %v: steering %v, want %s", u["port"], u["steering"], want)
				}
			}
		}},
		{"burst_8", func() Config {
			return distConfig(distLcores, oneRxTwoWorkers(), []string{"wan-out.pcap"}, Distributor{OnFull: "backpressure", Burst: 8})
		}, 2, func(t *testing.T, s *Stats, r Result) {
			for _, l := range s.Lcores {
				if l.Worker >= 0 && l.FromRings > 8*l.WorkerBursts {
					t.Errorf("worker lcore %d: %d packets in %d ring bursts, more than 8 per burst", l.Lcore, l.FromRings, l.WorkerBursts)
				}
				if l.Worker < 0 && l.RxPackets > 8*l.BusyPolls {
					t.Errorf("RX lcore %d: %d packets in %d busy polls, more than 8 per burst", l.Lcore, l.RxPackets, l.BusyPolls)
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBed(t)
			b.WritePcap("lan-in.pcap", lanIn)
			b.WritePcap("wan-in.pcap", wanIn)
			c := tc.config()
			s, r := distRun(t, b, c)
			checkAllForwarded(t, b, s, lanMAC, wanMAC, len(lanIn), len(wanIn))
			if len(s.Rings) != tc.rings {
				t.Errorf("%d rings, want %d: %+v", len(s.Rings), tc.rings, s.Rings)
			}
			if tc.check != nil {
				tc.check(t, s, r)
			} else {
				checkSteering(t, r, "distributor", "workers")
			}
			checkOutputs(t, b, lanMAC, wanMAC, lanIn, wanIn)
		})
	}
}

// TestDistributorBalancer: the balancer on; lcore 1 (CPU 1) polls both
// ports and is worker 0, lcore 2 (CPU 0) is worker 1; lan traffic in a
// file long enough to keep lcore 1 saturated for a while. net_pcap's TX
// writes a file, a pipeline heavy enough that a worker pays, as long as
// it writes a file of its own: wan has two TX queues, lcore 1's packets
// leave on 0 (its RX queue's), worker 1's on 1. Buckets go out while lcore
// 1 cannot keep up and come back once the input has ended, every move
// logged and counted; 4 flows carry half the traffic (a skewed load);
// every flow leaves complete and in order in each file.
func TestDistributorBalancer(t *testing.T) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)
	heavy := gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote, Flows: 4,
		PacketsPerFlow: 250000, FirstFlow: 0, Proto: trafgen.UDP, TTL: 64, Size: 64, Order: "random", Seed: 151})
	light := gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote, Flows: 2000,
		PacketsPerFlow: 500, FirstFlow: 100, Proto: trafgen.TCP, TTL: 64, Size: 64, Order: "random", Seed: 152})
	lanIn := interleave(heavy, light)
	b.WritePcap("lan-in.pcap", lanIn)
	b.WritePcap("wan-in.pcap", nil)
	c := distConfig("0@0,1@1,2@0", []LcoreMap{{Lcore: 1, Rx: []RxQ{{"lan", 0}, {"wan", 0}}, Worker: true}, {Lcore: 2, Worker: true}},
		[]string{"wan-out0.pcap", "wan-out1.pcap"}, Distributor{Balance: "auto", OnFull: "backpressure"})
	c.Extra = "distributor: {balance: {interval: 50ms, hold: 200ms}}\n"
	s, r := distRun(t, b, c)
	checkAllForwarded(t, b, s, lanMAC, wanMAC, len(lanIn), 0)
	if s.Distributor == nil {
		t.Fatalf("stats file without a distributor section:\n%s", s.Raw)
	}
	d := s.Distributor
	t.Logf("balancer moves %v; last decisions:\n  %s", d.Moves, strings.Join(d.Decisions, "\n  "))
	if d.Balance != "auto" || d.Moves["out"] == 0 || d.Moves["back"] == 0 {
		t.Errorf("balancer %q moved out %d and back %d times, want both while the input lasted and after", d.Balance, d.Moves["out"], d.Moves["back"])
	}
	if got := len(logLines(t, r, "distributor: balancer moved buckets")); uint64(got) != d.Moves["out"]+d.Moves["back"]+d.Moves["revert"] {
		t.Errorf("%d moves logged, %v counted", got, d.Moves)
	}
	if l := lcoreStats(t, s, 1); l.HandedOff == 0 || l.Local == 0 {
		t.Errorf("RX lcore 1: handed off %d, local %d: want both", l.HandedOff, l.Local)
	}
	for _, w := range s.RETA {
		if w != -1 {
			t.Errorf("RETA at exit %v: want every bucket back home after the input ended", s.RETA)
			break
		}
	}
	in := NewIndex(t, lanIn)
	seen := map[trafgen.Tag]bool{}
	for q := 0; q < 2; q++ {
		name := fmt.Sprintf("wan-out%d", q)
		for tag := range CheckForwarded(t, name, b.ReadForwarded(name+".pcap"), in, Expect{SrcMAC: wanMAC, DstMAC: WanPeerMAC}) {
			seen[tag] = true
		}
	}
	CheckAllSeen(t, "wan-out0+1", seen, in)
}
