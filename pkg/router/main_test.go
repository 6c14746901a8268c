package router

import (
	"flag"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/steer-router/steer/cgo/dpdk/ealtest"
)

// One EAL for the package's tests, lcores 0 (main) and 1, no devices: each
// router creates its own virtual devices and removes them when it stops,
// so the tests start and stop routers one after another. Benchmarks load
// a million routes and get more memory.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		ealtest.MemoryMB = 1024
	}
	os.Exit(ealtest.Run(m, "0-1"))
}

// The pcap PMD numbers the MACs of its devices in creation order, per
// process (02:70:63:61:70:NN): tests that make pcap ports take their MACs
// from here, in the order their configs list the ports.
var pcapDevices int

func nextPcapMACs(n int) []net.HardwareAddr {
	out := make([]net.HardwareAddr, n)
	for i := range out {
		out[i] = net.HardwareAddr{0x02, 0x70, 0x63, 0x61, 0x70, byte(pcapDevices)}
		pcapDevices++
	}
	return out
}

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (DPDK)")
	}
}

// pcapPorts is the ports section of a two-port test config: lan reads in
// (forever when infinite), wan reads nothing; both drop what they send.
func pcapPorts(dir string, infinite bool) string {
	inf := ""
	if infinite {
		inf = ",infinite_rx=1"
	}
	return fmt.Sprintf(`ports:
  - {name: lan, device: "net_pcap0,rx_pcap=%s/in.pcap%s", addresses: ["10.0.0.1/24"]}
  - {name: wan, device: "net_pcap1,rx_pcap=%s/empty.pcap", addresses: ["203.0.113.1/24"]}
`, dir, inf, dir)
}
