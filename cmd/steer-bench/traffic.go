package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/steer-router/steer/pkg/trafgen"
	"github.com/steer-router/steer/test/testbed"
)

// Addresses: l3fwd's built-in LPM table sends 198.18.1.0/24 to port 1
// (examples/l3fwd/main.c, ipv4_l3fwd_route_array); steer gets the same route
// via a static neighbour on its port 1. Port N of the pcap PMD has MAC
// 02:70:63:61:70:0N: traffic is addressed to port 0 so steer's L2 filter
// accepts it (testpmd io and l3fwd -P do not look).
const (
	lanMAC = "02:70:63:61:70:00"
	srcMAC = "02:00:00:00:00:02"
	srcNet = "10.1.0.0/16"
	dstNet = "198.18.1.0/24"
)

// trafficSpec is one traffic of the table: flows x packets of one size or
// the IMIX. 1024 packets per file: the pcap PMD's infinite_rx holds the
// whole file in mbufs of each RX queue it loads.
type trafficSpec struct {
	ID, Label      string
	Flows, Packets int
	Size           int    // frame bytes with FCS, as steer-trafgen --size
	Mix            string // "imix": the IMIX instead of Size
	// Table > 0: a routing table of that many prefixes, every program
	// loads it, and flow i goes to a random address of a random prefix
	// (tabletraffic.go).
	Table int
}

var trafficTable = []trafficSpec{
	{"udp64-1", "64 B UDP, 1 flow", 1, 1024, 64, "", 0},
	{"udp64-16", "64 B UDP, 16 flows", 16, 64, 64, "", 0},
	{"udp64-1024", "64 B UDP, 1024 flows", 1024, 1, 64, "", 0},
	{"imix-1024", "IMIX UDP, 1024 flows", 1024, 1, 64, "imix", 0},
	{"full-table", "64 B UDP, 32768 flows to random prefixes of a 500k-route table", tableFrames, 1, 64, "", tableRoutes},
}

// traffic is a generated traffic file (results.json "traffic").
type traffic struct {
	ID            string   `json:"id"`
	Label         string   `json:"label"`
	File          string   `json:"file"`
	Packets       int      `json:"packets"`
	AvgFrameBytes float64  `json:"avg_frame_bytes"`
	TrafgenArgs   []string `json:"trafgen"` // steer-trafgen writes the same file with these (null: it cannot)
	// Table is full-table's routing table as the programs load it.
	Table *routeTable `json:"table,omitempty"`
}

// trafgenArgs are the steer-trafgen flags that write the same file.
func (t trafficSpec) trafgenArgs() []string {
	a := []string{"--flows", strconv.Itoa(t.Flows), "--packets", strconv.Itoa(t.Packets)}
	if t.Mix != "" {
		return append(a, "--mix", t.Mix)
	}
	return append(a, "--size", strconv.Itoa(t.Size))
}

// flows is what steer-trafgen makes of its flags: its defaults (UDP port
// 5001, TTL 64, round robin, seed 1) for what the bench does not set.
func flows(src, dst, dstMAC string, n, packets, size int, mix, malform string) (trafgen.Flows, error) {
	f := trafgen.Flows{Flows: n, PacketsPerFlow: packets, Size: size, Mix: mix, Malform: malform,
		Proto: trafgen.UDP, DstPort: 5001, TTL: 64, Order: "rr", Seed: 1}
	var err error
	if f.SrcMAC, err = net.ParseMAC(srcMAC); err != nil {
		return f, err
	}
	if f.DstMAC, err = net.ParseMAC(dstMAC); err != nil {
		return f, err
	}
	if f.Src, err = trafgen.ParsePrefix(src); err != nil {
		return f, err
	}
	if f.Dst, err = trafgen.ParsePrefix(dst); err != nil {
		return f, err
	}
	return f, nil
}

// makeTraffic writes the selected traffic pcaps and the empty one into
// dir/traffic.
func makeTraffic(out string, selected []string) ([]traffic, string, error) {
	dir := filepath.Join(out, "traffic")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	empty := filepath.Join(dir, "empty.pcap")
	if err := writeEmptyPcap(empty); err != nil {
		return nil, "", err
	}
	var list []traffic
	for i := range trafficTable {
		spec := &trafficTable[i]
		if !slices.Contains(selected, spec.ID) {
			continue
		}
		var frames [][]byte
		var table *routeTable
		var err error
		if spec.Table > 0 {
			frames, table, err = tableTraffic(dir, *spec)
		} else {
			var f trafgen.Flows
			if f, err = flows(srcNet, dstNet, lanMAC, spec.Flows, spec.Packets, spec.Size, spec.Mix, ""); err == nil {
				frames, err = f.Frames()
			}
		}
		if err != nil {
			return nil, "", fmt.Errorf("traffic %s: %w", spec.ID, err)
		}
		path := filepath.Join(dir, spec.ID+".pcap")
		if err := trafgen.WritePcap(path, frames); err != nil {
			return nil, "", err
		}
		n, nbytes, err := pcapStats(path)
		if err != nil {
			return nil, "", err
		}
		t := traffic{ID: spec.ID, Label: spec.Label, File: path, Packets: n,
			AvgFrameBytes: float64(nbytes) / float64(n), TrafgenArgs: spec.trafgenArgs(), Table: table}
		if table != nil {
			t.TrafgenArgs = nil
		}
		list = append(list, t)
	}
	return list, empty, nil
}

// writeEmptyPcap writes a pcap global header and no record: the pcap PMD
// opens it and its RX returns nothing. It checks what it wrote.
func writeEmptyPcap(path string) error {
	if err := trafgen.WritePcap(path, nil); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(data) != 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 && binary.BigEndian.Uint32(data) != 0xa1b2c3d4 {
		return fmt.Errorf("%s is not a 24-byte pcap header", path)
	}
	return nil
}

// pcapStats counts the frames of a pcap and their bytes as stored (no FCS).
func pcapStats(path string) (int, int, error) {
	frames, err := trafgen.ReadPcap(path)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	if len(frames) == 0 {
		return 0, 0, fmt.Errorf("%s: no packets", path)
	}
	return len(frames), n, nil
}

// devices are the two ports every row runs on: the source (port 0) loops
// over the traffic file, the sink (port 1) counts and frees what it sends.
// Three rx_pcap per port whatever the row: the pcap PMD has one TX queue per
// rx_pcap (without tx_pcap), the two-queue rows need two and l3fwd opens one
// per EAL lcore; the third is spare. A program sets up only the RX queues it
// asks for, and infinite_rx loads the file into each of those only.
func devices(trafficFile, empty string) (lan, wan string) {
	lan = testbed.PcapDevice(0, []string{trafficFile, trafficFile, trafficFile}, nil, "infinite_rx=1")
	wan = testbed.PcapDevice(1, []string{empty, empty, empty}, nil)
	return lan, wan
}
