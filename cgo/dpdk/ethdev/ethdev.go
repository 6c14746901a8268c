// Package ethdev is a thin binding of DPDK's ethdev library: device info,
// configuration, queues, start/stop/close, stats, link and MAC.
package ethdev

/*
#cgo pkg-config: libdpdk
#include <stdlib.h>
#include <string.h>
#include <rte_ethdev.h>

// Configure with or without RSS. rte_eth_conf is large and has unions and
// bitfields, so it is built here rather than in Go.
static int steer_eth_configure(uint16_t port, uint16_t nrx, uint16_t ntx,
                               uint64_t rss_hf, uint32_t mtu, uint64_t rx_offloads, int rx_intr) {
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = mtu;
	conf.rxmode.offloads = rx_offloads;
	conf.intr_conf.rxq = rx_intr != 0;
	if (rss_hf != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = NULL; // driver default key
		conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
	}
	return rte_eth_dev_configure(port, nrx, ntx, &conf);
}

static void steer_eth_link(uint16_t port, int *up, uint32_t *speed, int *duplex, int *rc) {
	struct rte_eth_link link;
	memset(&link, 0, sizeof(link));
	*rc = rte_eth_link_get_nowait(port, &link);
	*up = link.link_status;
	*speed = link.link_speed;
	*duplex = link.link_duplex;
}
*/
import "C"

import (
	"fmt"
	"net"
	"unsafe"

	"github.com/steer-router/steer/cgo/dpdk/rteerr"
)

// RSS hash functions for IPv4: by addresses (every IPv4 packet the more
// specific types below do not take), fragments by addresses, and
// unfragmented TCP, UDP and other protocols. RSSIPv4 is all of them.
const (
	RSSIPv4Addresses = uint64(C.RTE_ETH_RSS_IPV4)
	RSSIPv4Frag      = uint64(C.RTE_ETH_RSS_FRAG_IPV4)
	RSSIPv4TCP       = uint64(C.RTE_ETH_RSS_NONFRAG_IPV4_TCP)
	RSSIPv4UDP       = uint64(C.RTE_ETH_RSS_NONFRAG_IPV4_UDP)
	RSSIPv4Other     = uint64(C.RTE_ETH_RSS_NONFRAG_IPV4_OTHER)
	RSSIPv4          = RSSIPv4Addresses | RSSIPv4Frag | RSSIPv4TCP | RSSIPv4UDP | RSSIPv4Other
)

// RxOffloadIPv4Cksum asks the NIC to verify IPv4 header checksums and say
// so in each mbuf's ol_flags.
const RxOffloadIPv4Cksum = uint64(C.RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)

// Port is an ethdev port id.
type Port uint16

func (p Port) on() string { return fmt.Sprintf("port %d", p) }

// ByName finds the port of a probed device ("net_pcap0", "0000:03:00.0").
func ByName(name string) (Port, error) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var id C.uint16_t
	if rc := C.rte_eth_dev_get_port_by_name(cs, &id); rc != 0 {
		return 0, rteerr.FromRC(int(rc), "rte_eth_dev_get_port_by_name", name)
	}
	return Port(id), nil
}

// Count is the number of available ports.
func Count() int { return int(C.rte_eth_dev_count_avail()) }

// Info is the subset of rte_eth_dev_info steer uses.
type Info struct {
	Driver               string
	MaxRxQueues          int
	MaxTxQueues          int
	RxDescMax, RxDescMin int
	TxDescMax, TxDescMin int
	MinMTU, MaxMTU       int
	RSSOffloads          uint64 // flow_type_rss_offloads: 0 means no RSS
	RxOffloads           uint64 // rx_offload_capa
	RetaSize             int
	Socket               int
}

// CanRSS reports whether the device can spread IPv4 flows over RX queues.
func (i Info) CanRSS() bool { return i.RSSOffloads&RSSIPv4 != 0 && i.MaxRxQueues > 1 }

// Info reads the device's capabilities.
func (p Port) Info() (Info, error) {
	var di C.struct_rte_eth_dev_info
	if rc := C.rte_eth_dev_info_get(C.uint16_t(p), &di); rc != 0 {
		return Info{}, rteerr.FromRC(int(rc), "rte_eth_dev_info_get", p.on())
	}
	sock := int(C.rte_eth_dev_socket_id(C.uint16_t(p)))
	if sock < 0 {
		sock = 0 // SOCKET_ID_ANY: virtual devices
	}
	return Info{
		Driver:      C.GoString(di.driver_name),
		MaxRxQueues: int(di.max_rx_queues),
		MaxTxQueues: int(di.max_tx_queues),
		RxDescMax:   int(di.rx_desc_lim.nb_max),
		RxDescMin:   int(di.rx_desc_lim.nb_min),
		TxDescMax:   int(di.tx_desc_lim.nb_max),
		TxDescMin:   int(di.tx_desc_lim.nb_min),
		MinMTU:      int(di.min_mtu),
		MaxMTU:      int(di.max_mtu),
		RSSOffloads: uint64(di.flow_type_rss_offloads),
		RxOffloads:  uint64(di.rx_offload_capa),
		RetaSize:    int(di.reta_size),
		Socket:      sock,
	}, nil
}

// Conf is what Configure sets.
type Conf struct {
	RxQueues, TxQueues, MTU int
	RSS                     uint64 // hash functions (masked by Info.RSSOffloads); 0: no RSS
	RxOffloads              uint64 // masked by Info.RxOffloads
	RxInterrupts            bool   // RX queue interrupts (see RxInterruptFD)
}

// Configure sets the queue counts, the MTU, RX offloads, RSS and RX queue
// interrupts.
func (p Port) Configure(c Conf) error {
	rc := C.steer_eth_configure(C.uint16_t(p), C.uint16_t(c.RxQueues), C.uint16_t(c.TxQueues), C.uint64_t(c.RSS),
		C.uint32_t(c.MTU), C.uint64_t(c.RxOffloads), C.int(btoi(c.RxInterrupts)))
	return rteerr.FromRC(int(rc), "rte_eth_dev_configure",
		fmt.Sprintf("port %d, %d rx / %d tx queues, mtu %d", p, c.RxQueues, c.TxQueues, c.MTU))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RxInterrupts says whether RX queue q of a started port configured with
// RxInterrupts can wake a sleeping lcore (the PMD gave it an event fd).
func (p Port) RxInterrupts(q int) bool {
	return C.rte_eth_dev_rx_intr_ctl_q_get_fd(C.uint16_t(p), C.uint16_t(q)) >= 0
}

// AdjustDesc clamps descriptor counts to the device's limits.
func (p Port) AdjustDesc(rx, tx int) (int, int, error) {
	r, t := C.uint16_t(rx), C.uint16_t(tx)
	if rc := C.rte_eth_dev_adjust_nb_rx_tx_desc(C.uint16_t(p), &r, &t); rc != 0 {
		return 0, 0, rteerr.FromRC(int(rc), "rte_eth_dev_adjust_nb_rx_tx_desc", p.on())
	}
	return int(r), int(t), nil
}

// SetupRxQueue sets up RX queue q with desc descriptors filled from pool (a
// *struct rte_mempool, see mempool.Pool.Ptr).
func (p Port) SetupRxQueue(q, desc, socket int, pool unsafe.Pointer) error {
	rc := C.rte_eth_rx_queue_setup(C.uint16_t(p), C.uint16_t(q), C.uint16_t(desc), C.uint(socket), nil, (*C.struct_rte_mempool)(pool))
	return rteerr.FromRC(int(rc), "rte_eth_rx_queue_setup", fmt.Sprintf("port %d queue %d", p, q))
}

// SetupTxQueue sets up TX queue q with desc descriptors.
func (p Port) SetupTxQueue(q, desc, socket int) error {
	rc := C.rte_eth_tx_queue_setup(C.uint16_t(p), C.uint16_t(q), C.uint16_t(desc), C.uint(socket), nil)
	return rteerr.FromRC(int(rc), "rte_eth_tx_queue_setup", fmt.Sprintf("port %d queue %d", p, q))
}

// Start starts the device.
func (p Port) Start() error {
	return rteerr.FromRC(int(C.rte_eth_dev_start(C.uint16_t(p))), "rte_eth_dev_start", p.on())
}

// Stop stops the device.
func (p Port) Stop() error {
	return rteerr.FromRC(int(C.rte_eth_dev_stop(C.uint16_t(p))), "rte_eth_dev_stop", p.on())
}

// Close releases the device (the pcap PMD finishes its output file here).
func (p Port) Close() error {
	return rteerr.FromRC(int(C.rte_eth_dev_close(C.uint16_t(p))), "rte_eth_dev_close", p.on())
}

// MAC is the device's primary MAC address.
func (p Port) MAC() (net.HardwareAddr, error) {
	var a C.struct_rte_ether_addr
	if rc := C.rte_eth_macaddr_get(C.uint16_t(p), &a); rc != 0 {
		return nil, rteerr.FromRC(int(rc), "rte_eth_macaddr_get", p.on())
	}
	return net.HardwareAddr(C.GoBytes(unsafe.Pointer(&a.addr_bytes[0]), 6)), nil
}

// Stats are the basic ethdev counters.
type Stats struct {
	RxPackets, TxPackets uint64
	RxBytes, TxBytes     uint64
	RxMissed             uint64 // imissed: dropped by the device for lack of RX descriptors
	RxErrors, TxErrors   uint64
	RxNoMbuf             uint64
}

// Stats reads the device counters.
func (p Port) Stats() (Stats, error) {
	var s C.struct_rte_eth_stats
	if rc := C.rte_eth_stats_get(C.uint16_t(p), &s); rc != 0 {
		return Stats{}, rteerr.FromRC(int(rc), "rte_eth_stats_get", p.on())
	}
	return Stats{
		RxPackets: uint64(s.ipackets), TxPackets: uint64(s.opackets),
		RxBytes: uint64(s.ibytes), TxBytes: uint64(s.obytes),
		RxMissed: uint64(s.imissed), RxErrors: uint64(s.ierrors),
		TxErrors: uint64(s.oerrors), RxNoMbuf: uint64(s.rx_nombuf),
	}, nil
}

// Link is the link state.
type Link struct {
	Up         bool
	SpeedMbps  uint32
	FullDuplex bool
}

// Link reads the link state without waiting.
func (p Port) Link() (Link, error) {
	var up, duplex, rc C.int
	var speed C.uint32_t
	C.steer_eth_link(C.uint16_t(p), &up, &speed, &duplex, &rc)
	if rc != 0 {
		return Link{}, rteerr.FromRC(int(rc), "rte_eth_link_get_nowait", p.on())
	}
	return Link{Up: up != 0, SpeedMbps: uint32(speed), FullDuplex: duplex != 0}, nil
}
