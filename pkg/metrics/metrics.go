// Package metrics exposes steer's counters to Prometheus. One custom
// Collector reads the router's live snapshot at scrape time: the C data path
// keeps its plain per-lcore counters and Go never counts per packet.
//
// Names follow the Prometheus conventions (steer_ prefix, _total on
// counters, base units); docs/METRICS.md lists every metric.
package metrics

import (
	"maps"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/steer-router/steer/pkg/report"
	"github.com/steer-router/steer/pkg/slowpath"
)

// Source is what the collector reads: the router satisfies it.
// Snapshot returns nil once the router is stopping.
type Source interface {
	Snapshot() *report.Report
	Health() (bool, string)
}

// BuildInfo labels steer_build_info.
type BuildInfo struct {
	Version   string // steer's version ("dev" when not set at build time)
	GoVersion string // runtime.Version() when empty
	DPDK      string // "DPDK 22.11.x"
}

const ns = "steer"

// Collector is a prometheus.Collector over a Source.
type Collector struct {
	src   Source
	build BuildInfo

	portCounters []portCounter
	portLinkUp   *prometheus.Desc
	portSpeed    *prometheus.Desc
	portInfo     *prometheus.Desc

	lcoreCounters []lcoreCounter
	lcoreDropped  *prometheus.Desc
	lcoreSlow     *prometheus.Desc
	lcorePolls    *prometheus.Desc
	lcoreInfo     *prometheus.Desc
	lcoreCycles   *prometheus.Desc
	lcoreStages   *prometheus.Desc
	rxqStalls     *prometheus.Desc
	rxqStallCyc   *prometheus.Desc
	portSteering  *prometheus.Desc
	distMoves     *prometheus.Desc
	distShare     *prometheus.Desc
	distPinned    *prometheus.Desc

	ringEnqueued  *prometheus.Desc
	ringDropped   *prometheus.Desc
	ringOccupancy *prometheus.Desc

	retaBuckets    *prometheus.Desc
	mempoolSize    *prometheus.Desc
	mempoolInUse   *prometheus.Desc
	fibEntries     *prometheus.Desc
	fibNextHops    *prometheus.Desc
	routes         *prometheus.Desc
	neighbors      *prometheus.Desc
	slow           slowDescs
	up             *prometheus.Desc
	buildInfo      *prometheus.Desc
	scrapeDuration *prometheus.Desc
	scrapeSuccess  *prometheus.Desc
}

// slowDescs are the control thread's metrics, from Report.SlowPath.
type slowDescs struct {
	counters      []slowCounter // unlabelled counters
	dropped       *prometheus.Desc
	arpReceived   *prometheus.Desc
	arpSent       *prometheus.Desc
	arpQueueDrops *prometheus.Desc
	neighbors     *prometheus.Desc
	icmpSent      *prometheus.Desc
	icmpSupp      *prometheus.Desc
}

type slowCounter struct {
	desc *prometheus.Desc
	get  func(*slowpath.Stats) uint64
}

func (s *slowDescs) all() []*prometheus.Desc {
	out := []*prometheus.Desc{s.dropped, s.arpReceived, s.arpSent, s.arpQueueDrops, s.neighbors, s.icmpSent, s.icmpSupp}
	for _, c := range s.counters {
		out = append(out, c.desc)
	}
	return out
}

type portCounter struct {
	desc *prometheus.Desc
	get  func(*report.Port) uint64
}

type lcoreCounter struct {
	desc *prometheus.Desc
	get  func(*report.Lcore) uint64
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(ns+"_"+name, help, labels, nil)
}

// New returns a collector reading src at every scrape.
func New(src Source, build BuildInfo) *Collector {
	if build.GoVersion == "" {
		build.GoVersion = runtime.Version()
	}
	port := []string{"port"}
	lcore := []string{"lcore"}
	pc := func(name, help string, get func(*report.Port) uint64) portCounter {
		return portCounter{desc(name, help, port...), get}
	}
	lc := func(name, help string, get func(*report.Lcore) uint64) lcoreCounter {
		return lcoreCounter{desc(name, help, lcore...), get}
	}
	link := []string{"from_lcore", "worker"}
	return &Collector{
		src: src, build: build,
		portCounters: []portCounter{
			pc("port_rx_packets_total", "Packets received by the port (ethdev ipackets).", func(p *report.Port) uint64 { return p.RxPackets }),
			pc("port_tx_packets_total", "Packets sent by the port (ethdev opackets).", func(p *report.Port) uint64 { return p.TxPackets }),
			pc("port_rx_bytes_total", "Bytes received by the port (ethdev ibytes).", func(p *report.Port) uint64 { return p.RxBytes }),
			pc("port_tx_bytes_total", "Bytes sent by the port (ethdev obytes).", func(p *report.Port) uint64 { return p.TxBytes }),
			pc("port_rx_missed_total", "Packets the device dropped because no RX descriptor was free (ethdev imissed): the lcores did not keep up, or backpressure held them off.", func(p *report.Port) uint64 { return p.RxMissed }),
			pc("port_rx_errors_total", "Erroneous packets received (ethdev ierrors).", func(p *report.Port) uint64 { return p.RxErrors }),
			pc("port_tx_errors_total", "Packets the device failed to send (ethdev oerrors).", func(p *report.Port) uint64 { return p.TxErrors }),
			pc("port_rx_nombuf_total", "RX mbuf allocation failures (ethdev rx_nombuf): the mempool ran dry.", func(p *report.Port) uint64 { return p.RxNoMbuf }),
		},
		portLinkUp: desc("port_link_up", "1 when the port's link is up.", port...),
		portSpeed:  desc("port_link_speed_bps", "Link speed in bits per second (0 when unknown or down).", port...),
		portInfo:   desc("port_info", "Port identity, always 1: driver, MAC and resolved steering (rss, distributor or rtc).", "port", "driver", "mac", "steering"),

		lcoreCounters: []lcoreCounter{
			lc("lcore_rx_packets_total", "Packets the lcore took from NIC RX queues.", func(l *report.Lcore) uint64 { return l.RxPackets }),
			lc("lcore_tx_packets_total", "Packets the lcore forwarded (handed to a TX queue and accepted).", func(l *report.Lcore) uint64 { return l.TxPackets }),
			lc("lcore_handed_off_packets_total", "Packets an RX lcore enqueued on distributor rings to workers.", func(l *report.Lcore) uint64 { return l.HandedOff }),
			lc("lcore_local_packets_total", "Packets an RX lcore of the distributor processed itself, no ring: the buckets its RETA keeps local (and its own share when it is a worker too).", func(l *report.Lcore) uint64 { return l.Local }),
			lc("lcore_ring_packets_total", "Packets a worker dequeued from distributor rings.", func(l *report.Lcore) uint64 { return l.FromRings }),
			lc("lcore_worker_bursts_total", "Bursts a worker dequeued from distributor rings.", func(l *report.Lcore) uint64 { return l.WorkerBursts }),
			lc("lcore_backpressure_skips_total", "Polls of a distributor RX queue skipped because a ring to a worker lacked room for a burst (on_full: backpressure).", func(l *report.Lcore) uint64 { return l.BackpressureSkips }),
			lc("lcore_slowpath_ring_full_total", "Slow-path packets the lcore freed because its ring to the control thread was full (a flood, or slow_path.rate too low).", func(l *report.Lcore) uint64 { return l.SlowRingFull }),
			lc("lcore_control_tx_packets_total", "Frames of the control thread (ARP, ICMP, software-forwarded packets) the lcore sent.", func(l *report.Lcore) uint64 { return l.ControlTx }),
			lc("lcore_control_tx_dropped_total", "Frames of the control thread the lcore dropped because the TX queue was full.", func(l *report.Lcore) uint64 { return l.ControlTxFull }),
			lc("lcore_sleeps_total", "Times the lcore went to sleep with nothing to do (poll adaptive or interrupt).", func(l *report.Lcore) uint64 { return l.Sleeps }),
			lc("lcore_wakeups_total", "Times the lcore found work again after sleeping.", func(l *report.Lcore) uint64 { return l.Wakeups }),
			lc("lcore_stall_cycles_total", "TSC cycles the lcore waited for room in a ring to a worker (backpressure); part of its busy cycles.", func(l *report.Lcore) uint64 { return l.StallCycles }),
			lc("lcore_sampled_packets_total", "Packets received (NIC queues and rings) in the loops sampled for steer_lcore_sampled_cycles_total: divide the two for cycles per packet by stage.", func(l *report.Lcore) uint64 { return l.SampledPackets }),
		},
		lcoreDropped: desc("lcore_dropped_packets_total", "Packets the lcore dropped, by reason (every reason listed, zeros included).", "lcore", "reason"),
		lcoreSlow:    desc("lcore_slowpath_packets_total", "Packets the lcore handed to the slow path, by reason (every reason listed).", "lcore", "reason"),
		lcorePolls:   desc("lcore_polls_total", "Polls of NIC queues and distributor rings that found packets (busy) or none (idle).", "lcore", "state"),
		lcoreCycles:  desc("lcore_cycles_total", "TSC cycles of the lcore by state: loops that found work (busy) or none (idle), and asleep (poll adaptive or interrupt: sleeping or blocked). busy / all is how loaded it is, busy / packets what a packet costs.", "lcore", "state"),
		lcoreStages:  desc("lcore_sampled_cycles_total", "TSC cycles of a sample of the lcore's busy loops (1 in 64), by stage: rx (polling NIC queues and rings), handoff (hashing, handing to workers), process (the L3 pipeline), tx (sending).", "lcore", "stage"),
		rxqStalls:    desc("rxq_stall_skips_total", "Polls of a distributor RX queue skipped waiting for ring room (backpressure): the NIC holds the packets (and drops them into imissed when full).", "lcore", "port", "queue"),
		rxqStallCyc:  desc("rxq_stall_cycles_total", "TSC cycles a distributor RX queue waited for ring room (backpressure), at most distributor.max_stall at a time.", "lcore", "port", "queue"),
		portSteering: desc("port_steering_info", "How packets of the port reach lcores, always 1: steering is rss, distributor or rtc (run to completion without spreading); reason says why auto chose it.", "port", "steering", "reason"),
		distMoves:    desc("distributor_moves_total", "RETA changes the distributor's balancer made, by kind: out (buckets to workers), back (to their RX lcore), revert (a move that did not pay, undone).", "kind"),
		distShare:    desc("distributor_handed_share", "Share of an RX lcore's packets on buckets handed to workers (the rest it processes itself).", "lcore"),
		distPinned:   desc("distributor_pinned", "1 while an operator's RETA (PUT /api/v1/reta) holds the balancer off."),
		lcoreInfo:    desc("lcore_info", "Lcore role, always 1: role is rx+fwd (run to completion), rx (distributor RX), worker or rx+worker; worker is the software queue id (\"\" for non-workers); poll is how it waits when idle (busy, adaptive, interrupt).", "lcore", "worker", "role", "poll"),

		ringEnqueued:  desc("ring_enqueued_packets_total", "Packets an RX lcore handed to a worker over this ring (what it keeps itself: steer_lcore_local_packets_total).", link...),
		ringDropped:   desc("ring_dropped_full_packets_total", "Packets dropped because the link's ring was full (on_full: drop).", link...),
		ringOccupancy: desc("ring_occupancy", "Packets waiting in the link's ring now.", link...),

		retaBuckets:    desc("reta_buckets", "Buckets of the first RX lcore's RETA per worker (the RETA spread); worker=\"local\": kept by the RX lcore itself.", "worker"),
		mempoolSize:    desc("mempool_size_mbufs", "Mbufs in the packet pool."),
		mempoolInUse:   desc("mempool_in_use_mbufs", "Mbufs of the packet pool in use now (descriptor rings, rings, TX buffers, in flight)."),
		fibEntries:     desc("fib_entries", "FIB prefixes in the forwarding table, the router's own and broadcast /32s included."),
		fibNextHops:    desc("fib_next_hops", "Next hops in the forwarding table."),
		routes:         desc("routes", "Static routes."),
		neighbors:      desc("neighbors", "Usable neighbours in the forwarding table (static, and learnt ones with a MAC)."),
		slow:           newSlowDescs(),
		up:             desc("up", "1 when the router forwards: lcores running and every port started."),
		buildInfo:      desc("build_info", "steer's build, always 1.", "version", "goversion", "dpdk"),
		scrapeDuration: desc("scrape_duration_seconds", "How long reading the router's counters took for this scrape."),
		scrapeSuccess:  desc("scrape_success", "1 when the router's counters could be read (0 while stopping)."),
	}
}

// Describe sends every descriptor.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, p := range c.portCounters {
		ch <- p.desc
	}
	for _, l := range c.lcoreCounters {
		ch <- l.desc
	}
	for _, d := range []*prometheus.Desc{c.portLinkUp, c.portSpeed, c.portInfo, c.lcoreDropped, c.lcoreSlow,
		c.lcorePolls, c.lcoreInfo, c.lcoreCycles, c.lcoreStages, c.rxqStalls, c.rxqStallCyc, c.portSteering,
		c.distMoves, c.distShare, c.distPinned, c.ringEnqueued, c.ringDropped, c.ringOccupancy, c.retaBuckets,
		c.mempoolSize, c.mempoolInUse, c.fibEntries, c.fibNextHops, c.routes, c.neighbors, c.up,
		c.buildInfo, c.scrapeDuration, c.scrapeSuccess} {
		ch <- d
	}
	for _, d := range c.slow.all() {
		ch <- d
	}
}

func newSlowDescs() slowDescs {
	sc := func(name, help string, get func(*slowpath.Stats) uint64) slowCounter {
		return slowCounter{desc(name, help), get}
	}
	return slowDescs{
		counters: []slowCounter{
			sc("slowpath_taken_total", "Exceptions the control thread took from the lcores' rings.", func(s *slowpath.Stats) uint64 { return s.Taken }),
			sc("slowpath_sent_total", "Frames the control thread queued for transmission (ARP, ICMP, software-forwarded).", func(s *slowpath.Stats) uint64 { return s.Sent }),
			sc("slowpath_send_failed_total", "Frames of the control thread lost before an lcore got them: no mbuf, or the control ring was full.", func(s *slowpath.Stats) uint64 { return s.SendFailed }),
			sc("slowpath_soft_forwarded_total", "Transit packets the control thread forwarded (IP options, waiting for ARP, needing fragmentation).", func(s *slowpath.Stats) uint64 { return s.SoftForwarded }),
			sc("slowpath_fragmented_total", "Packets the control thread fragmented for a smaller MTU.", func(s *slowpath.Stats) uint64 { return s.Fragmented }),
			sc("arp_resolved_total", "Times a neighbour entry became usable (new, incomplete or failed entry resolved).", func(s *slowpath.Stats) uint64 { return s.ARP.Resolved }),
			sc("arp_failed_total", "ARP resolutions and probes that gave up.", func(s *slowpath.Stats) uint64 { return s.ARP.Failed }),
			sc("arp_learnt_total", "ARP packets that created, updated or confirmed a neighbour entry.", func(s *slowpath.Stats) uint64 { return s.ARP.Learnt }),
			sc("arp_invalid_total", "ARP packets ignored: bad sender IP or MAC, off-link sender, wrong port.", func(s *slowpath.Stats) uint64 { return s.ARP.Invalid }),
			sc("arp_table_full_total", "New neighbour entries refused because the neighbour table was full.", func(s *slowpath.Stats) uint64 { return s.ARP.TableFull }),
			sc("arp_incomplete_evicted_total", "Neighbour resolutions given up for a newer one: the incomplete entries were at their bound (arp.max_entries / 4), e.g. under a flood towards unused addresses.", func(s *slowpath.Stats) uint64 { return s.ARP.IncompleteEvicted }),
			sc("arp_own_mac_total", "ARP packets whose sender claimed one of the router's own MACs (ignored: its traffic would come back to the router).", func(s *slowpath.Stats) uint64 { return s.ARP.OwnMAC }),
			sc("icmp_received_total", "ICMP messages for the router other than echo requests (replies, errors: nothing to do).", func(s *slowpath.Stats) uint64 { return s.ICMP.Received }),
			sc("icmp_rate_limited_total", "ICMP errors not sent because the token bucket (icmp.rate, icmp.burst) was empty.", func(s *slowpath.Stats) uint64 { return s.ICMP.RateLimited }),
		},
		dropped:       desc("slowpath_dropped_total", "Exceptions the control thread dropped, by reason.", "reason"),
		arpReceived:   desc("arp_received_total", "ARP packets received, by type: request (for our addresses), reply (to us), other (gratuitous, for others).", "type"),
		arpSent:       desc("arp_sent_total", "ARP packets sent, by type: reply, request, gratuitous.", "type"),
		arpQueueDrops: desc("arp_queue_dropped_total", "Packets waiting for ARP resolution that were dropped, by reason (every reason listed).", "reason"),
		neighbors:     desc("neighbor_entries", "Neighbour table entries by state (every state listed).", "state"),
		icmpSent:      desc("icmp_sent_total", "ICMP messages the router sent, by type: echo_reply and each error kind (every kind listed).", "type"),
		icmpSupp:      desc("icmp_suppressed_total", "ICMP errors not sent because RFC 1812 4.3.2.7 forbids them, by reason.", "reason"),
	}
}

// collectSlow sends the control thread's metrics; none without a slow path.
func (c *Collector) collectSlow(ch chan<- prometheus.Metric, st *slowpath.Stats) {
	if st == nil {
		return
	}
	d := &c.slow
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, sc := range d.counters {
		counter(sc.desc, sc.get(st))
	}
	for _, r := range sortedKeys(st.Dropped) {
		counter(d.dropped, st.Dropped[r], r)
	}
	counter(d.arpReceived, st.ARP.RequestsReceived, "request")
	counter(d.arpReceived, st.ARP.RepliesReceived, "reply")
	counter(d.arpReceived, st.ARP.OtherReceived, "other")
	counter(d.arpSent, st.ARP.RepliesSent, "reply")
	counter(d.arpSent, st.ARP.RequestsSent, "request")
	counter(d.arpSent, st.ARP.GratuitousSent, "gratuitous")
	for _, r := range sortedKeys(st.ARP.QueueDropped) {
		counter(d.arpQueueDrops, st.ARP.QueueDropped[r], r)
	}
	for _, s := range slices.Sorted(maps.Keys(st.ARP.Neighbors)) {
		ch <- prometheus.MustNewConstMetric(d.neighbors, prometheus.GaugeValue, float64(st.ARP.Neighbors[s]), s)
	}
	counter(d.icmpSent, st.ICMP.EchoReplies, "echo_reply")
	for _, k := range sortedKeys(st.ICMP.Errors) {
		if k != "echo_reply" { // not an error kind; never a duplicate series
			counter(d.icmpSent, st.ICMP.Errors[k], k)
		}
	}
	for _, r := range sortedKeys(st.ICMP.Suppressed) {
		counter(d.icmpSupp, st.ICMP.Suppressed[r], r)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collect reads one snapshot and sends every metric. While the router stops
// (no snapshot) it sends only steer_up 0 and steer_scrape_success 0.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	start := time.Now()
	rep := c.src.Snapshot()
	ok, _ := c.src.Health()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	if rep == nil {
		gauge(c.up, 0)
		gauge(c.scrapeSuccess, 0)
		return
	}
	gauge(c.up, b2f(ok))
	gauge(c.buildInfo, 1, c.build.Version, c.build.GoVersion, c.build.DPDK)

	for i := range rep.Ports {
		p := &rep.Ports[i]
		for _, pc := range c.portCounters {
			counter(pc.desc, pc.get(p), p.Name)
		}
		gauge(c.portLinkUp, b2f(p.LinkUp), p.Name)
		gauge(c.portSpeed, float64(p.LinkMbps)*1e6, p.Name)
		gauge(c.portInfo, 1, p.Name, p.Driver, p.MAC, p.Steering)
		gauge(c.portSteering, 1, p.Name, p.Steering, p.SteeringReason)
	}

	var workers []int
	for i := range rep.Lcores {
		l := &rep.Lcores[i]
		id := strconv.Itoa(l.Lcore)
		for _, lc := range c.lcoreCounters {
			counter(lc.desc, lc.get(l), id)
		}
		counter(c.lcorePolls, l.BusyPolls, id, "busy")
		counter(c.lcorePolls, l.IdlePolls, id, "idle")
		counter(c.lcoreCycles, l.BusyCycles, id, "busy")
		counter(c.lcoreCycles, l.IdleCycles, id, "idle")
		counter(c.lcoreCycles, l.AsleepCycles, id, "asleep")
		for _, r := range sortedKeys(l.StageCycles) {
			counter(c.lcoreStages, l.StageCycles[r], id, r)
		}
		for _, q := range l.RxQueues {
			counter(c.rxqStalls, q.StallSkips, id, q.Port, strconv.Itoa(q.Queue))
			counter(c.rxqStallCyc, q.StallCycles, id, q.Port, strconv.Itoa(q.Queue))
		}
		for _, r := range sortedKeys(l.Dropped) {
			counter(c.lcoreDropped, l.Dropped[r], id, r)
		}
		for _, r := range sortedKeys(l.SlowPath) {
			counter(c.lcoreSlow, l.SlowPath[r], id, r)
		}
		w := ""
		if l.Worker >= 0 {
			w = strconv.Itoa(l.Worker)
			workers = append(workers, l.Worker)
		}
		gauge(c.lcoreInfo, 1, id, w, l.Role, l.Poll)
	}

	for _, r := range rep.Rings {
		labels := []string{strconv.Itoa(r.FromLcore), strconv.Itoa(r.Worker)}
		counter(c.ringEnqueued, r.Enqueued, labels...)
		counter(c.ringDropped, r.DroppedFull, labels...)
		gauge(c.ringOccupancy, float64(r.Occupancy), labels...)
	}

	if len(rep.RETA) > 0 {
		spread := map[int]int{-1: 0}
		for _, w := range workers {
			spread[w] = 0 // workers without a bucket show 0
		}
		for _, w := range rep.RETA {
			spread[w]++
		}
		for _, w := range slices.Sorted(maps.Keys(spread)) {
			label := strconv.Itoa(w)
			if w < 0 {
				label = "local"
			}
			gauge(c.retaBuckets, float64(spread[w]), label)
		}
	}
	if d := rep.Distributor; d != nil {
		for _, k := range sortedKeys(d.Moves) {
			counter(c.distMoves, d.Moves[k], k)
		}
		for _, e := range d.Estimates {
			gauge(c.distShare, e.Share, strconv.Itoa(e.Lcore))
		}
		gauge(c.distPinned, b2f(d.Pinned))
	}

	gauge(c.mempoolSize, float64(rep.Mempool.Size))
	gauge(c.mempoolInUse, float64(rep.Mempool.InUse))
	gauge(c.fibEntries, float64(rep.FIB.Entries))
	gauge(c.fibNextHops, float64(rep.FIB.NextHops))
	gauge(c.routes, float64(rep.FIB.Routes))
	gauge(c.neighbors, float64(rep.FIB.Neighbors))
	c.collectSlow(ch, rep.SlowPath)
	gauge(c.scrapeDuration, time.Since(start).Seconds())
	gauge(c.scrapeSuccess, 1)
}

func sortedKeys(m map[string]uint64) []string {
	return slices.Sorted(maps.Keys(m))
}
