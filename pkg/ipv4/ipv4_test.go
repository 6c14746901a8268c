package ipv4

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// header returns a valid 20-byte header (plus payload bytes of zero) with a
// correct checksum.
func header(ttl uint8, payload int) []byte {
	b := make([]byte, 20+payload)
	b[0] = 0x45
	b[1] = 0x10
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], 0x1234)
	binary.BigEndian.PutUint16(b[6:], 0x4000) // DF
	b[8] = ttl
	b[9] = ProtoUDP
	copy(b[12:], []byte{192, 0, 2, 1})
	copy(b[16:], []byte{198, 51, 100, 7})
	binary.BigEndian.PutUint16(b[10:], Checksum(b[:20]))
	return b
}

func TestChecksumKnownValue(t *testing.T) {
	// RFC 1071 section 3 example: the sum of these words is 0xddf2.
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := Sum(b); got != 0xddf2 {
		t.Fatalf("Sum = %#x, want 0xddf2", got)
	}
	if got := Checksum(b); got != ^uint16(0xddf2) {
		t.Fatalf("Checksum = %#x", got)
	}
	// Odd length: the last byte is padded with zero.
	if got, want := Sum([]byte{0x01, 0x02, 0x03}), uint16(0x0402); got != want {
		t.Fatalf("odd Sum = %#x, want %#x", got, want)
	}
	if Checksum(nil) != 0xffff {
		t.Fatal("checksum of nothing must be 0xffff")
	}
}

func TestChecksumMatchesGopacket(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200; n++ {
		b := make([]byte, r.IntN(3000))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		want := gopacket.FoldChecksum(gopacket.ComputeChecksum(b, 0))
		if got := Checksum(b); got != want {
			t.Fatalf("len %d: Checksum %#x, gopacket %#x", len(b), got, want)
		}
	}
}

func TestParse(t *testing.T) {
	b := header(17, 12)
	b = append(b, 0, 0, 0, 0) // Ethernet padding after TotalLen is fine
	h, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{HeaderLen: 20, TOS: 0x10, TotalLen: 32, ID: 0x1234, DF: true, TTL: 17, Protocol: ProtoUDP,
		Checksum: binary.BigEndian.Uint16(b[10:]),
		Src:      netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.7")}
	if h != want {
		t.Fatalf("got %+v\nwant %+v", h, want)
	}
	if h.IsFragment() {
		t.Fatal("DF only is not a fragment")
	}

	// Fragment fields and options.
	b = make([]byte, 28)
	b[0] = 0x46
	binary.BigEndian.PutUint16(b[2:], 28)
	binary.BigEndian.PutUint16(b[6:], 0x2000|185) // MF, offset 185*8
	b[20] = 1                                     // NOP, NOP, NOP, EOL
	b[21], b[22] = 1, 1
	binary.BigEndian.PutUint16(b[10:], Checksum(b[:24]))
	h, err = Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.HeaderLen != 24 || !h.MF || h.DF || h.FragOffset != 185 || !h.IsFragment() {
		t.Fatalf("got %+v", h)
	}
}

func TestParseErrors(t *testing.T) {
	fix := func(b []byte) []byte {
		ihl := int(b[0]&0xf) * 4
		if ihl > len(b) || ihl < 20 {
			ihl = 20
		}
		b[10], b[11] = 0, 0
		binary.BigEndian.PutUint16(b[10:], Checksum(b[:ihl]))
		return b
	}
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"19 bytes", header(64, 0)[:19], ErrTruncated},
		{"version 6", fix(func() []byte { b := header(64, 0); b[0] = 0x65; return b }()), ErrVersion},
		{"IHL 4", fix(func() []byte { b := header(64, 0); b[0] = 0x44; return b }()), ErrIHL},
		{"IHL beyond data", fix(func() []byte { b := header(64, 4); b[0] = 0x47; return b }()), ErrTruncated},
		{"checksum", func() []byte { b := header(64, 0); b[10] ^= 1; return b }(), ErrChecksum},
		{"total < header", fix(func() []byte { b := header(64, 0); b[3] = 19; return b }()), ErrTotalLength},
		{"total > data", fix(func() []byte { b := header(64, 8); b[3] = 29; return b }()), ErrTruncated},
	}
	for _, c := range cases {
		_, err := Parse(c.b)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

func TestDecrementTTL(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for ttl := 1; ttl < 256; ttl++ {
		for n := 0; n < 50; n++ {
			b := header(uint8(ttl), 0)
			for i := 12; i < 20; i++ { // vary the addresses so every checksum value shows up
				b[i] = byte(r.Uint32())
			}
			b[1] = byte(r.Uint32())
			b[10], b[11] = 0, 0
			binary.BigEndian.PutUint16(b[10:], Checksum(b[:20]))
			if !DecrementTTL(b) {
				t.Fatal("DecrementTTL refused")
			}
			if b[8] != uint8(ttl-1) {
				t.Fatalf("TTL %d after decrementing %d", b[8], ttl)
			}
			if s := Sum(b[:20]); s != 0xffff {
				t.Fatalf("TTL %d: header sums to %#x after decrement", ttl, s)
			}
			if _, err := Parse(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	b := header(0, 0)
	c := append([]byte(nil), b...)
	if DecrementTTL(b) || string(b) != string(c) {
		t.Fatal("TTL 0 must be left alone")
	}
	if DecrementTTL(make([]byte, 19)) {
		t.Fatal("short buffer must be refused")
	}
}

func TestParseAgreesWithGopacket(t *testing.T) {
	b := header(9, 30)
	h, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	p := gopacket.NewPacket(b, layers.LayerTypeIPv4, gopacket.Default)
	ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	if ip == nil {
		t.Fatal("gopacket did not decode IPv4")
	}
	if ip.TTL != h.TTL || ip.Length != h.TotalLen || ip.Id != h.ID || uint8(ip.Protocol) != h.Protocol ||
		!ip.SrcIP.Equal(h.Src.AsSlice()) || !ip.DstIP.Equal(h.Dst.AsSlice()) || int(ip.IHL)*4 != h.HeaderLen {
		t.Fatalf("gopacket %+v, ours %+v", ip, h)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(header(64, 0))
	f.Add(header(1, 40))
	f.Add([]byte{0x4f})
	f.Add(make([]byte, 60))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzOne(t, b)
		// Random bytes rarely carry a correct checksum: also try the input
		// with its checksum fixed, to reach the checks behind it.
		if len(b) >= MinHeaderLen {
			if hl := int(b[0]&0x0f) * 4; hl >= MinHeaderLen && hl <= len(b) {
				c := append([]byte(nil), b...)
				c[10], c[11] = 0, 0
				binary.BigEndian.PutUint16(c[10:], Checksum(c[:hl]))
				fuzzOne(t, c)
			}
		}
	})
}

func fuzzOne(t *testing.T, b []byte) {
	h, err := Parse(b)
	if err != nil {
		return
	}
	if h.HeaderLen < 20 || h.HeaderLen > 60 || int(h.TotalLen) > len(b) || int(h.TotalLen) < h.HeaderLen {
		t.Fatalf("accepted inconsistent header %+v for %d bytes", h, len(b))
	}
	if Sum(b[:h.HeaderLen]) != 0xffff {
		t.Fatal("accepted a bad checksum")
	}
	c := append([]byte(nil), b...)
	if DecrementTTL(c) {
		if Sum(c[:h.HeaderLen]) != 0xffff {
			t.Fatal("DecrementTTL broke the checksum")
		}
	}
}

func TestCheckOptions(t *testing.T) {
	hdr := func(opts ...byte) []byte {
		h := make([]byte, 20, 60)
		h[0] = 0x45
		return append(h, opts...)
	}
	cases := []struct {
		name    string
		hdr     []byte
		problem int
		sr      bool
	}{
		{"none", hdr(), -1, false},
		{"nops and end", hdr(1, 1, 1, 0), -1, false},
		{"record route", hdr(7, 7, 4, 0, 0, 0, 0, 0), -1, false},
		{"timestamp", hdr(68, 8, 5, 0, 0, 0, 0, 0), -1, false},
		{"loose source route", hdr(131, 7, 4, 10, 0, 0, 1, 0), -1, true},
		{"strict source route", hdr(1, 137, 7, 4, 10, 0, 0, 1), -1, true},
		{"length 0", hdr(7, 0, 4, 0), 21, false},
		{"length 1", hdr(1, 130, 1, 0), 22, false},
		{"past the header", hdr(131, 12, 4, 0, 0, 0, 0, 0), 21, false},
		{"length at the last octet", hdr(1, 1, 1, 7), 23, false},
		{"record route pointer 3", hdr(7, 7, 3, 0, 0, 0, 0, 0), 22, false},
		{"source route too short", hdr(137, 2, 0, 0), 21, false},
		{"timestamp pointer 4", hdr(68, 8, 4, 0, 0, 0, 0, 0), 22, false},
		{"after end ignored", hdr(0, 7, 0, 0), -1, false},
	}
	for _, c := range cases {
		got := CheckOptions(c.hdr)
		if got.Problem != c.problem || (c.problem < 0 && got.SourceRoute != c.sr) {
			t.Errorf("%s: %+v, want problem %d, source route %v", c.name, got, c.problem, c.sr)
		}
	}
}
