/* steer's data plane: the state its lcores share and own, and what the Go
 * driver (dataplane.go and friends) calls.
 *
 * Everything an lcore touches per packet lives in its own cache-aligned
 * struct steer_lcore (RX queue list, TX buffers, counters), like l3fwd's
 * lcore_conf; the only shared state is read-mostly (port table, FIB, next
 * hops) plus the quit flag, the distributor's wanted RETA and the locks of
 * TX queues that several lcores share.
 *
 * The stages, one file each:
 *   checks.h       RFC 1812 header checks, checksum, TTL update (inline)
 *   burst.c        one burst through classify -> FIB lookup -> rewrite
 *   txbuf.h        TX buffers per (egress port, queue) (inline)
 *   punt.h/.c      exceptions to the control thread, its frames back out
 *   flowhash.h     the distributor's flow hash (inline)
 *   distributor.c  RETA, rings to workers, reorder-free bucket moves
 *   cycles.h       where an lcore's cycles go: busy, idle, by stage (inline)
 *   idle.h/.c      waiting when idle: busy, adaptive sleeps, RX interrupts
 *   lcore.c        the polling loop of every forwarding lcore
 *   setup.c        creating, wiring and freeing all of the above
 */
#ifndef STEER_DATAPLANE_H
#define STEER_DATAPLANE_H

#include <stdint.h>
#include <rte_common.h>
#include <rte_epoll.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_spinlock.h>
#include <rte_rcu_qsbr.h>

#include "reasons.h"

/* Limits: pkg/fwd has the same values (pinned at compile time). */
#define STEER_MAX_PORTS 32
#define STEER_MAX_QUEUES 64      /* per port, RX and TX */
#define STEER_MAX_RX_PER_LCORE 32
#define STEER_MAX_WORKERS 16
#define STEER_MAX_LCORES 128     /* RCU reader threads */
#define STEER_MAX_RETA 4096
#define STEER_BURST 32

/* What an lcore's cycles go to (pkg/fwd Stage), measured in a sample of its
 * busy loops (cycles.h). */
#define STEER_STAGES(X)                                                        \
	X(RX, "rx")             /* polling NIC queues and rings */                \
	X(HANDOFF, "handoff")   /* hashing flows, handing packets to workers */   \
	X(PROCESS, "process")   /* the L3 pipeline (burst.c) */                   \
	X(TX, "tx")             /* sending TX buffers */
#define STEER_ENUM(e, s) STEER_STAGE_##e,
enum steer_stage { STEER_STAGES(STEER_ENUM) STEER_STAGE_MAX };
#undef STEER_ENUM

/* Sources a transit packet must not have (RFC 1812 5.3.7): the router's
 * own addresses and its connected subnets' directed broadcasts. The common
 * case tests a 4096-bit filter of them, one load; a hit goes to the exact
 * list. */
#define STEER_MAX_MARTIAN_SOURCES 256
struct steer_martians {
	uint8_t filter[512];
	uint16_t n;
	uint32_t addr[STEER_MAX_MARTIAN_SOURCES]; /* as in the header: network order */
	uint8_t drop[STEER_MAX_MARTIAN_SOURCES];  /* enum steer_drop */
};

/* The filter's bit for a source address as the header holds it. */
static inline uint32_t
martian_bit(uint32_t src_raw)
{
	return (src_raw ^ (src_raw >> 12) ^ (src_raw >> 20)) & 4095;
}

/* A waiter others wake (idle.h): set asleep, then block on fd. */
struct steer_kick {
	uint32_t asleep;
	int fd;                    /* eventfd, -1: none */
};

/* How an lcore waits when idle (idle.h; pkg/config poll). */
enum steer_poll_mode { STEER_POLL_BUSY, STEER_POLL_ADAPTIVE, STEER_POLL_INTERRUPT };

/* The distributor's flow hash (flowhash.h; pkg/config distributor.hash). */
enum steer_hash_mode {
	STEER_HASH_AUTO = 0,    /* TCP: 5-tuple; others and fragments: addresses + protocol */
	STEER_HASH_L3,          /* addresses + protocol */
	STEER_HASH_L4,          /* TCP and UDP: 5-tuple */
};

/* A RETA entry: a worker's software queue id, or the RX lcore itself. */
#define STEER_LOCAL STEER_MAX_WORKERS

/* Kinds of next hop (pkg/fwd NextHopKind). LOCAL and BROADCAST entries are
 * /32s the control plane installs for the router's own and subnet broadcast
 * addresses, so one FIB lookup answers "for us?" and "where to?" at once. */
enum steer_nh_kind {
	STEER_NH_FORWARD = 0,   /* MACs known: rewrite and send */
	STEER_NH_UNRESOLVED,    /* egress port known, neighbour MAC not yet */
	STEER_NH_LOCAL,         /* one of the router's addresses */
	STEER_NH_BROADCAST,     /* network or broadcast address of a connected subnet */
};

/* 16 bytes; dst and src MAC first so one 12-byte copy rewrites Ethernet. */
struct steer_nexthop {
	struct rte_ether_addr dst;
	struct rte_ether_addr src;
	uint16_t port;
	uint8_t kind;
	uint8_t pad;
};

struct steer_port {
	uint64_t mac48;            /* mac as loaded from a frame: 8 bytes LE, top two zero */
	struct rte_ether_addr mac;
	uint16_t nb_txq;
	uint16_t mtu;
	uint8_t enabled;
};

/* The FIB is an rte_fib (DIR24_8, 4-byte entries) whose values are
 * next-hop index + 1. A next-hop entry is written and fenced before any FIB
 * entry points at it, and rewritten only an RCU grace period after the last
 * FIB entry stopped pointing at it, so readers need no lock.
 *
 * DPDK 22.11's rte_fib has no RCU hook: when a change makes a tbl8 group
 * uniform it writes the tbl24 entry and zeroes the group at once, and a
 * later change may reuse the group. Hence:
 *  - value 0 (STEER_FIB_RECYCLED) is never a real next hop: a reader that
 *    gets it read a group being recycled, and hands the packet to the slow
 *    path (UNRESOLVED), which looks it up again;
 *  - no match gives STEER_FIB_NO_ROUTE, above any index + 1;
 *  - the writer (fib.go) waits for a grace period on qsv before each change
 *    that follows another, so a group freed by one change is not reused
 *    while a lookup may still be inside it. */
#define STEER_FIB_RECYCLED 0
#define STEER_FIB_NO_ROUTE 0x7fffffffu
#define STEER_MAX_NEXTHOPS 0xfffffeu
struct steer_fib {
	struct rte_fib *fib;
	struct steer_nexthop *nh;  /* indexed by FIB value - 1 */
	uint32_t nh_cap;
};

/* State shared by every lcore of one data plane. */
struct steer_dp {
	uint32_t quit;             /* set by the control thread, read relaxed */
	uint32_t rx_running;       /* lcores that may still enqueue on rings */
	uint16_t n_workers;        /* distributor workers, software queue ids 0.. */
	uint8_t backpressure;      /* on_full: 1 = don't poll while a ring lacks room */
	uint8_t hash_mode;         /* enum steer_hash_mode */
	uint16_t burst;            /* distributor RX and ring burst, 1..STEER_BURST */
	uint32_t reta_mask;        /* reta_size - 1 */
	uint64_t max_stall_tsc;    /* backpressure waits at most this long for room */
	uint64_t drain_tsc;        /* flush partial TX buffers after this many cycles */
	struct steer_fib fib;
	struct steer_martians martians;
	struct rte_rcu_qsbr *qsv;  /* lcores report quiescent states here */
	/* Frames the control thread sends (ARP, ICMP, packets that waited for
	 * ARP): one lcore drains this ring onto its TX queues. */
	struct rte_ring *ctl_tx;
	struct steer_lcore *ctl_lcore; /* the lcore that drains it */
	uint64_t max_sleep_ns;     /* adaptive: the longest sleep */
	uint8_t kick_workers;      /* some worker may sleep: wake it on enqueue */
	uint16_t n_lcores;         /* RCU thread ids handed out */
	uint16_t min_mtu;          /* smallest MTU of the enabled ports */
	struct steer_port port[STEER_MAX_PORTS];
	rte_spinlock_t txq_lock[STEER_MAX_PORTS][STEER_MAX_QUEUES];
	/* The control thread, while it waits for exceptions (idle.h): lcores
	 * that hand it one wake it. A line of its own, read-mostly. */
	struct steer_kick ctl_kick __rte_cache_aligned;
};

/* Counters of one lcore: written only by it, read by Go on scrape. */
struct steer_counters {
	uint64_t rx;               /* from NIC queues */
	uint64_t tx;
	uint64_t busy_polls;       /* NIC queue or ring polls that got packets */
	uint64_t idle_polls;       /* ... that got none */
	uint64_t handed_off;       /* enqueued to other lcores' workers */
	uint64_t local;            /* processed inline as this lcore's worker share */
	uint64_t from_rings;       /* dequeued as a worker */
	uint64_t worker_bursts;    /* non-empty ring dequeues */
	uint64_t backpressure_skips; /* NIC polls skipped: a ring lacked room */
	uint64_t exc_full;         /* slow-path packets freed: exception ring full */
	uint64_t ctl_tx;           /* control-thread frames sent */
	uint64_t ctl_tx_full;      /* control-thread frames dropped: TX queue full */
	uint64_t busy_cycles;      /* TSC cycles of loops that found work (cycles.h) */
	uint64_t idle_cycles;      /* ... of loops that found none */
	uint64_t stall_cycles;     /* backpressure: waiting for ring room (within busy) */
	uint64_t asleep_cycles;    /* sleeping or blocked in epoll (idle.h) */
	uint64_t sleeps;           /* times it went to sleep */
	uint64_t wakeups;          /* times it found work again after sleeping */
	uint64_t drop[STEER_DROP_MAX];
	uint64_t slow[STEER_SLOW_MAX];
	/* A sample of busy loops (one in STEER_SAMPLE_LOOPS), timed by stage. */
	uint64_t sampled_loops;
	uint64_t sampled_pkts;     /* packets received (NIC queues and rings) in them */
	uint64_t sampled_local;    /* ... processed by this lcore */
	uint64_t stage_cycles[STEER_STAGE_MAX];
} __rte_cache_aligned;

struct steer_txbuf {
	uint16_t port;
	uint16_t queue;
	uint16_t n;
	rte_spinlock_t *lock;      /* NULL unless another lcore sends on this queue */
	struct rte_mbuf *m[STEER_BURST];
};

/* What the caller of a burst knows of it, as constants (struct steer_rxq). */
#define BURST_PREFETCH 1   /* packet data may be out of cache (a NIC wrote it
			    * by DMA), not just written by a software PMD */
#define BURST_HW_CKSUM 2   /* mbufs may carry the NIC's IPv4 checksum verdict */

struct steer_rxq {
	uint16_t port;
	uint16_t queue;
	uint8_t distribute;        /* 1: spread over workers by flow hash */
	uint8_t opts;              /* BURST_*: what the port's device does */
	/* backpressure on this queue (written by the polling lcore) */
	uint64_t stall_since;      /* TSC the current wait began, 0: none */
	uint64_t stall_skips;      /* polls skipped waiting for ring room */
	uint64_t stall_cycles;
};

/* RX lcore side of the link to worker w (out[STEER_LOCAL]: to itself). ring
 * is NULL for what the lcore processes itself (the local shortcut, also its
 * own worker id when it is a worker) and for no link at all. */
struct steer_out {
	struct rte_ring *ring;
	struct steer_lcore *to;    /* the worker: woken when it sleeps */
	uint8_t linked;
	uint16_t n;
	uint64_t seq;              /* packets handed over (or processed locally) */
	uint64_t full;             /* dropped: ring full */
	const uint64_t *done;      /* the worker's published count for this link */
	uint16_t bucket[STEER_BURST];
	struct rte_mbuf *m[STEER_BURST];
};

/* Worker side of a ring. done = deq at the last complete TX flush: only then
 * have the packets left for the NIC, so only then may a flow move. */
struct steer_in {
	struct rte_ring *ring;
	uint64_t deq;
	uint64_t done;
};

struct steer_lcore {
	struct steer_dp *dp;
	unsigned lcore_id;
	uint16_t rcu_id;           /* RCU QSBR thread id */
	uint16_t n_rx;
	uint16_t n_txbuf;
	struct steer_rxq rx[STEER_MAX_RX_PER_LCORE];
	/* txbuf_of[recorded rx queue][egress port] -> its TX buffer, NULL for
	 * none: this is where txq = recorded % nb_tx_queues is decided, once,
	 * at setup. Queue-major, so a burst fetches its row once; pointers, so
	 * a packet finds its buffer with one load. Cache-aligned: rows start
	 * on a line, and GCC 12 at -O2 vectorises the initialisation with
	 * aligned stores. */
	struct steer_txbuf *txbuf_of[STEER_MAX_QUEUES][STEER_MAX_PORTS] __rte_cache_aligned;
	struct steer_txbuf *txbuf;
	/* distributor roles */
	int16_t worker;            /* software queue id, or -1: not a worker */
	uint8_t distributes;       /* polls at least one distributor queue */
	uint16_t n_in;
	struct steer_in in[STEER_MAX_RX_PER_LCORE];
	struct steer_out *out;     /* [STEER_MAX_WORKERS + 1] when distributes */
	/* This RX lcore's RETA: bucket -> worker or STEER_LOCAL. The control
	 * plane writes reta_want and then bumps want_gen; the lcore follows
	 * bucket by bucket (reta), a bucket once its old owner has sent all it
	 * was given of it. n_remote == 0 (every bucket local, nothing pending)
	 * runs the queue exactly as run to completion: no hash. */
	uint8_t *reta;
	uint8_t *reta_want;
	uint32_t want_gen;         /* written by the control plane */
	uint32_t reta_gen;         /* want_gen that reta has fully caught up with */
	uint32_t n_remote;         /* applied buckets owned by another lcore */
	uint16_t hash_sample;      /* all-local bursts until the next one counted */
	uint64_t *last_seq;        /* per bucket: seq of its last packet on a ring */
	uint64_t *bucket_pkts;     /* per bucket: packets seen (all-local: sampled) */
	/* slow path */
	struct rte_ring *exc;      /* to the control thread (SPSC); NULL: free */
	uint8_t ctl_drain;         /* this lcore sends the control thread's frames */
	int32_t ctl_row;           /* txbuf_of row for those frames, -1: none */
	/* cycle accounting (cycles.h) */
	uint8_t sampling;          /* this loop is timed by stage */
	uint8_t stage;             /* the stage being timed */
	uint16_t sample_in;        /* busy loops until the next sampled one */
	uint64_t stage_t;          /* TSC the current stage began */
	uint64_t stage_acc[STEER_STAGE_MAX];
	uint32_t acc_pkts, acc_local;
	/* waiting when idle (idle.h) */
	uint8_t poll_mode;         /* enum steer_poll_mode, as it runs */
	uint8_t slept;             /* it slept since it last found work */
	uint64_t idle_since;       /* TSC of the first of the loops that found nothing, 0: busy */
	uint64_t sleep_ns;         /* adaptive: the next sleep */
	struct rte_epoll_event kick_ev; /* interrupt: kick_fd in the thread's epoll */
	struct steer_counters c;
	/* Read by the lcores and threads that wake it: a line of its own, so
	 * the loop's writes never take it from them. fd -1: busy, never waits. */
	struct steer_kick kick __rte_cache_aligned;
} __rte_cache_aligned;

/* setup.c: building and freeing, from the control thread. */
struct steer_dp *steer_dp_create(uint32_t nh_cap, int socket);
void steer_dp_free(struct steer_dp *dp);
int steer_dp_set_distributor(struct steer_dp *dp, uint16_t n_workers, uint32_t reta_size,
			     int backpressure, uint64_t max_stall_ns, uint16_t burst, uint8_t hash_mode);
void steer_dp_set_port(struct steer_dp *dp, uint16_t id, const uint8_t *mac, uint16_t nb_txq, uint16_t mtu);
void steer_nh_set(struct steer_dp *dp, uint32_t idx, uint8_t kind, uint16_t port,
		  const uint8_t *dst, const uint8_t *src);
struct steer_lcore *steer_lcore_create(struct steer_dp *dp, unsigned lcore_id, int socket,
				       const struct steer_rxq *rx, uint16_t n_rx, int worker);
int steer_lcore_link(struct steer_lcore *from, uint16_t w, struct rte_ring *ring, struct steer_lcore *to);
int steer_lcore_set_reta(struct steer_lcore *lc, const uint8_t *reta, uint32_t n);
int steer_dp_share_txqs(struct steer_dp *dp, struct steer_lcore **lc, int n);
void steer_lcore_free(struct steer_lcore *lc);
int steer_dp_set_control(struct steer_dp *dp, struct rte_ring *ctl_tx, struct steer_lcore *drain);
int steer_lcore_set_poll(struct steer_lcore *lc, uint8_t mode, uint64_t max_sleep_ns);
int steer_dp_add_martian_source(struct steer_dp *dp, uint32_t addr_be, uint8_t drop);
void steer_lcore_set_exc(struct steer_lcore *lc, struct rte_ring *exc);

/* lcore.c: the loop, for rte_eal_remote_launch. */
int steer_lcore_main(void *arg);

/* burst.c: one burst through the L3 pipeline. recorded picks the TX queue
 * for the whole burst: the NIC RX queue in run-to-completion, the worker's
 * software queue id after a distributor hop (nothing reads it back from the
 * mbufs, so it is not stored in them). */
void steer_process_burst(struct steer_lcore *lc, uint16_t recorded,
			 struct rte_mbuf **pkts, uint16_t n);
/* The same for a burst from NIC queue q (one port, q->opts). */
void steer_process_rx_burst(struct steer_lcore *lc, const struct steer_rxq *q,
			    struct rte_mbuf **pkts, uint16_t n);
/* Send every TX buffer; returns the packets they held. */
uint32_t steer_flush_all(struct steer_lcore *lc);

/* punt.c: the control thread's side of the exception rings: dequeue up to
 * max packets round robin over the rings, copy each frame (up to cap bytes)
 * into buf + i * cap, fill meta and free the mbufs. */
#define STEER_EXC_L2BCAST 0x80
#define STEER_EXC_TAG(reason, l2bcast) ((uint32_t)(reason) | ((l2bcast) ? STEER_EXC_L2BCAST : 0))
struct steer_exc_meta {
	uint32_t tag;              /* STEER_EXC_TAG: slow reason, arrived as link-layer broadcast */
	uint16_t port;             /* ingress */
	uint16_t len;              /* bytes copied */
	uint32_t pkt_len;          /* bytes the frame had */
};
uint32_t steer_exc_take(struct rte_ring *const *rings, uint32_t n_rings, uint32_t *next,
			struct steer_exc_meta *meta, uint8_t *buf, uint32_t cap, uint32_t max);
/* Queue a frame for transmission on port by the draining lcore: 0, or
 * -ENOBUFS (no mbuf) / -ENOSPC (ring full). */
int steer_ctl_send(struct steer_dp *dp, struct rte_mempool *mp, uint16_t port,
		   const uint8_t *frame, uint32_t len);

#endif
