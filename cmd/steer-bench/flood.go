package main

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"

	"github.com/steer-router/steer/pkg/trafgen"
)

// Slow-path floods: the traffic with every floodEvery-th frame replaced by
// an exception the control thread must handle (rate-limited by
// slow_path.rate, 20,000/s).
const floodEvery = 4

type floodSpec struct {
	ID, Label string
	// the exception frames: 254 flows of one 64-byte packet
	Src, Dst, DstMAC, Malform string
}

var floodTable = []floodSpec{
	{"arp", "ARP requests for the router's address from 254 senders", "10.0.0.0/24", "10.0.0.1/32", "ff:ff:ff:ff:ff:ff", "arp"},
	{"ttl1", "TTL 1 (ICMP time exceeded, token bucket 100/s)", srcNet, dstNet, lanMAC, "ttl_exceeded"},
}

// flood is results.json "slowpath_flood".
type flood struct {
	Traffic string     `json:"traffic"`
	Every   int        `json:"every"`
	Runs    []floodRun `json:"runs"` // the median run of each variant
}

// floodRun is one run of steer-rtc on a flood variant.
type floodRun struct {
	sample
	Flood            string    `json:"flood"` // none | arp | ttl1
	FloodLabel       string    `json:"flood_label"`
	SteerID          string    `json:"steer_id,omitempty"` // A/B
	SlowpathRingFull *uint64   `json:"slowpath_ring_full"`
	SlowTaken        *uint64   `json:"slow_taken"`
	AllRxMpps        []float64 `json:"all_rx_mpps"` // every ok run's rx_mpps, sorted
}

// name is the variant's name in the table: arp, or arp@A in an A/B run.
func (r floodRun) name() string {
	if r.SteerID == "" {
		return r.Flood
	}
	return r.Flood + "@" + r.SteerID
}

type floodVariant struct {
	id, label, file string
	row             row
}

// slowpathFlood runs steer-rtc (each binary, in A/B) on the traffic with
// one frame in floodEvery replaced by an exception, against the plain
// traffic in the same spell: what a flood at the slow path costs the fast
// path (packets the lcore handles per second, forwarded ones among them).
func (b *bench) slowpathFlood(rtc []row, t traffic) (*flood, error) {
	files := []struct{ id, label, file string }{{"none", "no flood", t.File}}
	good, err := trafgen.ReadPcap(t.File)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(b.s.Out, "traffic")
	for _, f := range floodTable {
		spec, err := flows(f.Src, f.Dst, f.DstMAC, 254, 1, 64, "", f.Malform)
		if err != nil {
			return nil, err
		}
		exc, err := spec.Frames()
		if err != nil {
			return nil, fmt.Errorf("flood %s: %w", f.ID, err)
		}
		if err := trafgen.WritePcap(filepath.Join(dir, "exc-"+f.ID+".pcap"), exc); err != nil {
			return nil, err
		}
		mixed := make([][]byte, len(good))
		for i, fr := range good {
			mixed[i] = fr
			if i%floodEvery == floodEvery-1 {
				mixed[i] = exc[(i/floodEvery)%len(exc)]
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-flood-%s.pcap", t.ID, f.ID))
		if err := trafgen.WritePcap(path, mixed); err != nil {
			return nil, err
		}
		files = append(files, struct{ id, label, file string }{f.ID, f.Label, path})
	}
	var variants []floodVariant
	for _, f := range files {
		for _, r := range rtc {
			variants = append(variants, floodVariant{f.id, f.label, f.file, r})
		}
	}
	// Interleaved and repeated like the table's rows; each variant's
	// median run is shown.
	runs := make([][]floodRun, len(variants))
	for rep := range b.s.Repeat {
		for k := range variants {
			i := k
			if rep%2 == 1 {
				i = len(variants) - 1 - k
			}
			v := variants[i]
			s, err := b.measure(v.row, traffic{ID: t.ID + "+" + v.id, File: v.file, Table: t.Table}, rep)
			if err != nil {
				return nil, err
			}
			fr := floodRun{sample: s, Flood: v.id, FloodLabel: v.label, SteerID: v.row.SteerID}
			if s.Steer != nil {
				ringFull := s.Steer.SlowpathRingFull
				fr.SlowpathRingFull, fr.SlowTaken = &ringFull, s.Steer.SlowTaken
			}
			runs[i] = append(runs[i], fr)
			if s.OK {
				logf("slow-path flood %-5s: %.2f Mpps handled, %.2f Mpps forwarded", fr.name(), s.RxMpps, s.Mpps)
			} else {
				logf("slow-path flood %-5s: n/a: %s", fr.name(), *s.Error)
			}
		}
	}
	out := &flood{Traffic: t.ID, Every: floodEvery}
	for i := range variants {
		var ok []floodRun
		for _, r := range runs[i] {
			if r.OK {
				ok = append(ok, r)
			}
		}
		sort.SliceStable(ok, func(x, y int) bool { return ok[x].RxMpps < ok[y].RxMpps })
		var med floodRun
		if len(ok) > 0 {
			med = ok[len(ok)/2]
		} else {
			med = runs[i][len(runs[i])-1]
		}
		med.AllRxMpps = []float64{}
		for _, r := range ok {
			med.AllRxMpps = append(med.AllRxMpps, math.Round(r.RxMpps*100)/100)
		}
		out.Runs = append(out.Runs, med)
	}
	return out, nil
}
