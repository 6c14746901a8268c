package e2e

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/steer-router/steer/pkg/trafgen"
)

// These tests need neither root nor DPDK: they check that the harness's
// comparisons fail when steer gets something wrong.

// recorder is a testing.TB that collects failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

type fatal struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}
func (r *recorder) Fatalf(format string, a ...any) { r.Errorf(format, a...); panic(fatal{}) }
func (r *recorder) Logf(string, ...any)            {}
func (r *recorder) Failed() bool                   { return len(r.errs) > 0 }
func (r *recorder) has(substr string) bool {
	return strings.Contains(strings.Join(r.errs, "\n"), substr)
}
func (r *recorder) run(f func(tb testing.TB)) *recorder {
	defer func() { _ = recover() }()
	f(r)
	return r
}

var (
	egressMAC = net.HardwareAddr{0x02, 0x70, 0x63, 0x61, 0x70, 0x01}
	portMAC   = net.HardwareAddr{0x02, 0x70, 0x63, 0x61, 0x70, 0x00}
)

// route does what steer must do to a frame: MACs, TTL - 1, checksum.
func route(in []byte) []byte {
	f := append([]byte(nil), in...)
	copy(f[0:6], WanPeerMAC)
	copy(f[6:12], egressMAC)
	f[14+8]--
	ck := trafgen.IPv4Checksum(f[14 : 14+int(f[14]&0xf)*4])
	f[24], f[25] = byte(ck>>8), byte(ck)
	return f
}

func TestHarnessCheckForwarded(t *testing.T) {
	in, err := trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: portMAC, Src: lanHosts, Dst: remote,
		Flows: 3, PacketsPerFlow: 4, TTL: 64, Mix: "imix", Seed: 1}.Frames()
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(t, in)
	exp := Expect{SrcMAC: egressMAC, DstMAC: WanPeerMAC}
	good := func() [][]byte {
		var out [][]byte
		for _, f := range in {
			out = append(out, route(f))
		}
		return out
	}
	check := func(out [][]byte) *recorder {
		return new(recorder).run(func(tb testing.TB) { CheckAllSeen(tb, "p", CheckForwarded(tb, "p", out, ix, exp), ix) })
	}
	if r := check(good()); r.Failed() {
		t.Fatalf("correct forwarding reported as wrong: %v", r.errs)
	}
	for _, c := range []struct {
		name, want string
		mutate     func(out [][]byte) [][]byte
	}{
		{"ttl not decremented", "TTL", func(o [][]byte) [][]byte {
			o[2][22]++
			ck := trafgen.IPv4Checksum(o[2][14:34])
			o[2][24], o[2][25] = byte(ck>>8), byte(ck)
			return o
		}},
		{"stale checksum", "checksum", func(o [][]byte) [][]byte { o[1][24] ^= 0x10; return o }},
		{"wrong dst MAC", "MACs", func(o [][]byte) [][]byte { o[0][5] ^= 1; return o }},
		{"src MAC kept", "MACs", func(o [][]byte) [][]byte { copy(o[0][6:12], LanHostMAC); return o }},
		{"payload changed", "byte", func(o [][]byte) [][]byte { o[5][len(o[5])-1] ^= 0xff; return o }},
		{"address changed", "byte", func(o [][]byte) [][]byte { o[5][14+19] ^= 1; fixCk(o[5]); return o }},
		{"reordered", "reordered", func(o [][]byte) [][]byte { o[0], o[3] = o[3], o[0]; return o }},
		{"duplicate", "twice", func(o [][]byte) [][]byte { return append(o, o[4]) }},
		{"lost", "missing", func(o [][]byte) [][]byte { return o[1:] }},
		{"truncated", "bytes out", func(o [][]byte) [][]byte { o[7] = o[7][:len(o[7])-1]; return o }},
		{"foreign", "not sent", func(o [][]byte) [][]byte {
			p := trafgen.Packet{SrcMAC: egressMAC, DstMAC: WanPeerMAC, Src: netip.MustParseAddr("10.0.0.2"),
				Dst: netip.MustParseAddr("198.51.100.1"), TTL: 63, Tag: trafgen.Tag{Flow: 99}}
			return append(o, p.MustBuild())
		}},
		{"untagged", "no tag", func(o [][]byte) [][]byte { return append(o, make([]byte, 60)) }},
	} {
		if r := check(c.mutate(good())); !r.has(c.want) {
			t.Errorf("%s: want a failure mentioning %q, got %v", c.name, c.want, r.errs)
		}
	}
}

func fixCk(f []byte) {
	ck := trafgen.IPv4Checksum(f[14:34])
	f[24], f[25] = byte(ck>>8), byte(ck)
}

func TestHarnessReadStats(t *testing.T) {
	zeros := func(names []string) string {
		var kv []string
		for _, n := range names {
			kv = append(kv, fmt.Sprintf("%q:0", n))
		}
		return "{" + strings.Join(kv, ",") + "}"
	}
	dz, sz := zeros(DropReasons), zeros(SlowReasons)
	mk := func(rx, tx, leak int, drops string) string {
		return fmt.Sprintf(`{"ports":[{"name":"lan","port_id":0,"driver":"net_pcap","mac":"02:70:63:61:70:00","rx_packets":%d}],
"lcores":[{"lcore":1,"rx_packets":%d,"tx_packets":%d,"dropped":%s,"slowpath":%s}],
"totals":{"rx_packets":%d,"tx_packets":%d,"dropped":%s,"slowpath":%s},
"mempool":{"size":100,"in_use_after_stop":0,"in_use_after_close":%d}}`, rx, rx, tx, drops, sz, rx, tx, drops, sz, leak)
	}
	read := func(js string) *recorder {
		r := new(recorder)
		dir := t.TempDir()
		return r.run(func(tb testing.TB) {
			b := &Bed{T: tb, Dir: dir}
			b.ReadStats(b.WriteFile("s.json", js))
		})
	}
	if r := read(mk(10, 10, 0, dz)); r.Failed() {
		t.Fatalf("good stats rejected: %v", r.errs)
	}
	if r := read(mk(10, 10, 3, dz)); !r.has("mbuf leak") {
		t.Errorf("leak not reported: %v", r.errs)
	}
	if r := read(mk(10, 9, 0, dz)); !r.has("invariant") {
		t.Errorf("rx != tx + dropped + slowpath not reported: %v", r.errs)
	}
	if r := read(mk(10, 10, 0, `{"runt":0}`)); !r.has("lacks reason") {
		t.Errorf("missing reasons not reported: %v", r.errs)
	}
}
