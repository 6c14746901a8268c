package main

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/test/testbed"
)

// row is one line of the table per traffic: a program and its lcore
// placement (docs/BENCH.md, The rows).
type row struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	Prog     string `json:"program"` // testpmd | l3fwd | steer
	Group    string `json:"group"`   // 1q | 2q: which baselines it is divided by
	PollCPUs int    `json:"poll_cpus"`
	Lcores   string `json:"lcores"`
	// A/B: the steer binary of a steer row (several BENCH_STEER_BIN), and
	// the row's id without the @A suffix.
	SteerID   string `json:"steer_id,omitempty"`
	SteerPath string `json:"steer_path,omitempty"`
	base      string
	steer     *steerBin
}

// rowTable: poll CPUs are the CPUs busy-polling, the cycles charged to the
// packets.
var rowTable = []row{
	{ID: "testpmd-1", Label: "testpmd io", Prog: "testpmd", Group: "1q", PollCPUs: 1, Lcores: "main 0@0, fwd 1@1"},
	{ID: "l3fwd-1", Label: "l3fwd LPM", Prog: "l3fwd", Group: "1q", PollCPUs: 1, Lcores: "1@1 (main lcore forwards)"},
	{ID: "steer-rtc", Label: "steer rtc", Prog: "steer", Group: "1q", PollCPUs: 1, Lcores: "main 0@0, rx+fwd 1@1"},
	{ID: "steer-busy", Label: "steer rtc, poll busy", Prog: "steer", Group: "1q", PollCPUs: 1, Lcores: "main 0@0, rx+fwd 1@1"},
	{ID: "steer-dist", Label: "steer distributor 1 RX + 1 worker", Prog: "steer", Group: "1q", PollCPUs: 2, Lcores: "main 0@0, rx 1@1, worker 2@0"},
	{ID: "steer-handoff", Label: "steer distributor, all handed over", Prog: "steer", Group: "1q", PollCPUs: 2, Lcores: "main 0@0, rx 1@1, worker 2@0"},
	{ID: "testpmd-2", Label: "testpmd io, 2 queues", Prog: "testpmd", Group: "2q", PollCPUs: 2, Lcores: "main 0@0, fwd 1@1, fwd 2@0"},
	{ID: "l3fwd-2", Label: "l3fwd LPM, 2 queues", Prog: "l3fwd", Group: "2q", PollCPUs: 2, Lcores: "0@0 (main, forwards), 1@1"},
	{ID: "steer-2q", Label: "steer rtc, 2 queues", Prog: "steer", Group: "2q", PollCPUs: 2, Lcores: "main 0@0, rx+fwd 1@1, rx+fwd 2@0"},
}

// baselines: the rows a group's medians are divided by.
var baselines = map[string][2]string{"1q": {"testpmd-1", "l3fwd-1"}, "2q": {"testpmd-2", "l3fwd-2"}}

// selectRows returns the selected rows in table order, each steer row once
// per steer binary (steer-rtc@A, steer-rtc@B, ...) when there are several.
func selectRows(ids []string, steers []steerBin) []row {
	var out []row
	for _, r := range rowTable {
		if len(ids) > 0 && !slices.Contains(ids, r.ID) {
			continue
		}
		r.base = r.ID
		if r.Prog != "steer" {
			out = append(out, r)
			continue
		}
		for i := range steers {
			v := r
			v.steer = &steers[i]
			if v.steer.ID != "" {
				v.ID, v.Label = r.ID+"@"+v.steer.ID, r.Label+" @"+v.steer.ID
				v.SteerID, v.SteerPath = v.steer.ID, v.steer.Path
			}
			out = append(out, v)
		}
	}
	return out
}

func rowIDs() []string {
	var ids []string
	for _, r := range rowTable {
		ids = append(ids, r.ID)
	}
	return ids
}

// memory is the -m of every program on traffic t: full-table's FIB and
// the mbufs its frames hold take more (docs/BENCH.md, The traffic).
func memory(t traffic) int {
	if t.Table != nil {
		return tableMemoryMB
	}
	return memoryMB
}

// eal are the EAL arguments every program gets for memory.
func (b *bench) ealMem(t traffic) []string {
	if b.s.Huge {
		return []string{"--huge-unlink", "-m", strconv.Itoa(memory(t))}
	}
	return []string{"--no-huge", "-m", strconv.Itoa(memory(t))}
}

// queues is the number of RX queues of a row per port: each of port 0's
// holds the traffic file in mbufs (infinite_rx).
func (r row) queues() int {
	if r.Group == "2q" {
		return 2
	}
	return 1
}

// argv is the command line of a testpmd or l3fwd row on traffic t.
func (b *bench) argv(r row, t traffic, lan, wan string) []string {
	switch r.Prog {
	case "testpmd":
		return b.testpmdArgv(r, t, lan, wan)
	case "l3fwd":
		return b.l3fwdArgv(r, t, lan, wan)
	}
	panic("argv of a " + r.Prog + " row")
}

func (b *bench) testpmdArgv(r row, t traffic, lan, wan string) []string {
	n := 1
	lcores := []string{"-l", "0-1"}
	if r.Group == "2q" {
		n, lcores = 2, []string{"--lcores", "0@0,1@1,2@0"}
	}
	a := append([]string{"dpdk-testpmd"}, lcores...)
	a = append(a, "--file-prefix", prefix)
	a = append(a, b.ealMem(t)...)
	a = append(a, "--no-pci", "--vdev", lan, "--vdev", wan, "--",
		"-i", "--auto-start", "--forward-mode=io", fmt.Sprintf("--nb-cores=%d", n), fmt.Sprintf("--rxq=%d", n),
		fmt.Sprintf("--txq=%d", n), "--rxd=1024", "--txd=1024", "--no-flush-rx")
	if !b.s.Huge {
		// testpmd's default pool (155k mbufs, 338 MB) does not fit in
		// --no-huge -m 512; with hugepages it keeps its default (no
		// difference in rate was measured), which holds full-table's
		// frames too.
		a = append(a, fmt.Sprintf("--total-num-mbufs=%d", poolFor(t, r.queues())))
	}
	return a
}

// poolFor is a pool of 2^n-1 mbufs: 16383, or with full-table the frames
// each RX queue of port 0 holds and 16384 to forward with.
func poolFor(t traffic, queues int) int {
	if t.Table == nil {
		return 16383
	}
	n := 1
	for n-1 < queues*t.Packets+16384 {
		n <<= 1
	}
	return n - 1
}

// l3fwd's main lcore runs the forwarding loop too, and an lcore with
// nothing to do busy-waits for the others: so its main lcore is a
// forwarding one (see docs/BENCH.md).
//
// On full-table l3fwd loads the table's rule file into an rte_fib
// (--lookup=fib: rte_lpm's add is O(n^2), docs/BENCH.md) and gets an RX
// ring as large as the file, which only sizes its mbuf pool (l3fwd's pool
// is twice the RX rings of the ports and more; the pcap PMD has no ring):
// every RX queue of port 0 holds the file's frames.
func (b *bench) l3fwdArgv(r row, t traffic, lan, wan string) []string {
	lcores, cfg := []string{"-l", "1"}, "(0,0,1),(1,0,1)"
	if r.Group == "2q" {
		lcores, cfg = []string{"-l", "0-1"}, "(0,0,0),(1,0,0),(0,1,1),(1,1,1)"
	}
	a := append([]string{b.s.L3fwd}, lcores...)
	a = append(a, "--file-prefix", prefix)
	a = append(a, b.ealMem(t)...)
	a = append(a, "--no-pci", "--vdev", lan, "--vdev", wan, "--", "-p", "0x3", "-P")
	if tb := t.Table; tb != nil {
		a = append(a, "--lookup=fib", "--rule_ipv4="+tb.L3fwdFile, "--rule_ipv6="+tb.L3fwdFile6,
			"--rx-queue-size", strconv.Itoa(t.Packets))
	} else {
		a = append(a, "--lookup=lpm")
	}
	return append(a, "--parse-ptype", "--config="+cfg)
}

// steerConfig is a steer row's config: lan (port 0) the source, wan (port
// 1) the sink, 198.18.1.0/24 via a static neighbour on wan; listen is the
// HTTP API's address ("" = off). On full-table the table's routes file
// (via the same neighbour) is its routes_file, with a FIB that holds it,
// the memory, and a pool for the frames port 0's queues hold.
func (b *bench) steerConfig(r row, t traffic, lan, wan, listen string) *config.Config {
	q := 1
	if r.base == "steer-2q" {
		q = 2
	}
	dist := r.base == "steer-dist" || r.base == "steer-handoff"
	c := config.Defaults()
	c.EAL.Lcores = "0@0,1@1,2@0"
	if r.base == "steer-rtc" || r.base == "steer-busy" {
		c.EAL.Lcores = "0-1"
	}
	if r.base == "steer-busy" {
		// steer-rtc runs the default, adaptive: this row is what never
		// sleeping gives against it (docs/BENCH.md, Fairness).
		c.Poll.Mode = config.PollBusy
	}
	c.EAL.MainLcore, c.EAL.Huge, c.EAL.MemoryMB, c.EAL.FilePrefix = 0, b.s.Huge, memory(t), prefix
	for _, p := range []struct{ name, dev, addr string }{{"lan", lan, "10.0.0.1/24"}, {"wan", wan, "192.0.2.1/24"}} {
		port := config.DefaultPort()
		port.Name, port.Device, port.Addresses = p.name, p.dev, []string{p.addr}
		port.RxQueues, port.TxQueues = q, q
		if dist && p.name == "lan" {
			port.Steering = "distributor"
		}
		c.Ports = append(c.Ports, port)
	}
	c.Lcores = []config.Lcore{{Lcore: 1, Rx: []config.RxQueue{{Port: "lan", Queue: 0}, {Port: "wan", Queue: 0}}}}
	switch {
	case dist:
		c.Lcores = append(c.Lcores, config.Lcore{Lcore: 2, Worker: true})
	case q == 2:
		c.Lcores = append(c.Lcores, config.Lcore{Lcore: 2, Rx: []config.RxQueue{{Port: "lan", Queue: 1}, {Port: "wan", Queue: 1}}})
	}
	if r.base == "steer-handoff" {
		// Every packet crosses to the worker (the RETA's round robin over
		// one worker, no balancer), losslessly: the hand-off's own cost.
		c.Distributor.Balance.Mode = "off"
		c.Distributor.OnFull = "backpressure"
	}
	c.Routes = []config.Route{{Prefix: dstNet, Via: "192.0.2.2"}}
	c.Neighbors = []config.Neighbor{{IP: "192.0.2.2", MAC: "02:00:00:00:00:03", Port: "wan"}}
	if tb := t.Table; tb != nil {
		c.RoutesFile = tb.SteerFile
		c.FIB = config.FIB{MaxRoutes: tableMaxRoutes, Tbl8Groups: tableTbl8Groups}
		c.Mempool.Mbufs = poolFor(t, q)
	}
	c.Metrics.Listen = listen
	c.Log.Format = "json"
	return c
}

// writeSteerConfig writes a steer row's config file.
func (b *bench) writeSteerConfig(path string, r row, t traffic, lan, wan, listen string) error {
	return testbed.ConfigFile{
		Config:  b.steerConfig(r, t, lan, wan, listen),
		Comment: "generated by cmd/steer-bench for row " + r.ID,
	}.Write(path)
}
