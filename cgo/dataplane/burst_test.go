package dataplane_test

import (
	"encoding/binary"
	"maps"
	"math/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/steer-router/steer/cgo/dataplane"
	"github.com/steer-router/steer/cgo/dataplane/dataplanetest"
	"github.com/steer-router/steer/pkg/fwd"
)

// The burst loop's one-branch common case and the full RFC 1812 checks
// agree on random and mutated frames, both ways: what the common case
// passes is forwardable with the same destination, and every plainly
// forwardable frame (unicast to us, no options, within the smallest MTU)
// passes it, so the fast path never silently falls back to the slow one.
func TestClassifyCommonAgreesWithClassify(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	bcast := [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	octet := func() byte {
		switch rng.Intn(8) {
		case 0: // an edge of a martian range
			return []byte{0, 1, 126, 127, 128, 223, 224, 239, 240, 255}[rng.Intn(10)]
		default:
			return byte(rng.Intn(256))
		}
	}
	plainSeen, oddSeen := 0, 0
	for i := 0; i < 300000; i++ {
		h := ipv4Header(uint8(rng.Intn(256)), [4]byte{octet(), 2, 3, 4}, [4]byte{octet(), 51, 100, 7}, 0)
		f := frame(portMAC, h)
		if rng.Intn(3) == 0 { // IPv4 options
			f = frame(portMAC, ipv4Header(64, [4]byte{10, 0, 0, 2}, [4]byte{198, 51, 100, 7}, 4*(1+rng.Intn(10))))
		}
		f = append(f, make([]byte, rng.Intn(3)*700)...) // room for longer total lengths
		fix := true
		truncate := -1
		for m := rng.Intn(4); m > 0; m-- {
			switch rng.Intn(7) {
			case 0: // any byte of the headers the fast path reads
				f[rng.Intn(34)] ^= byte(1 + rng.Intn(255))
				fix = rng.Intn(2) == 0
			case 1: // total length: anything, or near the frame's
				tot := rng.Intn(2000)
				if rng.Intn(2) == 0 {
					tot = len(f) - 14 - rng.Intn(30) + 15
				}
				binary.BigEndian.PutUint16(f[16:], uint16(tot))
			case 2: // a shorter frame (after the checksum is fixed)
				cut := rng.Intn(len(f) + 1)
				truncate = cut
			case 3:
				copy(f, bcast[:])
			case 4: // a version/IHL or ethertype nearby
				f[14] = []byte{0x45, 0x46, 0x44, 0x4f, 0x55, 0x65}[rng.Intn(6)]
			case 5:
				f[12], f[13] = []byte{0x08, 0x08, 0x86, 0x81}[rng.Intn(4)], []byte{0x00, 0x06, 0xdd}[rng.Intn(3)]
			case 6: // a checksum that is off
				fix = false
				if len(f) > 25 {
					f[25] ^= 1
				}
			}
		}
		if fix && len(f) >= 34 {
			ihl := int(f[14]&0xf) * 4
			if ihl >= 20 && 14+ihl <= len(f) {
				binary.BigEndian.PutUint16(f[24:], 0)
				binary.BigEndian.PutUint16(f[24:], ^checksum(f[14:14+ihl]))
			}
		}
		if truncate >= 0 {
			f = f[:truncate]
		}
		pktLen := len(f)
		if rng.Intn(8) == 0 {
			pktLen += rng.Intn(100) // more segments
		}
		hw := rng.Intn(3) - 1
		if rng.Intn(2) == 0 {
			hw = 0
		}
		mtu := 68 + rng.Intn(1500)
		ok, dst := dataplanetest.ClassifyCommon(f, pktLen, portMAC, hw, mtu)
		full := dataplanetest.Classify(f, pktLen, portMAC, hw)
		// Plain: forwardable as it is, within the smallest MTU, and with
		// no bytes after the IP packet but a minimum frame's padding
		// (those are trimmed, a doubt stage 3 resolves).
		plain := full.Lookup && !full.L2Bcast && !full.Options
		if plain { // Lookup: the header is all there
			tot := int(binary.BigEndian.Uint16(f[16:]))
			excess := pktLen > 60 && pktLen-14 != tot
			plain = tot <= mtu && !excess
		}
		if ok != plain {
			t.Fatalf("frame %x (pkt_len %d, hw %d, min MTU %d): common case %v, classify %+v", f, pktLen, hw, mtu, ok, full)
		}
		if ok && dst != full.Dst {
			t.Fatalf("frame %x: common case dst %08x, classify %08x", f, dst, full.Dst)
		}
		if plain {
			plainSeen++
		} else {
			oddSeen++
		}
	}
	if plainSeen < 10000 || oddSeen < 10000 {
		t.Errorf("weak sample: %d plain, %d odd frames", plainSeen, oddSeen)
	}
}

// srcIP sets a frame's IPv4 source, its header checksum with it.
func srcIP(f []byte, src [4]byte) []byte {
	f = append([]byte{}, f...)
	copy(f[14+12:], src[:])
	binary.BigEndian.PutUint16(f[14+10:], 0)
	binary.BigEndian.PutUint16(f[14+10:], ^checksum(f[14:34]))
	return f
}

// sizedFrame is a frame to mac of an IPv4 packet of total length tot (a
// 20-byte header), valid checksum.
func sizedFrame(mac [6]byte, ttl uint8, dst [4]byte, tot int) []byte {
	h := ipv4Header(ttl, [4]byte{10, 0, 0, 2}, dst, 0)
	binary.BigEndian.PutUint16(h[2:], uint16(tot))
	binary.BigEndian.PutUint16(h[10:], 0)
	binary.BigEndian.PutUint16(h[10:], ^checksum(h))
	f := frame(mac, h)
	return append(f[:14+20], make([]byte, tot-20)...)
}

// Every version of the burst loop (prefetch or not, the NIC's checksum
// verdicts read or not) gives each packet the same fate, and only the NIC's
// verdict changes it when it is read: one burst of every case through a
// fresh lcore per version, counters compared, no mbuf left behind.
func TestBurstVersionsAgree(t *testing.T) {
	pool := newTestPool(t, "t_variant_pool", 1023)
	in, out := startPort(t, "net_null2", pool), startPort(t, "net_null3", pool)
	defer closePorts(t, in, out)
	dp := newTestDataplane(t)
	inMAC, _ := in.MAC()
	outMAC, _ := out.MAC()
	// The smallest MTU (1000, the ingress port's) is below the egress
	// port's: packets between the two take the closer look and still go.
	if err := dp.SetPort(uint16(in), inMAC, 1, 1000); err != nil {
		t.Fatal(err)
	}
	if err := dp.SetPort(uint16(out), outMAC, 1, 1500); err != nil {
		t.Fatal(err)
	}
	setTestFIB(t, dp, "t_variant", "198.51.100.0/24", uint16(out), hostMAC)
	// The router's address on the ingress port and its subnet's broadcast.
	for src, reason := range map[[4]byte]fwd.DropReason{{10, 0, 0, 1}: fwd.DropOwnSource, {10, 0, 0, 255}: fwd.DropBroadcastSource} {
		if err := dp.AddMartianSource(netip.AddrFrom4(src), reason); err != nil {
			t.Fatal(err)
		}
	}

	var mac [6]byte
	copy(mac[:], inMAC)
	routed, unrouted := [4]byte{198, 51, 100, 7}, [4]byte{203, 0, 113, 9}
	plain := sizedFrame(mac, 64, routed, 100)
	badSum := append([]byte{}, plain...)
	badSum[14+10] ^= 0x55
	bcast := sizedFrame([6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 64, routed, 100)
	arp := append([]byte{}, bcast[:60]...)
	arp[12], arp[13] = 0x08, 0x06
	cases := []struct {
		name  string
		frame []byte
		hw    int
		// fate without and with the NIC's verdict read: "tx", a drop or a slow-path reason
		fate, fateHW string
	}{
		{"plain", plain, 0, "tx", "tx"},
		{"plain again", plain, 0, "tx", "tx"},
		{"ttl 2", sizedFrame(mac, 2, routed, 100), 0, "tx", "tx"},
		{"ttl 1", sizedFrame(mac, 1, routed, 100), 0, "ttl_exceeded", "ttl_exceeded"},
		{"options", frame(mac, ipv4Header(64, [4]byte{10, 0, 0, 2}, routed, 4)), 0, "ip_options", "ip_options"},
		{"bad checksum", badSum, 0, "bad_checksum", "bad_checksum"},
		{"bad checksum the NIC calls good", badSum, 1, "bad_checksum", "tx"},
		{"good checksum the NIC calls bad", plain, -1, "tx", "bad_checksum"},
		{"no route", sizedFrame(mac, 64, unrouted, 100), 0, "no_route", "no_route"},
		{"above the smallest MTU", sizedFrame(mac, 64, routed, 1200), 0, "tx", "tx"},
		{"above the egress MTU", sizedFrame(mac, 64, routed, 1600), 0, "fragmentation_needed", "fragmentation_needed"},
		{"link broadcast", bcast, 0, "link_broadcast", "link_broadcast"},
		{"runt", plain[:30], 0, "runt", "runt"},
		{"from the router's own address", srcIP(plain, [4]byte{10, 0, 0, 1}), 0, "own_source", "own_source"},
		{"from a directed broadcast", srcIP(plain, [4]byte{10, 0, 0, 255}), 0, "broadcast_source", "broadcast_source"},
		{"from a group MAC", srcMAC(plain, [6]byte{0x03, 0, 0, 0, 0, 1}), 0, "link_source", "link_source"},
		{"bytes after the packet", append(append([]byte{}, plain...), make([]byte, 300)...), 0, "tx", "tx"},
		{"short runt", plain[:20], 0, "runt", "runt"},
		{"arp", arp, 0, "arp", "arp"},
		{"plain last", plain, 0, "tx", "tx"},
	}
	frames := make([][]byte, len(cases))
	hw := make([]int, len(cases))
	for i, c := range cases {
		frames[i], hw[i] = c.frame, c.hw
	}
	for lcore, q := range []dataplane.RxQueue{
		{}, {Prefetch: true}, {HWChecksum: true}, {Prefetch: true, HWChecksum: true},
	} {
		q.Port = uint16(in)
		lc, err := dp.AddLcore(lcore+1, 0, []dataplane.RxQueue{q}, -1)
		if err != nil {
			t.Fatal(err)
		}
		if err := dataplanetest.RxBurst(lc, 0, pool.Ptr(), frames, hw); err != nil {
			t.Fatal(err)
		}
		want := map[string]uint64{}
		for _, c := range cases {
			if q.HWChecksum {
				want[c.fateHW]++
			} else {
				want[c.fate]++
			}
		}
		c := lc.Counters()
		got := map[string]uint64{}
		if c.Tx > 0 {
			got["tx"] = c.Tx
		}
		for i, n := range c.Dropped {
			if n > 0 {
				got[fwd.DropReason(i).String()] = n
			}
		}
		for i, n := range c.SlowPath {
			if n > 0 {
				got[fwd.SlowReason(i).String()] = n
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("%+v: fates %v, want %v", q, got, want)
		}
		if n := pool.InUse(); n != 0 {
			t.Errorf("%+v: %d mbufs in use after the burst", q, n)
		}
	}
}

// TestTrimsBytesAfterThePacket: what follows the IP packet in a frame is
// not sent on (an 8,050-byte frame carrying a 36-byte packet left a
// 1,500-MTU port at 8,050 bytes before), but a minimum frame keeps its
// padding.
func TestTrimsBytesAfterThePacket(t *testing.T) {
	pool := newTestPool(t, "t_trim_pool", 1023)
	probeRing(t, "net_ring_trim0")
	probeRing(t, "net_ring_trim1")
	in, out := startPort(t, "net_ring_trim0", pool), startPort(t, "net_ring_trim1", pool)
	t.Cleanup(func() { closePorts(t, in, out) })
	inMAC, _ := in.MAC()
	outMAC, _ := out.MAC()
	dp := newTestDataplane(t)
	if err := dp.SetPort(uint16(in), inMAC, 1, 9000); err != nil {
		t.Fatal(err)
	}
	if err := dp.SetPort(uint16(out), outMAC, 1, 1500); err != nil {
		t.Fatal(err)
	}
	setTestFIB(t, dp, "t_trim", "198.51.100.0/24", uint16(out), hostMAC)
	l, err := dp.AddLcore(1, 0, []dataplane.RxQueue{{Port: uint16(in)}}, -1)
	if err != nil {
		t.Fatal(err)
	}
	var mac [6]byte
	copy(mac[:], inMAC)
	packet := sizedFrame(mac, 64, [4]byte{198, 51, 100, 7}, 36)        // 50 bytes
	padded := append(append([]byte{}, packet...), make([]byte, 10)...) // a minimum frame
	long := append(append([]byte{}, packet...), make([]byte, 1550)...) // above the egress MTU as a frame
	if n, err := dataplanetest.RingInject(dataplanetest.RingName("net_ring_trim0", 0), pool.Ptr(), [][]byte{long, padded}); err != nil || n != 2 {
		t.Fatalf("injected %d: %v", n, err)
	}
	if err := dp.Launch(); err != nil {
		t.Fatal(err)
	}
	if !eventually(2*time.Second, func() bool { return l.Counters().Tx == 2 }) {
		t.Fatalf("forwarded %d of 2: %+v", l.Counters().Tx, l.Counters())
	}
	if err := dp.Stop(); err != nil {
		t.Fatal(err)
	}
	got, err := dataplanetest.RingDrain(dataplanetest.RingName("net_ring_trim1", 0), 4)
	if err != nil || len(got) != 2 {
		t.Fatalf("sent %d frames: %v", len(got), err)
	}
	// RingDrain copies at most 128 bytes: lengths up to that are exact.
	if len(got[0]) != 60 || len(got[1]) != 60 {
		t.Errorf("sent %d and %d bytes, want 60 and 60 (14 + 36 of packet, padded to the minimum frame)", len(got[0]), len(got[1]))
	}
}
