// Package e2e runs the real steer binary on DPDK net_pcap ports: crafted
// input pcaps in, output pcaps and the --stats-file JSON out, compared packet
// by packet. It needs root and DPDK (pkg-config libdpdk); without them every
// test skips. No cgo here: steer is built once per run with `go build` and
// driven as a process. STEER_BIN=path uses a prebuilt binary instead.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/trafgen"
	"github.com/steer-router/steer/test/testbed"
)

// Timeouts: every steer process is killed (and the test failed) after
// runTimeout; idle is what --exit-on-idle gets. runTimeout is a variable
// only so that a long run (the soak test) can raise it before it starts
// steer.
var runTimeout = 60 * time.Second

const idle = 500 * time.Millisecond

// The reasons steer's stats file must always list (the contract).
var (
	DropReasons = []string{"unknown_ethertype", "runt", "bad_version", "bad_ihl", "bad_checksum", "bad_length",
		"martian_source", "own_source", "broadcast_source", "link_source", "martian_destination", "l2_other_host", "link_broadcast", "multicast", "tx_full"}
	SlowReasons = []string{"arp", "local", "broadcast", "ttl_exceeded", "no_route", "unresolved",
		"ip_options", "fragmentation_needed"}
)

// MACs of the hosts around the router (static neighbours in every config).
var (
	LanHostMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02} // 10.0.0.2
	WanPeerMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x03} // 203.0.113.2
	StrangerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0x99, 0x99}
)

var (
	skipOnce sync.Once
	skipMsg  string

	buildOnce sync.Once
	steerBin  string
	buildErr  error
	binDir    string
)

func skipReason() string {
	skipOnce.Do(func() {
		if os.Geteuid() != 0 {
			skipMsg = "e2e tests need root (DPDK); skipping"
			return
		}
		if err := exec.Command("pkg-config", "--exists", "libdpdk").Run(); err != nil {
			skipMsg = "e2e tests need DPDK (pkg-config --exists libdpdk failed); skipping"
		}
	})
	return skipMsg
}

// Steer returns the path of the steer binary, building ./cmd/steer once per
// test process (lazily, so `go test -run XXX` compiles without building).
func Steer(t *testing.T) string {
	t.Helper()
	if msg := skipReason(); msg != "" {
		t.Skip(msg)
	}
	buildOnce.Do(func() {
		if p := os.Getenv("STEER_BIN"); p != "" {
			steerBin, buildErr = filepath.Abs(p)
			return
		}
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = "/usr/local/go/bin/go"
		}
		out := filepath.Join(binDir, "steer")
		start := time.Now()
		cmd := exec.Command(goBin, "build", "-o", out, "./cmd/steer")
		cmd.Dir = ".." // the module root: tests run in test/
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/steer: %v\n%s", err, b)
			return
		}
		steerBin = out
		fmt.Fprintf(os.Stderr, "e2e: built %s in %v\n", out, time.Since(start).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return steerBin
}

// Bed is one test's world: a temp dir for configs and pcaps and a unique
// DPDK file prefix whose runtime dir is removed at the end.
type Bed struct {
	T      testing.TB
	Dir    string
	Prefix string
	Bin    string
}

var (
	prefixClean = regexp.MustCompile(`[^a-z0-9]+`)
	bedCount    atomic.Int32
)

// NewBed skips the test without root/DPDK and builds steer if needed.
func NewBed(t *testing.T) *Bed {
	t.Helper()
	bin := Steer(t)
	// steer caps file_prefix at 32 characters: pid and a counter make it
	// unique, a piece of the test name makes it recognisable.
	name := strings.Trim(prefixClean.ReplaceAllString(strings.ToLower(strings.TrimPrefix(t.Name(), "Test")), "-"), "-")
	if len(name) > 12 {
		name = name[:12]
	}
	prefix := fmt.Sprintf("e2e%d-%d-%s", os.Getpid(), bedCount.Add(1), name)
	b := &Bed{T: t, Dir: t.TempDir(), Prefix: prefix, Bin: bin}
	runDir := b.RuntimeDir()
	os.RemoveAll(runDir)
	t.Cleanup(func() { os.RemoveAll(runDir) })
	return b
}

// RuntimeDir is EAL's /var/run/dpdk/<file_prefix>.
func (b *Bed) RuntimeDir() string { return testbed.RuntimeDir(b.Prefix) }

// Path names a file in the bed's dir.
func (b *Bed) Path(name string) string { return filepath.Join(b.Dir, name) }

// ---- configs ----

// Port is a net_pcap port: one RX queue per RxFiles entry, one TX queue per
// TxFiles entry (file names inside the bed). RxQueues/TxQueues override the
// queue counts asked of steer (0: the number of files).
type Port struct {
	Name               string
	RxFiles, TxFiles   []string
	RxQueues, TxQueues int
	Addresses          []string
	Steering           string // auto | rss | distributor; "" leaves steer's default
}

// RxQ is one (port, queue) pair an lcore polls.
type RxQ struct {
	Port  string
	Queue int
}

// LcoreMap is one lcore's entry.
type LcoreMap struct {
	Lcore  int
	Rx     []RxQ
	Worker bool // a distributor worker (with Rx: RX and worker)
}

// Config is what the tests vary; YAML writes it in steer's format.
type Config struct {
	Lcores    string // EAL lcores, "0-1" when empty
	Ports     []Port
	LcoreMap  []LcoreMap
	Routes    [][2]string // prefix, via
	Neighbors [][3]string // ip, mac, port
	Extra     string      // YAML merged over the rest, section by section
	// Distributor, when set, is written as the distributor section
	// (ring_size, reta_size, burst, on_full, hash, balance.mode, max_stall;
	// zero values left out).
	Distributor *Distributor
}

// Distributor is the distributor section of a config.
type Distributor struct {
	RingSize, RetaSize, Burst int
	OnFull                    string // drop | backpressure
	Hash                      string // auto | l3 | l4
	Balance                   string // auto | off
	MaxStall                  string // backpressure's bound, a duration
}

// Standard is the two-port topology of the contract: lan 10.0.0.1/24 and
// wan 203.0.113.1/24, one forwarding lcore polling both, 198.51.100.0/24
// via 203.0.113.2, static neighbours 10.0.0.2 and 203.0.113.2.
func Standard() Config {
	return Config{
		Ports: []Port{
			{Name: "lan", RxFiles: []string{"lan-in.pcap"}, TxFiles: []string{"lan-out.pcap"}, Addresses: []string{"10.0.0.1/24"}},
			{Name: "wan", RxFiles: []string{"wan-in.pcap"}, TxFiles: []string{"wan-out.pcap"}, Addresses: []string{"203.0.113.1/24"}},
		},
		LcoreMap:  []LcoreMap{{Lcore: 1, Rx: []RxQ{{"lan", 0}, {"wan", 0}}}},
		Routes:    [][2]string{{"198.51.100.0/24", "203.0.113.2"}},
		Neighbors: [][3]string{{"10.0.0.2", LanHostMAC.String(), "lan"}, {"203.0.113.2", WanPeerMAC.String(), "wan"}},
	}
}

// SteerConfig is c as steer's typed config for bed b: the defaults of
// config.Parse, EAL without hugepages on the bed's file prefix, net_pcap
// ports on the bed's files.
func (b *Bed) SteerConfig(c Config) *config.Config {
	sc := config.Defaults()
	sc.EAL.Lcores = c.Lcores
	if sc.EAL.Lcores == "" {
		sc.EAL.Lcores = "0-1"
	}
	sc.EAL.MainLcore, sc.EAL.Huge, sc.EAL.MemoryMB, sc.EAL.FilePrefix = 0, false, 256, b.Prefix
	for i, p := range c.Ports {
		var rx, tx []string
		for _, f := range p.RxFiles {
			rx = append(rx, b.Path(f))
		}
		for _, f := range p.TxFiles {
			tx = append(tx, b.Path(f))
		}
		port := config.DefaultPort()
		port.Name, port.Device, port.Addresses = p.Name, testbed.PcapDevice(i, rx, tx), p.Addresses
		port.RxQueues, port.TxQueues = p.RxQueues, p.TxQueues
		if port.RxQueues == 0 {
			port.RxQueues = len(p.RxFiles)
		}
		if port.TxQueues == 0 {
			port.TxQueues = len(p.TxFiles)
		}
		if p.Steering != "" {
			port.Steering = p.Steering
		}
		sc.Ports = append(sc.Ports, port)
	}
	for _, l := range c.LcoreMap {
		e := config.Lcore{Lcore: l.Lcore, Worker: l.Worker}
		for _, q := range l.Rx {
			e.Rx = append(e.Rx, config.RxQueue{Port: q.Port, Queue: q.Queue})
		}
		sc.Lcores = append(sc.Lcores, e)
	}
	if d := c.Distributor; d != nil { // zero values keep the defaults
		for _, f := range []struct {
			dst *int
			v   int
		}{{&sc.Distributor.RingSize, d.RingSize}, {&sc.Distributor.RetaSize, d.RetaSize}, {&sc.Distributor.Burst, d.Burst}} {
			if f.v != 0 {
				*f.dst = f.v
			}
		}
		for _, f := range []struct {
			dst *string
			v   string
		}{
			{&sc.Distributor.OnFull, d.OnFull}, {&sc.Distributor.Hash, d.Hash}, {&sc.Distributor.Balance.Mode, d.Balance}, {&sc.Distributor.MaxStall, d.MaxStall},
		} {
			if f.v != "" {
				*f.dst = f.v
			}
		}
	}
	for _, r := range c.Routes {
		sc.Routes = append(sc.Routes, config.Route{Prefix: r[0], Via: r[1]})
	}
	for _, n := range c.Neighbors {
		sc.Neighbors = append(sc.Neighbors, config.Neighbor{IP: n[0], MAC: n[1], Port: n[2]})
	}
	sc.Log.Level = "info"
	return sc
}

// YAML renders c for bed b: config.Marshal of SteerConfig, with c.Extra
// merged over it (its sections replace or extend the rendered ones).
func (b *Bed) YAML(c Config) string {
	b.T.Helper()
	y, err := testbed.RenderConfig(b.SteerConfig(c), c.Extra)
	if err != nil {
		b.T.Fatalf("config: %v", err)
	}
	return string(y)
}

// WriteConfig writes c as config.yaml and returns its path.
func (b *Bed) WriteConfig(c Config) string {
	return b.WriteFile("config.yaml", b.YAML(c))
}

// WriteFile writes a file in the bed and returns its path.
func (b *Bed) WriteFile(name, content string) string {
	b.T.Helper()
	p := b.Path(name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		b.T.Fatal(err)
	}
	return p
}

// WritePcap writes frames to a pcap in the bed.
func (b *Bed) WritePcap(name string, frames [][]byte) {
	b.T.Helper()
	if err := trafgen.WritePcap(b.Path(name), frames); err != nil {
		b.T.Fatal(err)
	}
}

// ReadPcap reads a pcap of the bed (an output file steer must have written).
func (b *Bed) ReadPcap(name string) [][]byte {
	b.T.Helper()
	fr, err := trafgen.ReadPcap(b.Path(name))
	if err != nil {
		b.T.Fatalf("output pcap: %v", err)
	}
	return fr
}

// ---- running steer ----

// Result is a finished steer process.
type Result struct {
	Args           []string
	Code           int // -1: killed by a signal
	TimedOut       bool
	Stdout, Stderr string
	Elapsed        time.Duration
}

// Output is stdout and stderr together, for messages and searches.
func (r Result) Output() string { return r.Stdout + r.Stderr }

func (r Result) String() string {
	return fmt.Sprintf("steer %s: exit %d after %v\n--- stdout:\n%s--- stderr:\n%s",
		strings.Join(r.Args, " "), r.Code, r.Elapsed.Round(time.Millisecond), r.Stdout, r.Stderr)
}

// Proc is a running steer process.
type Proc struct {
	b    *Bed
	p    *testbed.Process
	args []string
	out  bytes.Buffer
	err  bytes.Buffer
	done chan struct{}
	res  Result
}

// Start starts steer with args; it is killed after runTimeout.
func (b *Bed) Start(args ...string) *Proc {
	b.T.Helper()
	p := &Proc{b: b, args: args, done: make(chan struct{})}
	cmd := exec.Command(b.Bin, args...)
	cmd.Dir = b.Dir
	cmd.Stdout, cmd.Stderr = &p.out, &p.err
	proc, err := testbed.Start(cmd, testbed.StartOptions{KillAfter: runTimeout})
	if err != nil {
		b.T.Fatalf("start steer: %v", err)
	}
	p.p = proc
	go func() {
		err := proc.Wait()
		p.res = Result{Args: args, Code: cmd.ProcessState.ExitCode(), Stdout: p.out.String(),
			Stderr: p.err.String(), Elapsed: time.Since(proc.Started), TimedOut: proc.TimedOut()}
		if cmd.ProcessState.ExitCode() == -1 {
			p.res.Stderr += fmt.Sprintf("\n[e2e: steer ended by a signal: %v]\n", err)
		}
		close(p.done)
	}()
	b.T.Cleanup(func() { proc.Kill(); <-p.done })
	return p
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) {
	p.b.T.Helper()
	if err := p.p.Signal(sig); err != nil {
		p.b.T.Fatalf("signal %v: %v", sig, err)
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the process; a process killed by the timeout fails the test.
func (p *Proc) Wait() Result {
	p.b.T.Helper()
	<-p.done
	if p.res.TimedOut {
		p.b.T.Fatalf("steer killed after the %v timeout\n%s", runTimeout, p.res)
	}
	return p.res
}

// Run runs steer to completion (bounded by runTimeout).
func (b *Bed) Run(args ...string) Result {
	b.T.Helper()
	return b.Start(args...).Wait()
}

// ---- learning the port MACs ----

var (
	macOnce sync.Once
	macs    []net.HardwareAddr
	macErr  string
)

// PortMACs learns the MAC steer reports for port 0 and port 1 with a run of
// the standard topology on empty pcaps (once per test process): the inputs
// of every test must be addressed to them. Tests then check that the MACs
// in their own stats files are the same.
func PortMACs(t *testing.T) (lan, wan net.HardwareAddr) {
	t.Helper()
	Steer(t)
	macOnce.Do(func() {
		dir, err := os.MkdirTemp("", "steer-e2e-macs-")
		if err != nil {
			macErr = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		b := &Bed{T: t, Dir: dir, Prefix: fmt.Sprintf("e2e%d-macs", os.Getpid()), Bin: steerBin}
		defer os.RemoveAll(b.RuntimeDir())
		for _, f := range []string{"lan-in.pcap", "wan-in.pcap"} {
			if err := trafgen.WritePcap(b.Path(f), nil); err != nil {
				macErr = err.Error()
				return
			}
		}
		cfg := b.WriteConfig(Standard())
		stats := b.Path("stats.json")
		r := b.Run("run", "--config", cfg, "--exit-on-idle", idle.String(), "--stats-file", stats)
		if r.Code != 0 {
			macErr = "learning port MACs: want exit 0\n" + r.String()
			return
		}
		raw, err := os.ReadFile(stats)
		var s Stats
		if err == nil {
			err = json.Unmarshal(raw, &s)
		}
		if err != nil || len(s.Ports) != 2 {
			macErr = fmt.Sprintf("learning port MACs: stats file: %v (%d ports)\n%s", err, len(s.Ports), raw)
			return
		}
		for _, p := range s.Ports {
			m, err := net.ParseMAC(p.MAC)
			if err != nil {
				macErr = fmt.Sprintf("learning port MACs: port %s: %v", p.Name, err)
				return
			}
			macs = append(macs, m)
		}
	})
	if macErr != "" {
		t.Fatal(macErr)
	}
	if len(macs) < 2 {
		t.Fatal("port MACs unknown: learning them failed in an earlier test")
	}
	return macs[0], macs[1]
}

// CheckMACs fails the test if the stats report other port MACs than the
// inputs were addressed to.
func CheckMACs(t *testing.T, s *Stats, want map[string]net.HardwareAddr) {
	t.Helper()
	for name, m := range want {
		if got := s.MAC(t, name); !bytes.Equal(got, m) {
			t.Fatalf("port %s reports MAC %v, inputs were addressed to %v", name, got, m)
		}
	}
}

// ---- telemetry ----

// Telemetry sends one command to the DPDK telemetry socket of the bed's
// process (see testbed.Telemetry) and returns the reply.
func (b *Bed) Telemetry(cmd string) (map[string]json.RawMessage, error) {
	return testbed.TelemetryCommand(b.Prefix, cmd, 2*time.Second)
}

// EthdevRx is ipackets of port id by telemetry.
func (b *Bed) EthdevRx(port int) (uint64, error) {
	t, err := testbed.DialTelemetry(b.Prefix, 2*time.Second)
	if err != nil {
		return 0, err
	}
	defer t.Close()
	st, err := t.EthdevStats(port)
	if err != nil {
		return 0, err
	}
	if st == nil {
		return 0, fmt.Errorf("telemetry /ethdev/stats,%d: the port is not set up yet", port)
	}
	return st.IPackets, nil
}

// Eventually polls cond every 20 ms until it holds or the deadline passes;
// cond's message says what it waits for.
func Eventually(t *testing.T, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %v: %s", within, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- frames the router itself sends ----

// RouterAddrs are the router's addresses in the configs of this suite.
var RouterAddrs = map[[4]byte]bool{{10, 0, 0, 1}: true, {203, 0, 113, 1}: true}

// IsControlFrame reports whether an output frame came from the router's
// control thread rather than being forwarded: ARP (gratuitous announcements
// at start, replies, requests) or IPv4 from one of the router's addresses
// (ICMP echo replies and errors).
func IsControlFrame(f []byte) bool {
	if len(f) < 14 {
		return false
	}
	switch {
	case f[12] == 0x08 && f[13] == 0x06:
		return true
	case f[12] == 0x08 && f[13] == 0x00 && len(f) >= 34:
		return RouterAddrs[[4]byte(f[26:30])]
	}
	return false
}

// ReadForwarded reads an output pcap without the control frames.
func (b *Bed) ReadForwarded(name string) [][]byte {
	b.T.Helper()
	var out [][]byte
	for _, f := range b.ReadPcap(name) {
		if !IsControlFrame(f) {
			out = append(out, f)
		}
	}
	return out
}

// ControlFrames counts the control frames in the output pcaps of a port
// (files named <port>-out*.pcap), to take them out of its TX counter.
func (b *Bed) ControlFrames(port string) int {
	b.T.Helper()
	files, _ := filepath.Glob(b.Path(port + "-out*.pcap"))
	n := 0
	for _, f := range files {
		fr, err := trafgen.ReadPcap(f)
		if err != nil {
			continue
		}
		for _, x := range fr {
			if IsControlFrame(x) {
				n++
			}
		}
	}
	return n
}
