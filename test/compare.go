package e2e

// Comparing steer's output pcaps with what went in, packet by packet.

import (
	"bytes"
	"net"
	"sort"
	"testing"

	"github.com/steer-router/steer/pkg/trafgen"
)

// Index maps each tag to the input frame that carried it.
type Index map[trafgen.Tag][]byte

// NewIndex indexes frames by tag; every frame must carry a unique tag.
func NewIndex(t testing.TB, frames ...[][]byte) Index {
	t.Helper()
	ix := Index{}
	for _, fs := range frames {
		for _, f := range fs {
			in, _ := trafgen.Parse(f)
			if !in.HasTag {
				t.Fatalf("input frame without tag: % x", f)
			}
			if _, dup := ix[in.Tag]; dup {
				t.Fatalf("two input frames with tag %+v", in.Tag)
			}
			ix[in.Tag] = f
		}
	}
	return ix
}

// Expect is how a forwarded frame must leave: from srcMAC (the egress
// port) to dstMAC (the next hop's neighbour entry).
type Expect struct {
	SrcMAC, DstMAC net.HardwareAddr
}

// CheckForwarded compares every output frame with the input frame of the
// same tag: MACs rewritten as exp says, TTL one less, a valid header
// checksum, every other byte identical; no duplicates; per-flow sequence
// numbers strictly increasing. It returns the tags seen, and reports at
// most a few problems of each kind.
func CheckForwarded(t testing.TB, port string, out [][]byte, in Index, exp Expect) map[trafgen.Tag]bool {
	t.Helper()
	seen := map[trafgen.Tag]bool{}
	last := map[uint32]int64{}
	errs := map[string]int{}
	report := func(kind, format string, a ...any) {
		t.Helper()
		errs[kind]++
		if errs[kind] <= 3 {
			t.Errorf("%s: "+format, append([]any{port}, a...)...)
		}
	}
	for i, f := range out {
		info, _ := trafgen.Parse(f)
		if !info.HasTag {
			report("notag", "output frame %d has no tag: % x", i, f[:min(len(f), 64)])
			continue
		}
		tag := info.Tag
		orig, ok := in[tag]
		if !ok {
			report("unexpected", "output frame %d (flow %d seq %d) was not sent to this port's peer or must not be forwarded", i, tag.Flow, tag.Seq)
			continue
		}
		if seen[tag] {
			report("dup", "flow %d seq %d forwarded twice", tag.Flow, tag.Seq)
			continue
		}
		seen[tag] = true
		if l, ok := last[tag.Flow]; ok && int64(tag.Seq) <= l {
			report("order", "flow %d: seq %d after seq %d (reordered)", tag.Flow, tag.Seq, l)
		}
		last[tag.Flow] = int64(tag.Seq)
		if len(f) != len(orig) {
			report("len", "flow %d seq %d: %d bytes out, %d in", tag.Flow, tag.Seq, len(f), len(orig))
			continue
		}
		if !bytes.Equal(f[0:6], exp.DstMAC) || !bytes.Equal(f[6:12], exp.SrcMAC) {
			report("mac", "flow %d seq %d: MACs %v -> %v, want %v -> %v", tag.Flow, tag.Seq,
				net.HardwareAddr(f[6:12]), net.HardwareAddr(f[0:6]), exp.SrcMAC, exp.DstMAC)
		}
		oi, _ := trafgen.Parse(orig)
		if info.TTL != oi.TTL-1 {
			report("ttl", "flow %d seq %d: TTL %d, sent with %d", tag.Flow, tag.Seq, info.TTL, oi.TTL)
		}
		if !info.ChecksumOK {
			report("cksum", "flow %d seq %d: invalid IPv4 header checksum %#04x (want %#04x)", tag.Flow, tag.Seq,
				info.Checksum, trafgen.IPv4Checksum(info.IPHeader(f)))
		}
		// Everything from the EtherType on is unchanged but TTL and checksum.
		l3 := oi.L3
		for j := 12; j < len(f); j++ {
			if j == l3+8 || j == l3+10 || j == l3+11 {
				continue
			}
			if f[j] != orig[j] {
				report("bytes", "flow %d seq %d: byte %d is %#02x, sent %#02x", tag.Flow, tag.Seq, j, f[j], orig[j])
				break
			}
		}
	}
	for k, n := range errs {
		if n > 3 {
			t.Errorf("%s: %d more %q problems", port, n-3, k)
		}
	}
	return seen
}

// CheckAllSeen fails for every input tag missing from seen.
func CheckAllSeen(t testing.TB, port string, seen map[trafgen.Tag]bool, want Index) {
	t.Helper()
	var missing []trafgen.Tag
	for tag := range want {
		if !seen[tag] {
			missing = append(missing, tag)
		}
	}
	if len(missing) > 0 {
		sort.Slice(missing, func(i, j int) bool {
			return missing[i].Flow < missing[j].Flow || missing[i].Flow == missing[j].Flow && missing[i].Seq < missing[j].Seq
		})
		t.Errorf("%s: %d of %d packets missing from the output, e.g. %+v", port, len(missing), len(want), missing[:min(5, len(missing))])
	}
}
