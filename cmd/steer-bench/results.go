package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
)

// results is build/bench/results.json (docs/BENCH.md, Outputs).
type results struct {
	Schema        int           `json:"schema"`
	Date          string        `json:"date"`
	WallS         float64       `json:"wall_s"`
	Interrupted   *string       `json:"interrupted"`
	Machine       machine       `json:"machine"`
	Settings      benchSettings `json:"settings"`
	Traffic       []traffic     `json:"traffic"`
	Rows          []row         `json:"rows"`
	Summary       []cell        `json:"summary"`
	Samples       []sample      `json:"samples"`
	Discarded     []sample      `json:"discarded"`
	ControlPlane  controlPlane  `json:"control_plane"`
	SlowpathFlood *flood        `json:"slowpath_flood"`
	Fairness      *fairness     `json:"fairness"` // null when not run
	Table         string        `json:"table"`
}

type benchSettings struct {
	Seconds  float64 `json:"seconds"`
	Warmup   float64 `json:"warmup"`
	Repeat   int     `json:"repeat"`
	MemoryMB int     `json:"memory_mb"`
	// MemoryMBTable is -m on full-table (when it ran).
	MemoryMBTable int        `json:"memory_mb_full_table,omitempty"`
	Hugepages     bool       `json:"hugepages"`
	FilePrefix    string     `json:"file_prefix"`
	Src           string     `json:"src"`
	Dst           string     `json:"dst"`
	DstMAC        string     `json:"dst_mac"`
	SteerBins     []steerBin `json:"steer_bins,omitempty"` // A/B
}

type controlPlane struct {
	Info    goInfo     `json:"info"`
	Results []goResult `json:"results"`
	// RouteChurn is the route API measurement: one object, or in an A/B
	// run a list of one per binary; null when not run.
	RouteChurn any `json:"route_churn"`
}

// writeResults writes results.json and table.txt.
func (b *bench) writeResults(r *report, text string, interrupted string) error {
	res := results{
		Schema:  schemaLevel,
		Date:    r.started.UTC().Format("2006-01-02T15:04:05-07:00"),
		WallS:   r.wall.Seconds(),
		Machine: r.machine,
		Settings: benchSettings{Seconds: b.s.Seconds, Warmup: b.s.Warmup, Repeat: b.s.Repeat, MemoryMB: memoryMB,
			Hugepages: b.s.Huge, FilePrefix: prefix, Src: srcNet, Dst: dstNet, DstMAC: lanMAC},
		Traffic:       orEmpty(r.traffic),
		Rows:          orEmpty(r.rows),
		Summary:       orEmpty(r.summary),
		Samples:       orEmpty(r.samples),
		Discarded:     orEmpty(r.discarded),
		ControlPlane:  controlPlane{Results: orEmpty(r.goRes)},
		SlowpathFlood: r.flood,
		Fairness:      r.fair,
		Table:         text,
	}
	if len(b.s.Steers) > 1 {
		res.Settings.SteerBins = b.s.Steers
	}
	if tableMemoryNote(r.traffic) != "" {
		res.Settings.MemoryMBTable = tableMemoryMB
	}
	if interrupted != "" {
		res.Interrupted = &interrupted
	}
	if r.goInfo != nil {
		res.ControlPlane.Info = *r.goInfo
	}
	switch {
	case len(r.churn) == 1 && r.churn[0].SteerID == "":
		res.ControlPlane.RouteChurn = r.churn[0]
	case len(r.churn) > 0:
		res.ControlPlane.RouteChurn = r.churn
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the table has "->"
	enc.SetIndent("", " ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.s.Out, "results.json"), buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.s.Out, "table.txt"), []byte(text+"\n"), 0o644)
}

// orEmpty: a list results.json shows as [] rather than null.
func orEmpty[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
