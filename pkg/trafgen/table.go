package trafgen

import (
	"math/rand/v2"
	"net/netip"
)

// TableMix is a prefix-length mix like a full Internet table's (most /24,
// then /22-/23, few shorter), plus a few longer prefixes, which need tbl8
// groups in a DIR24_8 FIB. Per mille of the prefixes, by length.
var TableMix = []struct {
	Bits   int
	Permil int
}{
	{16, 10}, {17, 5}, {18, 10}, {19, 20}, {20, 40}, {21, 40}, {22, 90}, {23, 90},
	{24, 660}, {25, 10}, {26, 10}, {27, 7}, {28, 8},
}

// RandomTable returns n distinct prefixes drawn from 1.0.0.0-223.255.255.255
// with TableMix's lengths, seeded so every run makes the same table.
func RandomTable(n int, seed uint64) []netip.Prefix {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	seen := make(map[netip.Prefix]struct{}, n)
	out := make([]netip.Prefix, 0, n)
	for len(out) < n {
		x := r.IntN(1000)
		bits := 24
		for _, m := range TableMix {
			if x < m.Permil {
				bits = m.Bits
				break
			}
			x -= m.Permil
		}
		v := uint32(1<<24) + r.Uint32N(223<<24)
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits).Masked()
		if _, dup := seen[p]; dup {
			continue
		}
		seen[p] = struct{}{}
		out = append(out, p)
	}
	return out
}
