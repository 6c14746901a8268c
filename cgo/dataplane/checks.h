/* The per-packet checks RFC 1812 asks of a router before it forwards, and
 * the header arithmetic of forwarding: the IPv4 header checksum, the TTL
 * decrement with its incremental checksum update. All static inline: the
 * burst loop (burst.c) pays no call for them.
 *
 * Two versions of the checks: classify_common() answers "plainly
 * forwardable?" in one pass and one branch, and classify() gives the exact
 * verdict, in the order RFC 1812 asks, for whatever the common case
 * doubts. A test holds them to agree over mutated frames. */
#ifndef STEER_CHECKS_H
#define STEER_CHECKS_H

#include <string.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf_core.h>

#include "reasons.h"

#define IPV4_MIN_HDR 20
#define ETH_IPV4_MIN (RTE_ETHER_HDR_LEN + IPV4_MIN_HDR)

/* Verdict of the per-packet checks before the route lookup. */
#define STEER_V_LOOKUP 0x000    /* forwardable so far: look the destination up */
#define STEER_V_DROP 0x100      /* | enum steer_drop */
#define STEER_V_SLOW 0x200      /* | enum steer_slow */
#define STEER_V_L2BCAST 0x400   /* with LOOKUP: arrived as link-layer broadcast */
#define STEER_V_OPTIONS 0x800   /* with LOOKUP: header has options */
#define STEER_V_CHECK 0x1000    /* with LOOKUP: the burst loop's common case doubted
				 * it (e.g. longer than the smallest MTU): stage 3
				 * decides with every check */
#define STEER_V_REASON(v) ((v) & 0xff)

/* RFC 1071: a header is intact when the one's-complement sum of its 16-bit
 * words is 0xffff. That sum is the plain integer sum folded with end-around
 * carries, and folding keeps the value modulo 65535 (2^16 = 1 mod 65535), so
 * the header is intact iff the plain sum of its words is a non-zero multiple
 * of 65535. 32-bit words keep that (2^16 = 1 again), byte order too (a
 * swapped word is 256 x the word, and 256 is invertible mod 65535), and the
 * sum is never 0: the version nibble is 4. Five 32-bit loads, four adds, and
 * a divisibility test the compiler turns into one multiply and a compare,
 * instead of a chain of carry folds. */
static inline int
ipv4_hdr_cksum_ok(const struct rte_ipv4_hdr *ip, uint32_t hlen)
{
	const uint8_t *p = (const uint8_t *)ip;
	uint64_t s = 0;
	uint32_t w;

	for (uint32_t off = 0; off < IPV4_MIN_HDR; off += 4) {
		memcpy(&w, p + off, 4);
		s += w;
	}
	if (unlikely(hlen != IPV4_MIN_HDR)) {
		for (uint32_t off = IPV4_MIN_HDR; off < hlen; off += 4) {
			memcpy(&w, p + off, 4);
			s += w;
		}
	}
	return s % 0xffff == 0;
}

/* RFC 1812 5.2.2 (header validation) and 5.3.7 (martian addresses), in the
 * order a router must apply them, ending with the destination to look up.
 * Link-layer length checks use data_len (headers must sit in the first
 * segment), the IP total length is checked against pkt_len. cksum_flags are
 * the mbuf's RX IP checksum flags: a NIC that verified the checksum saves
 * us the sum. */
static inline int
classify(const uint8_t *frame, uint32_t data_len, uint32_t pkt_len,
	 const struct rte_ether_addr *port_mac, uint64_t cksum_flags, uint32_t *dst_ip)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	int flags = 0;

	if (unlikely(data_len < RTE_ETHER_HDR_LEN))
		return STEER_V_DROP | STEER_DROP_RUNT;
	/* The L2 filter first: a unicast frame for another host is not ours,
	 * whatever it carries (a NIC not in promiscuous mode does this itself). */
	if (unlikely(!rte_is_unicast_ether_addr(&eth->dst_addr)))
		flags |= STEER_V_L2BCAST;
	else if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr, port_mac)))
		return STEER_V_DROP | STEER_DROP_L2_OTHER_HOST;
	/* 4.2.2.11 / 5.3.7: no host sends from a group or the zero address */
	if (unlikely(!rte_is_unicast_ether_addr(&eth->src_addr) || rte_is_zero_ether_addr(&eth->src_addr)))
		return STEER_V_DROP | STEER_DROP_LINK_SOURCE;
	if (unlikely(eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))) {
		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
			return STEER_V_SLOW | STEER_SLOW_ARP;
		return STEER_V_DROP | STEER_DROP_UNKNOWN_ETHERTYPE;
	}

	/* 5.2.2: link-layer length >= minimum IP header */
	if (unlikely(data_len < ETH_IPV4_MIN))
		return STEER_V_DROP | STEER_DROP_RUNT;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	uint8_t vihl = ip->version_ihl;
	if (unlikely((vihl >> 4) != 4))
		return STEER_V_DROP | STEER_DROP_BAD_VERSION;
	uint32_t hlen = (uint32_t)(vihl & 0xf) * 4;
	if (unlikely(hlen < IPV4_MIN_HDR))
		return STEER_V_DROP | STEER_DROP_BAD_IHL;
	if (unlikely(data_len < RTE_ETHER_HDR_LEN + hlen))
		return STEER_V_DROP | STEER_DROP_BAD_LENGTH;
	/* 5.2.2: checksum, unless the NIC has checked it */
	if (unlikely(cksum_flags != RTE_MBUF_F_RX_IP_CKSUM_GOOD)) {
		if (cksum_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD || !ipv4_hdr_cksum_ok(ip, hlen))
			return STEER_V_DROP | STEER_DROP_BAD_CHECKSUM;
	}
	/* 5.2.2: header length <= total length <= link-layer length */
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(tot < hlen || tot > pkt_len - RTE_ETHER_HDR_LEN))
		return STEER_V_DROP | STEER_DROP_BAD_LENGTH;

	/* 5.3.7: never forward from {0,*}, loopback, multicast or class E
	 * sources (255.255.255.255 is class E here). */
	uint32_t src = rte_be_to_cpu_32(ip->src_addr);
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	uint8_t s8 = src >> 24, d8 = dst >> 24;
	if (unlikely(s8 == 0 || s8 == 127 || s8 >= 224))
		return STEER_V_DROP | STEER_DROP_MARTIAN_SOURCE;
	/* 5.3.5.1: limited broadcast is never forwarded: it is for us */
	if (unlikely(dst == 0xffffffff))
		return STEER_V_SLOW | STEER_SLOW_LOCAL;
	if (unlikely(d8 == 0 || d8 == 127 || d8 >= 240))
		return STEER_V_DROP | STEER_DROP_MARTIAN_DESTINATION;
	if (unlikely(d8 >= 224))
		return STEER_V_DROP | STEER_DROP_MULTICAST;
	if (unlikely(hlen != IPV4_MIN_HDR))
		flags |= STEER_V_OPTIONS;
	*dst_ip = dst;
	return STEER_V_LOOKUP | flags;
}

/* RFC 1812 5.3.7 by the first octet of an address: 0/8, 127/8 and
 * 224/3 (multicast and class E, 255.255.255.255 included) are never a
 * source, and as a destination need a closer look (classify()). */
static const uint8_t octet_class[256] = {[0] = 1, [127] = 1, [224 ... 255] = 1};

/* A MAC as classify_common() sees it in a frame's first 8 bytes loaded
 * little-endian: the low 48 bits. */
static inline uint64_t
mac48_of(const uint8_t *mac)
{
	uint64_t v = 0;
	memcpy(&v, mac, RTE_ETHER_ADDR_LEN);
	return v;
}

/* The common case of classify() in one pass and one branch: unicast to the
 * port's MAC from a unicast, non-zero MAC, IPv4 without options, an intact
 * header, a total length between 20 and both the frame and the smallest
 * MTU, no bytes after the IP packet but a minimum frame's padding, no
 * martian address.
 * Any doubt returns 0 and classify() finds the exact verdict; a packet
 * above the smallest MTU is a doubt too, so that stage 3 can ignore MTUs.
 * frame must hold ETH_IPV4_MIN bytes.
 *
 * Instructions are what this costs (the loop retires ~5 a cycle): fields
 * are cut out of a few wide loads, the tests are or-ed into one branch,
 * and TTL is left to stage 3, which loads its word anyway. */
static inline int
classify_common(const uint8_t *frame, uint32_t pkt_len, uint64_t mac48, uint64_t cksum_flags,
		uint32_t mtu_less20, uint32_t *dst_ip)
{
	const uint8_t *ip = frame + RTE_ETHER_HDR_LEN;
	uint64_t a;
	uint32_t s4, e, w0, w1, w2, w3, w4;
	uint16_t tot_be;

	memcpy(&a, frame, 8);        /* destination MAC, 2 bytes of the source */
	memcpy(&s4, frame + 8, 4);   /* the source MAC's other 4 bytes */
	memcpy(&e, frame + 12, 4);   /* ethertype, version/IHL, TOS */
	memcpy(&w0, ip, 4);          /* version/IHL, TOS, total length */
	memcpy(&w1, ip + 4, 4);
	memcpy(&w2, ip + 8, 4);
	memcpy(&w3, ip + 12, 4);     /* source */
	memcpy(&w4, ip + 16, 4);     /* destination */
	memcpy(&tot_be, ip + 2, 2);
	/* 20 <= total length <= the frame's IP part and the smallest MTU:
	 * unsigned, one compare (below 20 wraps high) */
	uint32_t tot_less20 = rte_be_to_cpu_16(tot_be) - IPV4_MIN_HDR;
	uint32_t lim_less20 = RTE_MIN(pkt_len - ETH_IPV4_MIN, mtu_less20);
	uint16_t src_hi = (uint16_t)(a >> 48); /* the source MAC's first two bytes */

	/* Little-endian: a field's first byte is the low one. The MAC is the
	 * low 48 bits of a; the low 24 bits of e are 08 00 45 (IPv4, version
	 * 4, IHL 5). */
	uint64_t odd = ((a ^ mac48) << 16) | ((e & 0xffffff) ^ 0x450008);
	odd |= tot_less20 > lim_less20;
	/* bytes after the IP packet that are not a minimum frame's padding:
	 * stage 3 trims them */
	odd |= (pkt_len - ETH_IPV4_MIN != tot_less20) & (pkt_len > RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	odd |= (src_hi & 1) | ((src_hi | s4) == 0); /* a group or zero source MAC */
	odd |= octet_class[(uint8_t)w3] | octet_class[(uint8_t)w4];
	if (cksum_flags != RTE_MBUF_F_RX_IP_CKSUM_GOOD) {
		/* see ipv4_hdr_cksum_ok; BAD: classify() says so */
		uint64_t sum = (uint64_t)w0 + w1 + w2 + w3 + w4;
		odd |= (sum % 0xffff != 0) | (cksum_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD);
	}
	*dst_ip = rte_be_to_cpu_32(w4);
	return odd == 0;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). TTL is the high byte of the
 * (TTL, protocol) word, so m' = m - 0x0100 and ~m + m' = 0xfeff. One's
 * complement sums do not care about byte order (RFC 1071), so in the
 * little-endian view of the checksum field (c) this is ~(~c + 0xfffe),
 * which is c + 1, except that 0xfffe becomes 0x0000 and 0xffff becomes
 * 0x0001. TTL, protocol and checksum are one 32-bit word: one load, one
 * store, no branch. The caller guarantees TTL > 0. w: the word as loaded. */
static inline uint32_t
ttl_decrement_word(uint32_t w)
{
	return w - 1 + 0x10000 + ((uint32_t)(w >= 0xfffe0000u) << 16);
}

static inline void
ttl_decrement(struct rte_ipv4_hdr *ip)
{
	uint32_t w;
	memcpy(&w, &ip->time_to_live, 4);
	w = ttl_decrement_word(w);
	memcpy(&ip->time_to_live, &w, 4);
}

#endif
