package router

import (
	"fmt"

	"github.com/steer-router/steer/pkg/report"
)

// Counters reads the live lcore counters (cheap: no DPDK calls).
func (r *Router) Counters() []report.Lcore {
	var out []report.Lcore
	for _, l := range r.dp.Lcores() {
		lr := report.FromCounters(l.ID, l.Worker, l.Counters())
		lr.Role, lr.Poll = lcoreRole(l), l.PollMode().String()
		for _, q := range l.RxQueues() {
			lr.RxQueues = append(lr.RxQueues, report.RxQueue{Port: r.portName(int(q.Port)), Queue: int(q.Queue),
				StallSkips: q.StallSkips, StallCycles: q.StallCycles})
		}
		out = append(out, lr)
	}
	return out
}

// Snapshot reads every live counter: ethdev stats and link state per port,
// lcore and ring counters, mempool use, the RETA, the FIB and the slow
// path. Safe from any goroutine while the router runs (ethdev stats and
// rte_ring_count are read-only calls; lcore counters are plain loads); nil
// once Stop began. The mempool "after stop/close" fields are left zero.
func (r *Router) Snapshot() *report.Report {
	var rep *report.Report
	r.whileRunning(func() error { rep = r.snapshot(); return nil }) //nolint:errcheck // nil when stopping
	return rep
}

func (r *Router) snapshot() *report.Report {
	rep := &report.Report{}
	r.lcoreReports(rep)
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
	rep.SlowPath = r.slow.stats()
	return rep
}

// lcoreReports fills the lcore, ring, distributor and total parts of rep.
func (r *Router) lcoreReports(rep *report.Report) {
	rep.Lcores = r.Counters()
	rep.Totals = report.Sum(rep.Lcores)
	rep.RETA = r.reta()
	if r.dp.Workers() > 0 {
		d := &report.Distributor{Workers: r.dp.Workers(), Hash: r.cfg.Distributor.Hash}
		for _, l := range r.rxLcores() {
			d.RxLcores = append(d.RxLcores, report.RxLcore{Lcore: l.ID, Wanted: l.WantedRETA(),
				Applied: l.AppliedRETA(), Buckets: l.BucketPackets()})
		}
		r.bal.report(d)
		rep.Distributor = d
	}
	occupancy := map[[2]int]int{}
	for _, l := range r.links {
		occupancy[[2]int{l.from, l.worker}] = l.r.Count()
	}
	for _, l := range r.dp.Lcores() {
		for _, c := range l.Links() {
			rep.Rings = append(rep.Rings, report.Ring{FromLcore: l.ID, Worker: c.Worker,
				Enqueued: c.Handed, DroppedFull: c.DroppedFull, Occupancy: occupancy[[2]int{l.ID, c.Worker}]})
		}
	}
}

func (r *Router) fibReport() report.FIB {
	st := r.rib.Stats()
	return report.FIB{Entries: st.Entries, NextHops: st.NextHops, Routes: st.Routes, Neighbors: st.Neighbors}
}

func (r *Router) portReport(p *port) report.Port {
	pr := report.Port{Name: p.cfg.Name, PortID: uint16(p.id), Driver: p.info.Driver, MAC: p.mac.String(),
		RxQueues: p.cfg.RxQueues, TxQueues: p.cfg.TxQueues, Steering: p.steer, SteeringReason: p.why}
	if s, err := p.id.Stats(); err == nil {
		pr.RxPackets, pr.TxPackets, pr.RxBytes, pr.TxBytes = s.RxPackets, s.TxPackets, s.RxBytes, s.TxBytes
		pr.RxMissed, pr.RxErrors, pr.TxErrors, pr.RxNoMbuf = s.RxMissed, s.RxErrors, s.TxErrors, s.RxNoMbuf
	}
	return pr
}

// Progress is a proof of life per thread for a watchdog: for each lcore
// its polls and sleeps, for the control thread its turns. Every value grows
// within milliseconds while its thread runs (an idle lcore sleeps at most
// poll.max_sleep, an interrupt wait 10 ms; the control thread turns at
// least every 100 ms); one that stops growing is stuck. Plain loads, like
// Counters: call it only while the router runs.
func (r *Router) Progress() map[string]uint64 {
	out := map[string]uint64{}
	for _, l := range r.dp.Lcores() {
		c := report.FromCounters(l.ID, l.Worker, l.Counters())
		out[fmt.Sprintf("lcore %d", l.ID)] = c.BusyPolls + c.IdlePolls + c.Sleeps
	}
	if r.slow.sp != nil {
		out["control thread"] = r.slow.sp.Loops()
	}
	return out
}
