package main

// The fairness phase's test bed: steer on two net_tap ports, their kernel
// sides moved into namespaces A and B as hosts, static neighbours
// everywhere (no ARP), a packet socket in A for the generator; and the
// processes around it: the generator, the other process, ping.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/steer-router/steer/pkg/config"
	"github.com/steer-router/steer/pkg/trafgen"
	"github.com/steer-router/steer/test/testbed"
)

// The bed's addresses: A 10.92.1.2 on lan, B 10.92.2.2 on wan. The
// generator sends to 10.92.2.3, a static neighbour of steer's with B's
// MAC: B's kernel drops those frames (not its address, forwarding off)
// without answering, so only ping comes back.
const (
	bedRouterLan = "10.92.1.1"
	bedRouterWan = "10.92.2.1"
	bedHostA     = "10.92.1.2"
	bedHostB     = "10.92.2.2"
	bedSink      = "10.92.2.3"
	bedRouterMAC = "02:92:01:00:00:01" // lan; wan is 02:92:02:00:00:01
	bedWanMAC    = "02:92:02:00:00:01"
	bedAMAC      = "02:92:01:00:00:02"
	bedBMAC      = "02:92:02:00:00:02"
	netnsPrefix  = "steer-bench-" // + pid + "-a" / "-b"
)

// fairBed is steer in one poll mode with its two hosts.
type fairBed struct {
	b            *bench
	mode         string
	run          *dpdkRun
	api          *testbed.API
	nsA, nsB     string
	lanIf, wanIf string
	fd           int // packet socket on A's interface, -1: none
	frames       [][]byte
	tid          int // steer's lcore 1 thread
	made         []string
}

// startFairBed starts steer and makes the hosts; on an error the bed
// returned (if any) must still be closed.
func (b *bench) startFairBed(mode, dir string) (*fairBed, error) {
	pid := os.Getpid()
	bed := &fairBed{b: b, mode: mode, fd: -1,
		nsA: fmt.Sprintf("%s%d-a", netnsPrefix, pid), nsB: fmt.Sprintf("%s%d-b", netnsPrefix, pid),
		lanIf: fmt.Sprintf("sbf%da", pid), wanIf: fmt.Sprintf("sbf%db", pid)}
	addr, err := testbed.FreeLoopback()
	if err != nil {
		return nil, err
	}
	bed.api = testbed.NewAPI(addr, apiToken)
	bed.run = b.newRun(row{ID: "fairness-" + mode, Prog: "steer", steer: &b.s.Steers[0]}, dir)
	bed.run.apiListen = addr
	bed.run.config = bed.steerConfig(addr)
	if err := bed.run.start(traffic{}); err != nil {
		return bed, err
	}
	if err := bed.waitReady(); err != nil {
		return bed, err
	}
	if err := bed.makeHosts(); err != nil {
		return bed, err
	}
	if bed.tid, err = lcoreThread(bed.run.proc.Pid(), "rte-worker-1"); err != nil {
		return bed, err
	}
	if bed.frames, err = bedFrames(); err != nil {
		return bed, err
	}
	if bed.fd, err = packetSocket(bed.nsA, bed.lanIf); err != nil {
		return bed, fmt.Errorf("packet socket on %s in %s: %w", bed.lanIf, bed.nsA, err)
	}
	// Through steer both ways before measuring anything.
	if p := b.ping(bed, 5, "0.1"); p.err != nil || p.stats.Recv == 0 {
		return bed, fmt.Errorf("no ping from A to B through steer (%s): %v", mode, p.err)
	}
	return bed, nil
}

// steerConfig: main lcore 0 on CPU 0, lcore 1 on CPU 1 polling both taps
// in the bed's mode, static neighbours for both hosts and the sink.
func (bed *fairBed) steerConfig(listen string) *config.Config {
	b := bed.b
	c := config.Defaults()
	c.EAL.Lcores = fmt.Sprintf("0@%d,1@%d", genCPU, fairCPU)
	c.EAL.MainLcore, c.EAL.Huge, c.EAL.MemoryMB, c.EAL.FilePrefix = 0, b.s.Huge, memoryMB, prefix
	for i, p := range []struct{ name, ifn, mac, addr string }{
		{"lan", bed.lanIf, bedRouterMAC, bedRouterLan}, {"wan", bed.wanIf, bedWanMAC, bedRouterWan}} {
		port := config.DefaultPort()
		port.Name, port.Device = p.name, fmt.Sprintf("net_tap%d,iface=%s,mac=%s", i, p.ifn, p.mac)
		port.Addresses = []string{p.addr + "/24"}
		c.Ports = append(c.Ports, port)
	}
	c.Lcores = []config.Lcore{{Lcore: 1, Rx: []config.RxQueue{{Port: "lan", Queue: 0}, {Port: "wan", Queue: 0}}}}
	c.Poll.Mode = bed.mode
	c.Neighbors = []config.Neighbor{
		{IP: bedHostA, MAC: bedAMAC, Port: "lan"}, {IP: bedHostB, MAC: bedBMAC, Port: "wan"}, {IP: bedSink, MAC: bedBMAC, Port: "wan"}}
	c.Metrics.Listen = listen
	c.Log.Format = "json"
	return c
}

// waitReady waits for steer's API and both tap interfaces.
func (bed *fairBed) waitReady() error {
	deadline := bed.run.proc.Started.Add(startLimit)
	for {
		code, _, err := bed.api.Do("GET", "/api/v1/stats", nil)
		if err == nil && code == 200 && ifaceExists(bed.lanIf) && ifaceExists(bed.wanIf) {
			return nil
		}
		if !bed.run.alive() {
			return fmt.Errorf("steer exited with %d before its API answered: %s", bed.run.exitCode(), bed.run.errorLine())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("steer's API or its taps not there %.0f s after exec", startLimit.Seconds())
		}
		if err := bed.b.sleep(20 * time.Millisecond); err != nil {
			return err
		}
	}
}

func ifaceExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

// makeHosts moves each tap's kernel side into its namespace and makes it a
// host: its MAC, address, default route via steer and a permanent entry
// for steer's MAC; no IPv6 (its solicitations would wake the lcore).
func (bed *fairBed) makeHosts() error {
	for _, h := range []struct{ ns, ifn, mac, addr, gw, gwMAC string }{
		{bed.nsA, bed.lanIf, bedAMAC, bedHostA, bedRouterLan, bedRouterMAC},
		{bed.nsB, bed.wanIf, bedBMAC, bedHostB, bedRouterWan, bedWanMAC}} {
		_, _ = cmdOutput(10*time.Second, "ip", "netns", "del", h.ns)
		steps := [][]string{
			{"ip", "netns", "add", h.ns},
			{"ip", "netns", "exec", h.ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"},
			{"ip", "link", "set", "dev", h.ifn, "netns", h.ns},
			{"ip", "-n", h.ns, "link", "set", "dev", "lo", "up"},
			{"ip", "-n", h.ns, "link", "set", "dev", h.ifn, "address", h.mac},
			{"ip", "-n", h.ns, "link", "set", "dev", h.ifn, "up"},
			{"ip", "-n", h.ns, "addr", "add", h.addr + "/24", "dev", h.ifn},
			{"ip", "-n", h.ns, "route", "add", "default", "via", h.gw},
			{"ip", "-n", h.ns, "neigh", "replace", h.gw, "lladdr", h.gwMAC, "dev", h.ifn, "nud", "permanent"},
		}
		for i, s := range steps {
			if out, err := cmdOutput(10*time.Second, s[0], s[1:]...); err != nil {
				return fmt.Errorf("%s: %v: %s", strings.Join(s, " "), err, strings.TrimSpace(out))
			}
			if i == 0 {
				bed.made = append(bed.made, h.ns)
			}
		}
	}
	return nil
}

// close stops steer (its taps go with it), then deletes the namespaces.
// It returns steer's exit status (nil: it never started).
func (bed *fairBed) close() *int {
	if bed.fd >= 0 {
		unix.Close(bed.fd)
		bed.fd = -1
	}
	code := bed.run.stop()
	if code != nil && *code != 0 {
		logf("fairness: steer (%s) exited %d: %s", bed.mode, *code, bed.run.errorLine())
	}
	for _, ns := range bed.made {
		if out, err := cmdOutput(10*time.Second, "ip", "netns", "del", ns); err != nil {
			logf("fairness: ip netns del %s: %v %s", ns, err, strings.TrimSpace(out))
		}
	}
	bed.made = nil
	return code
}

// removeStaleNetns deletes namespaces a killed bench left behind (its pid
// gone).
func removeStaleNetns() {
	out, err := cmdOutput(10*time.Second, "ip", "netns", "list")
	if err != nil {
		return
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], netnsPrefix) {
			continue
		}
		pid, _, _ := strings.Cut(strings.TrimPrefix(f[0], netnsPrefix), "-")
		if _, err := os.Stat("/proc/" + pid); err != nil {
			logf("fairness: removing namespace %s of a bench that is gone", f[0])
			_, _ = cmdOutput(10*time.Second, "ip", "netns", "del", f[0])
		}
	}
}

// cmdOutput runs a command with a deadline and returns its combined output.
func cmdOutput(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// bedFrames are 16 UDP flows of 64-byte frames from A to the sink,
// addressed to steer's lan MAC.
func bedFrames() ([][]byte, error) {
	f := trafgen.Flows{Flows: 16, PacketsPerFlow: 1, Size: 64, Proto: trafgen.UDP, DstPort: 5001, TTL: 64, Order: "rr", Seed: 1,
		Src: netip.MustParsePrefix(bedHostA + "/32"), Dst: netip.MustParsePrefix(bedSink + "/32")}
	var err error
	if f.SrcMAC, err = net.ParseMAC(bedAMAC); err != nil {
		return nil, err
	}
	if f.DstMAC, err = net.ParseMAC(bedRouterMAC); err != nil {
		return nil, err
	}
	return f.Frames()
}

// packetSocket opens an AF_PACKET socket bound to ifname in namespace ns,
// for writing frames (it receives nothing), past the qdisc. It is made on
// a thread that enters the namespace and then exits with its goroutine
// (locked, never unlocked), so nothing else ever runs there.
func packetSocket(ns, ifname string) (int, error) {
	type res struct {
		fd  int
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := func() (int, error) {
			f, err := os.Open("/run/netns/" + ns)
			if err != nil {
				return -1, err
			}
			defer f.Close()
			if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
				return -1, fmt.Errorf("setns %s: %w", ns, err)
			}
			ifi, err := net.InterfaceByName(ifname)
			if err != nil {
				return -1, err
			}
			fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return -1, err
			}
			if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
				unix.Close(fd)
				return -1, err
			}
			// The generator's cost is its own write, not a qdisc's.
			_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
			return fd, nil
		}()
		ch <- res{fd, err}
	}()
	r := <-ch
	return r.fd, r.err
}

// generator writes the frames round robin into the packet socket at a
// pace (frames per second; -1: as fast as it can) until halted.
type generator struct {
	sent atomic.Uint64
	quit chan struct{}
	done chan error
	err  error
	over bool
}

func startGenerator(fd int, frames [][]byte, pps float64) *generator {
	g := &generator{quit: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		// One thread, on CPU 0 like the whole bench during the phase.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		g.done <- g.write(fd, frames, pps)
	}()
	return g
}

func (g *generator) write(fd int, frames [][]byte, pps float64) error {
	start := time.Now()
	var n uint64
	for {
		select {
		case <-g.quit:
			return nil
		default:
		}
		burst := uint64(256)
		if pps > 0 {
			// Write what is due; sleep until the next frame is.
			due := uint64(time.Since(start).Seconds() * pps)
			if due <= n {
				time.Sleep(time.Until(start.Add(time.Duration(float64(n+1) / pps * float64(time.Second)))))
				continue
			}
			burst = min(burst, due-n)
		}
		for range burst {
			if _, err := unix.Write(fd, frames[n%uint64(len(frames))]); err != nil &&
				!errors.Is(err, unix.ENOBUFS) && !errors.Is(err, unix.EAGAIN) {
				return err
			}
			n++
		}
		g.sent.Store(n)
	}
}

// halt stops the generator (once) and returns its error.
func (g *generator) halt() error {
	if !g.over {
		close(g.quit)
		g.err = <-g.done
		g.over = true
	}
	return g.err
}

// spinner is the other process: `steer-bench spin` pinned to CPU 1.
type spinner struct {
	proc *testbed.Process
	out  *os.File
	path string
}

// startSpinner runs the other process for d, its output to logPath.
func startSpinner(logPath string, d time.Duration) (*spinner, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("taskset", "-c", strconv.Itoa(fairCPU), self, "spin",
		"--seconds", strconv.FormatFloat(d.Seconds(), 'f', 3, 64), "--every", "50ms")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stdout, cmd.Stderr = out, out
	p, err := testbed.Start(cmd, testbed.StartOptions{Session: true, KillAfter: d + 10*time.Second})
	if err != nil {
		out.Close()
		return nil, err
	}
	return &spinner{proc: p, out: out, path: logPath}, nil
}

func (s *spinner) pid() int { return s.proc.Pid() }

// wait waits for its end and returns its output.
func (s *spinner) wait() (string, error) {
	err := s.proc.Wait()
	s.out.Close()
	text, _ := os.ReadFile(s.path)
	if err != nil {
		return string(text), fmt.Errorf("%v: %s", err, strings.TrimSpace(string(text)))
	}
	return string(text), nil
}

// stop kills it when it is still running (an interrupted cell).
func (s *spinner) stop() {
	if !s.proc.Exited() {
		s.proc.Kill()
		_ = s.proc.Wait()
	}
	s.out.Close()
}

// pingResult is a ping run's figures, or why there are none.
type pingResult struct {
	stats *pingStats
	cpu   float64 // seconds ping ran (little at 10 ms; at 5 ms it spins)
	err   error
}

// pingThrough is the low-load latency: ping from A to B through steer.
func (b *bench) pingThrough(bed *fairBed) pingResult {
	return b.ping(bed, pingCount, pingInterval)
}

// ping runs ping in A to B's host, on CPU 0: count requests every
// interval seconds, each waited for 1 s at most.
func (b *bench) ping(bed *fairBed, count int, interval string) pingResult {
	iv, _ := strconv.ParseFloat(interval, 64)
	deadline := int(float64(count)*iv) + 3
	ctx, cancel := context.WithTimeout(b.ctx, time.Duration(deadline+5)*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", bed.nsA, "taskset", "-c", strconv.Itoa(genCPU),
		"ping", "-n", "-c", strconv.Itoa(count), "-i", interval, "-W", "1", "-w", strconv.Itoa(deadline), bedHostB)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if b.ctx.Err() != nil {
		return pingResult{err: errInterrupted}
	}
	st, perr := parsePing(string(out))
	if perr != nil {
		return pingResult{err: fmt.Errorf("ping: %v %v: %s", err, perr, lastLines(string(out), 3))}
	}
	r := pingResult{stats: st}
	if ps := cmd.ProcessState; ps != nil {
		r.cpu = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	return r
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " / ")
}

// fairSnap is what a window's end reads.
type fairSnap struct {
	at        time.Time
	lcore     apiLcore
	threadCPU float64 // seconds steer's lcore thread ran
	sent      uint64  // frames the generator wrote
	userSys   uint64  // all CPUs' user + system jiffies
	steal     uint64  // CPU 1's steal jiffies (the host ran something else)
	ours      uint64  // ... of steer, the bench and the other process
}

// apiLcore is lcore 1 in /api/v1/stats.
type apiLcore struct {
	Lcore        int    `json:"lcore"`
	Poll         string `json:"poll"`
	RxPackets    uint64 `json:"rx_packets"`
	TxPackets    uint64 `json:"tx_packets"`
	BusyCycles   uint64 `json:"busy_cycles"`
	IdleCycles   uint64 `json:"idle_cycles"`
	AsleepCycles uint64 `json:"asleep_cycles"`
	Sleeps       uint64 `json:"sleeps"`
	Wakeups      uint64 `json:"wakeups"`
}

func (l apiLcore) cycles() uint64 { return l.BusyCycles + l.IdleCycles + l.AsleepCycles }

func (bed *fairBed) snapshot(gen *generator, other *spinner) (fairSnap, error) {
	t0 := time.Now()
	code, body, err := bed.api.Do("GET", "/api/v1/stats", nil)
	t1 := time.Now()
	if err != nil || code != 200 {
		return fairSnap{}, fmt.Errorf("GET /api/v1/stats: %d %v", code, err)
	}
	var st struct {
		Lcores []apiLcore `json:"lcores"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return fairSnap{}, fmt.Errorf("/api/v1/stats: %w", err)
	}
	s := fairSnap{at: t0.Add(t1.Sub(t0) / 2)}
	found := false
	for _, l := range st.Lcores {
		if l.Lcore == 1 {
			s.lcore, found = l, true
		}
	}
	if !found {
		return s, errors.New("/api/v1/stats has no lcore 1")
	}
	pid := bed.run.proc.Pid()
	s.threadCPU = threadCPU(pid, bed.tid, bed.b.hz)
	if gen != nil {
		s.sent = gen.sent.Load()
	}
	s.userSys = userSysTicks()
	s.steal = stealTicks(fairCPU)
	s.ours = procTicks(pid) + procTicks(os.Getpid())
	if other != nil {
		s.ours += procTicks(other.pid())
	}
	return s, nil
}

// lcoreThread is the id of the thread of process pid named name.
func lcoreThread(pid int, name string) (int, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	for _, t := range tasks {
		comm, _ := os.ReadFile(filepath.Join(fmt.Sprintf("/proc/%d/task", pid), t.Name(), "comm"))
		if strings.TrimSpace(string(comm)) == name {
			return strconv.Atoi(t.Name())
		}
	}
	return 0, fmt.Errorf("steer has no thread %s", name)
}

// threadCPU is the seconds a thread has run: its schedstat (nanoseconds,
// exact), else its stat (clock ticks).
func threadCPU(pid, tid int, hz float64) float64 {
	dir := fmt.Sprintf("/proc/%d/task/%d/", pid, tid)
	if f := strings.Fields(readText(dir + "schedstat")); len(f) > 0 {
		if ns, err := strconv.ParseUint(f[0], 10, 64); err == nil {
			return float64(ns) / 1e9
		}
	}
	return float64(statTicks(readText(dir+"stat"))) / hz
}

// statTicks is utime + stime of a /proc stat line.
func statTicks(s string) uint64 {
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return 0
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return ut + st
}

// stealTicks is one CPU's steal jiffies (/proc/stat), 0 when unknown.
func stealTicks(cpu int) uint64 {
	for _, line := range strings.Split(readText("/proc/stat"), "\n") {
		f := strings.Fields(line)
		if len(f) > 8 && f[0] == "cpu"+strconv.Itoa(cpu) {
			v, _ := strconv.ParseUint(f[8], 10, 64)
			return v
		}
	}
	return 0
}

// userSysTicks is the user + nice + system jiffies of all CPUs: busy time
// without interrupts, whose work here is the taps' own.
func userSysTicks() uint64 {
	line, _, _ := strings.Cut(readText("/proc/stat"), "\n")
	f := strings.Fields(line)
	var sum uint64
	for i := 1; i <= 3 && i < len(f); i++ {
		v, _ := strconv.ParseUint(f[i], 10, 64)
		sum += v
	}
	return sum
}
