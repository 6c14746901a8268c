// Package icmp builds the ICMPv4 messages the router's slow path originates:
// echo replies (RFC 792, RFC 1122 section 3.2.2.6, RFC 1812 section 4.3.3.6)
// and error messages (RFC 792, RFC 1812 section 4.3.2), with the RFC 1812
// section 4.3.2.7 rules about when an error may not be sent and a token
// bucket for the rate limit section 4.3.2.8 asks for.
//
// It is frame-free: inputs and outputs are IPv4 packets starting at the IP
// header; the caller strips and adds Ethernet. Bytes after the IPv4 total
// length (Ethernet padding) are ignored. Outputs are freshly allocated and
// never alias an input. IPv4 header parsing, checksums and TTL decrement live
// in package ipv4.
//
// Choices for the IP header of what this package builds:
//   - TTL 64 (the IANA-recommended default, RFC 1700 / RFC 1812 section 4.2.2.9
//     only asks for a reasonable value).
//   - A fresh IP ID from a per-process counter with a random start; DF clear,
//     so the message can be fragmented if the path needs it.
//   - No IP options.
//   - Errors: TOS byte 0xc0, precedence 6 (internetwork control) as RFC 1812
//     section 4.3.2.5 says errors other than Source Quench SHOULD use, with
//     the TOS bits at their default 0000 (RFC 1349 section 5.1) and ECN
//     Not-ECT.
//   - Echo replies: the request's precedence and TOS (RFC 1812 section
//     4.3.2.5 MUST, RFC 1349 section 5.1), i.e. the request's TOS byte with
//     the two ECN bits cleared: the reply does not come from an ECN-capable
//     transport (RFC 3168).
package icmp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/steer-router/steer/pkg/ipv4"
)

// ICMP types used here (RFC 792).
const (
	TypeEchoReply      = 0
	TypeDestUnreach    = 3
	TypeSourceQuench   = 4
	TypeRedirect       = 5
	TypeEchoRequest    = 8
	TypeTimeExceeded   = 11
	TypeParamProblem   = 12
	headerLen          = 8   // type, code, checksum, 4-byte rest of header
	maxErrorPacket     = 576 // RFC 1812 4.3.2.3: whole IP datagram of the error
	defaultTTL         = 64
	errorTOS           = 0xc0 // precedence 6, TOS 0000, ECN 00
	ecnMask            = 0x03
	maxQuotedByAnError = maxErrorPacket - ipv4.MinHeaderLen - headerLen // 548
)

// Kind is an ICMP type and code.
type Kind struct{ Type, Code uint8 }

func (k Kind) String() string { return fmt.Sprintf("icmp(%d/%d)", k.Type, k.Code) }

// The error kinds a router sends (RFC 792, RFC 1812 section 4.3.2).
var (
	TimeExceeded        = Kind{TypeTimeExceeded, 0} // TTL exceeded in transit
	NetUnreachable      = Kind{TypeDestUnreach, 0}
	HostUnreachable     = Kind{TypeDestUnreach, 1}
	ProtocolUnreachable = Kind{TypeDestUnreach, 2}
	PortUnreachable     = Kind{TypeDestUnreach, 3}
	FragmentationNeeded = Kind{TypeDestUnreach, 4} // and DF set; carries the next-hop MTU (RFC 1191)
	SourceRouteFailed   = Kind{TypeDestUnreach, 5}
	ParameterProblem    = Kind{TypeParamProblem, 0} // carries the offending octet's offset (RFC 792)
)

// Errors from EchoReply and Error, wrapped with details (use errors.Is).
// IPv4 header problems wrap the ipv4 package's errors (ipv4.ErrChecksum,
// ipv4.ErrTruncated, ...). RFC 1122 section 3.2.2.6 and RFC 1812 ask for a
// silent discard in every case: count, don't answer.
var (
	ErrNotICMP        = errors.New("icmp: not an ICMP packet")
	ErrNotEchoRequest = errors.New("icmp: not an echo request")
	ErrChecksum       = errors.New("icmp: bad ICMP checksum")
	ErrTruncated      = errors.New("icmp: truncated ICMP message")
	ErrFragment       = errors.New("icmp: fragment (not reassembled)")
	ErrNotForUs       = errors.New("icmp: destination is not our address")
	ErrBadSource      = errors.New("icmp: source is not a unique host")
	ErrKind           = errors.New("icmp: not an error kind this router sends")
	ErrAddress        = errors.New("icmp: our address is not IPv4")
)

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

var ipID atomic.Uint32

func init() { ipID.Store(rand.Uint32()) }

func nextID() uint16 { return uint16(ipID.Add(1)) }

// EchoReply answers req, an IPv4 packet carrying an ICMP echo request
// addressed to ourIP, with the reply packet (RFC 792, RFC 1122 3.2.2.6): IP
// source ourIP, destination req's source, type 0 code 0, identifier,
// sequence number and data byte for byte as received, fresh ICMP and IP
// checksums (see the package doc for TTL, TOS, ID).
//
// It returns an error, and the caller should silently discard req, when the
// IP header is invalid, req is not ICMP, not an echo request, fails the ICMP
// checksum, is shorter than an ICMP header, is a fragment (nothing is
// reassembled), is not addressed to ourIP (so requests to a broadcast or
// multicast address get no reply, which RFC 1122 3.2.2.6 and RFC 1812
// 4.3.3.6 allow), or comes from an address that is not a unique host.
//
// The request's IP options are not copied: RFC 1122 3.2.2.6 says Record
// Route and Timestamp options SHOULD be updated and returned and a source
// route reversed; this implementation sends the reply without options.
func EchoReply(req []byte, ourIP netip.Addr) ([]byte, error) {
	if !ourIP.Is4() {
		return nil, fmt.Errorf("%w: %v", ErrAddress, ourIP)
	}
	h, err := ipv4.Parse(req)
	if err != nil {
		return nil, err
	}
	if h.Protocol != ipv4.ProtoICMP {
		return nil, fmt.Errorf("%w: protocol %d", ErrNotICMP, h.Protocol)
	}
	if h.IsFragment() {
		return nil, fmt.Errorf("%w: offset %d, more fragments %v", ErrFragment, int(h.FragOffset)*8, h.MF)
	}
	if h.Dst != ourIP {
		return nil, fmt.Errorf("%w: %v, we are %v", ErrNotForUs, h.Dst, ourIP)
	}
	if !uniqueHost(h.Src) {
		return nil, fmt.Errorf("%w: %v", ErrBadSource, h.Src)
	}
	msg := req[h.HeaderLen:h.TotalLen]
	if len(msg) < headerLen {
		return nil, fmt.Errorf("%w: %d bytes, the echo header needs %d", ErrTruncated, len(msg), headerLen)
	}
	if msg[0] != TypeEchoRequest {
		return nil, fmt.Errorf("%w: type %d code %d", ErrNotEchoRequest, msg[0], msg[1])
	}
	if s := ipv4.Sum(msg); s != 0xffff {
		return nil, fmt.Errorf("%w: message sums to %#04x, want 0xffff", ErrChecksum, s)
	}
	ic := layers.ICMPv4{
		TypeCode: layers.CreateICMPv4TypeCode(TypeEchoReply, 0),
		Id:       uint16(msg[4])<<8 | uint16(msg[5]),
		Seq:      uint16(msg[6])<<8 | uint16(msg[7]),
	}
	return build(ourIP, h.Src, h.TOS&^ecnMask, &ic, msg[headerLen:])
}

// Reasons returned by MayError, usable as counter labels.
const (
	ReasonTruncated = "truncated"  // shorter than its IP header or total length says, or no ICMP type to look at
	ReasonBadHeader = "bad_header" // fails another RFC 1812 5.2.2 check (version, IHL, checksum, total length)
	ReasonBroadcast = "broadcast"  // link-layer broadcast/multicast, or IP destination 255.255.255.255 or multicast
	ReasonFragment  = "fragment"   // not the first fragment
	ReasonBadSource = "bad_source" // source is not a unique host
	ReasonICMPError = "icmp_error" // is itself an ICMP error message
)

// MayError reports whether the router may send an ICMP error about orig, an
// IPv4 packet as received, and if not, why (one of the Reason constants).
// It applies RFC 1812 section 4.3.2.7 (RFC 1122 section 3.2.2): no error
// about
//   - a packet that fails the section 5.2.2 header checks (ReasonTruncated,
//     ReasonBadHeader),
//   - a packet received as a link-layer broadcast or multicast: the caller
//     passes linkBroadcast (ReasonBroadcast),
//   - a packet to an IP broadcast or multicast address: here 255.255.255.255
//     and 224.0.0.0/4 (ReasonBroadcast). Directed broadcasts of connected
//     subnets need the prefixes, so the caller checks those itself,
//   - a non-initial fragment, fragment offset != 0 (ReasonFragment),
//   - a packet whose source is not a unique host: 0.0.0.0/8 ("network
//     prefix of zero"), 127.0.0.0/8, 224.0.0.0/4 and 240.0.0.0/4 including
//     255.255.255.255 (section 5.3.7, 4.2.2.11) (ReasonBadSource). A source
//     that is a connected subnet's broadcast address is again the caller's
//     check,
//   - an ICMP error message: types 3, 4, 5, 11 and 12 (ReasonICMPError).
//     Queries (echo, timestamp, ...) and unknown types may get errors.
//
// Rate limiting (section 4.3.2.8) is separate: see Limiter.
func MayError(orig []byte, linkBroadcast bool) (bool, string) {
	h, err := ipv4.Parse(orig)
	if err != nil {
		if errors.Is(err, ipv4.ErrTruncated) {
			return false, ReasonTruncated
		}
		return false, ReasonBadHeader
	}
	if linkBroadcast || h.Dst == limitedBroadcast || h.Dst.IsMulticast() {
		return false, ReasonBroadcast
	}
	if h.FragOffset != 0 {
		return false, ReasonFragment
	}
	if !uniqueHost(h.Src) {
		return false, ReasonBadSource
	}
	if h.Protocol == ipv4.ProtoICMP {
		if int(h.TotalLen) <= h.HeaderLen {
			return false, ReasonTruncated
		}
		switch orig[h.HeaderLen] {
		case TypeDestUnreach, TypeSourceQuench, TypeRedirect, TypeTimeExceeded, TypeParamProblem:
			return false, ReasonICMPError
		}
	}
	return true, ""
}

// uniqueHost reports whether a may be the source of a packet we answer:
// not 0/8, 127/8, class D or class E (which holds 255.255.255.255).
func uniqueHost(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	return b[0] != 0 && b[0] != 127 && b[0] < 224
}

// Error builds the IPv4 packet carrying an ICMP error of kind k about orig,
// an IPv4 packet exactly as received (before any TTL decrement: RFC 1812
// 4.3.2.3 wants the quoted header as received). It does not apply the
// MayError rules or the rate limit: call those first.
//
// IP source is src: RFC 1812 4.3.2.4 says it MUST be one of the addresses
// of the interface the error is sent out of (normally the one orig arrived
// on). IP destination is orig's source. The ICMP data is orig's IP header,
// options included, and as much of its data as keeps the whole error
// packet within 576 bytes (RFC 1812 4.3.2.3), so orig is quoted in full up
// to 548 bytes, which always covers its header and first 8 data bytes.
//
// nextHopMTU is used for FragmentationNeeded only: it goes in the low 16
// bits of the otherwise unused word (RFC 1191 section 4); for other kinds
// that word is zero. ParameterProblem needs a pointer: use ErrorRest.
func Error(orig []byte, k Kind, src netip.Addr, nextHopMTU uint16) ([]byte, error) {
	var rest uint32
	if k == FragmentationNeeded {
		rest = uint32(nextHopMTU)
	}
	return ErrorRest(orig, k, src, rest)
}

// ErrorRest is Error with the 32-bit word after the checksum given in full:
// the next-hop MTU for FragmentationNeeded (low 16 bits), the octet pointer
// for ParameterProblem (uint32(ptr)<<24, RFC 792), the gateway for a
// redirect, zero otherwise. Only types 3, 5, 11 and 12 are built: Source
// Quench (4) is deprecated (RFC 6633) and routers SHOULD NOT send it (RFC
// 1812 4.3.3.3).
func ErrorRest(orig []byte, k Kind, src netip.Addr, rest uint32) ([]byte, error) {
	switch k.Type {
	case TypeDestUnreach, TypeRedirect, TypeTimeExceeded, TypeParamProblem:
	default:
		return nil, fmt.Errorf("%w: %v", ErrKind, k)
	}
	if !src.Is4() {
		return nil, fmt.Errorf("%w: %v", ErrAddress, src)
	}
	h, err := ipv4.Parse(orig)
	if err != nil {
		return nil, err
	}
	quote := orig[:min(int(h.TotalLen), maxQuotedByAnError)]
	ic := layers.ICMPv4{
		TypeCode: layers.CreateICMPv4TypeCode(k.Type, k.Code),
		Id:       uint16(rest >> 16),
		Seq:      uint16(rest),
	}
	return build(src, h.Src, errorTOS, &ic, quote)
}

// build serialises IPv4 (no options) + ICMP header + data with correct
// lengths and checksums.
func build(src, dst netip.Addr, tos uint8, ic *layers.ICMPv4, data []byte) ([]byte, error) {
	ip := layers.IPv4{
		Version:  4,
		TOS:      tos,
		Id:       nextID(),
		TTL:      defaultTTL,
		Protocol: layers.IPProtocolICMPv4,
		SrcIP:    src.AsSlice(),
		DstIP:    dst.AsSlice(),
	}
	buf := gopacket.NewSerializeBufferExpectedSize(ipv4.MinHeaderLen+headerLen+len(data), 0)
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, &ip, ic, gopacket.Payload(data)); err != nil {
		return nil, fmt.Errorf("icmp: serialise: %w", err)
	}
	return buf.Bytes(), nil
}
