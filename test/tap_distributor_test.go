package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/steer-router/steer/pkg/trafgen"
)

// tapDistributor is the tap topology with the distributor: lcore 1 (CPU 1)
// polls both taps, lcores 2 (CPU 0) and 3 (CPU 1) are workers, flows hash
// on the 5-tuple (so one address pair spreads over the buckets).
const tapDistributor = `
eal: {lcores: "0@0,1@1,2@0,3@1"}
lcores:
  - {lcore: 1, rx: [{port: lan, queue: 0}, {port: wan, queue: 0}]}
  - {lcore: 2, worker: true}
  - {lcore: 3, worker: true}
distributor: {hash: l4, on_full: backpressure, max_stall: 1s}
`

// retaChurn replaces the RETA through the API with a random table (every
// bucket local, worker 0 or worker 1) every interval until stop is
// closed; it returns how many replacements the API accepted and the
// first error.
func retaChurn(api *apiClient, buckets int, interval time.Duration, seed uint64, stop <-chan struct{}) (int, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for n := 0; ; n++ {
		select {
		case <-stop:
			return n, nil
		case <-time.After(interval):
		}
		reta := make([]string, buckets)
		for b := range reta {
			reta[b] = strconv.Itoa(rng.IntN(3) - 1)
		}
		code, body, _, err := api.do("PUT", "/api/v1/reta", `{"reta":[`+strings.Join(reta, ",")+`]}`)
		if err != nil || code != 200 {
			return n, fmt.Errorf("PUT /api/v1/reta #%d: %d %v %s", n, code, err, body)
		}
	}
}

// tcpExt reads counter name of TcpExt in ns's /proc/net/netstat.
func tcpExt(t *testing.T, ns *netns, name string) float64 {
	t.Helper()
	out, err := ns.Exec(5*time.Second, "cat", "/proc/net/netstat")
	if err != nil {
		t.Fatalf("/proc/net/netstat in %s: %v\n%s", ns.Name, err, out)
	}
	var names []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "TcpExt:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == name && i < len(f) {
				v, _ := strconv.ParseFloat(f[i], 64)
				return v
			}
		}
	}
	t.Fatalf("no TcpExt %s in /proc/net/netstat of %s", name, ns.Name)
	return 0
}

// TestTapDistributor: steer between two kernel hosts through one RX lcore
// and two workers while the RETA is replaced through the API again and
// again (random tables: buckets local, on worker 0, on worker 1).
//   - Tagged UDP: A writes 64 flows, each in sequence, at a paced rate;
//     B's packet socket must see every flow in order and (nearly) all of
//     it.
//   - iperf3 TCP A -> B: B's kernel queued no segment out of order and
//     A's detected no reordering. (Retransmits are logged, not checked:
//     with three busy lcores on two CPUs an ACK can wait a time slice,
//     long enough for a tail loss probe.)
//
// Then the RETA goes back to the balancer (DELETE) and the stats say so.
func TestTapDistributor(t *testing.T) {
	tn := startTapNet(t, true, tapDistributor)
	wantPings(t, tn.A, tapHostB, 3, 3)

	var reta struct {
		RETA    []int `json:"reta"`
		Workers int   `json:"workers"`
	}
	if err := json.Unmarshal([]byte(tn.api.must(200, "GET", "/api/v1/reta", "")), &reta); err != nil || reta.Workers != 2 || len(reta.RETA) == 0 {
		t.Fatalf("GET /api/v1/reta: %+v %v, want 2 workers", reta, err)
	}

	// Tagged UDP under RETA churn.
	const flows, perFlow, pps = 64, 300, 8000
	a, b := netip.MustParseAddr(tapHostA), netip.MustParseAddr(tapHostB)
	frames := gen(t, trafgen.Flows{SrcMAC: tapHostAMAC, DstMAC: tapRouterLanMAC, Src: netip.PrefixFrom(a, 32), Dst: netip.PrefixFrom(b, 32),
		Flows: flows, PacketsPerFlow: perFlow, Proto: trafgen.UDP, TTL: 64, Size: 128, Order: "random", Seed: 141})
	in, err := tn.A.PacketSocket(tn.LanIf)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(in)
	out, err := tn.B.CaptureSocket(tn.WanIf)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(out)
	_ = unix.SetsockoptInt(out, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 64<<20)
	_ = unix.SetsockoptTimeval(out, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 200000})

	var got [][]byte
	var wg sync.WaitGroup
	recvDone := make(chan struct{})
	wg.Add(1)
	go func() { // until every frame came or 2 s of silence after the sender ended
		defer wg.Done()
		quiet := 0
		buf := make([]byte, 2048)
		for len(got) < len(frames) && quiet < 10 {
			n, _, err := unix.Recvfrom(out, buf, 0)
			if err != nil {
				select {
				case <-recvDone:
					quiet++
				default:
				}
				continue
			}
			if p, perr := trafgen.Parse(buf[:n]); perr == nil && p.HasTag && p.Proto == trafgen.UDP {
				got = append(got, append([]byte(nil), buf[:n]...))
			}
		}
	}()
	stop := make(chan struct{})
	var puts int
	var churnErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		puts, churnErr = retaChurn(tn.api, len(reta.RETA), 10*time.Millisecond, 7, stop)
	}()
	sent, full, took, ferr := flood(in, frames, pps, len(frames), time.Now().Add(20*time.Second), nil)
	close(stop)
	close(recvDone)
	wg.Wait()
	if ferr != nil || churnErr != nil {
		t.Fatalf("flood: %v; RETA churn: %v", ferr, churnErr)
	}
	t.Logf("A wrote %d tagged UDP frames in %v (%d refused by the socket); the RETA was replaced %d times meanwhile; B received %d",
		sent, took.Round(time.Millisecond), full, puts, len(got))
	if puts < 50 {
		t.Errorf("only %d RETA replacements while traffic flowed, want 50 or more", puts)
	}
	// In order per flow; loss only where the kernel refused a write.
	last := map[uint32]int64{}
	reordered := 0
	for _, f := range got {
		p, _ := trafgen.Parse(f)
		if prev, ok := last[p.Tag.Flow]; ok && int64(p.Tag.Seq) <= prev {
			if reordered++; reordered <= 3 {
				t.Errorf("flow %d: seq %d after %d", p.Tag.Flow, p.Tag.Seq, prev)
			}
		}
		last[p.Tag.Flow] = int64(p.Tag.Seq)
	}
	if reordered > 0 {
		t.Errorf("%d frames out of order over %d RETA replacements", reordered, puts)
	}
	if len(got) < (sent-full)*99/100 {
		t.Errorf("B received %d of %d frames written, want at least 99%%", len(got), sent-full)
	}

	// TCP under RETA churn: nothing in B's out-of-order queue, no
	// reordering seen by A's congestion control.
	reorders := func() float64 {
		return tcpExt(t, tn.A, "TCPSACKReorder") + tcpExt(t, tn.A, "TCPTSReorder") + tcpExt(t, tn.A, "TCPRenoReorder")
	}
	ofo0, reo0 := tcpExt(t, tn.B, "TCPOFOQueue"), reorders()
	stop = make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		puts, churnErr = retaChurn(tn.api, len(reta.RETA), 20*time.Millisecond, 8, stop)
	}()
	tcp := tn.iperf(t, false, 3, "50M")
	close(stop)
	wg.Wait()
	ofo, reo := tcpExt(t, tn.B, "TCPOFOQueue")-ofo0, reorders()-reo0
	t.Logf("iperf3 TCP A -> B at 50 Mbit/s: %.1f Mbit/s, %.0f retransmits, %.0f segments queued out of order at B, %.0f reorderings seen by A; %d RETA replacements meanwhile",
		tcp.BitsPerSecond/1e6, tcp.Retransmits, ofo, reo, puts)
	if churnErr != nil {
		t.Error(churnErr)
	}
	if tcp.Bytes <= 0 || ofo != 0 || reo != 0 {
		t.Errorf("iperf3 TCP through the distributor: %.0f bytes, %.0f out of order at B, %.0f reorderings seen by A; want data, 0 and 0", tcp.Bytes, ofo, reo)
	}

	// Pinned until released.
	var st struct {
		Distributor struct {
			Pinned bool `json:"pinned"`
		} `json:"distributor"`
	}
	pinned := func() bool {
		if err := json.Unmarshal([]byte(tn.api.must(200, "GET", "/api/v1/stats", "")), &st); err != nil {
			t.Fatal(err)
		}
		return st.Distributor.Pinned
	}
	if !pinned() {
		t.Error("after PUT /api/v1/reta the stats say the RETA is not pinned")
	}
	tn.api.must(204, "DELETE", "/api/v1/reta", "")
	if pinned() {
		t.Error("after DELETE /api/v1/reta the stats say the RETA is still pinned")
	}

	s, _ := tn.Stop()
	checkDistStats(t, s, Config{LcoreMap: []LcoreMap{
		{Lcore: 1, Rx: []RxQ{{"lan", 0}, {"wan", 0}}}, {Lcore: 2, Worker: true}, {Lcore: 3, Worker: true}}})
	if l := lcoreStats(t, s, 1); l.HandedOff == 0 || l.Local == 0 {
		t.Errorf("RX lcore 1: handed off %d, local %d: the random tables should have used both", l.HandedOff, l.Local)
	}
}
