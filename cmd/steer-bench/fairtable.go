package main

// The fairness phase's figures: ping's latencies, the table, and the
// issue's targets checked against what was measured.

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The targets (issue 15).
const (
	targetIdleCPU      = 0.02 // of a CPU, per polling lcore, adaptive and interrupt idle
	targetOtherIdle    = 0.90 // of its solo speed, while steer idles
	targetOverload     = 0.90 // of the peak at full load while sharing
	targetProgress     = 0.01 // the other process "still progresses": above this share
	targetRtcOverBusy  = 0.97 // adaptive against busy, full load, own CPU
	targetAddedLatency = 50.0 // us of p99 over busy's at low load
)

// pingStats are ping's round trips through steer, in microseconds.
type pingStats struct {
	Sent  int     `json:"sent"`
	Recv  int     `json:"received"`
	P50Us float64 `json:"p50_us"`
	P99Us float64 `json:"p99_us"`
	MaxUs float64 `json:"max_us"`
}

var (
	pingReply  = regexp.MustCompile(`(?m)^\d+ bytes from .*icmp_seq=\d+ .*time=([\d.]+) ms$`)
	pingCounts = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)
)

// parsePing reads ping's per-reply times (duplicates left out) and its
// summary's counts.
func parsePing(out string) (*pingStats, error) {
	m := pingCounts.FindStringSubmatch(out)
	if m == nil {
		return nil, errors.New("no summary line in ping's output")
	}
	st := &pingStats{}
	st.Sent, _ = strconv.Atoi(m[1])
	st.Recv, _ = strconv.Atoi(m[2])
	var us []float64
	for _, r := range pingReply.FindAllStringSubmatch(out, -1) {
		v, err := strconv.ParseFloat(r[1], 64)
		if err == nil {
			us = append(us, v*1000)
		}
	}
	if len(us) == 0 {
		return nil, fmt.Errorf("no reply among %d requests", st.Sent)
	}
	sort.Float64s(us)
	st.P50Us, st.P99Us, st.MaxUs = percentile(us, 0.50), percentile(us, 0.99), us[len(us)-1]
	return st, nil
}

// percentile is the nearest-rank p-quantile of sorted values: the
// smallest value with at least p of them at or below it.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(k, 0), len(sorted)-1)]
}

// busyRatio is steer-rtc (adaptive) over steer-busy in the main table.
type busyRatio struct {
	Traffic string  `json:"traffic"`
	SteerID string  `json:"steer_id,omitempty"`
	Ratio   float64 `json:"ratio"`
}

// rtcOverBusy divides each steer-rtc median by steer-busy's in the same
// traffic (and binary), where both ran.
func rtcOverBusy(summary []cell) []busyRatio {
	busy := map[[2]string]float64{}
	for _, c := range summary {
		if c.base == "steer-busy" && c.cellStats != nil && c.MppsMedian > 0 {
			busy[[2]string{c.Traffic, c.steerID}] = c.MppsMedian
		}
	}
	var out []busyRatio
	for _, c := range summary {
		if c.base != "steer-rtc" || c.cellStats == nil {
			continue
		}
		if d := busy[[2]string{c.Traffic, c.steerID}]; d > 0 {
			out = append(out, busyRatio{Traffic: c.Traffic, SteerID: c.steerID, Ratio: c.MppsMedian / d})
		}
	}
	return out
}

// fairTarget is one of the targets against the measurement.
type fairTarget struct {
	Target  string `json:"target"`
	Verdict string `json:"verdict"` // met | not met | n/a
	Detail  string `json:"detail"`
}

// verdict is "met" when every check passed, "not met" when one failed,
// "n/a" without any.
func verdict(checks []bool) string {
	switch {
	case len(checks) == 0:
		return "n/a"
	case slices.Contains(checks, false):
		return "not met"
	}
	return "met"
}

// findCell is the mode's cell at a load (nil: not measured, or failed).
func (f *fairness) findCell(mode, load string, alone bool) *fairCell {
	for i, c := range f.Cells {
		if c.Mode == mode && c.Load == load && c.Alone == alone && c.Error == "" {
			return &f.Cells[i]
		}
	}
	return nil
}

// fairTargets checks the five targets.
func fairTargets(f *fairness) []fairTarget {
	return []fairTarget{idleCPUTarget(f), idleOtherTarget(f), overloadTarget(f), rtcBusyTarget(f), latencyTarget(f)}
}

var sleepingModes = []string{"adaptive", "interrupt"}

func idleCPUTarget(f *fairness) fairTarget {
	var checks []bool
	var parts []string
	for _, m := range sleepingModes {
		if c := f.findCell(m, "idle", false); c != nil {
			checks = append(checks, c.LcoreCPU <= targetIdleCPU)
			parts = append(parts, fmt.Sprintf("%s %.1f%%", m, 100*c.LcoreCPU))
		}
	}
	return fairTarget{Target: fmt.Sprintf("idle, adaptive and interrupt at most %.0f%% of a CPU per polling lcore", 100*targetIdleCPU),
		Verdict: verdict(checks), Detail: strings.Join(parts, ", ")}
}

func idleOtherTarget(f *fairness) fairTarget {
	var checks []bool
	var parts []string
	for _, m := range sleepingModes {
		if c := f.findCell(m, "idle", false); c != nil && c.OtherShare != nil {
			checks = append(checks, *c.OtherShare >= targetOtherIdle)
			parts = append(parts, fmt.Sprintf("%s %.2f", m, *c.OtherShare))
		}
	}
	if c := f.findCell("busy", "idle", false); c != nil && c.OtherShare != nil {
		parts = append(parts, fmt.Sprintf("(busy %.2f: it polls by design)", *c.OtherShare))
	}
	return fairTarget{Target: fmt.Sprintf("the other process keeps at least %.0f%% of its solo speed while steer idles", 100*targetOtherIdle),
		Verdict: verdict(checks), Detail: strings.Join(parts, ", ")}
}

func overloadTarget(f *fairness) fairTarget {
	var checks []bool
	var parts []string
	for _, m := range pollModes {
		c := f.findCell(m, "full", false)
		if c == nil || c.VsPeak == nil || c.OtherShare == nil {
			continue
		}
		checks = append(checks, *c.VsPeak >= targetOverload && *c.OtherShare > targetProgress)
		parts = append(parts, fmt.Sprintf("%s %.2f of peak, other at %.2f", m, *c.VsPeak, *c.OtherShare))
	}
	return fairTarget{Target: fmt.Sprintf("full load while sharing: steer within %.0f%% of its peak, the other still progressing", 100*(1-targetOverload)),
		Verdict: verdict(checks), Detail: strings.Join(parts, "; ")}
}

func rtcBusyTarget(f *fairness) fairTarget {
	var checks []bool
	var parts []string
	for _, r := range f.RtcOverBusy {
		checks = append(checks, r.Ratio >= targetRtcOverBusy)
		who := r.Traffic
		if r.SteerID != "" {
			who += "@" + r.SteerID
		}
		parts = append(parts, fmt.Sprintf("%s %.3f", who, r.Ratio))
	}
	detail := strings.Join(parts, ", ")
	if len(parts) == 0 {
		detail = "the main table did not run both steer-rtc and steer-busy (BENCH_ROWS)"
	}
	return fairTarget{Target: fmt.Sprintf("full load on its own CPU: adaptive at least %.2fx busy (main table, steer-rtc / steer-busy)", targetRtcOverBusy),
		Verdict: verdict(checks), Detail: detail}
}

// latencyTarget compares each sleeping mode's p99 at low load with busy's,
// sharing CPU 1 and alone.
func latencyTarget(f *fairness) fairTarget {
	var checks []bool
	var parts []string
	for _, alone := range []bool{false, true} {
		base := f.findCell("busy", "low", alone)
		if base == nil || base.Ping == nil {
			continue
		}
		var ps []string
		for _, m := range sleepingModes {
			c := f.findCell(m, "low", alone)
			if c == nil || c.Ping == nil {
				continue
			}
			d := c.Ping.P99Us - base.Ping.P99Us
			checks = append(checks, d <= targetAddedLatency)
			ps = append(ps, fmt.Sprintf("%s %+.0f us", m, d))
		}
		where := "sharing CPU 1"
		if alone {
			where = "alone"
		}
		if len(ps) > 0 {
			parts = append(parts, fmt.Sprintf("%s (busy p99 %.0f us): %s", where, base.Ping.P99Us, strings.Join(ps, ", ")))
		}
	}
	return fairTarget{Target: fmt.Sprintf("low load: p99 latency within %.0f us of busy's", targetAddedLatency),
		Verdict: verdict(checks), Detail: strings.Join(parts, "; ")}
}

// fairLines are the phase's part of the printed output.
func fairLines(f *fairness, maxOther float64) []string {
	if f == nil {
		return nil
	}
	out := []string{"", fmt.Sprintf("fairness (steer lcore 1 and a CPU-bound process share CPU %d; net_tap, generator and ping on CPU %d; %.0f s warm-up, %.0f s window per cell; %.0f s in all):",
		fairCPU, genCPU, f.WarmupS, f.WindowS, f.WallS)}
	if f.SoloItersPerS > 0 {
		line := fmt.Sprintf("the other process alone on CPU %d: %.1f M iterations/s", fairCPU, f.SoloItersPerS/1e6)
		if a := f.SoloAfterItersPerS; a != nil {
			line += fmt.Sprintf(" (after the cells: %.1f M, %+.1f%%)", *a/1e6, 100*(*a/f.SoloItersPerS-1))
		}
		out = append(out, line)
	}
	if p := f.Peak; p != nil && p.Error == "" {
		out = append(out, fmt.Sprintf("peak: busy at full load with CPU %d its own: %s packets/s forwarded of %s/s offered (lcore CPU %.0f%%)",
			fairCPU, fmtPPS(p.FwdPPS), fmtPPS(p.OfferedPPS), 100*p.LcoreCPU))
	}
	if len(f.Cells) > 0 {
		out = append(out, fairTable(f.Cells, maxOther)...)
		out = append(out, "offered: frames written into A's interface; steer fwd: lcore 1's tx over the window; other's speed: its iterations/s",
			"      over its speed alone; steer lcore CPU: the lcore thread's run time (schedstat) over the window.")
	}
	if f.Error != nil {
		out = append(out, "fairness: n/a: "+*f.Error)
	}
	for _, m := range pollModes {
		if e, ok := f.ModeErrors[m]; ok {
			out = append(out, fmt.Sprintf("fairness, %s: n/a: %s", m, e))
		}
		if code, ok := f.SteerExit[m]; ok && code != 0 {
			out = append(out, fmt.Sprintf("! steer (%s) exited %d: its checks failed (runs/fairness/%s/output.log)", m, code, m))
		}
	}
	if len(f.RtcOverBusy) > 0 {
		var parts []string
		for _, r := range f.RtcOverBusy {
			parts = append(parts, fmt.Sprintf("%s %.3f", r.Traffic+atID(r.SteerID), r.Ratio))
		}
		out = append(out, "steer-rtc (adaptive) / steer-busy at full load on its own CPU (main table medians): "+strings.Join(parts, ", "))
	}
	if len(f.Targets) > 0 {
		out = append(out, "targets (issue 15):")
		for _, t := range f.Targets {
			out = append(out, fmt.Sprintf("  %-7s %s: %s", t.Verdict, t.Target, t.Detail))
		}
	}
	return out
}

func atID(id string) string {
	if id == "" {
		return ""
	}
	return "@" + id
}

// fairTable is the cells, one line each, a blank line between modes; a
// cell whose window other processes loaded is marked !.
func fairTable(cells []fairCell, maxOther float64) []string {
	hdr := []string{"mode", "load", "offered/s", "steer fwd/s", "vs peak", "other's speed", "steer lcore CPU", "asleep", "ping p50/p99 us"}
	var body [][]string
	for _, c := range cells {
		name := cellName(c)
		if c.Error != "" {
			body = append(body, []string{c.Mode, name, "n/a: " + c.Error, "", "", "", "", "", ""})
			continue
		}
		mode := c.Mode
		if c.Poll != "" && c.Poll != c.Mode {
			mode += " (ran " + c.Poll + ")"
		}
		if c.CPUOthers > maxOther {
			name += " !"
		}
		ping := "-"
		if c.Ping != nil {
			ping = fmt.Sprintf("%.0f/%.0f", c.Ping.P50Us, c.Ping.P99Us)
			if c.Ping.Recv < c.Ping.Sent {
				ping += fmt.Sprintf(" (%d lost)", c.Ping.Sent-c.Ping.Recv)
			}
		}
		body = append(body, []string{mode, name, fmtPPS(c.OfferedPPS), fmtPPS(c.FwdPPS), fmtOpt(c.VsPeak, "%.2f"),
			fmtOpt(c.OtherShare, "%.2f"), fmt.Sprintf("%.1f%%", 100*c.LcoreCPU), fmt.Sprintf("%.0f%%", 100*c.AsleepShare), ping})
	}
	widths := make([]int, len(hdr))
	for _, r := range append([][]string{hdr}, body...) {
		for i, x := range r {
			if !strings.HasPrefix(x, "n/a: ") {
				widths[i] = max(widths[i], len(x))
			}
		}
	}
	line := func(r []string) string {
		cols := make([]string, len(r))
		for i, x := range r {
			pad := strings.Repeat(" ", max(0, widths[i]-len(x)))
			if i < 2 || i == len(r)-1 || strings.HasPrefix(x, "n/a: ") {
				cols[i] = x + pad
			} else {
				cols[i] = pad + x
			}
		}
		return strings.TrimRight(strings.Join(cols, "  "), " ")
	}
	out := []string{line(hdr)}
	for i, r := range body {
		if i > 0 && cells[i].Mode != cells[i-1].Mode {
			out = append(out, "")
		}
		out = append(out, line(r))
	}
	var others, steal []float64
	for _, c := range cells {
		if c.Error == "" {
			others, steal = append(others, c.CPUOthers), append(steal, c.Steal)
		}
	}
	if len(steal) > 0 {
		out = append(out, fmt.Sprintf("VM steal on CPU %d in the cells' windows: median %.1f%%, max %.1f%%", fairCPU, 100*median(steal), 100*slices.Max(steal)))
	}
	if len(others) > 0 && slices.Max(others) > maxOther {
		out = append(out, fmt.Sprintf("! = other processes took more than %.2f CPU in the cell's window (max %.2f): its figures are depressed",
			maxOther, slices.Max(others)))
	}
	return out
}

// fmtPPS is a packet rate: 412, 4.1k, 412.0k, 1.23M.
func fmtPPS(v float64) string {
	switch {
	case v < 1000:
		return fmt.Sprintf("%.0f", v)
	case v < 1e6:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.2fM", v/1e6)
}
