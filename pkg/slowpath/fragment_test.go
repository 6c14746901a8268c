package slowpath

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/steer-router/steer/pkg/ipv4"
)

// Options used below: LSRR (type 0x83, copied), Record Route (0x07, not
// copied), Router Alert (0x94, copied), Timestamp (0x44, not copied).
var (
	optLSRR  = layers.IPv4Option{OptionType: 0x83, OptionLength: 7, OptionData: []byte{4, 10, 2, 0, 9}}
	optRR    = layers.IPv4Option{OptionType: 0x07, OptionLength: 7, OptionData: []byte{4, 0, 0, 0, 0}}
	optRA    = layers.IPv4Option{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}
	optTS    = layers.IPv4Option{OptionType: 0x44, OptionLength: 8, OptionData: []byte{5, 0, 0, 0, 0, 0}}
	optNOP   = layers.IPv4Option{OptionType: 1}
	optEOL   = layers.IPv4Option{OptionType: 0}
	lsrrWire = []byte{0x83, 7, 4, 10, 2, 0, 9}
	raWire   = []byte{0x94, 4, 0, 0}
)

func TestFragment(t *testing.T) {
	src, dst := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("10.2.0.20")
	for _, tc := range []struct {
		name    string
		options []layers.IPv4Option
		data    int
		mf      bool
		off     uint16 // 8-byte units
		mtu     int
		sizes   []int  // data bytes per fragment
		later   []byte // options of fragments after the first, padded
		wantErr bool
	}{
		{name: "no options", data: 1480, mtu: 600, sizes: []int{576, 576, 328}},
		{name: "exact multiple", data: 1152, mtu: 596, sizes: []int{576, 576}},
		{name: "odd tail", data: 1001, mtu: 500, sizes: []int{480, 480, 41}},
		{name: "8 bytes a fragment", data: 20, mtu: 28, sizes: []int{8, 8, 4}},
		{name: "mtu not 8-aligned", data: 100, mtu: 67, sizes: []int{40, 40, 20}},
		{name: "copied and uncopied options", options: []layers.IPv4Option{optNOP, optLSRR, optRR}, data: 1000, mtu: 500,
			// first header 36 bytes: 464 data; later headers 20+8: 472
			sizes: []int{464, 472, 64}, later: append(append([]byte{}, lsrrWire...), 0)},
		{name: "only uncopied options", options: []layers.IPv4Option{optRR, optTS}, data: 600, mtu: 300,
			sizes: []int{264, 280, 56}, later: nil},
		{name: "two copied options", options: []layers.IPv4Option{optRA, optRR, optLSRR}, data: 300, mtu: 200,
			// 4+7+7 = 18, padded 20: first header 40 (160 data); later 4+7 = 11 -> 12: 32 (168)
			sizes: []int{160, 140}, later: append(append(append([]byte{}, raWire...), lsrrWire...), 0)},
		{name: "options after end of list are not copied", options: []layers.IPv4Option{optEOL, optRA}, data: 100, mtu: 64,
			sizes: []int{32, 40, 28}, later: nil},
		{name: "fragment again", data: 1200, mf: true, off: 100, mtu: 500, sizes: []int{480, 480, 240}},
		{name: "last fragment again", data: 1001, off: 50, mtu: 600, sizes: []int{576, 425}},
		{name: "fragment again with options", options: []layers.IPv4Option{optRA}, data: 800, mf: true, off: 3, mtu: 424,
			sizes: []int{400, 400}, later: raWire},
		{name: "mtu below header and 8 bytes", data: 100, mtu: 27, wantErr: true},
		{name: "options too long for the mtu", options: []layers.IPv4Option{optLSRR, optRR}, data: 100, mtu: 39, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkt := ipRaw(t, ipSpec{src: src, dst: dst, proto: 17, ttl: 33, tos: 0x20, id: 0x4321, mf: tc.mf,
				fragOff: tc.off, options: tc.options}, pattern(tc.data))
			h, err := ipv4.Parse(pkt)
			if err != nil {
				t.Fatal(err)
			}
			orig := bytes.Clone(pkt)
			frags, err := fragment(pkt, h, tc.mtu)
			if !bytes.Equal(pkt, orig) {
				t.Error("fragment changed its input")
			}
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error; %d fragments", len(frags))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(frags) != len(tc.sizes) {
				t.Fatalf("%d fragments, want %d", len(frags), len(tc.sizes))
			}
			for i, f := range frags {
				fh, err := ipv4.Parse(f)
				if err != nil {
					t.Fatalf("fragment %d: %v", i, err)
				}
				if got := int(fh.TotalLen) - fh.HeaderLen; got != tc.sizes[i] {
					t.Errorf("fragment %d carries %d bytes, want %d", i, got, tc.sizes[i])
				}
				wantOpts := pkt[20:h.HeaderLen]
				if i > 0 {
					wantOpts = tc.later
				}
				if got := f[20:fh.HeaderLen]; !bytes.Equal(got, wantOpts) {
					t.Errorf("fragment %d options %x, want %x", i, got, wantOpts)
				}
			}
			if data := reassemble(t, pkt, frags, tc.mtu, 33, tc.mf); !bytes.Equal(data, pkt[h.HeaderLen:]) {
				t.Error("fragments do not reassemble to the original data")
			}
		})
	}
}

// Fragmenting a fragment again gives pieces that reassemble with the other
// fragments of the first round into the original packet.
func TestFragmentTwice(t *testing.T) {
	pkt := ipRaw(t, ipSpec{src: hostA, dst: hostC, proto: 17, ttl: 9, id: 7, options: []layers.IPv4Option{optLSRR, optRR}},
		pattern(3000))
	h, _ := ipv4.Parse(pkt)
	first, err := fragment(pkt, h, 1400)
	if err != nil {
		t.Fatal(err)
	}
	var all [][]byte
	for _, f := range first {
		fh, err := ipv4.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		again, err := fragment(f, fh, 300)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, again...)
	}
	for i, g := range all {
		// Only the very first fragment carries Record Route.
		want := 28
		if i == 0 {
			want = 36
		}
		if gh, _ := ipv4.Parse(g); gh.HeaderLen != want {
			t.Errorf("fragment %d has a %d-byte header, want %d", i, gh.HeaderLen, want)
		}
	}
	if data := reassemble(t, pkt, all, 300, 9, false); !bytes.Equal(data, pkt[h.HeaderLen:]) {
		t.Error("fragments of fragments do not reassemble to the original data")
	}
}

func TestCopiedOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte
	}{
		{"none", nil, nil},
		{"padding only", []byte{1, 1, 1, 0}, nil},
		{"copied", []byte{0x94, 4, 0, 0}, []byte{0x94, 4, 0, 0}},
		{"not copied", []byte{0x07, 3, 4, 0}, nil},
		{"mixed", []byte{0x07, 3, 4, 0x83, 3, 4, 0x89, 3, 4, 1, 1, 0}, []byte{0x83, 3, 4, 0x89, 3, 4, 0, 0}},
		{"end of list stops", []byte{0, 0x94, 4, 0, 0, 0, 0, 0}, nil},
		{"length 0", []byte{0x94, 0, 0x94, 4, 0, 0, 0, 0}, nil},
		{"length 1", []byte{0x83, 1, 0, 0}, nil},
		{"length beyond the options", []byte{0x94, 4, 0, 0, 0x83, 9, 4, 0}, []byte{0x94, 4, 0, 0}},
		{"type without length", []byte{1, 1, 1, 0x83}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := copiedOptions(tc.in); !bytes.Equal(got, tc.want) {
				t.Errorf("copiedOptions(%x) = %x, want %x", tc.in, got, tc.want)
			}
		})
	}
}
