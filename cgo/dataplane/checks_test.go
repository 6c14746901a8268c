package dataplane_test

import (
	"encoding/binary"
	"math/rand"
	"testing"

	"github.com/steer-router/steer/cgo/dataplane/dataplanetest"
	"github.com/steer-router/steer/pkg/fwd"
)

var portMAC = [6]byte{0x02, 0x70, 0x63, 0x61, 0x70, 0x00}

// checksum is the one's-complement sum of hdr, folded: a valid IPv4 header
// sums to 0xffff.
func checksum(hdr []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(hdr); i += 2 {
		s += uint32(binary.BigEndian.Uint16(hdr[i:]))
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

func ipv4Header(ttl uint8, src, dst [4]byte, opts int) []byte {
	h := make([]byte, 20+opts)
	h[0] = 0x40 | byte((20+opts)/4)
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)+8))
	h[8], h[9] = ttl, 17
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	binary.BigEndian.PutUint16(h[10:], ^checksum(h))
	return h
}

// frame builds Ethernet + IPv4 header + 8 bytes of payload.
// srcMAC sets a frame's source MAC.
func srcMAC(f []byte, mac [6]byte) []byte {
	f = append([]byte{}, f...)
	copy(f[6:], mac[:])
	return f
}

func frame(dstMAC [6]byte, ip []byte) []byte {
	f := append(append(append([]byte{}, dstMAC[:]...), 2, 0, 0, 0, 0, 9, 0x08, 0x00), ip...)
	return append(f, make([]byte, 8)...)
}

func TestTTLDecrementKeepsChecksumValid(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 200000; i++ {
		var src, dst [4]byte
		rng.Read(src[:])
		rng.Read(dst[:])
		ttl := uint8(2 + rng.Intn(254))
		h := ipv4Header(ttl, src, dst, 0)
		binary.BigEndian.PutUint16(h[4:], uint16(rng.Intn(65536))) // vary the id field
		binary.BigEndian.PutUint16(h[10:], 0)
		binary.BigEndian.PutUint16(h[10:], ^checksum(h))
		out := dataplanetest.TTLDecrement(h)
		if out[8] != ttl-1 {
			t.Fatalf("TTL %d became %d", ttl, out[8])
		}
		if c := checksum(out); c != 0xffff {
			t.Fatalf("header %x: checksum after decrement sums to %#x, want 0xffff", h, c)
		}
		// Everything but TTL and checksum is untouched.
		for j := range h {
			if j != 8 && j != 10 && j != 11 && out[j] != h[j] {
				t.Fatalf("byte %d changed: %#x -> %#x", j, h[j], out[j])
			}
		}
	}
}

// RFC 1624 exists because RFC 1141's update goes wrong when the checksum
// field is one of the two zeros of one's complement (0x0000 / 0xffff). For
// every TTL, find a header with such a checksum and check it stays valid.
func TestTTLDecrementChecksumCorner(t *testing.T) {
	for ttl := 2; ttl < 256; ttl++ {
		h := ipv4Header(uint8(ttl), [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 0)
		found := false
		for id := 0; id < 65536 && !found; id++ {
			binary.BigEndian.PutUint16(h[4:], uint16(id))
			binary.BigEndian.PutUint16(h[10:], 0)
			c := ^checksum(h)
			if c == 0 || c == 0xffff {
				binary.BigEndian.PutUint16(h[10:], c)
				if got := checksum(dataplanetest.TTLDecrement(h)); got != 0xffff {
					t.Fatalf("ttl %d id %d checksum %#x: after decrement sums to %#x", ttl, id, c, got)
				}
				found = true
			}
		}
		if !found {
			t.Fatalf("ttl %d: no id gives a zero checksum field; the corner was not tested", ttl)
		}
	}
}

func TestClassify(t *testing.T) {
	other := [6]byte{0x02, 0, 0, 0, 0, 0x99}
	bcast := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	good := ipv4Header(64, [4]byte{10, 0, 0, 2}, [4]byte{198, 51, 100, 7}, 0)
	mod := func(f func(h []byte), fix bool) []byte {
		h := append([]byte{}, good...)
		f(h)
		if fix {
			binary.BigEndian.PutUint16(h[10:], 0)
			binary.BigEndian.PutUint16(h[10:], ^checksum(h[:int(h[0]&0xf)*4]))
		}
		return h
	}
	arp := frame(bcast, good)
	arp[12], arp[13] = 0x08, 0x06
	ipv6 := frame(portMAC, good)
	ipv6[12], ipv6[13] = 0x86, 0xdd
	vlan := frame(portMAC, good)
	vlan[12], vlan[13] = 0x81, 0x00

	cases := []struct {
		name   string
		frame  []byte
		pktLen int
		want   dataplanetest.Verdict
	}{
		{"forwardable", frame(portMAC, good), -1, dataplanetest.Verdict{Lookup: true, Dst: 0xc6336407}},
		{"link broadcast", frame(bcast, good), -1, dataplanetest.Verdict{Lookup: true, L2Bcast: true, Dst: 0xc6336407}},
		{"options", frame(portMAC, ipv4Header(64, [4]byte{10, 0, 0, 2}, [4]byte{198, 51, 100, 7}, 4)), -1, dataplanetest.Verdict{Lookup: true, Options: true, Dst: 0xc6336407}},
		{"arp", arp, -1, dataplanetest.Verdict{IsSlow: true, Slow: fwd.SlowARP}},
		{"ipv6", ipv6, -1, dataplanetest.Verdict{Drop: fwd.DropUnknownEthertype}},
		{"vlan", vlan, -1, dataplanetest.Verdict{Drop: fwd.DropUnknownEthertype}},
		{"too short for ethernet", frame(portMAC, good)[:10], -1, dataplanetest.Verdict{Drop: fwd.DropRunt}},
		{"too short for ipv4", frame(portMAC, good)[:30], -1, dataplanetest.Verdict{Drop: fwd.DropRunt}},
		{"other host", frame(other, good), -1, dataplanetest.Verdict{Drop: fwd.DropL2OtherHost}},
		{"from a broadcast MAC", srcMAC(frame(portMAC, good), bcast), -1, dataplanetest.Verdict{Drop: fwd.DropLinkSource}},
		{"from a multicast MAC", srcMAC(frame(portMAC, good), [6]byte{0x01, 0, 0x5e, 0, 0, 1}), -1, dataplanetest.Verdict{Drop: fwd.DropLinkSource}},
		{"from the zero MAC", srcMAC(frame(portMAC, good), [6]byte{}), -1, dataplanetest.Verdict{Drop: fwd.DropLinkSource}},
		{"arp from a broadcast MAC", srcMAC(arp, bcast), -1, dataplanetest.Verdict{Drop: fwd.DropLinkSource}},
		{"arp for other host", func() []byte { f := frame(other, good); f[12], f[13] = 0x08, 0x06; return f }(), -1, dataplanetest.Verdict{Drop: fwd.DropL2OtherHost}},
		{"version 6 in ipv4 frame", frame(portMAC, mod(func(h []byte) { h[0] = 0x65 }, true)), -1, dataplanetest.Verdict{Drop: fwd.DropBadVersion}},
		{"ihl 4", frame(portMAC, mod(func(h []byte) { h[0] = 0x44 }, false)), -1, dataplanetest.Verdict{Drop: fwd.DropBadIHL}},
		{"bad checksum", frame(portMAC, mod(func(h []byte) { h[10] ^= 0x55 }, false)), -1, dataplanetest.Verdict{Drop: fwd.DropBadChecksum}},
		{"total length < header", frame(portMAC, mod(func(h []byte) { binary.BigEndian.PutUint16(h[2:], 19) }, true)), -1, dataplanetest.Verdict{Drop: fwd.DropBadLength}},
		{"total length > frame", frame(portMAC, mod(func(h []byte) { binary.BigEndian.PutUint16(h[2:], 200) }, true)), -1, dataplanetest.Verdict{Drop: fwd.DropBadLength}},
		{"ihl beyond frame", frame(portMAC, mod(func(h []byte) { h[0] = 0x4f }, false))[:40], -1, dataplanetest.Verdict{Drop: fwd.DropBadLength}},
		{"src 0/8", frame(portMAC, mod(func(h []byte) { h[12] = 0 }, true)), -1, dataplanetest.Verdict{Drop: fwd.DropMartianSource}},
		{"src loopback", frame(portMAC, mod(func(h []byte) { h[12] = 127 }, true)), -1, dataplanetest.Verdict{Drop: fwd.DropMartianSource}},
		{"src multicast", frame(portMAC, mod(func(h []byte) { h[12] = 224 }, true)), -1, dataplanetest.Verdict{Drop: fwd.DropMartianSource}},
		{"src class E", frame(portMAC, mod(func(h []byte) { h[12] = 250 }, true)), -1, dataplanetest.Verdict{Drop: fwd.DropMartianSource}},
		{"dst limited broadcast", frame(bcast, mod(func(h []byte) { copy(h[16:], []byte{255, 255, 255, 255}) }, true)), -1, dataplanetest.Verdict{IsSlow: true, Slow: fwd.SlowLocal}},
		{"dst loopback", frame(portMAC, mod(func(h []byte) { h[16] = 127 }, true)), -1, dataplanetest.Verdict{Drop: fwd.DropMartianDestination}},
		{"dst 0/8", frame(portMAC, mod(func(h []byte) { h[16] = 0 }, true)), -1, dataplanetest.Verdict{Drop: fwd.DropMartianDestination}},
		{"dst class E", frame(portMAC, mod(func(h []byte) { h[16] = 241 }, true)), -1, dataplanetest.Verdict{Drop: fwd.DropMartianDestination}},
		{"dst multicast", frame(portMAC, mod(func(h []byte) { h[16] = 239 }, true)), -1, dataplanetest.Verdict{Drop: fwd.DropMulticast}},
	}
	for _, c := range cases {
		got := dataplanetest.Classify(c.frame, c.pktLen, portMAC, 0)
		if got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// The NIC's checksum verdict replaces ours: GOOD skips the sum (so a header
// we would reject still passes: proof the sum was skipped), BAD drops.
func TestClassifyTrustsHardwareChecksum(t *testing.T) {
	good := frame(portMAC, ipv4Header(64, [4]byte{10, 0, 0, 2}, [4]byte{198, 51, 100, 7}, 0))
	broken := append([]byte{}, good...)
	broken[14+10] ^= 0x55
	if v := dataplanetest.Classify(broken, -1, portMAC, 1); !v.Lookup {
		t.Errorf("NIC said good: %+v, want lookup", v)
	}
	if v := dataplanetest.Classify(good, -1, portMAC, -1); v.Fate() != "bad_checksum" {
		t.Errorf("NIC said bad: %+v, want bad_checksum", v)
	}
	if v := dataplanetest.Classify(broken, -1, portMAC, 0); v.Fate() != "bad_checksum" {
		t.Errorf("NIC did not check: %+v, want bad_checksum", v)
	}
}

// The divisibility test (sum of 32-bit words mod 65535) agrees with a
// byte-wise one's-complement sum on random headers with and without options,
// valid and corrupted anywhere past the length fields, including the
// 0x0000 <-> 0xffff swap that no Internet checksum can see.
func TestHeaderChecksumFastPath(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 200000; i++ {
		opts := 4 * rng.Intn(11)
		h := ipv4Header(uint8(1+rng.Intn(255)), [4]byte{10, byte(rng.Intn(256)), 0, 2}, [4]byte{198, 51, byte(rng.Intn(256)), 7}, opts)
		for j := 20; j < len(h); j++ {
			h[j] = byte(rng.Intn(256))
		}
		binary.BigEndian.PutUint16(h[10:], 0)
		binary.BigEndian.PutUint16(h[10:], ^checksum(h))
		switch rng.Intn(4) {
		case 0: // one byte changed
			h[4+rng.Intn(len(h)-4)] ^= byte(1 + rng.Intn(255))
		case 1: // a word that sums to 0 either way
			w := 4 + 2*rng.Intn((len(h)-4)/2)
			if v := binary.BigEndian.Uint16(h[w:]); v == 0 || v == 0xffff {
				binary.BigEndian.PutUint16(h[w:], ^v)
			}
		case 2: // two words changed
			h[4+rng.Intn(len(h)-4)] += byte(rng.Intn(256))
			h[4+rng.Intn(len(h)-4)] -= byte(rng.Intn(256))
		}
		v := dataplanetest.Classify(frame(portMAC, h), -1, portMAC, 0)
		valid := checksum(h) == 0xffff
		if valid == (v.Fate() == "bad_checksum") {
			t.Fatalf("header %x (valid %v): verdict %+v", h, valid, v)
		}
		if valid && v.Lookup && v.Options != (opts > 0) {
			t.Fatalf("header %x: verdict %+v, options %d", h, v, opts)
		}
	}
}
