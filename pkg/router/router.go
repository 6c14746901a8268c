// Package router runs steer's data plane from a validated config: it
// initialises EAL, sets up ports and the mbuf pool, builds the FIB, launches
// the forwarding lcores and, on Stop, tears it all down in the order DPDK
// needs and reports what happened.
package router

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/steer-router/steer/cgo/dpdk/eal"
	"github.com/steer-router/steer/cgo/dpdk/ethdev"
	rtefib "github.com/steer-router/steer/cgo/dpdk/fib"
	"github.com/steer-router/steer/cgo/dpdk/mempool"
	"github.com/steer-router/steer/cgo/dpdk/ring"
	"github.com/steer-router/steer/cgo/fastpath"
	"github.com/steer-router/steer/cgo/mbuf"
	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/fib"
	"github.com/steer-router/steer/pkg/slowpath"
)

// Router is a running data plane.
type Router struct {
	cfg   *config.Config
	log   *zap.Logger
	ports []*port
	pool  *mempool.Pool
	table *rtefib.FIB // the fast path's rte_fib; written only through dp (fastpath.Dataplane.fibChange)
	dp    *fastpath.Dataplane
	fib   *fib.Table
	rings []*link

	// Run-time FIB changes: one writer at a time (fibMu). See fibstate.go.
	fibMu  sync.Mutex
	base   map[pfx]fib.Origin // own, broadcast and connected entries
	routes map[pfx]ip4        // static routes: prefix -> gateway
	ifaces []fib.Interface
	macOf  map[int]net.HardwareAddr // port id -> MAC
	fs     fibState

	// The slow path: exception rings (one per lcore), the control TX ring,
	// and the control thread with the neighbour table.
	excRings []*ring.Ring
	ctlRing  *ring.Ring
	exc      *fastpath.Exceptions
	sp       *slowpath.SlowPath
	spStop   chan struct{}
	spDone   chan struct{}

	stopOnce sync.Once
	running  atomic.Bool  // lcores launched and not stopped
	live     sync.RWMutex // snapshots read C state; teardown frees it
	report   *Report
	stopErr  error
}

type port struct {
	cfg     config.Port
	id      ethdev.Port
	info    ethdev.Info
	mac     net.HardwareAddr
	rss     bool   // the NIC spreads flows over RX queues
	steer   string // resolved steering: rss | distributor | rtc
	why     string // why that steering
	started bool
}

// link is a ring from an RX lcore to a worker.
type link struct {
	from, to int // lcore ids
	worker   int
	r        *ring.Ring
}

// rxCksumOffload reports whether the NIC can verify IPv4 header checksums.
func (p *port) rxCksumOffload() bool { return p.info.RxOffloads&ethdev.RxOffloadIPv4Cksum != 0 }

// Start brings the data plane up. On error everything it set up is torn
// down again (EAL itself cannot be re-initialised in this process).
func Start(cfg *config.Config, log *zap.Logger) (*Router, error) {
	if cfg.EAL.Huge {
		if err := checkHugepages(); err != nil {
			return nil, err
		}
	}
	args := EALArgs(cfg)
	log.Debug("rte_eal_init", zap.Strings("args", args))
	if err := eal.Init(args); err != nil {
		return nil, fmt.Errorf("%w (EAL arguments: %s)", err, strings.Join(args[1:], " "))
	}
	r := &Router{cfg: cfg, log: log}
	if n, err := eal.ConfineOtherThreads(); err != nil {
		log.Warn("could not keep control threads off the forwarding CPUs", zap.Error(err))
	} else {
		log.Debug("control threads confined to the main lcore's CPUs", zap.Int("threads", n))
	}
	var err error
	eal.Do(func() { err = r.setup() })
	if err != nil {
		r.teardown()
		return nil, err
	}
	if err := r.dp.Launch(); err != nil {
		r.teardown()
		return nil, err
	}
	r.running.Store(true)
	r.startSlowPath()
	r.logLcoreMap()
	log.Info("forwarding", zap.Int("lcores", len(cfg.Lcores)), zap.Int("ports", len(r.ports)),
		zap.Int("fib_entries", len(r.fib.Entries)), zap.Int("next_hops", len(r.fib.NextHops)))
	return r, nil
}

func checkHugepages() error {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return nil // let EAL say what is wrong
	}
	for _, line := range strings.Split(string(b), "\n") {
		var free int
		if _, err := fmt.Sscanf(line, "HugePages_Free: %d", &free); err == nil && free == 0 {
			return errors.New("eal.huge is true but the system has no free hugepages: run `scripts/hugepages.sh` as root, or set eal.huge: false (with eal.memory_mb) for testing")
		}
	}
	return nil
}

func (r *Router) setup() error {
	rxqField, err := mbuf.RegisterRxQueueField()
	if err != nil {
		return err
	}
	for i := range r.cfg.Ports {
		p, err := r.probe(i)
		if err != nil {
			return err
		}
		r.ports = append(r.ports, p)
	}
	socket := r.ports[0].info.Socket
	n := r.poolSize()
	if r.pool, err = mempool.NewPktmbuf("steer_mbufs_"+fmt.Sprint(socket), n, r.cfg.Mempool.Cache, r.cfg.Mempool.DataRoom, socket); err != nil {
		return fmt.Errorf("%w: lower mempool.mbufs or raise eal.memory_mb", err)
	}
	for _, p := range r.ports {
		if err := r.startPort(p); err != nil {
			return err
		}
	}
	if r.dp, err = r.buildDataplane(rxqField, socket); err != nil {
		return err
	}
	return nil
}

// probe finds a configured device and checks it can give what the config asks.
func (r *Router) probe(i int) (*port, error) {
	c := r.cfg.Ports[i]
	field := fmt.Sprintf("ports[%d]", i)
	id, err := ethdev.ByName(c.DeviceName())
	if err != nil {
		return nil, fmt.Errorf("%s.device: %q did not probe (%v): check the PCI address is bound to vfio-pci (scripts/bind-vfio.sh) or the vdev arguments", field, c.Device, err)
	}
	info, err := id.Info()
	if err != nil {
		return nil, err
	}
	if c.RxQueues > info.MaxRxQueues {
		hint := ""
		if info.Driver == "net_pcap" {
			hint = " (net_pcap opens one RX queue per rx_pcap= argument)"
		}
		return nil, fmt.Errorf("%s.rx_queues: %d, but %s (%s) has at most %d%s", field, c.RxQueues, c.Device, info.Driver, info.MaxRxQueues, hint)
	}
	if c.TxQueues > info.MaxTxQueues {
		hint := ""
		if info.Driver == "net_pcap" {
			hint = " (net_pcap opens one TX queue per tx_pcap= argument, or one per rx_pcap= without one)"
		}
		return nil, fmt.Errorf("%s.tx_queues: %d, but %s (%s) has at most %d%s", field, c.TxQueues, c.Device, info.Driver, info.MaxTxQueues, hint)
	}
	if c.TxQueues > fastpath.MaxQueues || c.RxQueues > fastpath.MaxQueues || int(id) >= fastpath.MaxPorts {
		return nil, fmt.Errorf("%s: port id %d with %d/%d queues exceeds the fast path's limits (%d ports, %d queues)", field, id, c.RxQueues, c.TxQueues, fastpath.MaxPorts, fastpath.MaxQueues)
	}
	p := &port{cfg: c, id: id, info: info}
	p.steer, p.why = resolveSteering(c, info, r.hasWorkers())
	if c.Steering == "rss" && c.RxQueues > 1 && !info.CanRSS() {
		return nil, fmt.Errorf("%s.steering: rss, but %s (%s) reports no IPv4 RSS offloads; use auto or distributor", field, c.Device, info.Driver)
	}
	if p.steer == "distributor" && !r.hasWorkers() {
		return nil, fmt.Errorf("%s.steering: distributor, but no lcore in the lcore map is a worker (worker: true): its queues would feed nobody", field)
	}
	p.rss = p.steer == "rss" && c.RxQueues > 1 && info.CanRSS()
	return p, nil
}

func (r *Router) hasWorkers() bool {
	for _, lc := range r.cfg.Lcores {
		if lc.Worker {
			return true
		}
	}
	return false
}

// resolveSteering turns a port's steering setting into what runs:
//   - rss: the NIC spreads flows over the RX queues, lcores run to completion;
//   - distributor: RX lcores spread flows over worker lcores in software;
//   - rtc: run to completion on the device's own queues, no spreading (auto
//     on a device without RSS when the lcore map has no workers).
func resolveSteering(c config.Port, info ethdev.Info, workers bool) (string, string) {
	switch c.Steering {
	case "rss":
		return "rss", "configured"
	case "distributor":
		return "distributor", "configured"
	}
	switch {
	case info.CanRSS() && info.MaxRxQueues >= c.RxQueues:
		return "rss", fmt.Sprintf("device hashes IPv4 flows over up to %d RX queues", info.MaxRxQueues)
	case workers:
		return "distributor", "device has no RSS (or too few RX queues) and the lcore map has workers"
	default:
		return "rtc", "device has no RSS and the lcore map has no workers: each queue runs to completion"
	}
}

// poolSize is mempool.mbufs, or enough for every descriptor, every lcore's
// TX buffers and in-flight bursts, and the per-lcore caches, rounded to 2^n-1
// (the size rte_mempool uses best).
func (r *Router) poolSize() int {
	if r.cfg.Mempool.Mbufs > 0 {
		return r.cfg.Mempool.Mbufs
	}
	n := 0
	for _, p := range r.cfg.Ports {
		n += p.RxQueues*p.RxDesc + p.TxQueues*p.TxDesc
	}
	lcores := len(r.cfg.Lcores) + 1
	n += lcores * (fastpath.Burst*(len(r.cfg.Ports)*fastpath.MaxQueues/8+2) + r.cfg.Mempool.Cache*3/2)
	// Distributor rings: every (RX lcore, worker) pair may hold a full ring.
	if r.hasWorkers() {
		rxLcores, workers := 0, 0
		for _, lc := range r.cfg.Lcores {
			if len(lc.Rx) > 0 {
				rxLcores++
			}
			if lc.Worker {
				workers++
			}
		}
		n += rxLcores * workers * r.cfg.Distributor.RingSize
	}
	// Exception rings and the control TX ring may be full.
	n += len(r.cfg.Lcores)*r.cfg.SlowPath.RingSize + ctlRingSize
	size := 1
	for size-1 < n {
		size <<= 1
	}
	return size - 1
}

func (r *Router) startPort(p *port) error {
	var hf uint64
	if p.rss {
		hf = ethdev.RSSIPv4 & p.info.RSSOffloads
	}
	// A NIC that checks IPv4 header checksums saves the fast path the sum.
	var offloads uint64
	if p.rxCksumOffload() {
		offloads = ethdev.RxOffloadIPv4Cksum
	}
	if err := p.id.Configure(p.cfg.RxQueues, p.cfg.TxQueues, p.cfg.MTU, hf, offloads); err != nil {
		return fmt.Errorf("port %s: %w", p.cfg.Name, err)
	}
	rxd, txd, err := p.id.AdjustDesc(p.cfg.RxDesc, p.cfg.TxDesc)
	if err != nil {
		return err
	}
	for q := 0; q < p.cfg.RxQueues; q++ {
		if err := p.id.SetupRxQueue(q, rxd, p.info.Socket, r.pool.Ptr()); err != nil {
			return fmt.Errorf("port %s: %w", p.cfg.Name, err)
		}
	}
	for q := 0; q < p.cfg.TxQueues; q++ {
		if err := p.id.SetupTxQueue(q, txd, p.info.Socket); err != nil {
			return fmt.Errorf("port %s: %w", p.cfg.Name, err)
		}
	}
	if err := p.id.Start(); err != nil {
		return fmt.Errorf("port %s: %w", p.cfg.Name, err)
	}
	p.started = true
	if p.mac, err = p.id.MAC(); err != nil {
		return err
	}
	link, _ := p.id.Link()
	r.log.Info("port up", zap.String("port", p.cfg.Name), zap.Uint16("port_id", uint16(p.id)),
		zap.String("device", p.cfg.DeviceName()), zap.String("driver", p.info.Driver),
		zap.String("mac", p.mac.String()), zap.Int("rx_queues", p.cfg.RxQueues), zap.Int("tx_queues", p.cfg.TxQueues),
		zap.Int("rx_desc", rxd), zap.Int("tx_desc", txd), zap.Int("mtu", p.cfg.MTU),
		zap.Bool("rss_capable", p.info.CanRSS()), zap.Bool("rss", p.rss),
		zap.String("steering", p.steer), zap.String("steering_reason", p.why),
		zap.Bool("rx_ipv4_cksum_offload", p.rxCksumOffload()),
		zap.Int("max_rx_queues", p.info.MaxRxQueues), zap.Int("max_tx_queues", p.info.MaxTxQueues),
		zap.Bool("link_up", link.Up), zap.Uint32("link_mbps", link.SpeedMbps), zap.Int("socket", p.info.Socket))
	return nil
}

func (r *Router) buildDataplane(rxqField, socket int) (*fastpath.Dataplane, error) {
	var err error
	byName := map[string]*port{}
	ifaces := make([]fib.Interface, len(r.ports))
	for i, p := range r.ports {
		byName[p.cfg.Name] = p
		ifaces[i] = fib.Interface{Port: int(p.id), Name: p.cfg.Name, Addresses: p.cfg.Prefixes}
	}
	routes := make([]fib.Route, len(r.cfg.Routes))
	for i, rt := range r.cfg.Routes {
		routes[i] = fib.Route{Prefix: rt.Net, Via: rt.Gateway}
	}
	neigh := make([]fib.Neighbor, len(r.cfg.Neighbors))
	for i, n := range r.cfg.Neighbors {
		neigh[i] = fib.Neighbor{Addr: n.Addr, MAC: net.HardwareAddr(n.HW[:]), Port: int(byName[n.Port].id)}
	}
	if r.fib, err = fib.Build(ifaces, routes, neigh); err != nil {
		return nil, err
	}
	// What the router's own addresses and subnets claim: static routes
	// added at run time may not shadow these.
	base, err := fib.Build(ifaces, nil, nil)
	if err != nil {
		return nil, err
	}
	r.base = map[pfx]fib.Origin{}
	for _, e := range base.Entries {
		r.base[keyOf(e.Prefix)] = e.Origin
	}
	r.ifaces = ifaces
	r.routes = map[pfx]ip4{}
	for _, rt := range routes {
		r.routes[keyOf(rt.Prefix.Masked())] = ip4Of(rt.Via)
	}

	fc := r.cfg.FIB
	if len(r.fib.Entries) > fc.MaxRoutes {
		return nil, fmt.Errorf("fib.max_routes: %d, but the configuration alone makes %d FIB entries (addresses, subnets, routes, neighbours)",
			fc.MaxRoutes, len(r.fib.Entries))
	}
	if r.table, err = rtefib.New("steer_fib", socket, fc.MaxRoutes, fc.Tbl8Groups, fastpath.NoRoute); err != nil {
		return nil, fmt.Errorf("%w (fib.max_routes %d, fib.tbl8_groups %d: see dpdk-config/README.md for the memory they take)", err, fc.MaxRoutes, fc.Tbl8Groups)
	}
	hops := make([]fastpath.NextHop, len(r.fib.NextHops))
	r.macOf = map[int]net.HardwareAddr{}
	for _, p := range r.ports {
		r.macOf[int(p.id)] = p.mac
	}
	for i, h := range r.fib.NextHops {
		hops[i] = r.fastpathHop(h)
	}
	r.fs.init(r.fib, neigh)

	dp, err := fastpath.New(rxqField, max(len(hops), maxNextHops), socket)
	if err != nil {
		return nil, err
	}
	r.dp = dp
	for _, p := range r.ports {
		if err := dp.SetPort(uint16(p.id), p.mac, p.cfg.TxQueues, p.cfg.MTU); err != nil {
			return nil, err
		}
	}
	if err := dp.SetFIB(r.table, hops); err != nil {
		return nil, err
	}
	// The start-up table in one bulk (sorted adds, one grace period; no
	// lcore runs yet).
	prefixes := make([]netip.Prefix, len(r.fib.Entries))
	idx := make([]uint32, len(r.fib.Entries))
	for i, e := range r.fib.Entries {
		prefixes[i], idx[i] = e.Prefix, uint32(e.NextHop)
	}
	if err := dp.AddRoutes(prefixes, idx); err != nil {
		return nil, r.fibFull(err)
	}
	if err := r.addLcores(dp, byName); err != nil {
		return nil, err
	}
	if err := r.setupSlowPath(dp, socket); err != nil {
		return nil, err
	}
	if shared := dp.ShareTxQueues(); shared > 0 {
		r.log.Warn("TX queues shared by several lcores are locked per burst; give ports at least as many tx_queues as the rx queues sending to them to avoid it",
			zap.Int("shared_tx_queues", shared))
	}
	return dp, nil
}

// addLcores creates every lcore context and, where ports use the
// distributor, one SPSC ring per (RX lcore, worker) pair; an lcore that is
// RX and worker handles its own share inline (no ring).
func (r *Router) addLcores(dp *fastpath.Dataplane, byName map[string]*port) error {
	workers := map[int]int{} // lcore id -> software queue id
	for _, lc := range r.cfg.Lcores {
		if lc.Worker {
			workers[lc.Lcore] = len(workers)
		}
	}
	distributing := false
	for _, p := range r.ports {
		distributing = distributing || p.steer == "distributor"
	}
	if len(workers) > 0 && !distributing {
		return errors.New("lcores: some lcores are workers (worker: true) but no port uses the distributor: nothing would feed them; set a port's steering to distributor (or auto on a device without RSS)")
	}
	if distributing {
		d := r.cfg.Distributor
		if err := dp.SetDistributor(len(workers), d.RetaSize, d.Burst, d.OnFull == "backpressure"); err != nil {
			return err
		}
	}
	byID := map[int]*fastpath.Lcore{}
	var order []*fastpath.Lcore
	for _, lc := range r.cfg.Lcores {
		var rx []fastpath.RxQueue
		for _, q := range lc.Rx {
			p := byName[q.Port]
			rx = append(rx, fastpath.RxQueue{Port: uint16(p.id), Queue: uint16(q.Queue),
				Distribute: p.steer == "distributor", Prefetch: p.cfg.IsPCI(), HWChecksum: p.rxCksumOffload()})
		}
		w, ok := workers[lc.Lcore]
		if !ok {
			w = -1
		}
		l, err := dp.AddLcore(lc.Lcore, eal.SocketOf(lc.Lcore), rx, w)
		if err != nil {
			return err
		}
		byID[lc.Lcore] = l
		order = append(order, l)
	}
	for _, from := range order {
		if !from.Distributes() {
			continue
		}
		for _, to := range order {
			if to.Worker < 0 {
				continue
			}
			if to == from {
				if err := dp.Link(from, to, nil); err != nil {
					return err
				}
				continue
			}
			rg, err := ring.NewSPSC(fmt.Sprintf("steer_l%d_w%d", from.ID, to.Worker), r.cfg.Distributor.RingSize, eal.SocketOf(to.ID))
			if err != nil {
				return err
			}
			r.rings = append(r.rings, &link{from: from.ID, to: to.ID, worker: to.Worker, r: rg})
			if err := dp.Link(from, to, rg.Ptr()); err != nil {
				return err
			}
		}
	}
	return nil
}

// Capacity for next hops added at run time (routes: fib.max_routes).
const maxNextHops = 1 << 12

// fibFull names the settings that size the FIB in an rte_fib error.
func (r *Router) fibFull(err error) error {
	return fmt.Errorf("%w (FIB capacity: fib.max_routes %d, fib.tbl8_groups %d)", err, r.cfg.FIB.MaxRoutes, r.cfg.FIB.Tbl8Groups)
}

func (r *Router) fastpathHop(h fib.NextHop) fastpath.NextHop {
	return fastpath.NextHop{Kind: fastpath.NextHopKind(h.Kind), Port: uint16(h.Port), DstMAC: h.MAC, SrcMAC: r.macOf[h.Port], Via: h.Via}
}

// Route is a static route as the API shows it.
type Route struct {
	Prefix netip.Prefix `json:"prefix"`
	Via    netip.Addr   `json:"via"`
}

// Routes lists the static routes, sorted by prefix.
func (r *Router) Routes() []Route {
	r.fibMu.Lock()
	defer r.fibMu.Unlock()
	out := make([]Route, 0, len(r.routes))
	for k, via := range r.routes {
		out = append(out, Route{Prefix: k.prefix(), Via: via.addr()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Prefix.Addr() != out[j].Prefix.Addr() {
			return out[i].Prefix.Addr().Less(out[j].Prefix.Addr())
		}
		return out[i].Prefix.Bits() < out[j].Prefix.Bits()
	})
	return out
}

// AddRoute adds or replaces a static route while lcores forward. The next
// hop is written before the FIB entry that points at it, and lookups never
// lock; prefixes that are the router's own (its addresses, subnet
// broadcasts, connected subnets, static neighbours) are refused.
func (r *Router) AddRoute(prefix netip.Prefix, via netip.Addr) error {
	if !prefix.IsValid() || !prefix.Addr().Is4() || prefix.Masked() != prefix {
		return fmt.Errorf("prefix: %s is not a canonical IPv4 prefix (host bits set?)", prefix)
	}
	if !via.Is4() {
		return fmt.Errorf("via: %s is not an IPv4 address", via)
	}
	return r.whileRunning(func() error { return r.addRoute(prefix, via) })
}

func (r *Router) addRoute(prefix netip.Prefix, via netip.Addr) error {
	r.fibMu.Lock()
	defer r.fibMu.Unlock()
	port, err := r.checkRoute(prefix, via)
	if err != nil {
		return err
	}
	if old, ok := r.routes[keyOf(prefix)]; ok && old != ip4Of(via) {
		r.fs.unlinkVia(old.addr(), prefix)
	}
	if err := r.setEntry(prefix, r.gatewayHop(port, via)); err != nil {
		return err
	}
	r.routes[keyOf(prefix)] = ip4Of(via)
	r.fs.linkVia(via, prefix)
	if prefix.Bits() == 32 {
		delete(r.fs.hostNH, prefix.Addr()) // the route overrides the neighbour's own entry
	}
	return nil
}

// checkRoute validates a static route against the router's own entries and
// returns the gateway's port. Under fibMu.
func (r *Router) checkRoute(prefix netip.Prefix, via netip.Addr) (int, error) {
	if o, ok := r.base[keyOf(prefix)]; ok {
		return 0, fmt.Errorf("prefix: %s is a %s entry of the router itself; it cannot be a static route", prefix, o)
	}
	port, ok := fib.OnLink(r.ifaces, via)
	if !ok {
		return 0, fmt.Errorf("via: %s is not on a connected subnet of any port", via)
	}
	if o, ok := r.base[keyOf(netip.PrefixFrom(via, 32))]; ok && (o == fib.OriginLocal || o == fib.OriginBroadcast) {
		return 0, fmt.Errorf("via: %s is a %s address of the router", via, o)
	}
	return port, nil
}

// AddRoutes adds or replaces many static routes while lcores forward, in
// one FIB change (sorted bulk add, one grace period): for loading whole
// tables. Every route is validated as AddRoute does before anything
// changes; a route given twice keeps its last gateway. If the FIB refuses
// (full), the routes already added are taken out again and the table is as
// before.
//
// Within the bulk no grace period separates one add from the next: an add
// that recycles a tbl8 group and a later one that reuses it can misroute a
// packet whose lookup races both (see fastpath.Dataplane.fibChange).
func (r *Router) AddRoutes(routes []Route) error {
	for i, rt := range routes {
		if !rt.Prefix.IsValid() || !rt.Prefix.Addr().Is4() || rt.Prefix.Masked() != rt.Prefix {
			return fmt.Errorf("routes[%d].prefix: %s is not a canonical IPv4 prefix (host bits set?)", i, rt.Prefix)
		}
		if !rt.Via.Is4() {
			return fmt.Errorf("routes[%d].via: %s is not an IPv4 address", i, rt.Via)
		}
	}
	return r.whileRunning(func() error { return r.addRoutes(routes) })
}

func (r *Router) addRoutes(routes []Route) error {
	r.fibMu.Lock()
	defer r.fibMu.Unlock()
	if len(routes) >= 1<<24 {
		return fmt.Errorf("routes: %d in one add, at most %d", len(routes), 1<<24-1)
	}
	// A million routes usually go through a handful of gateways: they are
	// validated, and their next hops referenced, once per gateway; per
	// route there are only a sort and the map operations of the result.
	// Sorting prefix << 24 | index keeps, for a prefix given twice, its
	// last route (the last of its run).
	keys := make([]uint64, len(routes))
	gwPort := map[netip.Addr]int{}
	for i, rt := range routes {
		k := keyOf(rt.Prefix)
		if o, ok := r.base[k]; ok {
			return fmt.Errorf("routes[%d]: prefix: %s is a %s entry of the router itself; it cannot be a static route", i, rt.Prefix, o)
		}
		if _, ok := gwPort[rt.Via]; !ok {
			port, err := r.checkRoute(rt.Prefix, rt.Via)
			if err != nil {
				return fmt.Errorf("routes[%d]: %w", i, err)
			}
			gwPort[rt.Via] = port
		}
		keys[i] = uint64(k)<<24 | uint64(i)
	}
	slices.Sort(keys)
	type change struct {
		key      pfx
		via      ip4
		idx, old uint32
		had      bool
		oldVia   ip4 // 0: not a static route before
	}
	changes := make([]change, 0, len(keys))
	added := 0
	for j, x := range keys {
		k := pfx(x >> 24)
		if j+1 < len(keys) && pfx(keys[j+1]>>24) == k {
			continue // given again later
		}
		c := change{key: k, via: ip4Of(routes[x&0xffffff].Via)}
		c.old, c.had = r.fs.entryNH[k]
		if !c.had {
			added++
		}
		c.oldVia = r.routes[k]
		changes = append(changes, c)
	}
	if n := len(r.fs.entryNH) + added; n > r.cfg.FIB.MaxRoutes {
		return fmt.Errorf("routes: %d FIB entries after the add, fib.max_routes is %d", n, r.cfg.FIB.MaxRoutes)
	}
	// Next-hop entries first (written before the FIB points at them), one
	// reference per gateway for now; then one bulk add of the prefixes
	// whose entry changes.
	gwIdx := make(map[ip4]uint32, len(gwPort))
	for via, port := range gwPort {
		idx, err := r.hopIndex(r.gatewayHop(port, via))
		if err != nil {
			for _, x := range gwIdx {
				r.unref(x)
			}
			return err
		}
		gwIdx[ip4Of(via)] = idx
	}
	prefixes := make([]netip.Prefix, 0, len(changes))
	idxs := make([]uint32, 0, len(changes))
	for i := range changes {
		c := &changes[i]
		c.idx = gwIdx[c.via]
		if !c.had || c.old != c.idx {
			prefixes = append(prefixes, c.key.prefix())
			idxs = append(idxs, c.idx)
		}
	}
	if err := r.dp.AddRoutes(prefixes, idxs); err != nil {
		// Put back what was there, one change at a time (rare: the FIB
		// was full).
		for _, c := range changes {
			if c.had && c.old != c.idx {
				err = firstErr(err, r.dp.AddRoute(c.key.prefix(), c.old))
			} else if !c.had {
				r.dp.DeleteRoute(c.key.prefix()) //nolint:errcheck // -ENOENT: not added before the failure
			}
		}
		for _, x := range gwIdx {
			r.unref(x)
		}
		return r.fibFull(err)
	}
	r.fs.entryNH = grown(r.fs.entryNH, added)
	r.routes = grown(r.routes, added)
	perVia := map[ip4]int{}
	for _, c := range changes {
		perVia[c.via]++
	}
	vias := make(map[ip4]map[pfx]bool, len(perVia))
	for v4, k := range perVia {
		via := v4.addr()
		if r.fs.viaRoutes[via] == nil {
			r.fs.viaRoutes[via] = make(map[pfx]bool, k)
		} else {
			r.fs.viaRoutes[via] = grown(r.fs.viaRoutes[via], k)
		}
		vias[v4] = r.fs.viaRoutes[via]
	}
	// References are taken per gateway, not per route: one map update each.
	refs := make(map[uint32]int, len(gwIdx))
	for _, c := range changes {
		if !c.had || c.old != c.idx {
			refs[c.idx]++
		}
	}
	for idx, n := range refs {
		r.fs.nhRef[idx] += n
	}
	for _, c := range changes {
		if !c.had || c.old != c.idx {
			r.fs.entryNH[c.key] = c.idx
			if c.had {
				r.unref(c.old)
			}
		}
		if c.oldVia != 0 && c.oldVia != c.via {
			// Not unlinkVia: it drops a gateway's map once empty, and
			// this bulk may still add to it (vias).
			delete(r.fs.viaRoutes[c.oldVia.addr()], c.key)
		}
		r.routes[c.key] = c.via
		vias[c.via][c.key] = true
		if c.key&0xff == 32 {
			delete(r.fs.hostNH, c.key.prefix().Addr())
		}
	}
	for via, m := range r.fs.viaRoutes {
		if len(m) == 0 {
			delete(r.fs.viaRoutes, via)
		}
	}
	for _, x := range gwIdx { // the references taken per gateway
		r.unref(x)
	}
	return nil
}

// grown is m, or a copy of it sized for extra more keys when that many
// would make it grow step by step (a bulk of routes into a small table).
func grown[K comparable, V any](m map[K]V, extra int) map[K]V {
	if extra <= len(m) {
		return m
	}
	out := make(map[K]V, len(m)+extra)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// DeleteRoute removes a static route while lcores forward. A tbl8 group the
// delete frees is reused only after every lcore reported a quiescent state
// (RCU QSBR, fastpath.Dataplane.fibChange), so a lookup in progress never
// reads a reused group.
func (r *Router) DeleteRoute(prefix netip.Prefix) error {
	return r.whileRunning(func() error { return r.deleteRoute(prefix) })
}

func (r *Router) deleteRoute(prefix netip.Prefix) error {
	r.fibMu.Lock()
	defer r.fibMu.Unlock()
	via4, ok := r.routes[keyOf(prefix)]
	if !ok {
		return fmt.Errorf("prefix: %s: %w", prefix, ErrNoRoute)
	}
	via := via4.addr()
	if err := r.clearEntry(prefix); err != nil {
		return err
	}
	delete(r.routes, keyOf(prefix))
	r.fs.unlinkVia(via, prefix)
	if prefix.Bits() == 32 {
		// A neighbour this route hid gets its own entry back.
		if n, ok := r.fs.usable[prefix.Addr()]; ok {
			return r.installHost(prefix.Addr(), n)
		}
	}
	return nil
}

// ErrStopping is returned by run-time changes once shutdown has begun.
var ErrStopping = errors.New("router is stopping")

// ErrNoRoute is returned when deleting a static route that does not exist.
var ErrNoRoute = errors.New("no such static route")

// RETA is the distributor's indirection table (bucket -> worker), nil
// without a distributor or once stopping.
func (r *Router) RETA() []int {
	var out []int
	r.whileRunning(func() error { out = r.reta(); return nil }) //nolint:errcheck // nil when stopping
	return out
}

func (r *Router) reta() []int {
	if r.dp.RETASize() == 0 {
		return nil
	}
	return r.dp.RETA()
}

// SetRETA replaces the RETA while forwarding; a moved bucket follows only
// once its old worker has sent what it holds of it, so flows keep order.
func (r *Router) SetRETA(reta []int) error {
	return r.whileRunning(func() error { return r.dp.SetRETA(reta) })
}

// whileRunning runs f under the read side of the teardown guard, so the C
// state f touches cannot be freed under it; once shutdown has begun it
// returns ErrStopping without running f.
func (r *Router) whileRunning(f func() error) error {
	r.live.RLock()
	defer r.live.RUnlock()
	if !r.running.Load() {
		return ErrStopping
	}
	return f()
}

func (r *Router) logLcoreMap() {
	var b strings.Builder
	fmt.Fprintf(&b, "%-6s %-14s %s\n", "lcore", "role", "polls (port/queue -> tx queue per egress port)")
	fmt.Fprintf(&b, "%-6d %-14s %s\n", r.cfg.EAL.MainLcore, "main", "control plane (EAL main thread)")
	steer := map[string]string{}
	for _, p := range r.ports {
		steer[p.cfg.Name] = p.steer
	}
	txqs := func(recorded int) string {
		var tx []string
		for _, p := range r.ports {
			tx = append(tx, fmt.Sprintf("%s:%d", p.cfg.Name, recorded%p.cfg.TxQueues))
		}
		return strings.Join(tx, ",")
	}
	for _, l := range r.dp.Lcores() {
		var qs []string
		role := ""
		for _, q := range r.cfg.Lcores {
			if q.Lcore != l.ID {
				continue
			}
			for _, rq := range q.Rx {
				if steer[rq.Port] == "distributor" {
					role = "rx"
					qs = append(qs, fmt.Sprintf("%s/%d -> workers by flow hash", rq.Port, rq.Queue))
				} else {
					role = "rx+fwd"
					qs = append(qs, fmt.Sprintf("%s/%d -> %s", rq.Port, rq.Queue, txqs(rq.Queue)))
				}
			}
		}
		if l.Worker >= 0 {
			role = strings.TrimPrefix(role+"+worker", "+")
			qs = append(qs, fmt.Sprintf("worker %d -> %s", l.Worker, txqs(l.Worker)))
		}
		fmt.Fprintf(&b, "%-6d %-14s %s\n", l.ID, role, strings.Join(qs, "; "))
	}
	r.log.Info("lcore map\n" + b.String())
}

// Counters reads the live lcore counters (cheap: no DPDK calls).
func (r *Router) Counters() []LcoreReport {
	var out []LcoreReport
	for _, l := range r.dp.Lcores() {
		out = append(out, lcoreReport(l.ID, l.Worker, l.Counters()))
	}
	return out
}

// Snapshot reads every live counter: ethdev stats and link state per port,
// lcore and ring counters, mempool use, the RETA. Safe from any goroutine
// while the router runs (ethdev stats and rte_ring_count are read-only
// calls; lcore counters are plain loads); it returns nil once Stop began.
// The mempool "after stop/close" fields are left zero.
func (r *Router) Snapshot() *Report {
	var rep *Report
	r.whileRunning(func() error { rep = r.snapshot(); return nil }) //nolint:errcheck // nil when stopping
	return rep
}

func (r *Router) snapshot() *Report {
	rep := &Report{Lcores: r.Counters(), Rings: r.ringReports(), RETA: r.reta()}
	rep.Totals = sumTotals(rep.Lcores)
	for _, p := range r.ports {
		pr := r.portReport(p)
		if l, err := p.id.Link(); err == nil {
			pr.LinkUp, pr.LinkMbps = l.Up, l.SpeedMbps
		}
		rep.Ports = append(rep.Ports, pr)
	}
	rep.Mempool.Size = r.pool.Size()
	rep.Mempool.InUse = r.pool.InUse()
	rep.FIB = r.fibReport()
	st := r.sp.Stats()
	rep.SlowPath = &st
	return rep
}

// Health says whether the router forwards: lcores running and every port
// started. The reason names what is wrong.
func (r *Router) Health() (bool, string) {
	if !r.running.Load() {
		return false, "lcores are not running (starting or stopping)"
	}
	for _, p := range r.ports {
		if !p.started {
			return false, fmt.Sprintf("port %s is not started", p.cfg.Name)
		}
	}
	return true, "forwarding"
}

func (r *Router) fibReport() FIBReport {
	r.fibMu.Lock()
	defer r.fibMu.Unlock()
	return FIBReport{Entries: len(r.fs.entryNH), NextHops: len(r.fs.hopOf), Routes: len(r.routes), Neighbors: len(r.fs.usable)}
}

func (r *Router) portReport(p *port) PortReport {
	pr := PortReport{Name: p.cfg.Name, PortID: uint16(p.id), Driver: p.info.Driver, MAC: p.mac.String(),
		RxQueues: p.cfg.RxQueues, TxQueues: p.cfg.TxQueues, Steering: p.steer}
	if s, err := p.id.Stats(); err == nil {
		pr.RxPackets, pr.TxPackets, pr.RxBytes, pr.TxBytes = s.RxPackets, s.TxPackets, s.RxBytes, s.TxBytes
		pr.RxMissed, pr.RxErrors, pr.TxErrors, pr.RxNoMbuf = s.RxMissed, s.RxErrors, s.TxErrors, s.RxNoMbuf
	}
	return pr
}

// ringReports reads every (RX lcore, worker) link: rings and local shortcuts.
func (r *Router) ringReports() []RingReport {
	occupancy := map[[2]int]int{}
	for _, l := range r.rings {
		occupancy[[2]int{l.from, l.worker}] = l.r.Count()
	}
	var out []RingReport
	for _, l := range r.dp.Lcores() {
		for _, c := range l.Links() {
			out = append(out, RingReport{FromLcore: l.ID, Worker: c.Worker, Ring: c.Ring,
				Enqueued: c.Handed, DroppedFull: c.DroppedFull, Occupancy: occupancy[[2]int{l.ID, c.Worker}]})
		}
	}
	return out
}

// Stop stops the lcores (they flush their TX buffers), stops and closes the
// ports, frees everything and returns the final report. Safe to call twice.
func (r *Router) Stop() (*Report, error) {
	r.stopOnce.Do(func() {
		r.report, r.stopErr = r.teardown()
	})
	return r.report, r.stopErr
}

func (r *Router) teardown() (*Report, error) {
	r.running.Store(false)
	r.live.Lock() // wait for snapshots in progress; none start after this
	defer r.live.Unlock()
	var errs []error
	rep := &Report{}
	r.stopSlowPath()
	if r.dp != nil {
		errs = append(errs, r.dp.Stop())
		rep.Lcores = r.Counters()
		rep.Rings = r.ringReports()
		rep.RETA = r.reta()
	}
	rep.Totals = sumTotals(rep.Lcores)
	if r.fib != nil {
		rep.FIB = r.fibReport()
	}
	if r.sp != nil {
		st := r.sp.Stats()
		rep.SlowPath = &st
	}
	eal.Do(func() {
		errs = append(errs, r.freeSlowPath())
		if r.pool != nil {
			rep.Mempool.Size = r.pool.Size()
			rep.Mempool.InUseAfterStop = r.pool.InUse()
		}
		for _, p := range r.ports {
			rep.Ports = append(rep.Ports, r.portReport(p))
			if p.started {
				errs = append(errs, p.id.Stop())
			}
			errs = append(errs, p.id.Close())
		}
		if r.pool != nil {
			rep.Mempool.InUseAfterClose = r.pool.InUse()
			if rep.Mempool.InUseAfterClose == 0 {
				r.pool.Free()
			} else {
				errs = append(errs, fmt.Errorf("mbuf leak: %d mbufs still in use after every port closed", rep.Mempool.InUseAfterClose))
			}
		}
		for _, l := range r.rings {
			if n := l.r.Count(); n > 0 {
				errs = append(errs, fmt.Errorf("ring lcore %d -> worker %d still holds %d mbufs after the workers drained", l.from, l.worker, n))
				continue
			}
			l.r.Free()
		}
		if r.dp != nil {
			r.dp.Free()
		}
		if r.table != nil {
			r.table.Free()
		}
	})
	errs = append(errs, eal.Cleanup())
	if u := rep.Totals.Unaccounted(); u != 0 {
		errs = append(errs, fmt.Errorf("counters do not balance: %d packets received but neither forwarded, dropped nor handed to the slow path", u))
	}
	return rep, errors.Join(errs...)
}
