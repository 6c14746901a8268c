/* The distributor's flow hash: which packets are "one flow" and so must
 * meet on one worker, in order (pkg/config distributor.hash):
 *
 *   STEER_HASH_AUTO: TCP by its 5-tuple; everything else, and every
 *     fragment (the first included: later ones carry no ports), by
 *     addresses and protocol. A UDP flow whose datagrams are sometimes
 *     fragmented stays on one worker: NIC RSS hashes UDP the same way by
 *     default.
 *   STEER_HASH_L3: every packet by addresses and protocol.
 *   STEER_HASH_L4: TCP and UDP by the 5-tuple, fragments by addresses and
 *     protocol (a flow with some fragmented packets may reorder).
 *
 * Not IPv4 (ARP, junk): 0, one worker classifies and counts it. CRC32-C
 * with SSE4.2: three crc32 instructions per packet (6 ns with the parse,
 * against 117 for software Toeplitz; both spread evenly: see the tests). */
#ifndef STEER_FLOWHASH_H
#define STEER_FLOWHASH_H

#include <string.h>
#include <netinet/in.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "checks.h"
#include "dataplane.h"

struct flow_key {
	uint32_t src, dst;     /* host order */
	uint32_t ports;        /* sport << 16 | dport, 0 when not used */
	uint8_t proto;
	uint8_t ok;
};

static inline struct flow_key
flow_key(const uint8_t *frame, uint32_t data_len, uint8_t mode)
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
	int ports = k.proto == IPPROTO_TCP ? mode != STEER_HASH_L3
					   : k.proto == IPPROTO_UDP && mode == STEER_HASH_L4;
	if (ports && !frag && data_len >= RTE_ETHER_HDR_LEN + hlen + 4) {
		uint32_t p;
		memcpy(&p, frame + RTE_ETHER_HDR_LEN + hlen, 4);
		k.ports = rte_be_to_cpu_32(p);
	}
	return k;
}

static inline uint32_t
flow_key_crc(struct flow_key k)
{
	uint32_t h = rte_hash_crc_8byte((uint64_t)k.src << 32 | k.dst, 0x5f3759df);
	return rte_hash_crc_4byte(k.ports ^ ((uint32_t)k.proto << 24), h);
}

static inline uint32_t
flow_hash(const uint8_t *frame, uint32_t data_len, uint8_t mode)
{
	struct flow_key k = flow_key(frame, data_len, mode);
	return k.ok ? flow_key_crc(k) : 0;
}

/* A packet's flow hash: the NIC's RSS hash when the mbuf carries one (free;
 * steer configures RSS to match the mode), else ours. */
static inline uint32_t
mbuf_flow_hash(const struct rte_mbuf *m, uint8_t mode)
{
	if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH)
		return m->hash.rss;
	return flow_hash(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, mode);
}

#endif
