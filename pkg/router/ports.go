package router

import (
	"fmt"
	"net"

	"go.uber.org/zap"

	"github.com/steer-router/steer/cgo/dpdk/eal"
	"github.com/steer-router/steer/cgo/dpdk/ethdev"
	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/fwd"
)

type port struct {
	cfg     config.Port
	id      ethdev.Port
	info    ethdev.Info
	mac     net.HardwareAddr
	vdev    bool   // created by this router (ethdev.Probe): removed on close
	rss     bool   // the NIC spreads flows over RX queues
	steer   string // resolved steering: rss | distributor | rtc
	why     string // why that steering
	started bool
}

// rxCksumOffload reports whether the NIC can verify IPv4 header checksums.
func (p *port) rxCksumOffload() bool { return p.info.RxOffloads&ethdev.RxOffloadIPv4Cksum != 0 }

// checkLcores: every lcore of the map must be one EAL runs.
func (r *Router) checkLcores() error {
	for i, lc := range r.cfg.Lcores {
		if !eal.LcoreEnabled(lc.Lcore) || lc.Lcore == eal.MainLcore() {
			return fmt.Errorf("lcores[%d].lcore: %d is not a worker lcore of the running EAL (eal.lcores %q, main lcore %d)",
				i, lc.Lcore, r.cfg.EAL.Lcores, eal.MainLcore())
		}
	}
	return nil
}

// probe finds (a PCI device: EAL probed it) or creates (a virtual device)
// the port's device and checks it can give what the config asks. The port
// is returned even with an error once it exists, so teardown removes it.
func (r *Router) probe(i int) (*port, error) {
	c := r.cfg.Ports[i]
	field := fmt.Sprintf("ports[%d]", i)
	p := &port{cfg: c}
	if !c.IsPCI() {
		if err := ethdev.Probe(c.Device); err != nil {
			return nil, fmt.Errorf("%s.device: %q did not probe (%v): check the vdev arguments", field, c.Device, err)
		}
		p.vdev = true
	}
	id, err := ethdev.ByName(c.DeviceName())
	if err != nil {
		if p.vdev {
			ethdev.RemoveVdev(c.DeviceName()) //nolint:errcheck // it never became a port
		}
		return nil, fmt.Errorf("%s.device: %q did not probe (%v): check the PCI address is bound to vfio-pci (scripts/bind-vfio.sh) or the vdev arguments", field, c.Device, err)
	}
	p.id = id
	if p.info, err = id.Info(); err != nil {
		return p, err
	}
	info := p.info
	if c.RxQueues > info.MaxRxQueues {
		hint := ""
		if info.Driver == "net_pcap" {
			hint = " (net_pcap opens one RX queue per rx_pcap= argument)"
		}
		return p, fmt.Errorf("%s.rx_queues: %d, but %s (%s) has at most %d%s", field, c.RxQueues, c.Device, info.Driver, info.MaxRxQueues, hint)
	}
	if c.TxQueues > info.MaxTxQueues {
		hint := ""
		if info.Driver == "net_pcap" {
			hint = " (net_pcap opens one TX queue per tx_pcap= argument, or one per rx_pcap= without one)"
		}
		return p, fmt.Errorf("%s.tx_queues: %d, but %s (%s) has at most %d%s", field, c.TxQueues, c.Device, info.Driver, info.MaxTxQueues, hint)
	}
	if int(id) >= fwd.MaxPorts {
		return p, fmt.Errorf("%s: port id %d exceeds the fast path's %d ports", field, id, fwd.MaxPorts)
	}
	p.steer, p.why = resolveSteering(c, info, r.sharers(c.Name), r.workers())
	if c.Steering == "rss" && c.RxQueues > 1 && !info.CanRSS() {
		return p, fmt.Errorf("%s.steering: rss, but %s (%s) reports no IPv4 RSS offloads; use auto or distributor", field, c.Device, info.Driver)
	}
	if p.steer == "distributor" && !r.hasWorkers() {
		return p, fmt.Errorf("%s.steering: distributor, but no lcore in the lcore map is a worker (worker: true): its queues would feed nobody", field)
	}
	p.rss = p.steer == "rss" && c.RxQueues > 1 && info.CanRSS()
	return p, nil
}

func (r *Router) hasWorkers() bool { return r.workers() > 0 }

// workers is how many lcores of the map are distributor workers.
func (r *Router) workers() int {
	n := 0
	for _, lc := range r.cfg.Lcores {
		if lc.Worker {
			n++
		}
	}
	return n
}

// sharers is how many lcores should share a port's packets: the lcores
// that poll its queues, and the workers.
func (r *Router) sharers(port string) int {
	n := 0
	for _, lc := range r.cfg.Lcores {
		polls := false
		for _, q := range lc.Rx {
			polls = polls || q.Port == port
		}
		if polls || lc.Worker {
			n++
		}
	}
	return n
}

// resolveSteering turns a port's steering setting into what runs:
//   - rss: the NIC spreads flows over the RX queues, lcores run to completion;
//   - distributor: RX lcores spread flows over worker lcores in software;
//   - rtc: run to completion on the device's own queues, no spreading.
//
// auto picks rss when the device hashes IPv4 flows into at least as many
// configured RX queues as there are lcores to share the port's packets
// (sharers: its pollers and the workers); else the distributor when the
// lcore map has workers; else run to completion. It never fails: the
// choice and why are logged and exported.
func resolveSteering(c config.Port, info ethdev.Info, sharers, workers int) (string, string) {
	switch c.Steering {
	case "rss":
		return "rss", "configured"
	case "distributor":
		return "distributor", "configured"
	}
	rss := info.CanRSS() && c.RxQueues > 1 && info.MaxRxQueues >= c.RxQueues
	switch {
	case rss && c.RxQueues >= sharers:
		return "rss", fmt.Sprintf("the device hashes flows over the %d RX queues, enough for the %d lcores sharing the port", c.RxQueues, sharers)
	case workers > 0 && rss:
		return "distributor", fmt.Sprintf("%d RX queues for %d lcores sharing the port: the distributor spreads over the workers", c.RxQueues, sharers)
	case workers > 0 && info.CanRSS():
		return "distributor", "one RX queue: the distributor spreads flows over the workers"
	case workers > 0:
		return "distributor", "the device has no RSS: the distributor spreads flows over the workers"
	case rss:
		return "rss", fmt.Sprintf("the device hashes flows over the %d RX queues", c.RxQueues)
	default:
		return "rtc", "no RSS over several queues and no workers: each queue runs to completion"
	}
}

func (r *Router) startPort(p *port) error {
	var hf uint64
	if p.rss {
		hf = rssHashes(r.cfg.Distributor.Hash) & p.info.RSSOffloads
	}
	// A NIC that checks IPv4 header checksums saves the fast path the sum.
	var offloads uint64
	if p.rxCksumOffload() {
		offloads = ethdev.RxOffloadIPv4Cksum
	}
	conf := ethdev.Conf{RxQueues: p.cfg.RxQueues, TxQueues: p.cfg.TxQueues, MTU: p.cfg.MTU, RSS: hf, RxOffloads: offloads,
		RxInterrupts: r.wantsRxInterrupts(p.cfg.Name)}
	if err := p.id.Configure(conf); err != nil {
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

// rssHashes are the RSS hash functions that make the NIC's flows the
// distributor's (distributor.hash): auto hashes TCP by its ports and
// everything else by addresses, l3 everything by addresses, l4 TCP and UDP
// by their ports. The distributor uses the NIC's hash where the mbuf has
// one, so the two agree on what one flow is.
func rssHashes(mode string) uint64 {
	switch mode {
	case "l3":
		return ethdev.RSSIPv4Addresses | ethdev.RSSIPv4Frag
	case "l4":
		return ethdev.RSSIPv4
	}
	return ethdev.RSSIPv4Addresses | ethdev.RSSIPv4Frag | ethdev.RSSIPv4TCP | ethdev.RSSIPv4Other
}

// closePort stops and closes the port (the pcap PMD finishes its files
// here) and removes the virtual device this router created. On the EAL
// main thread.
func (r *Router) closePort(p *port) error {
	var err error
	if p.started {
		err = p.id.Stop()
		p.started = false
	}
	if cerr := p.id.Close(); err == nil {
		err = cerr
	}
	if p.vdev {
		if rerr := ethdev.RemoveVdev(p.cfg.DeviceName()); err == nil {
			err = rerr
		}
	}
	return err
}

func (r *Router) portByName(name string) *port {
	for _, p := range r.ports {
		if p.cfg.Name == name {
			return p
		}
	}
	return nil
}

func (r *Router) portName(id int) string {
	for _, p := range r.ports {
		if int(p.id) == id {
			return p.cfg.Name
		}
	}
	return fmt.Sprint(id)
}
