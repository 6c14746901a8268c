// Package ipv4 holds the few IPv4 header helpers the slow path shares:
// header parsing with the RFC 1812 section 5.2.2 validation, the Internet
// checksum (RFC 1071) and a TTL decrement with the RFC 1624 incremental
// checksum update.
//
// Everything here works on a packet that starts at the IPv4 header; link
// layer framing is the caller's business. Nothing keeps a reference to the
// caller's buffer.
package ipv4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// MinHeaderLen is the length of a header without options.
const MinHeaderLen = 20

// Protocol numbers used by the slow path.
const (
	ProtoICMP = 1
	ProtoTCP  = 6
	ProtoUDP  = 17
)

// Errors returned by Parse, one per RFC 1812 5.2.2 check. They are wrapped
// with the details; test with errors.Is.
var (
	ErrTruncated   = errors.New("ipv4: truncated")
	ErrVersion     = errors.New("ipv4: bad version")
	ErrIHL         = errors.New("ipv4: bad header length")
	ErrChecksum    = errors.New("ipv4: bad header checksum")
	ErrTotalLength = errors.New("ipv4: bad total length")
)

// Header is a parsed IPv4 header. Options are not decoded: HeaderLen says
// how many bytes the header (options included) takes.
type Header struct {
	HeaderLen  int    // IHL*4, in bytes, 20..60
	TOS        uint8  // whole byte: DSCP/precedence and ECN
	TotalLen   uint16 // header + payload, in bytes
	ID         uint16
	DF, MF     bool   // don't fragment, more fragments
	FragOffset uint16 // in 8-byte units, as on the wire
	TTL        uint8
	Protocol   uint8
	Checksum   uint16
	Src, Dst   netip.Addr
}

// IsFragment reports whether the packet is a fragment (first or later).
func (h Header) IsFragment() bool { return h.MF || h.FragOffset != 0 }

// Parse parses and validates the IPv4 header at the start of b as RFC 1812
// section 5.2.2 asks a router to: at least 20 bytes, version 4, IHL >= 5,
// a correct header checksum, and a total length covering the header and not
// beyond the bytes present. Bytes after TotalLen (Ethernet padding) are
// allowed and ignored.
func Parse(b []byte) (Header, error) {
	var h Header
	if len(b) < MinHeaderLen {
		return h, fmt.Errorf("%w: %d bytes, a header needs %d", ErrTruncated, len(b), MinHeaderLen)
	}
	if v := b[0] >> 4; v != 4 {
		return h, fmt.Errorf("%w: %d", ErrVersion, v)
	}
	h.HeaderLen = int(b[0]&0x0f) * 4
	if h.HeaderLen < MinHeaderLen {
		return h, fmt.Errorf("%w: IHL %d < 5", ErrIHL, h.HeaderLen/4)
	}
	if len(b) < h.HeaderLen {
		return h, fmt.Errorf("%w: %d bytes, IHL says the header has %d", ErrTruncated, len(b), h.HeaderLen)
	}
	if s := sum(b[:h.HeaderLen], 0); s != 0xffff {
		return h, fmt.Errorf("%w: sums to %#04x, want 0xffff", ErrChecksum, s)
	}
	h.TotalLen = binary.BigEndian.Uint16(b[2:4])
	if int(h.TotalLen) < h.HeaderLen {
		return h, fmt.Errorf("%w: %d, shorter than the %d-byte header", ErrTotalLength, h.TotalLen, h.HeaderLen)
	}
	if int(h.TotalLen) > len(b) {
		return h, fmt.Errorf("%w: total length %d, only %d bytes present", ErrTruncated, h.TotalLen, len(b))
	}
	h.TOS = b[1]
	h.ID = binary.BigEndian.Uint16(b[4:6])
	ff := binary.BigEndian.Uint16(b[6:8])
	h.DF = ff&0x4000 != 0
	h.MF = ff&0x2000 != 0
	h.FragOffset = ff & 0x1fff
	h.TTL = b[8]
	h.Protocol = b[9]
	h.Checksum = binary.BigEndian.Uint16(b[10:12])
	h.Src = netip.AddrFrom4([4]byte(b[12:16]))
	h.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	return h, nil
}

// sum is the RFC 1071 one's complement sum of b (odd length padded with a
// zero byte) added to initial, folded to 16 bits. A block carrying a correct
// checksum sums to 0xffff.
func sum(b []byte, initial uint32) uint16 {
	s := uint64(initial)
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		s += uint64(b[i])<<8 | uint64(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint64(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// Sum returns the one's complement sum of b folded to 16 bits (RFC 1071).
// Data with a correct Internet checksum sums to 0xffff.
func Sum(b []byte) uint16 { return sum(b, 0) }

// Checksum returns the Internet checksum of b (RFC 1071): the one's
// complement of the one's complement sum, an odd length padded with a zero
// byte. Compute it with the checksum field zeroed and store it big-endian.
func Checksum(b []byte) uint16 { return ^sum(b, 0) }

// DecrementTTL lowers the TTL of the IPv4 header at the start of ip by one
// and updates the header checksum incrementally (RFC 1624 eqn. 3,
// HC' = ~(~HC + ~m + m'); for TTL-1 in the high byte of the TTL/protocol word
// ~m + m' is the constant 0xfeff). It returns false, changing nothing, when
// ip is shorter than 20 bytes or the TTL is already 0. It does not check the
// TTL against 1: whether a packet may be forwarded is the caller's decision
// (RFC 1812 5.3.1).
func DecrementTTL(ip []byte) bool {
	if len(ip) < MinHeaderLen || ip[8] == 0 {
		return false
	}
	ip[8]--
	s := uint32(^binary.BigEndian.Uint16(ip[10:12])) + 0xfeff
	s = s>>16 + s&0xffff
	binary.BigEndian.PutUint16(ip[10:12], ^uint16(s))
	return true
}

// Option types of RFC 791 this package looks into.
const (
	OptEnd         = 0
	OptNOP         = 1
	OptRecordRoute = 7
	OptTimestamp   = 68
	OptLSRR        = 131 // loose source and record route
	OptSSRR        = 137 // strict source and record route
)

// Options is what CheckOptions found in a header's options.
type Options struct {
	// Problem is the offset in the header of the first octet that makes
	// the options malformed (the pointer of an ICMP Parameter Problem,
	// RFC 1812 5.2.4, RFC 792), -1 when they are well formed.
	Problem int
	// SourceRoute: a loose or strict source route option is present.
	SourceRoute bool
}

// CheckOptions validates the options of hdr, a whole IPv4 header (its IHL
// bytes): every option but End and NOP has a length octet of at least 2
// that keeps it inside the header, and the pointer of a record route,
// source route or timestamp option is at least its minimum (RFC 791).
func CheckOptions(hdr []byte) Options {
	o := Options{Problem: -1}
	for i := MinHeaderLen; i < len(hdr); {
		switch typ := hdr[i]; typ {
		case OptEnd:
			return o
		case OptNOP:
			i++
			continue
		default:
			if i+1 >= len(hdr) || hdr[i+1] < 2 || i+int(hdr[i+1]) > len(hdr) {
				o.Problem = min(i+1, len(hdr)-1)
				return o
			}
			n := int(hdr[i+1])
			minPtr := 0
			switch typ {
			case OptRecordRoute, OptLSRR, OptSSRR:
				minPtr = 4
				o.SourceRoute = o.SourceRoute || typ != OptRecordRoute
			case OptTimestamp:
				minPtr = 5
			}
			if minPtr > 0 && (n < 3 || int(hdr[i+2]) < minPtr) {
				o.Problem = i + 2
				if n < 3 {
					o.Problem = i + 1
				}
				return o
			}
			i += n
		}
	}
	return o
}
