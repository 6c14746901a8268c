package e2e

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"
)

// ---- running steer on the standard topology ----

// slowResult is a finished run: checked stats, the stats file's
// slow_path object flattened ("arp.replies_sent" -> 2), the decoded
// outputs and the port MACs.
type slowResult struct {
	Stats          *Stats
	SlowPath       map[string]float64
	Lan, Wan       []*outFrame
	Run            Result
	LanMAC, WanMAC net.HardwareAddr
}

// slowRun writes the inputs, runs steer on the standard topology (plus
// extra config) until it has been idle for idleFor, requires exit 0 and
// the stats file's invariants (no mbuf leak among them), and decodes both
// output pcaps.
func slowRun(t *testing.T, lanIn, wanIn [][]byte, extra string, idleFor time.Duration) *slowResult {
	t.Helper()
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)
	b.WritePcap("lan-in.pcap", lanIn)
	b.WritePcap("wan-in.pcap", wanIn)
	c := Standard()
	c.Extra = extra
	cfg := b.WriteConfig(c)
	stats := b.Path("stats.json")
	r := b.Run("run", "--config", cfg, "--exit-on-idle", idleFor.String(), "--stats-file", stats)
	if r.Code != 0 {
		t.Fatalf("want exit 0\n%s", r)
	}
	s := b.ReadStats(stats)
	CheckMACs(t, s, map[string]net.HardwareAddr{"lan": lanMAC, "wan": wanMAC})
	res := &slowResult{Stats: s, SlowPath: slowPathCounters(t, s.Raw), Run: r, LanMAC: lanMAC, WanMAC: wanMAC,
		Lan: decodeAll("lan", b.ReadPcap("lan-out.pcap")), Wan: decodeAll("wan", b.ReadPcap("wan-out.pcap"))}
	if res.SlowPath != nil {
		t.Logf("slow_path counters: %s", fmtCounters(res.SlowPath))
	} else {
		t.Logf("the stats file has no slow_path object yet")
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("steer ran %v; outputs:\n%s\n%s\nstats: %s", r.Elapsed.Round(time.Millisecond),
				listFrames(res.Lan), listFrames(res.Wan), s.Raw)
		}
	})
	return res
}

// listFrames is one line per frame.
func listFrames(fs []*outFrame) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	if len(fs) == 0 {
		b.WriteString("  (no frames)\n")
	}
	return b.String()
}

// slowPathCounters flattens the stats file's "slow_path" object (nil when
// there is none): every number under it by its dotted path.
func slowPathCounters(t testing.TB, raw string) map[string]float64 {
	t.Helper()
	var top map[string]any
	if err := json.Unmarshal([]byte(raw), &top); err != nil {
		t.Fatalf("stats file: %v", err)
	}
	sp, ok := top["slow_path"]
	if !ok {
		return nil
	}
	out := map[string]float64{}
	flatten("", sp, out)
	return out
}

func flatten(prefix string, v any, out map[string]float64) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, e, out)
		}
	case []any:
		for i, e := range x {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), e, out)
		}
	case float64:
		out[prefix] = x
	}
}

func fmtCounters(m map[string]float64) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "%s=%v ", k, m[k])
	}
	return strings.TrimSpace(b.String())
}

// counterSum adds the slow_path counters whose path contains every one of
// parts (case-insensitive); n is how many matched.
func counterSum(m map[string]float64, parts ...string) (sum float64, n int) {
next:
	for k, v := range m {
		lk := strings.ToLower(k)
		for _, p := range parts {
			if !strings.Contains(lk, p) {
				continue next
			}
		}
		sum += v
		n++
	}
	return sum, n
}

// ---- checking answers ----

// icmpErr is an ICMP error a trigger must draw.
type icmpErr struct {
	Type, Code     uint8
	Src, Dst       string // IP addresses of the error
	SrcMAC, DstMAC net.HardwareAddr
	Orig           []byte // the IP packet that drew it, as sent
	// Decremented also accepts a quote of Orig with TTL - 1 (and its
	// checksum updated): RFC 1812 4.3.2.3 does not require a router to
	// undo modifications made in forwarding before the error was found,
	// such as the TTL decrement of a packet queued for ARP.
	Decremented bool
}

// decremented is ip with TTL - 1 and the header checksum recomputed.
func decremented(ip []byte) []byte {
	d := append([]byte(nil), ip...)
	ihl := int(d[0]&0xf) * 4
	d[8]--
	d[10], d[11] = 0, 0
	binary.BigEndian.PutUint16(d[10:], cksum(d[:ihl]))
	return d
}

// checkICMPError checks every field of an ICMP error: Ethernet addresses,
// a sound IP header from the router's address, at most 576 bytes,
// type/code, the unused word zero, a valid ICMP checksum, and the quote:
// the original IP packet as received, as much of it as fits in 576 bytes.
func checkICMPError(t *testing.T, what string, f *outFrame, w icmpErr) {
	t.Helper()
	for _, p := range f.Problems {
		t.Errorf("%s: %s: %s", what, f, p)
	}
	if f.ICMP == nil {
		t.Errorf("%s: %s is not an ICMP message", what, f)
		return
	}
	if !bytes.Equal(f.Dst, w.DstMAC) || !bytes.Equal(f.Src, w.SrcMAC) {
		t.Errorf("%s: Ethernet %v -> %v, want %v -> %v", what, f.Src, f.Dst, w.SrcMAC, w.DstMAC)
	}
	if f.Src4 != netip.MustParseAddr(w.Src) || f.Dst4 != netip.MustParseAddr(w.Dst) {
		t.Errorf("%s: IP %v -> %v, want %s -> %s", what, f.Src4, f.Dst4, w.Src, w.Dst)
	}
	if f.TTL < 32 {
		t.Errorf("%s: the error leaves with TTL %d (a router's own packets start with 64 or so)", what, f.TTL)
	}
	if typ, code := f.ICMP[0], f.ICMP[1]; typ != w.Type || code != w.Code {
		t.Errorf("%s: ICMP %d/%d, want %d/%d", what, typ, code, w.Type, w.Code)
	}
	if rest := f.ICMP[4:8]; !bytes.Equal(rest, []byte{0, 0, 0, 0}) {
		t.Errorf("%s: unused word % x, want zero (RFC 792)", what, rest)
	}
	if len(f.IP) > icmpErrMaxIPBytes {
		t.Errorf("%s: the error's IP packet has %d bytes, more than %d (RFC 1812 4.3.2.3)", what, len(f.IP), icmpErrMaxIPBytes)
	}
	room := icmpErrMaxIPBytes - f.IHL - 8
	want := w.Orig[:min(len(w.Orig), room)]
	q := f.Quoted()
	if w.Decremented && len(q) >= 20 && len(want) >= 20 && q[8] != want[8] {
		want = decremented(w.Orig)[:len(want)]
	}
	if len(q) != len(want) {
		t.Errorf("%s: quotes %d bytes of the %d-byte original, want %d (as much as fits in %d bytes; error IP packet %d bytes)",
			what, len(q), len(w.Orig), len(want), icmpErrMaxIPBytes, len(f.IP))
	}
	if n := min(len(q), len(want)); !bytes.Equal(q[:n], want[:n]) {
		i := 0
		for i < n && q[i] == want[i] {
			i++
		}
		t.Errorf("%s: quoted byte %d is %#02x, the original had %#02x (quote % x..., original % x...)",
			what, i, q[i], want[i], q[:min(n, 28)], want[:min(n, 28)])
	}
	if len(q) < 28 && len(w.Orig) >= 28 {
		t.Errorf("%s: quotes %d bytes, fewer than the IP header + 8 bytes", what, len(q))
	}
}

// checkEchoReply: the reply to echo request req (an IP packet) from
// router address from, sent to dstMAC from srcMAC.
func checkEchoReply(t *testing.T, what string, f *outFrame, req []byte, from string, srcMAC, dstMAC net.HardwareAddr) {
	t.Helper()
	for _, p := range f.Problems {
		t.Errorf("%s: %s: %s", what, f, p)
	}
	if f.ICMP == nil {
		t.Errorf("%s: %s is not an ICMP message", what, f)
		return
	}
	if !bytes.Equal(f.Dst, dstMAC) || !bytes.Equal(f.Src, srcMAC) {
		t.Errorf("%s: Ethernet %v -> %v, want %v -> %v", what, f.Src, f.Dst, srcMAC, dstMAC)
	}
	reqSrc := netip.AddrFrom4([4]byte(req[12:16]))
	if f.Src4 != netip.MustParseAddr(from) || f.Dst4 != reqSrc {
		t.Errorf("%s: IP %v -> %v, want %s -> %v", what, f.Src4, f.Dst4, from, reqSrc)
	}
	if f.TTL < 32 {
		t.Errorf("%s: the reply leaves with TTL %d", what, f.TTL)
	}
	ri := req[20:]
	if f.ICMP[0] != icmpEchoReply || f.ICMP[1] != 0 {
		t.Errorf("%s: ICMP %d/%d, want 0/0", what, f.ICMP[0], f.ICMP[1])
	}
	if !bytes.Equal(f.ICMP[4:8], ri[4:8]) {
		t.Errorf("%s: id/seq % x, request had % x", what, f.ICMP[4:8], ri[4:8])
	}
	if !bytes.Equal(f.ICMP[8:], ri[8:]) {
		t.Errorf("%s: %d bytes of data, the request had %d (or different bytes)", what, len(f.ICMP)-8, len(ri)-8)
	}
}

// checkNoProblems reports what decodeOut found wrong with a frame.
func checkNoProblems(t *testing.T, f *outFrame) {
	t.Helper()
	for _, p := range f.Problems {
		t.Errorf("%s: %s", f, p)
	}
}

// isGratuitous: an ARP announcement of the router's own address (sender
// and target IP equal).
func isGratuitous(f *outFrame) bool {
	return f.ARP != nil && f.ARP.SPA == f.ARP.TPA
}

// errorsByID indexes the ICMP errors of frames by the IP id they quote and
// echo replies by id/seq; anything else but gratuitous ARP goes to other.
func sortOut(frames []*outFrame) (errs map[int][]*outFrame, echo map[uint32][]*outFrame, grat, other []*outFrame) {
	errs, echo = map[int][]*outFrame{}, map[uint32][]*outFrame{}
	for _, f := range frames {
		switch {
		case isGratuitous(f):
			grat = append(grat, f)
		case f.IsICMPError():
			errs[f.QuotedID()] = append(errs[f.QuotedID()], f)
		case f.ICMPType() == icmpEchoReply:
			echo[f.EchoKey()] = append(echo[f.EchoKey()], f)
		default:
			other = append(other, f)
		}
	}
	return
}
