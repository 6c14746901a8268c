/* steer's data path. See fastpath.h for the data structures. */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_fib.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_hash_crc.h>
#include <rte_thash.h>

#include "fastpath.h"

#define STEER_NAME(e, s) s,
const char *const steer_drop_names[STEER_DROP_MAX] = {STEER_DROP_REASONS(STEER_NAME)};
const char *const steer_slow_names[STEER_SLOW_MAX] = {STEER_SLOW_REASONS(STEER_NAME)};
#undef STEER_NAME

#define IPV4_MIN_HDR 20
#define ETH_IPV4_MIN (RTE_ETHER_HDR_LEN + IPV4_MIN_HDR)

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

int
steer_classify(const uint8_t *frame, uint32_t data_len, uint32_t pkt_len,
	       const struct rte_ether_addr *port_mac, uint64_t cksum_flags, uint32_t *dst_ip)
{
	return classify(frame, data_len, pkt_len, port_mac, cksum_flags, dst_ip);
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

void
steer_ttl_decrement(struct rte_ipv4_hdr *ip)
{
	ttl_decrement(ip);
}

/* Packet data is prefetched four packets ahead of the one being worked on. */
#define PREFETCH_AHEAD 4

static inline void
prefetch_head(struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
}

static inline void
prefetch_ahead(struct rte_mbuf **pkts, uint16_t i, uint16_t n)
{
	if (i + PREFETCH_AHEAD < n)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
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
 * port's MAC, IPv4 without options, an intact header, a total length
 * between 20 and both the frame and the smallest MTU, no martian address.
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
	uint32_t e, w0, w1, w2, w3, w4;
	uint16_t tot_be;

	memcpy(&a, frame, 8);        /* destination MAC, 2 bytes of the source */
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

	/* Little-endian: a field's first byte is the low one. The MAC is the
	 * low 48 bits of a; the low 24 bits of e are 08 00 45 (IPv4, version
	 * 4, IHL 5). */
	uint64_t odd = ((a ^ mac48) << 16) | ((e & 0xffffff) ^ 0x450008);
	odd |= tot_less20 > lim_less20;
	odd |= octet_class[(uint8_t)w3] | octet_class[(uint8_t)w4];
	if (cksum_flags != RTE_MBUF_F_RX_IP_CKSUM_GOOD) {
		/* see ipv4_hdr_cksum_ok; BAD: classify() says so */
		uint64_t sum = (uint64_t)w0 + w1 + w2 + w3 + w4;
		odd |= (sum % 0xffff != 0) | (cksum_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD);
	}
	*dst_ip = rte_be_to_cpu_32(w4);
	return odd == 0;
}

int
steer_classify_common(const uint8_t *frame, uint32_t pkt_len, const struct rte_ether_addr *port_mac,
		      uint64_t cksum_flags, uint16_t min_mtu, uint32_t *dst_ip)
{
	return classify_common(frame, pkt_len, mac48_of(port_mac->addr_bytes), cksum_flags,
			       (uint32_t)min_mtu - IPV4_MIN_HDR, dst_ip);
}

static inline void
txbuf_flush(struct steer_lcore *lc, struct steer_txbuf *b)
{
	uint16_t n = b->n, sent;

	if (n == 0)
		return;
	if (b->lock != NULL) {
		rte_spinlock_lock(b->lock);
		sent = rte_eth_tx_burst(b->port, b->queue, b->m, n);
		rte_spinlock_unlock(b->lock);
	} else {
		sent = rte_eth_tx_burst(b->port, b->queue, b->m, n);
	}
	lc->c.tx += sent;
	if (unlikely(sent < n)) {
		lc->c.drop[STEER_DROP_TX_FULL] += n - sent;
		rte_pktmbuf_free_bulk(&b->m[sent], n - sent);
	}
	b->n = 0;
}

void
steer_flush_all(struct steer_lcore *lc)
{
	for (uint16_t i = 0; i < lc->n_txbuf; i++)
		txbuf_flush(lc, &lc->txbuf[i]);
}

static inline void
txbuf_add(struct steer_lcore *lc, struct steer_txbuf *b, struct rte_mbuf *m)
{
	b->m[b->n++] = m;
	if (b->n == STEER_BURST)
		txbuf_flush(lc, b);
}

/* What a burst leaves behind besides forwarded packets: exceptions wait in
 * slow[] and leave for the control thread in one enqueue at the end of the
 * burst (the tag tells it why); drops are freed in one bulk. */
struct burst_rest {
	uint16_t n_slow, n_dead;
	struct rte_mbuf *slow[STEER_BURST];
	struct rte_mbuf *dead[STEER_BURST];
};

static inline void
to_slow_path(struct steer_lcore *lc, struct rte_mbuf *m, unsigned reason, int l2bcast, uint32_t nh,
	     struct burst_rest *r)
{
	lc->c.slow[reason]++;
	m->hash.usr = STEER_EXC_TAG(reason, l2bcast, nh);
	r->slow[r->n_slow++] = m;
}

static inline void
drop(struct steer_lcore *lc, struct rte_mbuf *m, unsigned reason, struct burst_rest *r)
{
	lc->c.drop[reason]++;
	r->dead[r->n_dead++] = m;
}

/* The control thread never makes the fast path wait: whatever its ring
 * cannot take is counted and freed. */
static inline void
rest_flush(struct steer_lcore *lc, struct burst_rest *r)
{
	uint16_t n = r->n_slow, sent = 0;
	if (n > 0) {
		if (likely(lc->exc != NULL))
			sent = (uint16_t)rte_ring_sp_enqueue_burst(lc->exc, (void *const *)r->slow, n, NULL);
		if (unlikely(sent < n)) {
			lc->c.exc_full += n - sent;
			rte_pktmbuf_free_bulk(&r->slow[sent], n - sent);
		}
	}
	if (r->n_dead > 0)
		rte_pktmbuf_free_bulk(r->dead, r->n_dead);
}

/* Stage 1 marks of a packet for stage 3. */
#define MARK_PLAIN 0       /* forward if the next hop and TTL allow */
#define MARK_GONE 0xff     /* dropped or handed to the slow path already */
/* else STEER_V_{L2BCAST,OPTIONS,CHECK} >> 8: decide_odd() */

/* Stage 1 for what classify_common() doubts: the full checks, in RFC order.
 * Drops and hands over what must not be looked up (MARK_GONE, 0.0.0.0:
 * looked up for nothing); what may still be forwarded goes to decide_odd()
 * in stage 3. Returns the destination to look up. cksum_flags: as the
 * common case saw them (UNKNOWN where the port does not verify). */
static __rte_noinline uint32_t
classify_odd(struct steer_lcore *lc, struct rte_mbuf *m, uint64_t cksum_flags, uint8_t *mark,
	     struct burst_rest *r)
{
	struct steer_dp *dp = lc->dp;
	uint32_t dst = 0;
	int v = classify(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, m->pkt_len,
			 &dp->port[m->port].mac, cksum_flags, &dst);
	if (v & STEER_V_SLOW) {
		to_slow_path(lc, m, STEER_V_REASON(v), 0, 0, r);
	} else if (v & STEER_V_DROP) {
		drop(lc, m, STEER_V_REASON(v), r);
	} else {
		*mark = (uint8_t)((v | STEER_V_CHECK) >> 8);
		return dst;
	}
	*mark = MARK_GONE;
	return 0;
}

/* Stage 3 for a packet the common case does not cover (RFC 1812 5.3):
 * no route, a FIB entry being recycled, a next hop that is not a plain
 * forward, or a flag from stage 1. Forwards it if after all it may go. */
static __rte_noinline void
decide_odd(struct steer_lcore *lc, struct rte_mbuf *m, uint64_t h, int flags,
	   struct steer_txbuf *const *txbuf_of, struct burst_rest *r)
{
	struct steer_dp *dp = lc->dp;
	int l2bcast = (flags & STEER_V_L2BCAST) != 0;

	if (h == STEER_FIB_NO_ROUTE) {
		if (l2bcast)
			drop(lc, m, STEER_DROP_LINK_BROADCAST, r);
		else
			to_slow_path(lc, m, STEER_SLOW_NO_ROUTE, 0, 0, r);
		return;
	}
	if (h == STEER_FIB_RECYCLED || h - 1 >= dp->fib.nh_cap) {
		/* The lookup raced a tbl8 group being recycled (see struct
		 * steer_fib), or (never seen, but no index past the table is
		 * followed) gave a value beyond it: the slow path does not know
		 * this next hop and
		 * looks the destination up again. A link-layer broadcast is
		 * not forwarded (5.3.4); it cannot be for one of our own
		 * addresses either: their /32s keep their group non-uniform,
		 * so that group is never recycled. */
		if (l2bcast)
			drop(lc, m, STEER_DROP_LINK_BROADCAST, r);
		else
			to_slow_path(lc, m, STEER_SLOW_UNRESOLVED, 0, STEER_NH_RETRY, r);
		return;
	}
	uint32_t nh_idx = (uint32_t)h - 1;
	const struct steer_nexthop *nh = &dp->fib.nh[nh_idx];
	if (nh->kind >= STEER_NH_LOCAL) {
		to_slow_path(lc, m, nh->kind == STEER_NH_LOCAL ? STEER_SLOW_LOCAL : STEER_SLOW_BROADCAST,
			     l2bcast, nh_idx, r);
		return;
	}
	/* 5.3.4: a link-layer broadcast is not forwarded */
	if (l2bcast) {
		drop(lc, m, STEER_DROP_LINK_BROADCAST, r);
		return;
	}
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	/* 5.3.1: TTL is checked only for packets we would forward */
	if (ip->time_to_live <= 1) {
		to_slow_path(lc, m, STEER_SLOW_TTL_EXCEEDED, 0, nh_idx, r);
		return;
	}
	if (flags & STEER_V_OPTIONS) {
		to_slow_path(lc, m, STEER_SLOW_IP_OPTIONS, 0, nh_idx, r);
		return;
	}
	if (nh->kind == STEER_NH_UNRESOLVED) {
		to_slow_path(lc, m, STEER_SLOW_UNRESOLVED, 0, nh_idx, r);
		return;
	}
	uint16_t out = nh->port;
	if (rte_be_to_cpu_16(ip->total_length) > dp->port[out].mtu) {
		to_slow_path(lc, m, STEER_SLOW_FRAGMENTATION_NEEDED, 0, nh_idx, r);
		return;
	}
	ttl_decrement(ip);
	memcpy(eth, nh, 2 * RTE_ETHER_ADDR_LEN);
	txbuf_add(lc, txbuf_of[out], m);
}

/* One burst through the pipeline. in is the port every packet came from,
 * or NULL when a burst mixes ports (after a distributor hop). in and opts
 * are constants where this is inlined, so each caller gets a version
 * without the work it does not need. */
static __rte_always_inline void
process_burst(struct steer_lcore *lc, uint16_t recorded, struct rte_mbuf **pkts, uint16_t n,
	      const struct steer_port *in, unsigned opts)
{
	struct steer_dp *dp = lc->dp;
	uint32_t ips[STEER_BURST];
	uint64_t hops[STEER_BURST];
	uint8_t mark[STEER_BURST];
	struct burst_rest rest;
	const uint32_t mtu_less20 = dp->min_mtu - IPV4_MIN_HDR;
	/* Every mbuf of the burst records the same queue, so its TX buffers
	 * come from one row without reading the mbuf back. */
	struct steer_txbuf *const *txbuf_of = lc->txbuf_of[recorded];

	rest.n_slow = rest.n_dead = 0;
	memset(mark, MARK_PLAIN, sizeof(mark));
	if (opts & BURST_PREFETCH)
		prefetch_head(pkts, n);

	/* Stage 1: validate and classify. Every packet keeps its slot, so
	 * the common case does no bookkeeping; a slot whose packet is gone
	 * is looked up for nothing and skipped by stage 3. */
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (opts & BURST_PREFETCH)
			prefetch_ahead(pkts, i, n);
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
		uint64_t mac48 = in != NULL ? in->mac48 : dp->port[m->port].mac48;
		uint64_t cksum = opts & BURST_HW_CKSUM ? m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK
						       : RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN;
		uint32_t dst;
		if (unlikely(m->data_len < ETH_IPV4_MIN ||
			     !classify_common(frame, m->pkt_len, mac48, cksum, mtu_less20, &dst)))
			dst = classify_odd(lc, m, cksum, &mark[i], &rest);
		ips[i] = dst;
	}

	/* Stage 2: one bulk FIB lookup for the burst. */
	rte_fib_lookup_bulk(dp->fib.fib, ips, hops, n);

	/* Stage 3: rewrite and buffer for TX what may simply go (a forward
	 * next hop, TTL > 1, a plain mark); decide_odd() takes the rest. An
	 * index out of the table is no route (STEER_FIB_NO_ROUTE - 1) or a
	 * group being recycled (STEER_FIB_RECYCLED - 1 wraps). */
	const struct steer_nexthop *nh_tab = dp->fib.nh;
	const uint32_t nh_cap = dp->fib.nh_cap;
	/* The TX buffer in use and its fill count live in registers: a count
	 * kept in memory chains every packet to the one before through a
	 * store and a load (~5 cycles each). Written back before anything
	 * else may touch the buffer. */
	struct steer_txbuf *cur = NULL;
	uint16_t cur_n = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t *eth = rte_pktmbuf_mtod(m, uint8_t *);   /* cheaper than keeping it */
		uint32_t idx = (uint32_t)hops[i] - 1;
		uint32_t w;   /* TTL, protocol, checksum */
		memcpy(&w, eth + RTE_ETHER_HDR_LEN + 8, 4);
		if (unlikely(idx >= nh_cap || mark[i] != MARK_PLAIN || (uint8_t)w <= 1 ||
			     nh_tab[idx].kind != STEER_NH_FORWARD)) {
			if (mark[i] == MARK_GONE)
				continue;
			if (cur != NULL)
				cur->n = cur_n;
			cur = NULL;
			decide_odd(lc, m, hops[i], mark[i] << 8, txbuf_of, &rest);
			continue;
		}
		const struct steer_nexthop *nh = &nh_tab[idx];
		w = ttl_decrement_word(w);
		memcpy(eth + RTE_ETHER_HDR_LEN + 8, &w, 4);
		memcpy(eth, nh, 2 * RTE_ETHER_ADDR_LEN);
		struct steer_txbuf *b = txbuf_of[nh->port];
		if (unlikely(b != cur)) {
			if (cur != NULL)
				cur->n = cur_n;
			cur = b;
			cur_n = b->n;
		}
		cur->m[cur_n++] = m;
		if (unlikely(cur_n == STEER_BURST)) {
			cur->n = cur_n;
			txbuf_flush(lc, cur);
			cur_n = 0;
		}
	}
	if (cur != NULL)
		cur->n = cur_n;

	if (rest.n_slow + rest.n_dead > 0)
		rest_flush(lc, &rest);
}

void
steer_process_burst(struct steer_lcore *lc, uint16_t recorded, struct rte_mbuf **pkts, uint16_t n)
{
	process_burst(lc, recorded, pkts, n, NULL, BURST_PREFETCH | BURST_HW_CKSUM);
}

/* A burst from a NIC queue in run to completion: one port, and what the
 * port is known to do. */
void
steer_process_rx_burst(struct steer_lcore *lc, const struct steer_rxq *q, struct rte_mbuf **pkts, uint16_t n)
{
	const struct steer_port *in = &lc->dp->port[q->port];
	switch (q->opts) {
	case 0:
		process_burst(lc, q->queue, pkts, n, in, 0);
		break;
	case BURST_PREFETCH:
		process_burst(lc, q->queue, pkts, n, in, BURST_PREFETCH);
		break;
	case BURST_HW_CKSUM:
		process_burst(lc, q->queue, pkts, n, in, BURST_HW_CKSUM);
		break;
	default:
		process_burst(lc, q->queue, pkts, n, in, BURST_PREFETCH | BURST_HW_CKSUM);
		break;
	}
}

/* Flow hash for the distributor. IPv4 TCP/UDP: the 5-tuple. Other
 * protocols and every fragment (first included: later ones carry no ports):
 * addresses and protocol, so all fragments of a datagram meet on one
 * worker. Not IPv4 (ARP, junk): 0, one worker classifies and counts it. */
struct flow_key {
	uint32_t src, dst;     /* host order */
	uint32_t ports;        /* sport << 16 | dport, 0 when not used */
	uint8_t proto;
	uint8_t ok;
};

static inline struct flow_key
flow_key(const uint8_t *frame, uint32_t data_len)
{
	struct flow_key k = {0, 0, 0, 0, 0};
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	if (unlikely(data_len < ETH_IPV4_MIN || eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)))
		return k;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	uint32_t hlen = (uint32_t)(ip->version_ihl & 0xf) * 4;
	k.src = rte_be_to_cpu_32(ip->src_addr);
	k.dst = rte_be_to_cpu_32(ip->dst_addr);
	k.proto = ip->next_proto_id;
	k.ok = 1;
	int frag = (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0;
	if (!frag && (k.proto == IPPROTO_TCP || k.proto == IPPROTO_UDP) &&
	    data_len >= RTE_ETHER_HDR_LEN + hlen + 4) {
		uint32_t p;
		memcpy(&p, frame + RTE_ETHER_HDR_LEN + hlen, 4);
		k.ports = rte_be_to_cpu_32(p);
	}
	return k;
}

/* CRC32-C with SSE4.2: three crc32 instructions per packet. */
static inline uint32_t
hash_crc(struct flow_key k)
{
	uint32_t h = rte_hash_crc_8byte((uint64_t)k.src << 32 | k.dst, 0x5f3759df);
	return rte_hash_crc_4byte(k.ports ^ ((uint32_t)k.proto << 24), h);
}

/* The Toeplitz hash NICs use (Microsoft's default key), for comparison. */
static const uint8_t toeplitz_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static inline uint32_t
hash_toeplitz(struct flow_key k)
{
	uint32_t t[3] = {k.src, k.dst, k.ports ^ ((uint32_t)k.proto << 24)};
	return rte_softrss(t, 3, toeplitz_key);
}

uint32_t
steer_flow_hash_crc(const uint8_t *frame, uint32_t data_len)
{
	struct flow_key k = flow_key(frame, data_len);
	return k.ok ? hash_crc(k) : 0;
}

uint32_t
steer_flow_hash_toeplitz(const uint8_t *frame, uint32_t data_len)
{
	struct flow_key k = flow_key(frame, data_len);
	return k.ok ? hash_toeplitz(k) : 0;
}

static inline uint32_t
mbuf_flow_hash(const struct rte_mbuf *m)
{
	if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH)
		return m->hash.rss;            /* the NIC's, free */
	struct flow_key k = flow_key(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len);
	return k.ok ? hash_crc(k) : 0;
}

/* Publish, per input link, what has left through TX: called right after a
 * full TX flush. */
static inline void
publish_done(struct steer_lcore *lc)
{
	for (uint16_t i = 0; i < lc->n_in; i++)
		__atomic_store_n(&lc->in[i].done, lc->in[i].deq, __ATOMIC_RELEASE);
	if (lc->distributes && lc->worker >= 0)
		__atomic_store_n(&lc->local_done, lc->out[lc->worker].seq, __ATOMIC_RELEASE);
}

static inline void
flush_and_publish(struct steer_lcore *lc)
{
	steer_flush_all(lc);
	publish_done(lc);
}

/* Send the control thread's frames (m->port is the egress port) on the TX
 * queues this lcore uses for ctl_row, after the forwarded packets buffered
 * for them. Counted apart from forwarding: they were never received. */
static void
ctl_drain(struct steer_lcore *lc)
{
	struct rte_mbuf *pkts[STEER_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(lc->dp->ctl_tx, (void **)pkts, STEER_BURST, NULL);

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct steer_txbuf *t = m->port < STEER_MAX_PORTS ? lc->txbuf_of[lc->ctl_row][m->port] : NULL;
		if (unlikely(t == NULL)) {
			lc->c.ctl_tx_full++;
			rte_pktmbuf_free(m);
			continue;
		}
		uint16_t sent;
		txbuf_flush(lc, t);
		if (t->lock != NULL) {
			rte_spinlock_lock(t->lock);
			sent = rte_eth_tx_burst(t->port, t->queue, &m, 1);
			rte_spinlock_unlock(t->lock);
		} else {
			sent = rte_eth_tx_burst(t->port, t->queue, &m, 1);
		}
		if (likely(sent == 1)) {
			lc->c.ctl_tx++;
		} else {
			lc->c.ctl_tx_full++;
			rte_pktmbuf_free(m);
		}
	}
}

/* Backpressure: poll a distributor queue only when every ring can take a
 * whole burst, so overload leaves packets in the NIC (imissed) instead of
 * costing CPU to drop them at the ring. */
static inline int
rings_have_room(const struct steer_lcore *lc)
{
	for (uint16_t w = 0; w < lc->dp->n_workers; w++) {
		const struct steer_out *o = &lc->out[w];
		if (o->ring != NULL && rte_ring_free_count(o->ring) < lc->dp->burst)
			return 0;
	}
	return 1;
}

/* Hand a link's buffered packets over: inline for the local worker share,
 * else one burst enqueue. Buckets record the sequence number of their last
 * packet on the link, which a RETA move waits for. */
static inline void
out_flush(struct steer_lcore *lc, uint16_t w)
{
	struct steer_out *o = &lc->out[w];
	uint16_t n = o->n, sent = n;

	if (n == 0)
		return;
	if (o->ring == NULL) {
		steer_process_burst(lc, (uint16_t)w, o->m, n);
		lc->c.local += n;
	} else {
		sent = (uint16_t)rte_ring_sp_enqueue_burst(o->ring, (void *const *)o->m, n, NULL);
		lc->c.handed_off += sent;
		if (unlikely(sent < n)) {
			o->full += n - sent;
			lc->c.drop[STEER_DROP_RING_FULL] += n - sent;
			rte_pktmbuf_free_bulk(&o->m[sent], n - sent);
		}
	}
	for (uint16_t i = 0; i < sent; i++)
		lc->last_seq[o->bucket[i]] = o->seq + i + 1;
	o->seq += sent;
	o->n = 0;
}

/* A bucket may follow the wanted RETA once its old worker has sent all it
 * was given of it (nothing of it is buffered here: out buffers are empty
 * between bursts). */
static inline int
bucket_drained(const struct steer_lcore *lc, uint32_t b, uint16_t w)
{
	return lc->out[w].n == 0 &&
	       __atomic_load_n(lc->out[w].done, __ATOMIC_ACQUIRE) >= lc->last_seq[b];
}

/* Between bursts, after a RETA replacement: move every bucket that has
 * drained, including those no packet arrives for. Stops once the view
 * matches the generation it started from. */
static void
reta_sweep(struct steer_lcore *lc)
{
	struct steer_dp *dp = lc->dp;
	uint32_t gen = __atomic_load_n(&dp->reta_gen, __ATOMIC_ACQUIRE);
	int pending = 0;

	if (gen == lc->reta_gen)
		return;
	for (uint32_t b = 0; b <= dp->reta_mask; b++) {
		uint8_t want = __atomic_load_n(&dp->reta_want[b], __ATOMIC_RELAXED);
		if (lc->reta[b] == want)
			continue;
		if (bucket_drained(lc, b, lc->reta[b]))
			lc->reta[b] = want;
		else
			pending = 1;
	}
	if (!pending)
		lc->reta_gen = gen;
}

static void
distribute(struct steer_lcore *lc, struct rte_mbuf **pkts, uint16_t n)
{
	struct steer_dp *dp = lc->dp;
	const uint32_t mask = dp->reta_mask;

	prefetch_head(pkts, n);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		prefetch_ahead(pkts, i, n);
		uint32_t b = mbuf_flow_hash(m) & mask;
		uint16_t w = lc->reta[b];
		uint16_t want = __atomic_load_n(&dp->reta_want[b], __ATOMIC_RELAXED);
		if (unlikely(w != want)) {
			/* Move the bucket only once the old worker has sent
			 * everything it got of it (RFS's "last queue tail"). */
			if (bucket_drained(lc, b, w)) {
				lc->reta[b] = (uint8_t)want;
				w = want;
			}
		}
		struct steer_out *o = &lc->out[w];
		o->bucket[o->n] = (uint16_t)b;
		o->m[o->n++] = m;
	}
	for (uint16_t w = 0; w < dp->n_workers; w++)
		out_flush(lc, w);
}

/* A worker's share from the rings. Returns packets processed. */
static inline uint32_t
poll_rings(struct steer_lcore *lc)
{
	struct rte_mbuf *pkts[STEER_BURST];
	uint32_t got = 0;

	for (uint16_t i = 0; i < lc->n_in; i++) {
		struct steer_in *in = &lc->in[i];
		unsigned n = rte_ring_sc_dequeue_burst(in->ring, (void **)pkts, lc->dp->burst, NULL);
		if (n == 0) {
			lc->c.idle_polls++;
			continue;
		}
		in->deq += n;
		lc->c.from_rings += n;
		lc->c.worker_bursts++;
		lc->c.busy_polls++;
		got += n;
		steer_process_burst(lc, (uint16_t)lc->worker, pkts, (uint16_t)n);
	}
	return got;
}

static inline int
rings_empty(const struct steer_lcore *lc)
{
	for (uint16_t i = 0; i < lc->n_in; i++)
		if (!rte_ring_empty(lc->in[i].ring))
			return 0;
	return 1;
}

#define DRAIN_CHECK_LOOPS 8

int
steer_lcore_main(void *arg)
{
	struct steer_lcore *lc = arg;
	struct steer_dp *dp = lc->dp;
	const uint64_t drain = dp->drain_tsc;
	uint64_t last_drain = rte_rdtsc();
	unsigned busy_loops = 0;
	struct rte_mbuf *pkts[STEER_BURST];

	rte_rcu_qsbr_thread_online(dp->qsv, lc->rcu_id);
	while (!__atomic_load_n(&dp->quit, __ATOMIC_RELAXED)) {
		uint32_t got = 0;
		/* Between loop iterations this lcore holds no FIB reference:
		 * one store lets the control thread reclaim deleted routes. */
		rte_rcu_qsbr_quiescent(dp->qsv, lc->rcu_id);
		for (uint16_t i = 0; i < lc->n_rx; i++) {
			const struct steer_rxq *q = &lc->rx[i];
			if (q->distribute && dp->backpressure && !rings_have_room(lc)) {
				/* Spinning on the rings' consumer indexes would pull
				 * their cache lines away from the workers. */
				lc->c.backpressure_skips++;
				rte_pause();
				continue;
			}
			uint16_t n = rte_eth_rx_burst(q->port, q->queue, pkts,
						      q->distribute ? dp->burst : STEER_BURST);
			if (n == 0) {
				lc->c.idle_polls++;
				continue;
			}
			lc->c.busy_polls++;
			lc->c.rx += n;
			got += n;
			if (q->distribute)
				distribute(lc, pkts, n);
			else
				steer_process_rx_burst(lc, q, pkts, n);
		}
		if (lc->n_in > 0)
			got += poll_rings(lc);
		/* Partial TX buffers leave when the queues run dry or after
		 * drain_tsc (~100 us), whichever comes first. While busy the
		 * clock is read every DRAIN_CHECK_LOOPS loops only: rdtsc costs
		 * ~30 cycles, about one per packet at a burst per loop. */
		if (got != 0 && ++busy_loops < DRAIN_CHECK_LOOPS)
			continue;
		busy_loops = 0;
		uint64_t now = rte_rdtsc();
		if (got == 0 || now - last_drain > drain) {
			flush_and_publish(lc);
			if (lc->distributes)
				reta_sweep(lc);
			if (lc->ctl_drain)
				ctl_drain(lc);
			last_drain = now;
		}
	}
	/* Stop taking from the NICs; workers then drain their rings until no
	 * lcore can enqueue any more, so no mbuf is left in a ring. */
	__atomic_sub_fetch(&dp->rx_running, 1, __ATOMIC_ACQ_REL);
	if (lc->n_in > 0) {
		while (__atomic_load_n(&dp->rx_running, __ATOMIC_ACQUIRE) > 0 || !rings_empty(lc)) {
			rte_rcu_qsbr_quiescent(dp->qsv, lc->rcu_id);
			poll_rings(lc);
		}
	}
	flush_and_publish(lc);
	if (lc->ctl_drain)
		while (!rte_ring_empty(dp->ctl_tx))
			ctl_drain(lc);
	rte_rcu_qsbr_thread_offline(dp->qsv, lc->rcu_id);
	return 0;
}

struct steer_dp *
steer_dp_create(int rxq_field, uint32_t nh_cap, int socket)
{
	struct steer_dp *dp = rte_zmalloc_socket("steer_dp", sizeof(*dp), RTE_CACHE_LINE_SIZE, socket);
	if (dp == NULL)
		return NULL;
	dp->fib.nh = rte_zmalloc_socket("steer_nexthops", sizeof(struct steer_nexthop) * nh_cap,
					RTE_CACHE_LINE_SIZE, socket);
	if (dp->fib.nh == NULL) {
		rte_free(dp);
		return NULL;
	}
	dp->fib.nh_cap = nh_cap;
	size_t qsz = rte_rcu_qsbr_get_memsize(STEER_MAX_LCORES);
	dp->qsv = rte_zmalloc_socket("steer_rcu", qsz, RTE_CACHE_LINE_SIZE, socket);
	if (dp->qsv == NULL || rte_rcu_qsbr_init(dp->qsv, STEER_MAX_LCORES) != 0) {
		rte_free(dp->qsv);
		rte_free(dp->fib.nh);
		rte_free(dp);
		return NULL;
	}
	dp->rxq_field = rxq_field;
	dp->drain_tsc = (rte_get_tsc_hz() + 9999) / 10000; /* 100 us */
	for (int p = 0; p < STEER_MAX_PORTS; p++)
		for (int q = 0; q < STEER_MAX_QUEUES; q++)
			rte_spinlock_init(&dp->txq_lock[p][q]);
	return dp;
}

/* reta_size is a power of two; the RETA starts round robin. */
int
steer_dp_set_distributor(struct steer_dp *dp, uint16_t n_workers, uint32_t reta_size,
			 int backpressure, uint16_t burst)
{
	if (n_workers == 0 || n_workers > STEER_MAX_WORKERS || reta_size == 0 ||
	    reta_size > STEER_MAX_RETA || (reta_size & (reta_size - 1)) != 0 ||
	    burst == 0 || burst > STEER_BURST)
		return -EINVAL;
	dp->burst = burst;
	dp->n_workers = n_workers;
	dp->reta_mask = reta_size - 1;
	dp->backpressure = backpressure != 0;
	for (uint32_t b = 0; b < reta_size; b++)
		dp->reta_want[b] = (uint8_t)(b % n_workers);
	return 0;
}

void
steer_dp_free(struct steer_dp *dp)
{
	if (dp == NULL)
		return;
	rte_free(dp->fib.nh);
	rte_free(dp->qsv);
	rte_free(dp);
}

/* Record a started port. The fast path compares a frame's first 8 bytes,
 * masked, with mac48, and flags packets above the smallest MTU. */
void
steer_dp_set_port(struct steer_dp *dp, uint16_t id, const uint8_t *mac, uint16_t nb_txq, uint16_t mtu)
{
	struct steer_port *p = &dp->port[id];
	memcpy(p->mac.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	p->mac48 = mac48_of(mac);
	p->nb_txq = nb_txq;
	p->mtu = mtu;
	p->enabled = 1;
	dp->min_mtu = UINT16_MAX;
	for (int i = 0; i < STEER_MAX_PORTS; i++)
		if (dp->port[i].enabled && dp->port[i].mtu < dp->min_mtu)
			dp->min_mtu = dp->port[i].mtu;
}

/* Write next hop idx; the release fence orders it before the FIB update
 * that will point at it. Only ever called for an index no FIB entry uses. */
void
steer_nh_set(struct steer_dp *dp, uint32_t idx, uint8_t kind, uint16_t port,
	     const uint8_t *dst, const uint8_t *src)
{
	struct steer_nexthop *e = &dp->fib.nh[idx];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->port = port;
	if (dst != NULL)
		memcpy(e->dst.addr_bytes, dst, RTE_ETHER_ADDR_LEN);
	if (src != NULL)
		memcpy(e->src.addr_bytes, src, RTE_ETHER_ADDR_LEN);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* An lcore gets one TX buffer per (egress port, TX queue) its packets can
 * reach: for each RX queue it polls, queue % nb_txq of every enabled port.
 * Ports must be set in dp before lcores are created. */
/* TX buffers for a recorded queue value: one per enabled egress port. */
static int
add_txbufs(struct steer_lcore *lc, uint16_t rq)
{
	struct steer_dp *dp = lc->dp;
	for (uint16_t p = 0; p < STEER_MAX_PORTS; p++) {
		if (!dp->port[p].enabled || lc->txbuf_of[rq][p] != NULL)
			continue;
		uint16_t tq = rq % dp->port[p].nb_txq;
		uint16_t b;
		for (b = 0; b < lc->n_txbuf; b++)
			if (lc->txbuf[b].port == p && lc->txbuf[b].queue == tq)
				break;
		if (b == lc->n_txbuf) {
			lc->txbuf[b].port = p;
			lc->txbuf[b].queue = tq;
			lc->n_txbuf++;
		}
		lc->txbuf_of[rq][p] = &lc->txbuf[b];
	}
	if (lc->ctl_row < 0)
		lc->ctl_row = rq;
	return 0;
}

struct steer_lcore *
steer_lcore_create(struct steer_dp *dp, unsigned lcore_id, int socket,
		   const struct steer_rxq *rx, uint16_t n_rx, int worker)
{
	if (n_rx > STEER_MAX_RX_PER_LCORE || worker >= (int)dp->n_workers || worker >= STEER_MAX_QUEUES ||
	    dp->n_lcores >= STEER_MAX_LCORES)
		return NULL;
	struct steer_lcore *lc = rte_zmalloc_socket("steer_lcore", sizeof(*lc), RTE_CACHE_LINE_SIZE, socket);
	if (lc == NULL)
		return NULL;
	lc->dp = dp;
	lc->lcore_id = lcore_id;
	lc->rcu_id = dp->n_lcores;
	if (rte_rcu_qsbr_thread_register(dp->qsv, lc->rcu_id) != 0) {
		rte_free(lc);
		return NULL;
	}
	dp->n_lcores++;
	lc->n_rx = n_rx;
	if (n_rx > 0)
		memcpy(lc->rx, rx, sizeof(*rx) * n_rx);
	/* txbuf_of is all NULL from rte_zmalloc */
	lc->worker = (int16_t)worker;
	lc->ctl_row = -1;
	uint32_t max_bufs = ((uint32_t)n_rx + 1) * STEER_MAX_PORTS;
	lc->txbuf = rte_zmalloc_socket("steer_txbuf", sizeof(struct steer_txbuf) * max_bufs,
				       RTE_CACHE_LINE_SIZE, socket);
	if (lc->txbuf == NULL)
		goto fail;
	for (uint16_t i = 0; i < n_rx; i++) {
		if (rx[i].distribute) {
			lc->distributes = 1;
			continue;  /* its packets are sent by workers */
		}
		add_txbufs(lc, rx[i].queue);
	}
	if (worker >= 0)
		add_txbufs(lc, (uint16_t)worker);
	if (lc->distributes) {
		uint32_t reta_size = dp->reta_mask + 1;
		lc->out = rte_zmalloc_socket("steer_out", sizeof(struct steer_out) * STEER_MAX_WORKERS,
					     RTE_CACHE_LINE_SIZE, socket);
		lc->reta = rte_zmalloc_socket("steer_reta", reta_size, RTE_CACHE_LINE_SIZE, socket);
		lc->last_seq = rte_zmalloc_socket("steer_last_seq", sizeof(uint64_t) * reta_size,
						  RTE_CACHE_LINE_SIZE, socket);
		if (dp->n_workers == 0 || lc->out == NULL || lc->reta == NULL || lc->last_seq == NULL)
			goto fail;
		memcpy(lc->reta, dp->reta_want, reta_size);
	}
	return lc;
fail:
	steer_lcore_free(lc);
	return NULL;
}

/* Connect RX lcore from to worker w (lcore to): through ring, or inline
 * when ring is NULL (to == from: the local shortcut). */
int
steer_lcore_link(struct steer_lcore *from, uint16_t w, struct rte_ring *ring, struct steer_lcore *to)
{
	if (!from->distributes || w >= from->dp->n_workers || to->worker != (int16_t)w)
		return -EINVAL;
	struct steer_out *o = &from->out[w];
	if (ring == NULL) {
		if (to != from)
			return -EINVAL;
		o->done = &from->local_done;
	} else {
		if (to->n_in >= STEER_MAX_RX_PER_LCORE)
			return -ENOSPC;
		struct steer_in *in = &to->in[to->n_in++];
		in->ring = ring;
		o->ring = ring;
		o->done = &in->done;
	}
	o->linked = 1;
	return 0;
}

/* Give a lock to every TX queue that more than one lcore sends on. Returns
 * how many queues are shared. */
int
steer_dp_share_txqs(struct steer_dp *dp, struct steer_lcore **lc, int n)
{
	static uint8_t users[STEER_MAX_PORTS][STEER_MAX_QUEUES];
	int shared = 0;

	memset(users, 0, sizeof(users));
	for (int i = 0; i < n; i++)
		for (uint16_t b = 0; b < lc[i]->n_txbuf; b++)
			users[lc[i]->txbuf[b].port][lc[i]->txbuf[b].queue]++;
	for (int i = 0; i < n; i++)
		for (uint16_t b = 0; b < lc[i]->n_txbuf; b++) {
			struct steer_txbuf *t = &lc[i]->txbuf[b];
			t->lock = users[t->port][t->queue] > 1 ? &dp->txq_lock[t->port][t->queue] : NULL;
		}
	for (int p = 0; p < STEER_MAX_PORTS; p++)
		for (int q = 0; q < STEER_MAX_QUEUES; q++)
			shared += users[p][q] > 1;
	return shared;
}

void
steer_lcore_free(struct steer_lcore *lc)
{
	if (lc == NULL)
		return;
	rte_rcu_qsbr_thread_unregister(lc->dp->qsv, lc->rcu_id);
	rte_free(lc->txbuf);
	rte_free(lc->out);
	rte_free(lc->reta);
	rte_free(lc->last_seq);
	rte_free(lc);
}

/* ctl_tx: single producer (the control thread, serialised in Go), single
 * consumer (drain, an lcore with TX queues). */
int
steer_dp_set_control(struct steer_dp *dp, struct rte_ring *ctl_tx, struct steer_lcore *drain)
{
	if (drain->ctl_row < 0)
		return -EINVAL;
	dp->ctl_tx = ctl_tx;
	drain->ctl_drain = 1;
	return 0;
}

void
steer_lcore_set_exc(struct steer_lcore *lc, struct rte_ring *exc)
{
	lc->exc = exc;
}

uint32_t
steer_exc_take(struct rte_ring *const *rings, uint32_t n_rings, uint32_t *next,
	       struct steer_exc_meta *meta, uint8_t *buf, uint32_t cap, uint32_t max)
{
	struct rte_mbuf *pkts[STEER_BURST];
	uint32_t got = 0, empty = 0;

	/* Round robin, a small burst per ring, so one flooded lcore cannot
	 * starve the others' exceptions. */
	while (got < max && empty < n_rings) {
		struct rte_ring *r = rings[*next];
		*next = (*next + 1) % n_rings;
		uint32_t want = RTE_MIN(max - got, 8u);
		unsigned n = rte_ring_sc_dequeue_burst(r, (void **)pkts, want, NULL);
		empty = n == 0 ? empty + 1 : 0;
		for (unsigned i = 0; i < n; i++, got++) {
			struct rte_mbuf *m = pkts[i];
			uint32_t len = RTE_MIN(m->pkt_len, cap);
			const void *d = rte_pktmbuf_read(m, 0, len, buf + (size_t)got * cap);
			if (d != NULL && d != buf + (size_t)got * cap)
				memcpy(buf + (size_t)got * cap, d, len);
			meta[got].tag = m->hash.usr;
			meta[got].port = m->port;
			meta[got].len = d != NULL ? (uint16_t)len : 0;
			meta[got].pkt_len = m->pkt_len;
		}
		if (n > 0)
			rte_pktmbuf_free_bulk(pkts, n);
	}
	return got;
}

int
steer_ctl_send(struct steer_dp *dp, struct rte_mempool *mp, uint16_t port,
	       const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (m == NULL)
		return -ENOBUFS;
	char *d = rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL || dp->ctl_tx == NULL) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	memcpy(d, frame, len);
	m->port = port;
	if (rte_ring_sp_enqueue(dp->ctl_tx, m) != 0) {
		rte_pktmbuf_free(m);
		return -ENOSPC;
	}
	return 0;
}
