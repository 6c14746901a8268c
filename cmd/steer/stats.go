package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/steer-router/steer/pkg/report"
)

func statsCmd() *cobra.Command {
	c := &apiClient{}
	var watch bool
	var count int
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "stats [--watch] [--interval 1s] [--count N]",
		Short: "per-port and per-lcore rates of a running steer, from two reads of /api/v1/stats an interval apart",
		Long: `stats reads a running steer's counters (/api/v1/stats) twice, an interval apart, and
prints the rates in between: per port packets and bits per second received and sent, device
drops (missed) and errors per second; per lcore packets per second received and forwarded,
drops and slow-path hand-offs per second and how busy its polling loop was (busy polls / all
polls); and the totals. --watch refreshes until Ctrl-C (in place on a terminal, otherwise one
table after another); --count N stops after N tables. -o json writes each table as one
JSON object per line (rates per second; ratios from 0 to 1, null where there is none).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if interval <= 0 {
				return fmt.Errorf("--interval: %v is not a positive duration", interval)
			}
			if count < 0 {
				return fmt.Errorf("--count: %d is negative", count)
			}
			if count == 0 && !watch {
				count = 1
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			asJSON, err := jsonOutput(c.output)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			f, isFile := out.(*os.File)
			tty := isFile && term.IsTerminal(int(f.Fd())) && !asJSON
			return watchStats(ctx, c, out, interval, count, tty, asJSON)
		},
	}
	apiFlags(cmd, c)
	outputFlag(cmd, &c.output)
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "refresh until Ctrl-C")
	cmd.Flags().DurationVarP(&interval, "interval", "i", time.Second, "time between the reads a table's rates are computed from")
	cmd.Flags().IntVarP(&count, "count", "n", 0, "stop after this many tables (0: 1 without --watch, unlimited with)")
	return cmd
}

// sample is one read of /api/v1/stats and when it arrived.
type sample struct {
	at  time.Time
	rep *report.Report
}

func (c *apiClient) sample() (sample, error) {
	var rep report.Report
	if err := c.do("GET", "/api/v1/stats", nil, &rep); err != nil {
		return sample{}, err
	}
	return sample{at: time.Now(), rep: &rep}, nil
}

// watchStats prints count tables (0: until ctx ends), each from the read
// before and a read interval later. On a terminal each table replaces the
// last; otherwise tables are separated by a blank line. Ctrl-C ends it
// without an error. asJSON writes each as one line of JSON instead.
func watchStats(ctx context.Context, c *apiClient, out io.Writer, interval time.Duration, count int, tty, asJSON bool) error {
	prev, err := c.sample()
	if err != nil {
		return err
	}
	for n := 0; count == 0 || n < count; n++ {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
		cur, err := c.sample()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		rt := computeRates(prev.rep, cur.rep, cur.at.Sub(prev.at))
		prev = cur
		if asJSON {
			if err := json.NewEncoder(out).Encode(rt.json(cur.at)); err != nil {
				return err
			}
			continue
		}
		switch {
		case tty:
			fmt.Fprint(out, "\x1b[H\x1b[2J") // home, clear screen
		case n > 0:
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "steer stats  %s  %s, rates over %.2fs\n\n", c.base, cur.at.Format("15:04:05"), rt.Interval.Seconds())
		if err := rt.print(out); err != nil {
			return err
		}
	}
	return nil
}

// portRate is one port's rates per second.
type portRate struct {
	Name                       string
	RxPPS, TxPPS, RxBPS, TxBPS float64 // packets, bits
	MissedPS, ErrorsPS         float64 // imissed; ierrors + oerrors + rx_nombuf
}

// lcoreRate is one lcore's rates per second; Busy is busy polls as a share
// of all polls in the interval (NaN when it did not poll).
type lcoreRate struct {
	Lcore, Worker        int // Worker: -1 when not a distributor worker
	RxPPS, TxPPS, RingPS float64
	DropPS, SlowPS       float64
	Busy                 float64 // busy cycles / all cycles
	Asleep               float64 // asleep cycles / all cycles
	CPP                  float64 // busy cycles per packet received (NIC queues and rings)
	Poll                 string  // how it waits when idle ("" for the total)
}

// rates is what one table shows.
type rates struct {
	Interval   time.Duration
	Ports      []portRate
	Lcores     []lcoreRate
	PortTotal  portRate
	LcoreTotal lcoreRate
	Workers    bool // some lcore is a distributor worker: show ring packets
}

// delta is how much a counter grew; a counter that went down (steer
// restarted between the reads) counts from zero.
func delta(prev, cur uint64) float64 {
	if cur < prev {
		return float64(cur)
	}
	return float64(cur - prev)
}

func sumMap(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

// computeRates turns two reports dt apart into rates per second. Ports are
// matched by name and lcores by id; one missing from prev counts from zero.
func computeRates(prev, cur *report.Report, dt time.Duration) rates {
	sec := dt.Seconds()
	if sec <= 0 {
		sec = math.Inf(1) // no time passed: no rate (callers pass dt > 0)
	}
	per := func(prev, cur uint64) float64 { return delta(prev, cur) / sec }
	rt := rates{Interval: dt, PortTotal: portRate{Name: "total"}, LcoreTotal: lcoreRate{Lcore: -1, Worker: -1}}

	oldPorts := map[string]report.Port{}
	for _, p := range prev.Ports {
		oldPorts[p.Name] = p
	}
	for _, p := range cur.Ports {
		o := oldPorts[p.Name]
		r := portRate{
			Name:     p.Name,
			RxPPS:    per(o.RxPackets, p.RxPackets),
			TxPPS:    per(o.TxPackets, p.TxPackets),
			RxBPS:    8 * per(o.RxBytes, p.RxBytes),
			TxBPS:    8 * per(o.TxBytes, p.TxBytes),
			MissedPS: per(o.RxMissed, p.RxMissed),
			ErrorsPS: per(o.RxErrors+o.TxErrors+o.RxNoMbuf, p.RxErrors+p.TxErrors+p.RxNoMbuf),
		}
		rt.Ports = append(rt.Ports, r)
		t := &rt.PortTotal
		t.RxPPS += r.RxPPS
		t.TxPPS += r.TxPPS
		t.RxBPS += r.RxBPS
		t.TxBPS += r.TxBPS
		t.MissedPS += r.MissedPS
		t.ErrorsPS += r.ErrorsPS
	}

	oldLcores := map[int]report.Lcore{}
	for _, l := range prev.Lcores {
		oldLcores[l.Lcore] = l
	}
	var busy, asleep, cycles, busyPkts, pkts float64
	for _, l := range cur.Lcores {
		o, ok := oldLcores[l.Lcore]
		if !ok {
			o = report.Lcore{}
		}
		b, i, s := delta(o.BusyCycles, l.BusyCycles), delta(o.IdleCycles, l.IdleCycles), delta(o.AsleepCycles, l.AsleepCycles)
		n := delta(o.RxPackets+o.FromRings, l.RxPackets+l.FromRings)
		r := lcoreRate{
			Lcore:  l.Lcore,
			Worker: l.Worker,
			RxPPS:  per(o.RxPackets, l.RxPackets),
			TxPPS:  per(o.TxPackets, l.TxPackets),
			RingPS: per(o.FromRings, l.FromRings),
			DropPS: per(sumMap(o.Dropped), sumMap(l.Dropped)),
			SlowPS: per(sumMap(o.SlowPath), sumMap(l.SlowPath)),
			Busy:   math.NaN(),
			Asleep: math.NaN(),
			CPP:    math.NaN(),
			Poll:   l.Poll,
		}
		if all := b + i + s; all > 0 {
			r.Busy, r.Asleep = b/all, s/all
		}
		if n > 0 {
			r.CPP = b / n
			busyPkts += b
		}
		busy, asleep, cycles, pkts = busy+b, asleep+s, cycles+b+i+s, pkts+n
		if l.Worker >= 0 {
			rt.Workers = true
		}
		rt.Lcores = append(rt.Lcores, r)
		t := &rt.LcoreTotal
		t.RxPPS += r.RxPPS
		t.TxPPS += r.TxPPS
		t.RingPS += r.RingPS
		t.DropPS += r.DropPS
		t.SlowPS += r.SlowPS
	}
	rt.LcoreTotal.Busy, rt.LcoreTotal.Asleep, rt.LcoreTotal.CPP = math.NaN(), math.NaN(), math.NaN()
	if cycles > 0 {
		rt.LcoreTotal.Busy, rt.LcoreTotal.Asleep = busy/cycles, asleep/cycles
	}
	if pkts > 0 {
		rt.LcoreTotal.CPP = busyPkts / pkts
	}
	return rt
}

// si formats a rate with an SI prefix and three significant digits:
// 0, 950, 1.23k, 45.6M, 1.00G.
func si(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	if v < 0.5 {
		return "0"
	}
	prefixes := []string{"", "k", "M", "G", "T"}
	i := 0
	for v >= 999.5 && i < len(prefixes)-1 {
		v /= 1000
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%.0f", v)
	case v >= 99.95:
		return fmt.Sprintf("%.0f%s", v, prefixes[i])
	case v >= 9.995:
		return fmt.Sprintf("%.1f%s", v, prefixes[i])
	default:
		return fmt.Sprintf("%.2f%s", v, prefixes[i])
	}
}

func percent(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// print writes the port table and the lcore table.
func (rt rates) print(out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PORT\tRX pps\tTX pps\tRX bit/s\tTX bit/s\tMISSED/s\tERRORS/s\t")
	for _, p := range append(rt.Ports, rt.PortTotal) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Name, si(p.RxPPS), si(p.TxPPS), si(p.RxBPS), si(p.TxBPS), si(p.MissedPS), si(p.ErrorsPS))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	ring := ""
	if rt.Workers {
		ring = "RING pps\t"
	}
	fmt.Fprintf(tw, "LCORE\tPOLL\tRX pps\t%sTX pps\tDROPS/s\tSLOW/s\tBUSY\tASLEEP\tCYC/PKT\t\n", ring)
	for _, l := range append(rt.Lcores, rt.LcoreTotal) {
		name := fmt.Sprint(l.Lcore)
		if l.Lcore < 0 {
			name = "total"
		}
		if rt.Workers {
			ring = si(l.RingPS) + "\t"
		}
		poll := l.Poll
		if poll == "" {
			poll = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s%s\t%s\t%s\t%s\t%s\t%s\t\n", name, poll, si(l.RxPPS), ring, si(l.TxPPS), si(l.DropPS), si(l.SlowPS),
			percent(l.Busy), percent(l.Asleep), si(l.CPP))
	}
	return tw.Flush()
}

// ratio is a share for JSON: null where there is none (NaN).
func ratio(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

type portRateJSON struct {
	Name      string  `json:"name"`
	RxPackets float64 `json:"rx_packets_per_second"`
	TxPackets float64 `json:"tx_packets_per_second"`
	RxBits    float64 `json:"rx_bits_per_second"`
	TxBits    float64 `json:"tx_bits_per_second"`
	Missed    float64 `json:"missed_per_second"`
	Errors    float64 `json:"errors_per_second"`
}

type lcoreRateJSON struct {
	Lcore       *int     `json:"lcore,omitempty"` // absent in the total
	Worker      *int     `json:"worker,omitempty"`
	Poll        string   `json:"poll,omitempty"`
	RxPackets   float64  `json:"rx_packets_per_second"`
	RingPackets float64  `json:"ring_packets_per_second"`
	TxPackets   float64  `json:"tx_packets_per_second"`
	Drops       float64  `json:"drops_per_second"`
	SlowPath    float64  `json:"slow_path_per_second"`
	Busy        *float64 `json:"busy_ratio"`
	Asleep      *float64 `json:"asleep_ratio"`
	Cycles      *float64 `json:"cycles_per_packet"`
}

// json is one table as -o json writes it.
func (rt rates) json(at time.Time) any {
	port := func(p portRate) portRateJSON {
		return portRateJSON{p.Name, p.RxPPS, p.TxPPS, p.RxBPS, p.TxBPS, p.MissedPS, p.ErrorsPS}
	}
	lcore := func(l lcoreRate) lcoreRateJSON {
		j := lcoreRateJSON{Poll: l.Poll, RxPackets: l.RxPPS, RingPackets: l.RingPS, TxPackets: l.TxPPS, Drops: l.DropPS, SlowPath: l.SlowPS,
			Busy: ratio(l.Busy), Asleep: ratio(l.Asleep), Cycles: ratio(l.CPP)}
		if l.Lcore >= 0 {
			j.Lcore = &l.Lcore
		}
		if l.Worker >= 0 {
			j.Worker = &l.Worker
		}
		return j
	}
	out := struct {
		Time        time.Time       `json:"time"`
		Interval    float64         `json:"interval_seconds"`
		Ports       []portRateJSON  `json:"ports"`
		PortsTotal  portRateJSON    `json:"ports_total"`
		Lcores      []lcoreRateJSON `json:"lcores"`
		LcoresTotal lcoreRateJSON   `json:"lcores_total"`
	}{Time: at.UTC(), Interval: rt.Interval.Seconds(), PortsTotal: port(rt.PortTotal), LcoresTotal: lcore(rt.LcoreTotal)}
	for _, p := range rt.Ports {
		out.Ports = append(out.Ports, port(p))
	}
	for _, l := range rt.Lcores {
		out.Lcores = append(out.Lcores, lcore(l))
	}
	return out
}
