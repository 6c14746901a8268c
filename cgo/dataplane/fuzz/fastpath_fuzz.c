/* libFuzzer target for steer's C fast path (issue 16 item 7).
 *
 * The fuzzed code is the shipped code: this file is compiled with clang
 * (-fsanitize=fuzzer,address,undefined) next to the data plane's own
 * ../burst.c and ../punt.c, unmodified, and includes ../checks.h and
 * ../flowhash.h. It needs no EAL: an input becomes mbufs built here, an
 * lcore and a data plane (struct steer_lcore, struct steer_dp) filled in
 * by hand, and a few DPDK functions the fast path calls are stood in for
 * below (the FIB lookup, a port's TX burst, freeing mbufs, reading a
 * segmented mbuf). Only librte_ring (rte_ring_init, for the exception
 * ring) and librte_eal (the CPU-flag probe of rte_hash_crc's constructor)
 * are linked; nothing calls rte_eal_init.
 *
 * One input is a small configuration and up to MAX_PKTS frames (format
 * below; gencorpus/ writes the seed corpus in it). Every frame goes through
 *   - classify() against an independent statement of RFC 1812's checks,
 *     and classify_common() against classify() (the relation of
 *     TestClassifyCommonAgreesWithClassify), for every RX checksum verdict;
 *   - the flow hash in every mode, against the hash of a canonical frame
 *     with only the flow key's fields (fragments of one datagram hash alike
 *     in auto and l3 mode, and everything is deterministic);
 *   - the real burst pipeline (steer_process_rx_burst in the version the
 *     config picks, or a worker's steer_process_burst), with FIB answers
 *     the input chooses per packet, then steer_flush_all and the control
 *     thread's steer_exc_take. Each packet must end in exactly one fate,
 *     the one a plain reading of RFC 1812 (expect_fate) gives: sent on the
 *     right port with TTL - 1, the next hop's MACs and its header sum kept;
 *     dropped with a reason; or handed to the slow path with a reason and
 *     flag that decode back from the exception tag. The lcore's counters
 *     must move by exactly one per packet, to the same reasons.
 *
 * Nothing reads past pkt_len: each segment's data is a malloc of exactly
 * its length, the mbuf's buf_addr is that allocation with data_off 0 and
 * buf_len = data_len, so there is no headroom before the frame and no
 * tailroom after it. A read before the frame, or past a segment's
 * data_len (headers must sit in the first one; the last one ends at
 * pkt_len), hits ASan's redzone and aborts with the stack. The exception
 * copy buffer and its metadata array are exact mallocs as well.
 * A property that fails prints what it expected and aborts: libFuzzer
 * keeps the input as a crash artifact.
 *
 * Build and run by hand (from the repository root; clang and
 * libclang-rt-14-dev come with scripts/deps.sh):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *     $(pkg-config --cflags libdpdk) -Icgo/dataplane cgo/dataplane/fuzz/fastpath_fuzz.c \
 *     cgo/dataplane/burst.c cgo/dataplane/punt.c -lrte_ring -lrte_eal -o build/fuzz/fastpath_fuzz
 *   build/fuzz/fastpath_fuzz -artifact_prefix=build/fuzz/ build/fuzz/corpus cgo/dataplane/fuzz/corpus
 *   build/fuzz/fastpath_fuzz FILE     (replays one input) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_fib.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane.h"
#include "checks.h"
#include "flowhash.h"
#include "punt.h"

/* ------------------------------------------------------------------ input
 *
 * config, CFG_LEN bytes:
 *   [0]     bits 0-1: the RX queue's opts (BURST_PREFETCH, BURST_HW_CKSUM)
 *           bit 2: a worker's burst (steer_process_burst: ports per packet)
 *           bit 3: flush TX buffers after every burst, not only at the end
 *           bits 4-5: exception ring: 0-1 roomy, 2 three slots, 3 none
 *           bit 6: ingress port of an RX burst
 *           bit 7: steer_exc_take reads two rings (the second stays empty)
 *   [1]     packets per burst: 1 + b % STEER_BURST
 *   [2..3]  port 0 MTU, [4..5] port 1 MTU: 68 + le16 % 8933 (68..9000)
 *   [6..9]  next hops 0..3: kind b & 3 (enum steer_nh_kind), port (b >> 2) & 1
 *   [10]    bytes steer_exc_take copies of each frame: 1 + 8 * b
 *   [11]    b & 0x80: the fake TX takes only b & 0x1f packets per call
 *   [12]    steer_exc_take's max per call: 1 + b % MAX_PKTS
 * then records, to the end of the input, at most MAX_PKTS:
 *   [0..1]  frame length: le16 & 0x7ff (cut to what the input has left)
 *   [2]     FIB answer: b & 7 = 0 no route, 1 a recycled group (0),
 *           2 a value past the next-hop table, else next hop (b >> 3) % 4
 *   [3]     bits 0-1: RX IP checksum verdict (unknown, bad, good, none)
 *           bit 2: ingress port (worker bursts)
 *           bit 3: two segments, the first holding min(len, [4]) bytes
 *           bit 4: the NIC's RSS hash flag (mbuf_flow_hash)
 *   [4]     the split of a two-segment frame
 *   frame bytes */
#define CFG_LEN 13
#define REC_HDR 5
#define MAX_PKTS 64
#define N_NH 4
#define N_PORTS 2
#define MTU_MIN 68
#define MTU_MAX 9000

static const uint64_t cksum_verdicts[4] = {
	RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, RTE_MBUF_F_RX_IP_CKSUM_BAD,
	RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_NONE,
};

enum fate_kind { FATE_TX, FATE_DROP, FATE_SLOW };
struct fate {
	uint8_t kind;
	uint8_t reason;   /* drop or slow reason */
	uint8_t l2bcast;  /* slow: the tag's flag */
	uint16_t port;    /* tx: egress port */
};

enum pkt_state { HELD, IN_RING, TXED, FREED };

struct pkt {
	struct rte_mbuf m, m2;   /* head and, when split, the second segment */
	uint8_t *seg1, *seg2;    /* exact mallocs */
	uint8_t *orig;           /* the frame as received, pkt_len bytes */
	uint32_t data_len, pkt_len;
	uint64_t answer;         /* the FIB's answer for it */
	uint32_t dst;            /* what classify() said to look up */
	int verdict;             /* classify() */
	struct fate want;
	uint8_t state;
	uint8_t refused;         /* the fake TX refused it */
	uint16_t tx_port;
};

static struct pkt pkts[MAX_PKTS];
static unsigned n_pkts;
static struct steer_dp *dp;
static struct steer_lcore *lc;
static struct rte_ring *exc_ring, *exc_small, *empty_ring;

static void
hexdump(const char *what, const uint8_t *p, uint32_t n)
{
	fprintf(stderr, "  %s (%u bytes):", what, n);
	for (uint32_t i = 0; i < n && i < 96; i++)
		fprintf(stderr, "%s%02x", i % 32 == 0 ? "\n    " : "", p[i]);
	fprintf(stderr, "%s\n", n > 96 ? " ..." : "");
}

#define CHECK(cond, pk, ...)                                                     \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "fastpath_fuzz: property failed: %s\n  ", #cond); \
			fprintf(stderr, __VA_ARGS__);                            \
			fputc('\n', stderr);                                     \
			if ((pk) != NULL)                                        \
				hexdump("frame", (pk)->orig, (pk)->pkt_len);    \
			abort();                                                 \
		}                                                                \
	} while (0)

static struct pkt *
pkt_of(const struct rte_mbuf *m)
{
	for (unsigned i = 0; i < n_pkts; i++)
		if (&pkts[i].m == m)
			return &pkts[i];
	CHECK(0, (struct pkt *)NULL, "an mbuf the harness never made: %p", (const void *)m);
	return NULL;
}

/* ------------------------------------------------------- DPDK stand-ins */

/* rte_fib_lookup_bulk: the answers the input chose, in burst order (the
 * burst loop looks every slot up, gone ones with destination 0). */
static struct pkt *burst_pkts;
static unsigned burst_n;

int
rte_fib_lookup_bulk(struct rte_fib *fib, uint32_t *ips, uint64_t *next_hops, int n)
{
	CHECK(fib == dp->fib.fib && burst_pkts != NULL && (unsigned)n == burst_n, (struct pkt *)NULL,
	      "lookup of %d destinations in a burst of %u", n, burst_n);
	for (int i = 0; i < n; i++) {
		struct pkt *p = &burst_pkts[i];
		if ((p->verdict & (STEER_V_DROP | STEER_V_SLOW)) == 0)
			CHECK(ips[i] == p->dst, p, "looked up %08x, classify() said %08x", ips[i], p->dst);
		next_hops[i] = p->answer;
	}
	return 0;
}

/* A port's TX burst (rte_eth_tx_burst calls it through rte_eth_fp_ops):
 * takes at most tx_take packets a call, as a full TX ring would. */
struct rte_eth_fp_ops rte_eth_fp_ops[RTE_MAX_ETHPORTS];
static uint16_t txq_port[N_PORTS];
static void *txq_data[N_PORTS][RTE_MAX_QUEUES_PER_PORT];
static void *txq_clbk[N_PORTS][RTE_MAX_QUEUES_PER_PORT];
static unsigned tx_take;

static uint16_t
fake_tx_burst(void *txq, struct rte_mbuf **m, uint16_t n)
{
	uint16_t port = *(const uint16_t *)txq;
	uint16_t took = n < tx_take ? n : (uint16_t)tx_take;
	for (uint16_t i = 0; i < n; i++) {
		struct pkt *p = pkt_of(m[i]);
		CHECK(p->state == HELD, p, "sent in state %d", p->state);
		if (i < took) {
			p->state = TXED;
			p->tx_port = port;
		} else {
			CHECK(!p->refused, p, "refused twice");
			p->refused = 1;
		}
	}
	return took;
}

/* Freeing returns nothing to a pool: it records that the packet is gone
 * (the harness frees the memory when the input is done). Twice is a bug. */
void
rte_pktmbuf_free_bulk(struct rte_mbuf **m, unsigned int n)
{
	for (unsigned i = 0; i < n; i++) {
		struct pkt *p = pkt_of(m[i]);
		CHECK(p->state == HELD || p->state == IN_RING, p, "freed in state %d", p->state);
		p->state = FREED;
	}
}

/* DPDK's own, with memcpy (ASan checks it): a read across segments. */
const void *
__rte_pktmbuf_read(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *buf)
{
	const struct rte_mbuf *seg = m;
	uint32_t buf_off = 0;

	if (off + len > rte_pktmbuf_pkt_len(m))
		return NULL;
	while (off >= rte_pktmbuf_data_len(seg)) {
		off -= rte_pktmbuf_data_len(seg);
		seg = seg->next;
	}
	if (off + len <= rte_pktmbuf_data_len(seg))
		return rte_pktmbuf_mtod_offset(seg, char *, off);
	while (len > 0) {
		uint32_t n = rte_pktmbuf_data_len(seg) - off;
		if (n > len)
			n = len;
		memcpy((char *)buf + buf_off, rte_pktmbuf_mtod_offset(seg, char *, off), n);
		off = 0;
		buf_off += n;
		len -= n;
		seg = seg->next;
	}
	return buf;
}

/* Never reached: no TX callback is installed (txq.clbk is all NULL), and
 * punt.c's control TX side (steer_ctl_send's mempool) is not fuzzed here.
 * They only satisfy the linker. */
uint16_t
rte_eth_call_tx_callbacks(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **tx_pkts, uint16_t nb_pkts,
			  void *opaque)
{
	abort();
}

struct rte_mempool_ops_table rte_mempool_ops_table;

/* ------------------------------------------------- independent helpers */

static uint16_t
be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 1071, the textbook way: 16-bit words, end-around carries. */
static uint16_t
ones_sum(const uint8_t *p, uint32_t n)
{
	uint32_t s = 0;
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += be16_at(p + i);
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static int
martian_first_octet(uint8_t o)
{
	return o == 0 || o == 127 || o >= 224;
}

/* RFC 1812 5.2.2 and 5.3.7 as a plain conjunction (no order): may this
 * frame be looked up, and with what flags? */
static int
indep_lookup(const uint8_t *f, uint32_t data_len, uint32_t pkt_len, const uint8_t *mac,
	     uint64_t cksum, uint32_t *dst, int *l2bcast, int *options)
{
	if (data_len < 34 || f[12] != 0x08 || f[13] != 0x00)
		return 0;
	*l2bcast = f[0] & 1;
	if (!*l2bcast && memcmp(f, mac, 6) != 0)
		return 0;
	const uint8_t *ip = f + 14;
	uint32_t hlen = (ip[0] & 0xf) * 4u;
	if (ip[0] >> 4 != 4 || hlen < 20 || data_len < 14 + hlen)
		return 0;
	if (cksum == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return 0;
	if (cksum != RTE_MBUF_F_RX_IP_CKSUM_GOOD && ones_sum(ip, hlen) != 0xffff)
		return 0;
	uint32_t tot = be16_at(ip + 2);
	if (tot < hlen || tot + 14 > pkt_len)
		return 0;
	uint32_t s = be32_at(ip + 12), d = be32_at(ip + 16);
	if (martian_first_octet(s >> 24) || d == 0xffffffff || martian_first_octet(d >> 24))
		return 0;
	*dst = d;
	*options = hlen > 20;
	return 1;
}

/* ------------------------------------------------------------ oracles */

/* (1) classify(): exactly the independent statement's lookups, with its
 * destination and flags, and reasons in range. classify_common(): accepts
 * exactly what classify() calls plainly forwardable within the smallest
 * MTU (TestClassifyCommonAgreesWithClassify), with the same destination.
 * Every RX checksum verdict. */
static void
check_classify(const struct pkt *p, const struct steer_port *in)
{
	const uint8_t *f = p->seg1;
	uint32_t mtu_less20 = dp->min_mtu - IPV4_MIN_HDR;

	for (int c = 0; c < 4; c++) {
		uint64_t ck = cksum_verdicts[c];
		uint32_t d_full = 0xdeadbeef, d_ind = 0, d_common = 0xfeedface;
		int l2b = 0, opt = 0;
		int v = classify(f, p->data_len, p->pkt_len, &in->mac, ck, &d_full);
		int look = (v & (STEER_V_DROP | STEER_V_SLOW)) == 0;
		int ind = indep_lookup(f, p->data_len, p->pkt_len, in->mac.addr_bytes, ck, &d_ind, &l2b, &opt);
		CHECK(look == ind, p, "cksum %d: classify() %#x, RFC 1812 says lookup=%d", c, v, ind);
		if (look) {
			CHECK(d_full == d_ind && !!(v & STEER_V_L2BCAST) == l2b && !!(v & STEER_V_OPTIONS) == opt &&
				      (v & ~(STEER_V_L2BCAST | STEER_V_OPTIONS)) == STEER_V_LOOKUP,
			      p, "cksum %d: classify() %#x dst %08x, want dst %08x l2bcast %d options %d", c, v,
			      d_full, d_ind, l2b, opt);
		} else if (v & STEER_V_DROP) {
			CHECK(!(v & STEER_V_SLOW) && STEER_V_REASON(v) < STEER_DROP_MAX &&
				      STEER_V_REASON(v) != STEER_DROP_TX_FULL &&
				      STEER_V_REASON(v) != STEER_DROP_RING_FULL &&
				      STEER_V_REASON(v) != STEER_DROP_LINK_BROADCAST,
			      p, "cksum %d: classify() %#x", c, v);
		} else {
			CHECK((STEER_V_REASON(v) == STEER_SLOW_ARP || STEER_V_REASON(v) == STEER_SLOW_LOCAL) &&
				      (v & ~0xff) == STEER_V_SLOW,
			      p, "cksum %d: classify() %#x", c, v);
		}
		if (p->data_len < ETH_IPV4_MIN)
			continue;   /* the burst loop never asks the common case */
		int ok = classify_common(f, p->pkt_len, in->mac48, ck, mtu_less20, &d_common);
		int plain = look && !(v & (STEER_V_L2BCAST | STEER_V_OPTIONS)) && be16_at(f + 16) <= dp->min_mtu;
		CHECK(ok == plain, p, "cksum %d, min MTU %u: classify_common() %d, classify() %#x", c,
		      dp->min_mtu, ok, v);
		if (ok)
			CHECK(d_common == d_full, p, "classify_common() dst %08x, classify() %08x", d_common, d_full);
	}
}

/* (3) The flow hash of a frame depends on its flow key alone: it equals
 * the hash of a canonical frame carrying only those fields (addresses,
 * protocol, the fragment field, and the ports where the mode uses them and
 * the frame has them). So fragments of one datagram (same addresses and
 * protocol) hash alike in auto and l3 mode, whatever else they carry. */
static uint32_t
hash_of(const uint8_t *f, uint32_t len, uint8_t mode)
{
	uint32_t a = flow_hash(f, len, mode);
	uint32_t b = flow_hash(f, len, mode);
	CHECK(a == b, (struct pkt *)NULL, "flow_hash not deterministic: %08x then %08x", a, b);
	return a;
}

static void
check_flow_hash(struct pkt *p)
{
	const uint8_t *f = p->seg1;
	uint32_t len = p->data_len;
	int ipv4 = len >= ETH_IPV4_MIN && f[12] == 0x08 && f[13] == 0x00;

	for (uint8_t mode = STEER_HASH_AUTO; mode <= STEER_HASH_L4; mode++) {
		uint32_t h = hash_of(f, len, mode);
		/* the mbuf's: the NIC's RSS hash when flagged, else the same */
		uint32_t hm = mbuf_flow_hash(&p->m, mode);
		CHECK(hm == ((p->m.ol_flags & RTE_MBUF_F_RX_RSS_HASH) ? p->m.hash.rss : h), p,
		      "mode %u: mbuf_flow_hash %08x, flow_hash %08x", mode, hm, h);
		if (!ipv4) {
			CHECK(h == 0, p, "mode %u: not IPv4, hash %08x", mode, h);
			continue;
		}
		const uint8_t *ip = f + 14;
		uint8_t proto = ip[9];
		uint32_t hlen = (ip[0] & 0xf) * 4u;
		int frag = (be16_at(ip + 6) & 0x3fff) != 0;
		int ports = !frag && (proto == 6 ? mode != STEER_HASH_L3 : proto == 17 && mode == STEER_HASH_L4);
		uint8_t canon[38] = {0};
		uint32_t clen = 34;
		canon[12] = 0x08;
		canon[14] = 0x45;
		canon[14 + 6] = frag ? 0x20 : 0;   /* a fragment: MF, offset 0 */
		canon[14 + 9] = proto;
		memcpy(canon + 14 + 12, ip + 12, 8);
		if (ports && len >= 14 + hlen + 4) {
			memcpy(canon + 34, f + 14 + hlen, 4);
			clen = 38;
		}
		uint32_t hc = hash_of(canon, clen, mode);
		CHECK(h == hc, p, "mode %u: hash %08x, the same flow key in a canonical frame %08x", mode, h, hc);
		if (frag || mode == STEER_HASH_L3 || (mode == STEER_HASH_AUTO && proto != 6)) {
			/* another fragment of the datagram: a later one (offset,
			 * no ports), cut short, and the same whole in l3 mode */
			uint8_t later[34];
			memcpy(later, f, 34);
			later[14] = 0x45;
			later[14 + 6] = 0x00;
			later[14 + 7] = 0xb9;     /* offset 185 * 8 */
			uint32_t hl = hash_of(later, sizeof(later), mode);
			CHECK(h == hl, p, "mode %u: fragment hashes %08x, a later fragment %08x", mode, h, hl);
		}
	}
}

/* What RFC 1812 (and DESIGN.md's stage 3) make of a packet, given the full
 * check's verdict and the FIB's answer. */
static struct fate
expect_fate(struct pkt *p)
{
	struct fate fa = {0, 0, 0, 0};
	int v = p->verdict;
	const uint8_t *ip = p->orig + 14;

	if (v & STEER_V_SLOW)
		return (struct fate){FATE_SLOW, STEER_V_REASON(v), 0, 0};
	if (v & STEER_V_DROP)
		return (struct fate){FATE_DROP, STEER_V_REASON(v), 0, 0};
	int l2b = (v & STEER_V_L2BCAST) != 0;
	const struct fate link_bcast = {FATE_DROP, STEER_DROP_LINK_BROADCAST, 0, 0};
	if (p->answer == STEER_FIB_NO_ROUTE)
		return l2b ? link_bcast : (struct fate){FATE_SLOW, STEER_SLOW_NO_ROUTE, 0, 0};
	if (p->answer == STEER_FIB_RECYCLED || p->answer > dp->fib.nh_cap)
		return l2b ? link_bcast : (struct fate){FATE_SLOW, STEER_SLOW_UNRESOLVED, 0, 0};
	const struct steer_nexthop *nh = &dp->fib.nh[p->answer - 1];
	if (nh->kind == STEER_NH_LOCAL)
		return (struct fate){FATE_SLOW, STEER_SLOW_LOCAL, (uint8_t)l2b, 0};
	if (nh->kind == STEER_NH_BROADCAST)
		return (struct fate){FATE_SLOW, STEER_SLOW_BROADCAST, (uint8_t)l2b, 0};
	if (l2b)
		return link_bcast;
	if (ip[8] <= 1)
		return (struct fate){FATE_SLOW, STEER_SLOW_TTL_EXCEEDED, 0, 0};
	if (v & STEER_V_OPTIONS)
		return (struct fate){FATE_SLOW, STEER_SLOW_IP_OPTIONS, 0, 0};
	if (nh->kind == STEER_NH_UNRESOLVED)
		return (struct fate){FATE_SLOW, STEER_SLOW_UNRESOLVED, 0, 0};
	if (be16_at(ip + 2) > dp->port[nh->port].mtu)
		return (struct fate){FATE_SLOW, STEER_SLOW_FRAGMENTATION_NEEDED, 0, 0};
	fa.kind = FATE_TX;
	fa.port = nh->port;
	return fa;
}

/* A sent frame: the next hop's MACs, TTL - 1, and the header's one's
 * complement sum unchanged (RFC 1624: still valid if it was; a header the
 * NIC called good keeps its sum whatever it is); nothing else touched. */
static void
check_sent(const struct pkt *p)
{
	const uint8_t *f = p->seg1, *o = p->orig;
	const struct steer_nexthop *nh = &dp->fib.nh[p->answer - 1];

	CHECK(memcmp(f, nh->dst.addr_bytes, 6) == 0 && memcmp(f + 6, nh->src.addr_bytes, 6) == 0, p,
	      "sent without the next hop's MACs");
	CHECK(f[22] == (uint8_t)(o[22] - 1), p, "TTL %u sent as %u", o[22], f[22]);
	uint16_t before = ones_sum(o + 14, 20), after = ones_sum(f + 14, 20);
	CHECK(before == after || (before % 0xffff == 0 && after % 0xffff == 0), p,
	      "header sum %#x became %#x", before, after);
	for (uint32_t i = 12; i < p->data_len; i++)
		if (i != 22 && i != 24 && i != 25)
			CHECK(f[i] == o[i], p, "byte %u changed: %02x -> %02x", i, o[i], f[i]);
	if (p->seg2 != NULL)
		CHECK(memcmp(p->seg2, o + p->data_len, p->pkt_len - p->data_len) == 0, p, "second segment changed");
}

static void
check_untouched(const struct pkt *p)
{
	CHECK(memcmp(p->seg1, p->orig, p->data_len) == 0 &&
		      (p->seg2 == NULL || memcmp(p->seg2, p->orig + p->data_len, p->pkt_len - p->data_len) == 0),
	      p, "a frame that was not forwarded was written to");
}

/* (4) The exception tag: what the fast path encodes, the control plane
 * decodes (punt.go's Take: reason = tag &^ L2BCAST). */
static void
decode_tag(uint32_t tag, unsigned *reason, int *l2b)
{
	*reason = tag & ~(uint32_t)STEER_EXC_L2BCAST;
	*l2b = (tag & STEER_EXC_L2BCAST) != 0;
}

_Static_assert(STEER_SLOW_MAX <= STEER_EXC_L2BCAST, "slow reasons must stay below the tag's flag");

static void
check_tag_codec(void)
{
	for (unsigned r = 0; r < STEER_SLOW_MAX; r++) {
		for (int b = 0; b < 2; b++) {
			unsigned rr;
			int bb;
			decode_tag(STEER_EXC_TAG(r, b), &rr, &bb);
			CHECK(rr == r && bb == b, (struct pkt *)NULL, "tag of (%u, %d) decodes as (%u, %d)", r, b, rr, bb);
		}
	}
}

/* ------------------------------------------------------------- set-up */

static struct rte_ring *
ring_new(const char *name, unsigned count)
{
	ssize_t sz = rte_ring_get_memsize(count);
	struct rte_ring *r = sz > 0 ? aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL((size_t)sz, RTE_CACHE_LINE_SIZE))
				    : NULL;
	if (r == NULL || rte_ring_init(r, name, count, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
		fprintf(stderr, "fastpath_fuzz: rte_ring_init %s failed\n", name);
		exit(1);
	}
	return r;
}

static void *
zalloc_aligned(size_t n)
{
	void *p = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(n, RTE_CACHE_LINE_SIZE));
	if (p == NULL)
		abort();
	memset(p, 0, n);
	return p;
}

static struct steer_nexthop nh_table[N_NH];
static struct steer_txbuf txbufs[N_PORTS];
static const uint8_t port_mac[N_PORTS][6] = {
	{0x02, 0x70, 0x63, 0x61, 0x70, 0x00},
	{0x02, 0x70, 0x63, 0x61, 0x70, 0x01},
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dp = zalloc_aligned(sizeof(*dp));
	lc = zalloc_aligned(sizeof(*lc));
	exc_ring = ring_new("fuzz_exc", 128);   /* room for every packet of an input */
	exc_small = ring_new("fuzz_exc_small", 4);
	empty_ring = ring_new("fuzz_exc_empty", 4);
	for (uint16_t p = 0; p < N_PORTS; p++) {
		txq_port[p] = p;
		for (int q = 0; q < RTE_MAX_QUEUES_PER_PORT; q++)
			txq_data[p][q] = &txq_port[p];
		rte_eth_fp_ops[p].tx_pkt_burst = fake_tx_burst;
		rte_eth_fp_ops[p].txq.data = txq_data[p];
		rte_eth_fp_ops[p].txq.clbk = txq_clbk[p];
	}
	check_tag_codec();
	return 0;
}

/* The data plane and lcore as setup.c leaves them, from the config. */
static void
configure(const uint8_t *cfg)
{
	memset(dp, 0, sizeof(*dp));
	memset(lc, 0, sizeof(*lc));
	dp->fib.fib = (struct rte_fib *)(uintptr_t)&nh_table;   /* opaque to the fast path */
	dp->fib.nh = nh_table;
	dp->fib.nh_cap = N_NH;
	dp->ctl_kick.fd = -1;
	dp->min_mtu = MTU_MAX;
	for (uint16_t p = 0; p < N_PORTS; p++) {
		struct steer_port *sp = &dp->port[p];
		memcpy(sp->mac.addr_bytes, port_mac[p], 6);
		sp->mac48 = mac48_of(port_mac[p]);
		sp->nb_txq = 1;
		sp->mtu = (uint16_t)(MTU_MIN + (cfg[2 + 2 * p] | cfg[3 + 2 * p] << 8) % (MTU_MAX - MTU_MIN + 1));
		sp->enabled = 1;
		if (sp->mtu < dp->min_mtu)
			dp->min_mtu = sp->mtu;
		txbufs[p] = (struct steer_txbuf){.port = p, .queue = 0, .n = 0, .lock = NULL};
		lc->txbuf_of[0][p] = &txbufs[p];
	}
	for (int i = 0; i < N_NH; i++) {
		struct steer_nexthop *nh = &nh_table[i];
		nh->kind = cfg[6 + i] & 3;
		nh->port = (cfg[6 + i] >> 2) & 1;
		nh->pad = 0;
		memcpy(nh->src.addr_bytes, port_mac[nh->port], 6);
		const uint8_t dst[6] = {0x02, 0, 0, 0, (uint8_t)i, 0x01};
		memcpy(nh->dst.addr_bytes, dst, 6);
	}
	lc->dp = dp;
	lc->txbuf = txbufs;
	lc->n_txbuf = N_PORTS;
	lc->worker = -1;
	lc->ctl_row = -1;
	lc->kick.fd = -1;
	lc->n_rx = 1;
	lc->rx[0].port = (cfg[0] >> 6) & 1;
	lc->rx[0].queue = 0;
	lc->rx[0].opts = cfg[0] & (BURST_PREFETCH | BURST_HW_CKSUM);
	switch ((cfg[0] >> 4) & 3) {
	case 2:
		lc->exc = exc_small;
		break;
	case 3:
		lc->exc = NULL;
		break;
	default:
		lc->exc = exc_ring;
	}
	tx_take = cfg[11] & 0x80 ? cfg[11] & 0x1fu : ~0u;
}

static uint64_t
fib_answer(uint8_t b)
{
	switch (b & 7) {
	case 0:
		return STEER_FIB_NO_ROUTE;
	case 1:
		return STEER_FIB_RECYCLED;
	case 2:
		return (uint64_t)N_NH + 1 + (b >> 3);
	default:
		return (uint64_t)(b >> 3) % N_NH + 1;
	}
}

/* Cut the input into packets; returns how many. */
static unsigned
parse(const uint8_t *data, size_t size, int worker)
{
	size_t off = CFG_LEN;
	unsigned n = 0;

	while (n < MAX_PKTS && off + REC_HDR <= size) {
		const uint8_t *h = data + off;
		uint32_t len = (uint32_t)(h[0] | h[1] << 8) & 0x7ff;
		off += REC_HDR;
		if (len > size - off)
			len = (uint32_t)(size - off);
		struct pkt *p = &pkts[n];
		memset(p, 0, sizeof(*p));
		p->pkt_len = len;
		p->data_len = (h[3] & 8) && h[4] < len ? h[4] : len;
		p->orig = malloc(len ? len : 1);
		p->seg1 = malloc(p->data_len);   /* exact: see the top of the file */
		if (p->orig == NULL || p->seg1 == NULL)
			abort();
		memcpy(p->orig, data + off, len);
		memcpy(p->seg1, data + off, p->data_len);
		off += len;
		p->answer = fib_answer(h[2]);

		struct rte_mbuf *m = &p->m;
		m->buf_addr = p->seg1;
		m->data_off = 0;
		m->buf_len = (uint16_t)p->data_len;
		m->data_len = (uint16_t)p->data_len;
		m->pkt_len = p->pkt_len;
		m->nb_segs = 1;
		m->port = worker ? (h[3] >> 2) & 1 : lc->rx[0].port;
		m->ol_flags = cksum_verdicts[h[3] & 3];
		rte_mbuf_refcnt_set(m, 1);
		if (h[3] & 0x10) {
			m->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
			m->hash.rss = 0x5eed0000u | h[2];
		}
		if (p->data_len < p->pkt_len) {
			uint32_t n2 = p->pkt_len - p->data_len;
			p->seg2 = malloc(n2);
			if (p->seg2 == NULL)
				abort();
			memcpy(p->seg2, p->orig + p->data_len, n2);
			p->m2.buf_addr = p->seg2;
			p->m2.data_off = 0;
			p->m2.buf_len = (uint16_t)n2;
			p->m2.data_len = (uint16_t)n2;
			p->m2.pkt_len = n2;
			p->m2.nb_segs = 1;
			rte_mbuf_refcnt_set(&p->m2, 1);
			m->next = &p->m2;
			m->nb_segs = 2;
		}
		n++;
	}
	return n;
}

/* ------------------------------------------------------------ one input */

static void
take_exceptions(const uint8_t *cfg, unsigned *n_taken)
{
	struct rte_mbuf *queued[MAX_PKTS];
	struct rte_ring *rings[2] = {lc->exc != NULL ? lc->exc : exc_ring, empty_ring};
	uint32_t n_rings = cfg[0] & 0x80 ? 2 : 1;
	uint32_t next = cfg[0] & 1 ? n_rings - 1 : 0;
	uint32_t cap = 1 + 8u * cfg[10];
	uint32_t max = 1 + cfg[12] % MAX_PKTS;

	/* What the ring holds, in order, tagged as the packets' fates say;
	 * then put back for steer_exc_take. */
	unsigned q = rte_ring_sc_dequeue_burst(rings[0], (void **)queued, MAX_PKTS, NULL);
	CHECK(rte_ring_count(rings[0]) == 0 && rte_ring_count(empty_ring) == 0, (struct pkt *)NULL,
	      "more on the exception ring than packets");
	for (unsigned i = 0; i < q; i++) {
		struct pkt *p = pkt_of(queued[i]);
		unsigned r;
		int b;
		decode_tag(p->m.hash.usr, &r, &b);
		CHECK(p->state == HELD && p->want.kind == FATE_SLOW, p, "on the exception ring in state %d, fate %d",
		      p->state, p->want.kind);
		CHECK(r == p->want.reason && b == p->want.l2bcast, p,
		      "tag %#x decodes as (%u, %d), want (%u, %d)", p->m.hash.usr, r, b, p->want.reason,
		      p->want.l2bcast);
		p->state = IN_RING;
	}
	if (q > 0)
		CHECK(rte_ring_sp_enqueue_bulk(rings[0], (void *const *)queued, q, NULL) == q, (struct pkt *)NULL,
		      "ring refused its own packets back");

	struct steer_exc_meta *meta = malloc(sizeof(*meta) * max);
	uint8_t *buf = malloc((size_t)cap * max);
	if (meta == NULL || buf == NULL)
		abort();
	unsigned done = 0;
	for (;;) {
		uint32_t got = steer_exc_take(rings, n_rings, &next, meta, buf, cap, max);
		CHECK(got <= max && done + got <= q, (struct pkt *)NULL, "steer_exc_take gave %u (max %u, %u left)", got,
		      max, q - done);
		if (got == 0)
			break;
		for (uint32_t i = 0; i < got; i++, done++) {
			struct pkt *p = pkt_of(queued[done]);
			unsigned r;
			int b;
			decode_tag(meta[i].tag, &r, &b);
			uint32_t len = p->pkt_len < cap ? p->pkt_len : cap;
			CHECK(p->state == FREED, p, "not freed after steer_exc_take (state %d)", p->state);
			CHECK(r == p->want.reason && b == p->want.l2bcast && meta[i].port == p->m.port &&
				      meta[i].pkt_len == p->pkt_len && meta[i].len == len,
			      p, "exception %u: tag %#x port %u len %u pkt_len %u; want reason %u l2bcast %d port %u len %u pkt_len %u",
			      done, meta[i].tag, meta[i].port, meta[i].len, meta[i].pkt_len, p->want.reason,
			      p->want.l2bcast, p->m.port, len, p->pkt_len);
			CHECK(memcmp(buf + (size_t)i * cap, p->orig, len) == 0, p, "exception %u: frame copied wrong", done);
		}
	}
	CHECK(done == q, (struct pkt *)NULL, "steer_exc_take took %u of %u exceptions", done, q);
	free(meta);
	free(buf);
	*n_taken = done;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < CFG_LEN)
		return -1;   /* not an input: keep it out of the corpus */
	const uint8_t *cfg = data;
	int worker = (cfg[0] & 4) != 0;
	configure(cfg);
	n_pkts = parse(data, size, worker);
	unsigned burst = 1 + cfg[1] % STEER_BURST;

	/* Oracles on each frame as received, and its expected fate. */
	uint64_t want_drop[STEER_DROP_MAX] = {0}, want_slow[STEER_SLOW_MAX] = {0};
	for (unsigned i = 0; i < n_pkts; i++) {
		struct pkt *p = &pkts[i];
		const struct steer_port *in = &dp->port[p->m.port];
		uint64_t seen = (worker || (lc->rx[0].opts & BURST_HW_CKSUM))
					? p->m.ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK
					: RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN;
		check_classify(p, in);
		check_flow_hash(p);
		p->verdict = classify(p->seg1, p->data_len, p->pkt_len, &in->mac, seen, &p->dst);
		p->want = expect_fate(p);
		if (p->want.kind == FATE_DROP)
			want_drop[p->want.reason]++;
		else if (p->want.kind == FATE_SLOW)
			want_slow[p->want.reason]++;
	}

	/* The real pipeline, burst by burst, then the lcore's final flush. */
	for (unsigned i = 0; i < n_pkts; i += burst) {
		struct rte_mbuf *ms[STEER_BURST];
		unsigned n = n_pkts - i < burst ? n_pkts - i : burst;
		for (unsigned j = 0; j < n; j++)
			ms[j] = &pkts[i + j].m;
		burst_pkts = &pkts[i];
		burst_n = n;
		if (worker)
			steer_process_burst(lc, 0, ms, (uint16_t)n);
		else
			steer_process_rx_burst(lc, &lc->rx[0], ms, (uint16_t)n);
		burst_pkts = NULL;
		if (cfg[0] & 8)
			steer_flush_all(lc);
	}
	steer_flush_all(lc);
	for (int p = 0; p < N_PORTS; p++)
		CHECK(txbufs[p].n == 0, (struct pkt *)NULL, "TX buffer %d holds %u after the flush", p, txbufs[p].n);

	/* (2) one fate each, the expected one. */
	unsigned n_taken = 0;
	take_exceptions(cfg, &n_taken);
	uint64_t sent = 0, refused = 0, exc_lost = 0;
	for (unsigned i = 0; i < n_pkts; i++) {
		struct pkt *p = &pkts[i];
		switch (p->want.kind) {
		case FATE_TX:
			CHECK(p->state == TXED || (p->state == FREED && p->refused), p,
			      "to be sent on port %u: state %d", p->want.port, p->state);
			if (p->state == TXED) {
				CHECK(p->tx_port == p->want.port, p, "sent on port %u, want %u", p->tx_port, p->want.port);
				sent++;
			} else {
				refused++;
			}
			check_sent(p);
			break;
		case FATE_DROP:
			CHECK(p->state == FREED && !p->refused, p, "to be dropped (%s): state %d",
			      steer_drop_names[p->want.reason], p->state);
			check_untouched(p);
			break;
		default:
			CHECK(p->state == FREED && !p->refused, p, "to the slow path (%s): state %d",
			      steer_slow_names[p->want.reason], p->state);
			check_untouched(p);
			break;
		}
	}
	for (unsigned i = 0; i < n_pkts; i++)
		if (pkts[i].want.kind == FATE_SLOW)
			exc_lost++;
	exc_lost -= n_taken;

	/* The counters moved by exactly one per packet, to the same fates. */
	const struct steer_counters *c = &lc->c;
	want_drop[STEER_DROP_TX_FULL] += refused;
	uint64_t total = c->tx;
	for (int r = 0; r < STEER_DROP_MAX; r++) {
		CHECK(c->drop[r] == want_drop[r], (struct pkt *)NULL, "drop %s counted %lu, want %lu",
		      steer_drop_names[r], (unsigned long)c->drop[r], (unsigned long)want_drop[r]);
		total += c->drop[r];
	}
	for (int r = 0; r < STEER_SLOW_MAX; r++) {
		CHECK(c->slow[r] == want_slow[r], (struct pkt *)NULL, "slow %s counted %lu, want %lu",
		      steer_slow_names[r], (unsigned long)c->slow[r], (unsigned long)want_slow[r]);
		total += c->slow[r];
	}
	CHECK(c->tx == sent && c->exc_full == exc_lost && total == n_pkts, (struct pkt *)NULL,
	      "tx %lu (sent %lu), exc_full %lu (lost %lu), %lu fates for %u packets", (unsigned long)c->tx,
	      (unsigned long)sent, (unsigned long)c->exc_full, (unsigned long)exc_lost, (unsigned long)total, n_pkts);

	for (unsigned i = 0; i < n_pkts; i++) {
		free(pkts[i].seg1);
		free(pkts[i].seg2);
		free(pkts[i].orig);
	}
	n_pkts = 0;
	return 0;
}
