package trafgen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"strings"

	"github.com/gopacket/gopacket/layers"
)

// Malformations trafgen can apply to a packet by name (Malform). The names
// of the classes a router counts are those of steer's drop and slow-path
// reasons; the rest are variations that are still forwarded.
var malforms = map[string]struct {
	help  string
	apply func(p *Packet)
}{
	"bad_checksum": {"wrong IPv4 header checksum", func(p *Packet) { p.BadChecksum = true }},
	"bad_version":  {"IP version nibble 6 in an IPv4 (0x0800) frame", func(p *Packet) { p.Version = 6 }},
	"bad_ihl":      {"IHL 4 (< 5)", func(p *Packet) { p.IHL = 4 }},
	"bad_length":   {"IPv4 total length larger than the frame", func(p *Packet) { p.TotalLen = 0xffff }},
	"short_length": {"IPv4 total length 19, smaller than the header", func(p *Packet) { p.TotalLen = 19 }},
	"runt":         {"frame cut to 30 bytes (< 14 + 20)", func(p *Packet) { p.Truncate = 30 }},
	"ttl_exceeded": {"TTL 1", func(p *Packet) { p.TTL = 1 }},
	"ttl0":         {"TTL 0", func(p *Packet) { p.TTL = 0 }},
	"ip_options":   {"IHL 6: four bytes of options (NOP NOP NOP EOL)", func(p *Packet) { p.Options = NOPOptions() }},
	"ipv6":         {"an IPv6 frame (addresses embedded in 64:ff9b::/96)", func(p *Packet) { p.Src, p.Dst = To6(p.Src), To6(p.Dst) }},
	"vlan":         {"802.1Q-tagged IPv4 frame, VLAN 100", func(p *Packet) { p.VLAN = 100 }},
	"arp":          {"ARP request from --src for --dst", func(p *Packet) { p.ARPOp = 1 }},
	"broadcast":    {"Ethernet broadcast destination MAC", func(p *Packet) { p.DstMAC = BroadcastMAC() }},
	"df":           {"DF set (still forwarded)", func(p *Packet) { p.DF = true }},
	"mf":           {"MF set: a first fragment (still forwarded)", func(p *Packet) { p.MF = true }},
}

// MalformNames lists the names Malform accepts, sorted.
func MalformNames() []string {
	var ns []string
	for n := range malforms {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// MalformHelp describes every malformation, one per line.
func MalformHelp() string {
	var b strings.Builder
	for _, n := range MalformNames() {
		fmt.Fprintf(&b, "  %-13s %s\n", n, malforms[n].help)
	}
	return b.String()
}

// Malform applies the named malformation to p.
func Malform(p *Packet, name string) error {
	m, ok := malforms[name]
	if !ok {
		return fmt.Errorf("unknown malformation %q (want one of %s)", name, strings.Join(MalformNames(), ", "))
	}
	m.apply(p)
	return nil
}

// NOPOptions is four bytes of IPv4 options: NOP NOP NOP EOL (IHL 6).
func NOPOptions() []layers.IPv4Option {
	return []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
}

// BroadcastMAC is ff:ff:ff:ff:ff:ff.
func BroadcastMAC() net.HardwareAddr { return net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} }

// To6 embeds an IPv4 address in 64:ff9b::/96 (RFC 6052); IPv6 stays.
func To6(a netip.Addr) netip.Addr {
	if !a.Is4() {
		return a
	}
	b := [16]byte{0, 0x64, 0xff, 0x9b}
	v4 := a.As4()
	copy(b[12:], v4[:])
	return netip.AddrFrom16(b)
}

// ParsePrefix accepts a CIDR ("198.51.100.0/24") or a bare address
// ("10.0.0.2", a /32).
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Host returns the i-th host address of an IPv4 prefix, cycling: a /32 is
// its one address, a /31 its two, anything larger skips the network and
// broadcast addresses.
func Host(p netip.Prefix, i int) netip.Addr {
	if !p.Addr().Is4() || p.Bits() >= 32 {
		return p.Addr()
	}
	size := uint64(1) << (32 - p.Bits())
	first := uint64(0)
	if size > 2 {
		first, size = 1, size-2
	}
	base := binary.BigEndian.Uint32(p.Masked().Addr().AsSlice())
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], base+uint32(first+uint64(i)%size))
	return netip.AddrFrom4(b)
}

// IMIX is the simple IMIX: 7:4:1 of 64, 594 and 1518-byte frames (IP
// packets of 46, 576 and 1500 bytes), sizes including the FCS.
var IMIX = []struct{ Size, Weight int }{{64, 7}, {594, 4}, {1518, 1}}

// Flows describes a set of flows to generate: flow i goes from Host(Src, i)
// to Host(Dst, i) with its own source port, and every packet carries the
// tag (FirstFlow+i, seq).
type Flows struct {
	SrcMAC, DstMAC net.HardwareAddr
	Src, Dst       netip.Prefix
	Flows          int
	PacketsPerFlow int
	FirstFlow      uint32
	Proto          Proto // UDP when zero
	DstPort        uint16
	TTL            uint8
	// Size is the frame size including the 4-byte FCS, like testpmd and
	// l3fwd count it: 64 writes 60-byte frames. 0 means 64. Frames never
	// shrink below headers + tag (TCP needs 74 bytes with the FCS).
	Size int
	Mix  string // "" (every frame Size) or "imix"
	// Order "rr" (the default) interleaves flows round robin; "random"
	// interleaves them at random, each flow still in sequence order.
	Order   string
	Seed    uint64
	Malform string // a name for Malform, applied to every packet
}

// Packets generates the packets in the order they go into a file.
func (f Flows) Packets() ([]Packet, error) {
	if f.Flows <= 0 || f.PacketsPerFlow <= 0 {
		return nil, fmt.Errorf("trafgen: need flows > 0 and packets > 0 (got %d, %d)", f.Flows, f.PacketsPerFlow)
	}
	if !f.Src.IsValid() || !f.Dst.IsValid() || !f.Src.Addr().Is4() || !f.Dst.Addr().Is4() {
		return nil, fmt.Errorf("trafgen: Src and Dst must be IPv4 prefixes (got %v, %v)", f.Src, f.Dst)
	}
	size := f.Size
	if size == 0 {
		size = 64
	}
	if size-FCS < MinFrame {
		return nil, fmt.Errorf("trafgen: size %d is below the 64-byte Ethernet minimum", size)
	}
	if f.Malform != "" {
		if _, ok := malforms[f.Malform]; !ok {
			return nil, Malform(&Packet{}, f.Malform)
		}
	}
	rng := rand.New(rand.NewPCG(f.Seed, 0x7374656572)) // "steer"
	var sizeOf func() int
	switch f.Mix {
	case "":
		sizeOf = func() int { return size }
	case "imix":
		total := 0
		for _, s := range IMIX {
			total += s.Weight
		}
		sizeOf = func() int {
			r := rng.IntN(total)
			for _, s := range IMIX {
				if r < s.Weight {
					return s.Size
				}
				r -= s.Weight
			}
			return size
		}
	default:
		return nil, fmt.Errorf("trafgen: unknown mix %q (want imix)", f.Mix)
	}
	dport := f.DstPort
	if dport == 0 {
		dport = 5001
	}
	sports := make([]uint16, f.Flows)
	for i := range sports {
		sports[i] = uint16(1024 + rng.IntN(65536-1024))
	}
	make1 := func(i int, seq uint32) (Packet, error) {
		tag := Tag{Flow: f.FirstFlow + uint32(i), Seq: seq}
		p := Packet{
			SrcMAC: f.SrcMAC, DstMAC: f.DstMAC, Src: Host(f.Src, i), Dst: Host(f.Dst, i),
			Proto: f.Proto, SrcPort: sports[i], DstPort: dport, TTL: f.TTL,
			ID: uint16(tag.Flow*7919 + seq), Tag: tag, FrameLen: sizeOf() - FCS,
		}
		if f.Malform != "" {
			if err := Malform(&p, f.Malform); err != nil {
				return p, err
			}
		}
		return p, nil
	}

	out := make([]Packet, 0, f.Flows*f.PacketsPerFlow)
	switch f.Order {
	case "", "rr":
		for s := 0; s < f.PacketsPerFlow; s++ {
			for i := 0; i < f.Flows; i++ {
				p, err := make1(i, uint32(s))
				if err != nil {
					return nil, err
				}
				out = append(out, p)
			}
		}
	case "random":
		live := make([]int, f.Flows) // flows with packets left
		next := make([]uint32, f.Flows)
		for i := range live {
			live[i] = i
		}
		for len(live) > 0 {
			k := rng.IntN(len(live))
			i := live[k]
			p, err := make1(i, next[i])
			if err != nil {
				return nil, err
			}
			out = append(out, p)
			next[i]++
			if int(next[i]) == f.PacketsPerFlow {
				live[k] = live[len(live)-1]
				live = live[:len(live)-1]
			}
		}
	default:
		return nil, fmt.Errorf("trafgen: unknown order %q (want rr or random)", f.Order)
	}
	return out, nil
}

// Frames generates and builds the packets.
func (f Flows) Frames() ([][]byte, error) {
	ps, err := f.Packets()
	if err != nil {
		return nil, err
	}
	return BuildAll(ps)
}

// BuildAll builds every packet.
func BuildAll(ps []Packet) ([][]byte, error) {
	out := make([][]byte, len(ps))
	for i := range ps {
		b, err := ps[i].Build()
		if err != nil {
			return nil, fmt.Errorf("packet %d (flow %d seq %d): %w", i, ps[i].Tag.Flow, ps[i].Tag.Seq, err)
		}
		out[i] = b
	}
	return out, nil
}
