// Command steer-trafgen writes pcap files of tagged test traffic for steer:
// N flows of M packets each, every packet carrying (flow, sequence) in its
// payload, optionally malformed in one of the ways a router must catch.
//
//	steer-trafgen --out lan-in.pcap --dst-mac 02:70:63:61:70:00 \
//	    --src 10.0.0.2 --dst 198.51.100.0/24 --flows 16 --packets 5000 --size 64
package main

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/steer-router/steer/pkg/trafgen"
)

type options struct {
	out, srcMAC, dstMAC, src, dst, proto, mix, order, malform string
	flows, packets, size, ttl                                 int
	firstFlow                                                 uint32
	dstPort                                                   uint16
	seed                                                      uint64
	appendTo, quiet                                           bool
}

func main() {
	var o options
	cmd := &cobra.Command{
		Use:   "steer-trafgen --out FILE --dst-mac MAC --dst CIDR [flags]",
		Short: "write a pcap of tagged test traffic (flows x packets) for steer",
		Long: `steer-trafgen writes an Ethernet pcap file of IPv4 traffic: --flows flows of
--packets packets each, interleaved round robin (or at random with --order
random, each flow still in order). Flow i goes from the i-th host of --src to
the i-th host of --dst (hosts cycle; network and broadcast addresses are
skipped), from its own source port. Every payload starts with a 16-byte tag
(magic "STER", flow id, sequence number, check word) so a receiver can match
output to input and check per-flow order. Output is deterministic for a
given --seed.

--size counts the 4-byte FCS like testpmd and l3fwd do: --size 64 writes
60-byte frames. TCP frames are at least 74 bytes (headers + tag).

--malform applies one malformation to every packet written:
` + trafgen.MalformHelp() + `
Martian, multicast, broadcast and unrouted classes need no flag: choose the
addresses (--src 127.0.0.1, --dst 224.0.0.5/32, ...). Combine classes in one
file with --append.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          func(cmd *cobra.Command, _ []string) error { return run(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "out", "o", "", "pcap file to write (required)")
	f.StringVar(&o.dstMAC, "dst-mac", "", "destination MAC: the receiving port's MAC (required)")
	f.StringVar(&o.srcMAC, "src-mac", "02:00:00:00:00:01", "source MAC")
	f.StringVar(&o.src, "src", "10.0.0.2", "source address or CIDR (flow i uses its i-th host)")
	f.StringVar(&o.dst, "dst", "", "destination address or CIDR (flow i uses its i-th host) (required)")
	f.IntVar(&o.flows, "flows", 1, "number of flows")
	f.IntVar(&o.packets, "packets", 1, "packets per flow")
	f.IntVar(&o.size, "size", 64, "frame size in bytes including the 4-byte FCS (64 writes 60-byte frames)")
	f.StringVar(&o.mix, "mix", "", `size mix instead of --size: "imix" (7:4:1 of 64, 594, 1518)`)
	f.StringVar(&o.proto, "proto", "udp", "udp, tcp or icmp")
	f.Uint16Var(&o.dstPort, "dst-port", 5001, "UDP/TCP destination port")
	f.IntVar(&o.ttl, "ttl", 64, "IPv4 TTL")
	f.Uint32Var(&o.firstFlow, "first-flow", 0, "flow id of the first flow (keep ids unique across files)")
	f.StringVar(&o.order, "order", "rr", "rr (flows round robin) or random (seeded; per-flow order kept)")
	f.Uint64Var(&o.seed, "seed", 1, "seed for source ports, random order and IMIX sizes")
	f.StringVar(&o.malform, "malform", "", "malformation applied to every packet (see above)")
	f.BoolVar(&o.appendTo, "append", false, "keep the packets already in --out and add these after them")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on success")
	for _, req := range []string{"out", "dst-mac", "dst"} {
		_ = cmd.MarkFlagRequired(req)
	}
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "steer-trafgen:", err)
		os.Exit(1)
	}
}

func run(cmd *cobra.Command, o options) error {
	dstMAC, err := net.ParseMAC(o.dstMAC)
	if err != nil || len(dstMAC) != 6 {
		return fmt.Errorf("--dst-mac %q: not an Ethernet MAC", o.dstMAC)
	}
	srcMAC, err := net.ParseMAC(o.srcMAC)
	if err != nil || len(srcMAC) != 6 {
		return fmt.Errorf("--src-mac %q: not an Ethernet MAC", o.srcMAC)
	}
	src, err := trafgen.ParsePrefix(o.src)
	if err != nil || !src.Addr().Is4() {
		return fmt.Errorf("--src %q: not an IPv4 address or CIDR", o.src)
	}
	dst, err := trafgen.ParsePrefix(o.dst)
	if err != nil || !dst.Addr().Is4() {
		return fmt.Errorf("--dst %q: not an IPv4 address or CIDR", o.dst)
	}
	proto, err := trafgen.ParseProto(o.proto)
	if err != nil {
		return fmt.Errorf("--proto: %w", err)
	}
	if o.ttl < 0 || o.ttl > 255 {
		return fmt.Errorf("--ttl %d: want 0-255", o.ttl)
	}
	if o.size > trafgen.Snaplen {
		return fmt.Errorf("--size %d: larger than the pcap snap length", o.size)
	}
	flows := trafgen.Flows{
		SrcMAC: srcMAC, DstMAC: dstMAC, Src: src, Dst: dst,
		Flows: o.flows, PacketsPerFlow: o.packets, FirstFlow: o.firstFlow,
		Proto: proto, DstPort: o.dstPort, TTL: uint8(o.ttl), Size: o.size,
		Mix: o.mix, Order: o.order, Seed: o.seed, Malform: o.malform,
	}
	frames, err := flows.Frames()
	if err != nil {
		return err
	}
	var kept [][]byte
	if o.appendTo {
		kept, err = trafgen.ReadPcap(o.out)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--append: %w", err)
		}
	}
	all := append(kept, frames...)
	tmp := o.out + ".tmp"
	if err := trafgen.WritePcap(tmp, all); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, o.out); err != nil {
		return err
	}
	if !o.quiet {
		var bytes int
		for _, fr := range frames {
			bytes += len(fr)
		}
		what := o.proto
		if o.malform != "" {
			what += " " + o.malform
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s: wrote %d %s packets (%d flows x %d, %d bytes without FCS), %d in file\n",
			o.out, len(frames), what, o.flows, o.packets, bytes, len(all))
	}
	return nil
}
