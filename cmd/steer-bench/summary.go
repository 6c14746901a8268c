package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// cell is one (traffic, row) of the table (results.json "summary").
type cell struct {
	Traffic  string `json:"traffic"`
	Row      string `json:"row"`
	Label    string `json:"label"`
	Group    string `json:"group"`
	PollCPUs int    `json:"poll_cpus"`
	Runs     int    `json:"runs"`
	OKRuns   int    `json:"ok_runs"`
	*cellStats
	Error     string   `json:"error,omitempty"` // when no run was ok
	VsTestpmd *float64 `json:"vs_testpmd,omitempty"`
	VsL3fwd   *float64 `json:"vs_l3fwd,omitempty"`
	steerID   string
	base      string
}

// cellStats are the figures of the ok runs of a cell.
type cellStats struct {
	MppsMedian      float64  `json:"mpps_median"`
	MppsMin         float64  `json:"mpps_min"`
	MppsMax         float64  `json:"mpps_max"`
	GbpsMedian      float64  `json:"gbps_median"`
	DropPctMedian   float64  `json:"drop_pct_median"`
	StartupSMedian  float64  `json:"startup_s_median"`
	CPUOthersMax    float64  `json:"cpu_others_max"`
	CPUOursMedian   float64  `json:"cpu_ours_median"`
	CyclesPerPacket *float64 `json:"cycles_per_packet"` // TSC Hz x poll CPUs / packet rate
	// steer rows: each lcore's own count, from its stats file
	Lcores []lcoreCycles `json:"lcore_cycles,omitempty"`
}

// lcoreCycles is one steer lcore's cycle accounting, medians over the
// cell's ok runs.
type lcoreCycles struct {
	Lcore           int                `json:"lcore"`
	Role            string             `json:"role"`
	Busy            float64            `json:"busy"`              // share of its cycles
	CyclesPerPacket float64            `json:"cycles_per_packet"` // busy cycles per packet received
	Stages          map[string]float64 `json:"stage_cycles_per_packet"`
}

// steerLcores takes the per-lcore medians of the runs' stats files (nil
// when they have none).
func steerLcores(ok []sample) []lcoreCycles {
	type acc struct {
		role      string
		busy, cpp []float64
		stages    map[string][]float64
	}
	by := map[int]*acc{}
	var ids []int
	for _, s := range ok {
		if s.Steer == nil {
			continue
		}
		for _, l := range s.Steer.Lcores {
			a := by[l.Lcore]
			if a == nil {
				a = &acc{role: l.Role, stages: map[string][]float64{}}
				by[l.Lcore] = a
				ids = append(ids, l.Lcore)
			}
			if all := l.BusyCycles + l.IdleCycles; all > 0 {
				a.busy = append(a.busy, float64(l.BusyCycles)/float64(all))
			}
			a.cpp = append(a.cpp, l.CyclesPerPacket)
			if l.SampledPackets > 0 {
				for st, c := range l.StageCycles {
					a.stages[st] = append(a.stages[st], float64(c)/float64(l.SampledPackets))
				}
			}
		}
	}
	sort.Ints(ids)
	var out []lcoreCycles
	for _, id := range ids {
		a := by[id]
		lc := lcoreCycles{Lcore: id, Role: a.role, Busy: median(a.busy), CyclesPerPacket: median(a.cpp), Stages: map[string]float64{}}
		for st, v := range a.stages {
			lc.Stages[st] = median(v)
		}
		out = append(out, lc)
	}
	return out
}

// stageLines say where each steer lcore's cycles went, per packet, stage by
// stage (a sample of its busy loops): what a hand-off costs and where.
func stageLines(summary []cell) []string {
	var out []string
	for _, c := range summary {
		if c.cellStats == nil || len(c.Lcores) == 0 {
			continue
		}
		var parts []string
		for _, l := range c.Lcores {
			var st []string
			for _, name := range []string{"rx", "handoff", "process", "tx"} {
				if v := l.Stages[name]; v >= 0.5 {
					st = append(st, fmt.Sprintf("%s %.0f", name, v))
				}
			}
			parts = append(parts, fmt.Sprintf("lcore %d %s (busy %.0f%%): %s", l.Lcore, l.Role, 100*l.Busy, strings.Join(st, " ")))
		}
		if len(out) == 0 {
			out = append(out, "steer's stages, cycles per packet received (1 busy loop in 64 timed; process and tx per packet")
			out = append(out, "      received, so a worker's share shows on the worker):")
		}
		out = append(out, fmt.Sprintf("  %s / %s: %s", c.Traffic, c.Row, strings.Join(parts, "; ")))
	}
	return out
}

// lcoreColumn is the table's per-lcore column: role and busy cycles per
// packet of each lcore ("rx 72 worker 140"), "-" for other programs.
func lcoreColumn(ls []lcoreCycles) string {
	if len(ls) == 0 {
		return "-"
	}
	var parts []string
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("%s %.0f", l.Role, l.CyclesPerPacket))
	}
	return strings.Join(parts, ", ")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// summarise makes the cells, traffic by traffic and row by row, with the
// ratios to the baselines of each row's group in the same traffic.
func summarise(samples []sample, traffics []traffic, rows []row, tscMHz *float64) []cell {
	var out []cell
	for _, t := range traffics {
		for _, r := range rows {
			var runs, ok []sample
			for _, s := range samples {
				if s.Traffic == t.ID && s.Row == r.ID {
					runs = append(runs, s)
					if s.OK {
						ok = append(ok, s)
					}
				}
			}
			label := r.Label
			if t.Table != nil && r.Prog == "l3fwd" {
				label = strings.Replace(label, "LPM", "FIB, rule file", 1) // --lookup=fib on full-table
			}
			c := cell{Traffic: t.ID, Row: r.ID, Label: label, Group: r.Group, PollCPUs: r.PollCPUs,
				Runs: len(runs), OKRuns: len(ok), steerID: r.SteerID, base: r.base}
			if len(ok) == 0 {
				c.Error = "not run"
				if len(runs) > 0 && runs[len(runs)-1].Error != nil {
					c.Error = *runs[len(runs)-1].Error
				}
				out = append(out, c)
				continue
			}
			field := func(f func(s sample) float64) []float64 {
				var v []float64
				for _, s := range ok {
					v = append(v, f(s))
				}
				return v
			}
			mpps := field(func(s sample) float64 { return s.Mpps })
			st := &cellStats{
				MppsMedian:     median(mpps),
				MppsMin:        slices.Min(mpps),
				MppsMax:        slices.Max(mpps),
				GbpsMedian:     median(field(func(s sample) float64 { return s.Gbps })),
				DropPctMedian:  median(field(func(s sample) float64 { return deref(s.DropPct) })),
				StartupSMedian: median(field(func(s sample) float64 { return deref(s.StartupS) })),
				CPUOthersMax:   slices.Max(field(func(s sample) float64 { return s.CPUOthers })),
				CPUOursMedian:  median(field(func(s sample) float64 { return s.CPUOurs })),
			}
			st.Lcores = steerLcores(ok)
			if tscMHz != nil && *tscMHz > 0 && st.MppsMedian > 0 {
				cyc := *tscMHz * 1e6 * float64(r.PollCPUs) / (st.MppsMedian * 1e6)
				st.CyclesPerPacket = &cyc
			}
			c.cellStats = st
			out = append(out, c)
		}
	}
	by := map[[2]string]*cell{}
	for i := range out {
		by[[2]string{out[i].Traffic, out[i].Row}] = &out[i]
	}
	for i := range out {
		c := &out[i]
		if c.cellStats == nil {
			continue
		}
		bl := baselines[c.Group]
		for k, dst := range []**float64{&c.VsTestpmd, &c.VsL3fwd} {
			if b := by[[2]string{c.Traffic, bl[k]}]; b != nil && b.cellStats != nil && b.MppsMedian != 0 {
				v := c.MppsMedian / b.MppsMedian
				*dst = &v
			}
		}
	}
	return out
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// report is everything the table shows.
type report struct {
	machine   machine
	traffic   []traffic
	rows      []row
	summary   []cell
	samples   []sample
	discarded []sample
	goInfo    *goInfo
	goRes     []goResult
	goNotes   []string
	churn     []*churn
	flood     *flood
	fair      *fairness
	started   time.Time
	wall      time.Duration
}

// table is the printed table, its header and its footnotes.
func (b *bench) table(r *report) string {
	var lines []string
	add := func(format string, a ...any) { lines = append(lines, fmt.Sprintf(format, a...)) }
	m := r.machine
	add("steer bench, %s UTC (%.0f s)", r.started.UTC().Format("2006-01-02 15:04"), r.wall.Seconds())
	guest := ""
	if m.Hypervisor != nil {
		guest = fmt.Sprintf(" (%s guest)", *m.Hypervisor)
	}
	add("machine: %s, %d CPUs%s, TSC %s MHz; kernel %s", m.CPUModel, m.Nproc, guest, fmtOpt(m.CPUMHz, "%.0f"), m.Kernel)
	add("DPDK %s (Debian %s); steer %s", m.DPDK, m.DPDKPackage, m.Git)
	if len(b.s.Steers) > 1 {
		var bins []string
		for _, s := range b.s.Steers {
			bins = append(bins, fmt.Sprintf("%s = %s (%s)", s.ID, s.Path, s.Version))
		}
		add("A/B: every steer row once per binary, interleaved (row@A, row@B, ...): %s", strings.Join(bins, "; "))
	}
	if m.Hugepages {
		add("memory: 2 MiB hugepages, -m %d per program%s", memoryMB, tableMemoryNote(r.traffic))
	} else {
		add("memory: *** NO HUGEPAGES: every program ran with --no-huge, expect about half the rates ***")
	}
	add("method: source net_pcap rx_pcap=<traffic>,infinite_rx=1 -> sink net_pcap (rx_pcap=<empty>, TX counts and frees);")
	add("        %.0f s warm-up, %.0f s window read from the telemetry socket (sink opackets/obytes); %d run(s) per cell,",
		b.s.Warmup, b.s.Seconds, b.s.Repeat)
	add("        rows interleaved (order reversed every other round); median (min-max)")
	add("")

	lines = append(lines, b.cellLines(r.summary)...)
	lines = append(lines, "")
	loaded := 0
	for _, c := range r.summary {
		if c.cellStats != nil && c.CPUOthersMax > b.s.MaxOtherLoad {
			loaded++
		}
	}
	if loaded > 0 {
		add("! = other processes took more than %.2f CPU in at least one of the cell's windows (after %d retries):", b.s.MaxOtherLoad, b.s.Retries)
		add("    its figures are depressed; compare them with care")
	}
	add("rows: 1-queue rows compare with testpmd io / l3fwd on one forwarding lcore, 2-queue rows with both on two;")
	add("      the distributor (1 RX queue, RX lcore + worker) compares with the one-lcore baselines.")
	add("cyc/pkt = TSC Hz x busy-polling CPUs / packet rate: a polling lcore never sleeps and the source never runs")
	add("      dry, so all its cycles go to the packets (no hardware counters in this VM).")
	add("lcore cyc/pkt (steer rows): each lcore's busy cycles per packet it received (NIC queues and rings), as it")
	add("      counts them itself (steer's stats file, the whole run): the RX lcore and the worker apart.")
	add("Gbit/s: frame bytes as the PMD counts them (no FCS, preamble or gap).")
	if ab := b.abLine(r.summary); ab != "" {
		lines = append(lines, ab)
	}
	lines = append(lines, stageLines(r.summary)...)
	lines = append(lines, b.loadLines(r)...)
	lines = append(lines, tableLines(r)...)
	lines = append(lines, churnLines(r.churn, b.s.MaxOtherLoad)...)
	lines = append(lines, floodLines(r.flood)...)
	if len(r.goRes) > 0 {
		var parts []string
		for _, g := range r.goRes {
			parts = append(parts, fmt.Sprintf("%s %dk routes %.2f s (%.0fk routes/s)", g.Bench, g.Routes/1000, g.Seconds, g.RoutesPerS/1000))
		}
		add("control plane (go test -bench, one run each): %s", strings.Join(parts, "; "))
		for _, n := range r.goNotes {
			add("      %s", n)
		}
	}
	if r.goInfo != nil && len(r.goInfo.Error) > 0 {
		add("control plane benchmarks failed: %s (build/bench/go-bench.txt)", strings.Join(r.goInfo.Error, "; "))
	}
	lines = append(lines, noteLines(r.summary)...)
	lines = append(lines, fairLines(r.fair, b.s.MaxOtherLoad)...)
	return strings.Join(lines, "\n")
}

// cellLines are the table proper: a header, a rule, one line per cell, a
// blank line between traffics; n/a cells point to a note.
func (b *bench) cellLines(summary []cell) []string {
	hdr := []string{"traffic", "row", "CPUs", "Mpps", "(min-max)", "Gbit/s", "cyc/pkt", "drop%", "x testpmd", "x l3fwd", "lcore cyc/pkt"}
	var body [][]string
	notes := 0
	for _, c := range summary {
		if c.cellStats == nil {
			notes++
			body = append(body, []string{c.Traffic, c.Label, fmt.Sprint(c.PollCPUs), "n/a", fmt.Sprintf("[%d]", notes), "-", "-", "-", "-", "-", "-"})
			continue
		}
		rng := fmt.Sprintf("(%.2f-%.2f)", c.MppsMin, c.MppsMax)
		if c.OKRuns < c.Runs {
			rng += fmt.Sprintf(" %d/%d ok", c.OKRuns, c.Runs)
		}
		if c.CPUOthersMax > b.s.MaxOtherLoad {
			rng += " !"
		}
		body = append(body, []string{c.Traffic, c.Label, fmt.Sprint(c.PollCPUs), fmt.Sprintf("%.2f", c.MppsMedian), rng,
			fmt.Sprintf("%.2f", c.GbpsMedian), fmtOpt(c.CyclesPerPacket, "%.0f"), fmt.Sprintf("%.1f", c.DropPctMedian),
			fmtOpt(c.VsTestpmd, "%.2f"), fmtOpt(c.VsL3fwd, "%.2f"), lcoreColumn(c.Lcores)})
	}
	widths := make([]int, len(hdr))
	for _, r := range append([][]string{hdr}, body...) {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	left := map[int]bool{0: true, 1: true, 4: true, 10: true}
	line := func(r []string) string {
		cols := make([]string, len(r))
		for i, c := range r {
			if left[i] {
				cols[i] = c + strings.Repeat(" ", widths[i]-len(c))
			} else {
				cols[i] = strings.Repeat(" ", widths[i]-len(c)) + c
			}
		}
		return strings.TrimRight(strings.Join(cols, "  "), " ")
	}
	out := []string{line(hdr)}
	var rule []string
	for _, w := range widths {
		rule = append(rule, strings.Repeat("-", w))
	}
	out = append(out, strings.Join(rule, "  "))
	prev := ""
	for i, r := range body {
		if i > 0 && r[0] != prev {
			out = append(out, "")
		}
		if i > 0 && r[0] == prev {
			r = append([]string{""}, r[1:]...)
		}
		out = append(out, line(r))
		prev = body[i][0]
	}
	return out
}

// noteLines are the notes of the n/a cells, in table order.
func noteLines(summary []cell) []string {
	var out []string
	for _, c := range summary {
		if c.cellStats == nil {
			out = append(out, fmt.Sprintf("[%d] %s / %s: n/a: %s", len(out)+1, c.Traffic, c.Row, c.Error))
		}
	}
	return out
}

// abLine compares the binaries of an A/B run: each steer row's median
// divided by binary A's, per traffic.
func (b *bench) abLine(summary []cell) string {
	if len(b.s.Steers) < 2 {
		return ""
	}
	first := map[[2]string]*cell{}
	for i, c := range summary {
		if c.steerID == b.s.Steers[0].ID && c.cellStats != nil {
			first[[2]string{c.Traffic, c.base}] = &summary[i]
		}
	}
	var parts []string
	for _, c := range summary {
		a := first[[2]string{c.Traffic, c.base}]
		if c.steerID == "" || c.steerID == b.s.Steers[0].ID || c.cellStats == nil || a == nil || a.MppsMedian == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s %.3f", c.Traffic, c.Row, c.MppsMedian/a.MppsMedian))
	}
	if len(parts) == 0 {
		return "A/B (median / median of A): n/a"
	}
	return "A/B (median / median of A): " + strings.Join(parts, ", ")
}

// loadLines: start-up times, the other load, the load average.
func (b *bench) loadLines(r *report) []string {
	var out []string
	ups := map[string][]float64{}
	var others, steal []float64
	busy := 0
	for _, s := range r.samples {
		if !s.OK {
			continue
		}
		if tableOf(r.traffic, s.Traffic) == nil { // full-table's start-ups load the table: tableLines
			ups[s.Row] = append(ups[s.Row], deref(s.StartupS))
		}
		others = append(others, s.CPUOthers)
		steal = append(steal, s.CPUSteal)
		if s.CPUOthers > b.s.MaxOtherLoad {
			busy++
		}
	}
	if len(ups) > 0 {
		var parts []string
		for _, row := range r.rows {
			if v, ok := ups[row.ID]; ok {
				parts = append(parts, fmt.Sprintf("%s %.2f s", row.ID, median(v)))
			}
		}
		over := "all traffic"
		if tableMemoryNote(r.traffic) != "" {
			over += " but full-table"
		}
		out = append(out, "start-up, exec -> first packet at the sink (median over "+over+"): "+strings.Join(parts, ", "))
	}
	if len(others) > 0 {
		out = append(out, fmt.Sprintf("other processes' CPU during the kept windows: median %.2f, max %.2f (%d of %d above %.2f); VM steal max %.2f CPU",
			median(others), slices.Max(others), busy, len(others), b.s.MaxOtherLoad, slices.Max(steal)))
		if len(r.discarded) > 0 {
			out = append(out, fmt.Sprintf("%d window(s) discarded and measured again because other processes took more than %.2f CPU",
				len(r.discarded), b.s.MaxOtherLoad))
		}
	}
	seen := map[string]bool{}
	var dpdk []string
	for _, s := range r.samples {
		for _, p := range s.OtherDPDKAtStart {
			if !seen[p] {
				seen[p] = true
				dpdk = append(dpdk, p)
			}
		}
	}
	if len(dpdk) > 0 {
		sort.Strings(dpdk)
		out = append(out, "WARNING: other DPDK processes were running at the start of some runs (not ours): "+strings.Join(dpdk[:min(6, len(dpdk))], ", "))
	}
	if len(r.samples) > 0 {
		out = append(out, fmt.Sprintf("load average before the first run %s, after the last %s",
			strings.Join(r.samples[0].LoadavgBefore, " "), strings.Join(r.samples[len(r.samples)-1].LoadavgAfter, " ")))
	}
	return out
}

// churnLines: the route API under traffic, one measurement per binary.
func churnLines(list []*churn, maxOtherLoad float64) []string {
	var out []string
	for _, c := range list {
		who := "steer-rtc"
		if c.SteerID != "" {
			who += "@" + c.SteerID
		}
		if !c.OK {
			msg := ""
			if c.Error != nil {
				msg = *c.Error
			}
			if c.SteerID != "" {
				msg = who + ": " + msg
			}
			out = append(out, "route API under traffic: n/a: "+msg)
			continue
		}
		a, d := c.AddMs, c.DeleteMs
		out = append(out,
			fmt.Sprintf("route API under traffic (%s, %s; POST/DELETE /api/v1/routes on 127.0.0.1, one keep-alive client):", who, c.Traffic),
			fmt.Sprintf("      %d adds + %d deletes in %.1f s; add median %.2f ms, p99 %.2f, max %.2f; delete median %.2f ms, p99 %.2f, max %.2f;",
				a.N, d.N, *c.WindowS, a.Median, a.P99, a.Max, d.Median, d.P99, d.Max),
			fmt.Sprintf("      forwarding %.2f Mpps during the churn, %.2f Mpps in the window before (%+.1f%%)",
				*c.MppsDuring, *c.MppsBefore, 100*(*c.MppsDuring / *c.MppsBefore - 1)))
		if c.CPUOthers != nil && *c.CPUOthers > maxOtherLoad {
			out = append(out, fmt.Sprintf("      ! other processes took %.2f CPU during the churn: its figures are depressed", *c.CPUOthers))
		}
	}
	return out
}

// floodLines: each flood variant against no flood (of the same binary).
func floodLines(f *flood) []string {
	if f == nil {
		return nil
	}
	out := []string{fmt.Sprintf("slow-path floods (steer-rtc, %s with 1 frame in %d an exception; slow_path.rate 20000/s):", f.Traffic, f.Every)}
	base := map[string]*floodRun{}
	for i, r := range f.Runs {
		if r.Flood == "none" && r.OK {
			base[r.SteerID] = &f.Runs[i]
		}
	}
	width := 5
	for _, r := range f.Runs {
		width = max(width, len(r.name()))
	}
	for i, r := range f.Runs {
		name := fmt.Sprintf("%-*s", width, r.name())
		if !r.OK {
			msg := ""
			if r.Error != nil {
				msg = *r.Error
			}
			out = append(out, fmt.Sprintf("      %s n/a: %s", name, msg))
			continue
		}
		rel := ""
		if b := base[r.SteerID]; b != nil && b != &f.Runs[i] {
			rel = fmt.Sprintf(" (%+.1f%% handled against no flood)", 100*(r.RxMpps/b.RxMpps-1))
		}
		extra := ""
		if r.Flood != "none" {
			extra = fmt.Sprintf("; control thread took %s, ring full for %s", fmtUint(r.SlowTaken), fmtUint(r.SlowpathRingFull))
		}
		var all []string
		for _, x := range r.AllRxMpps {
			all = append(all, fmt.Sprintf("%.1f", x))
		}
		out = append(out, fmt.Sprintf("      %s %6.2f Mpps handled (runs %s), %6.2f Mpps forwarded%s%s  [%s]",
			name, r.RxMpps, strings.Join(all, "/"), r.Mpps, rel, extra, r.FloodLabel))
	}
	return out
}

func fmtOpt(v *float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}

// fmtUint is a count or None, as the table always said.
func fmtUint(v *uint64) string {
	if v == nil {
		return "None"
	}
	return fmt.Sprint(*v)
}

// tableOf is the table of traffic id, or nil.
func tableOf(traffics []traffic, id string) *routeTable {
	for _, t := range traffics {
		if t.ID == id {
			return t.Table
		}
	}
	return nil
}

func tableMemoryNote(traffics []traffic) string {
	for _, t := range traffics {
		if t.Table != nil {
			return fmt.Sprintf(" (%s: -m %d)", t.ID, tableMemoryMB)
		}
	}
	return ""
}

// tableLines describe full-table: the table, what the frames touch, the
// start-up times (loading the table), and whether the packets reached the
// sink by route: steer's no_route, l3fwd's drop% (a lookup miss sends a
// packet back out of port 0).
func tableLines(r *report) []string {
	var out []string
	for _, t := range r.traffic {
		tb := t.Table
		if tb == nil {
			continue
		}
		out = append(out, fmt.Sprintf("%s: %d routes (lengths as docs/BENCH.md, %d tbl8 groups) via one next hop; %d frames each to a random address "+
			"of its own random prefix: lookups read %d tbl24 lines (%.1f MiB) and %d tbl8 groups",
			t.ID, tb.Routes, tb.Tbl8Groups, tb.FramePrefixes, tb.FrameTbl24Lines, float64(tb.FrameTbl24Lines)*64/(1<<20), tb.FrameTbl8Groups))
		ups := map[string][]float64{}
		noRoute, rx := map[string]uint64{}, map[string]uint64{}
		drops := map[string][]float64{}
		for _, s := range r.samples {
			if s.Traffic != t.ID || !s.OK {
				continue
			}
			ups[s.Row] = append(ups[s.Row], deref(s.StartupS))
			drops[s.Row] = append(drops[s.Row], deref(s.DropPct))
			if s.Steer != nil {
				noRoute[s.Row] += s.Steer.Slowpath["no_route"]
				for _, l := range s.Steer.Lcores {
					rx[s.Row] += l.RxPackets
				}
			}
		}
		var start, sink []string
		for _, row := range r.rows {
			if v, ok := ups[row.ID]; ok {
				start = append(start, fmt.Sprintf("%s %.2f s", row.ID, median(v)))
				switch row.Prog {
				case "steer":
					sink = append(sink, fmt.Sprintf("%s no_route %d of %d received", row.ID, noRoute[row.ID], rx[row.ID]))
				case "l3fwd":
					sink = append(sink, fmt.Sprintf("%s drop%% %.1f", row.ID, median(drops[row.ID])))
				}
			}
		}
		if len(start) > 0 {
			out = append(out, "      start-up with the table (exec -> first packet at the sink, median): "+strings.Join(start, ", "))
			out = append(out, "      by route to the sink: "+strings.Join(sink, "; "))
		}
	}
	return out
}
