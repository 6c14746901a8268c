package e2e

// Network namespaces for the tap tests: kernel hosts on each side of a
// steer with net_tap ports. Every namespace and process a test makes is
// removed at its end, failed or not; every command is bounded in time.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// nsPrefix starts the name of every namespace this test process makes.
func nsPrefix() string { return fmt.Sprintf("steer-e2e-%d-", os.Getpid()) }

// runCmd runs a command with a deadline and returns its combined output.
func runCmd(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%s %s: killed after %v: %w", name, strings.Join(args, " "), timeout, err)
	}
	return string(out), err
}

// mustCmd is runCmd failing the test on an error.
func mustCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := runCmd(10*time.Second, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// needTools fails the test when a command it runs is missing.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (scripts/deps.sh installs it): %v", tool, err)
		}
	}
}

// netnsList is the names of the namespaces `ip netns list` shows.
func netnsList(t *testing.T) []string {
	t.Helper()
	out, err := runCmd(10*time.Second, "ip", "netns", "list")
	if err != nil {
		t.Errorf("ip netns list: %v\n%s", err, out)
		return nil
	}
	var names []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// netns is one network namespace of a test.
type netns struct {
	t    *testing.T
	Name string
}

// newNetns makes namespace nsPrefix()+suffix (a stale one of the same
// name is removed first) and deletes it when the test ends.
func newNetns(t *testing.T, suffix string) *netns {
	t.Helper()
	n := &netns{t: t, Name: nsPrefix() + suffix}
	_, _ = runCmd(10*time.Second, "ip", "netns", "del", n.Name)
	mustCmd(t, "ip", "netns", "add", n.Name)
	t.Cleanup(func() {
		if out, err := runCmd(10*time.Second, "ip", "netns", "del", n.Name); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", n.Name, err, out)
		}
	})
	// No IPv6 in the namespace: the router speaks IPv4 only, and the
	// kernel's router solicitations and MLD reports would only count as
	// drops.
	n.Exec(10*time.Second, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	return n
}

// IP runs `ip -n NAME args...`, failing the test on an error.
func (n *netns) IP(args ...string) string {
	n.t.Helper()
	return mustCmd(n.t, "ip", append([]string{"-n", n.Name}, args...)...)
}

// Exec runs a command in the namespace, bounded by timeout; its exit
// status is err (the output of a failing ping is still wanted).
func (n *netns) Exec(timeout time.Duration, args ...string) (string, error) {
	return runCmd(timeout, "ip", append([]string{"netns", "exec", n.Name}, args...)...)
}

// bgCmd is a process running in a namespace.
type bgCmd struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
	err  error
}

// Start runs a command in the namespace in the background; it is killed
// after timeout and at the end of the test at the latest. `ip netns exec`
// execs the command, so the process is the command itself.
func (n *netns) Start(timeout time.Duration, args ...string) *bgCmd {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	b := &bgCmd{done: make(chan struct{})}
	b.cmd = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name}, args...)...)
	b.cmd.Stdout, b.cmd.Stderr = (*bgOut)(b), (*bgOut)(b)
	b.cmd.Cancel = func() error { return b.cmd.Process.Signal(syscall.SIGTERM) }
	b.cmd.WaitDelay = 2 * time.Second
	if err := b.cmd.Start(); err != nil {
		cancel()
		n.t.Fatalf("start %v: %v", args, err)
	}
	go func() {
		b.err = b.cmd.Wait()
		cancel()
		close(b.done)
	}()
	n.t.Cleanup(func() { cancel(); <-b.done })
	return b
}

// Running reports whether the process is still there.
func (b *bgCmd) Running() bool {
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

// Wait waits for the process (bounded by its timeout).
func (b *bgCmd) Wait() (string, error) {
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String(), b.err
}

// bgOut collects stdout and stderr in one buffer (exec copies each from
// its own goroutine).
type bgOut bgCmd

func (w *bgOut) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(p)
}

// Adopt moves interface ifname from the root namespace into n and makes
// it a host there: its own MAC, the address, lo up, a default route via
// gw.
func (n *netns) Adopt(ifname string, mac net.HardwareAddr, addr, gw string) {
	n.t.Helper()
	mustCmd(n.t, "ip", "link", "set", "dev", ifname, "netns", n.Name)
	n.IP("link", "set", "dev", "lo", "up")
	n.IP("link", "set", "dev", ifname, "address", mac.String())
	n.IP("link", "set", "dev", ifname, "up")
	n.IP("addr", "add", addr, "dev", ifname)
	n.IP("route", "add", "default", "via", gw)
}

// waitListen waits until something listens on TCP port in the namespace.
func (n *netns) waitListen(t *testing.T, port int, within time.Duration) {
	t.Helper()
	Eventually(t, within, func() (bool, string) {
		out, err := n.Exec(5*time.Second, "ss", "-Hltn", fmt.Sprintf("sport = :%d", port))
		if err != nil {
			return false, fmt.Sprintf("ss: %v %s", err, out)
		}
		return strings.TrimSpace(out) != "", fmt.Sprintf("nothing listens on TCP port %d in %s", port, n.Name)
	})
}

// PacketSocket opens an AF_PACKET socket bound to ifname inside the
// namespace, for writing raw frames onto that interface (it receives
// nothing).
func (n *netns) PacketSocket(ifname string) (int, error) { return n.packetSocket(ifname, 0) }

// CaptureSocket is a packet socket on ifname that receives every frame
// the interface sends or receives.
func (n *netns) CaptureSocket(ifname string) (int, error) {
	return n.packetSocket(ifname, htons(unix.ETH_P_ALL))
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// packetSocket makes the socket on a thread that enters the namespace and
// is then thrown away (locked and never unlocked), so no other goroutine
// ever runs there.
func (n *netns) packetSocket(ifname string, proto uint16) (int, error) {
	type res struct {
		fd  int
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		fd, err := func() (int, error) {
			f, err := os.Open("/run/netns/" + n.Name)
			if err != nil {
				return -1, err
			}
			defer f.Close()
			if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
				return -1, fmt.Errorf("setns %s: %w", n.Name, err)
			}
			ifi, err := net.InterfaceByName(ifname)
			if err != nil {
				return -1, err
			}
			fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto))
			if err != nil {
				return -1, err
			}
			if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: proto}); err != nil {
				unix.Close(fd)
				return -1, err
			}
			return fd, nil
		}()
		ch <- res{fd, err}
	}()
	r := <-ch
	return r.fd, r.err
}

// lcoreCPU is the CPU of the tap tests' forwarding lcore (lcore 1 of
// "0-1" runs on CPU 1).
const lcoreCPU = 1

// generatorCPUs is the CPU set for the test's traffic generators (flood,
// ping, iperf3): every CPU this process may use but the forwarding
// lcore's, so they take no time from it (on a real network they run on
// other machines). Empty when there is no other CPU.
func generatorCPUs() unix.CPUSet {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		set.Zero()
		return set
	}
	set.Clear(lcoreCPU)
	return set
}

// offLcore prefixes a command with taskset so it runs on generatorCPUs.
func offLcore(args ...string) []string {
	set := generatorCPUs()
	var cpus []string
	for c := 0; c < 1024; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, strconv.Itoa(c))
		}
	}
	if len(cpus) == 0 {
		return args
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return args
	}
	return append([]string{"taskset", "-c", strings.Join(cpus, ",")}, args...)
}

// flood writes frames (round robin) to a packet socket at about pps
// frames per second (0: as fast as it can) until stop is closed, max
// frames are written or the deadline passes. It returns the frames
// written and how long it took; a full device queue (ENOBUFS) is counted
// and skipped.
func flood(fd int, frames [][]byte, pps int, max int, deadline time.Time, stop <-chan struct{}) (sent, full int, took time.Duration, err error) {
	// Off the forwarding lcore's CPU (the thread is given back pinned only
	// to the generators' CPUs: locked and never unlocked, it dies with the
	// goroutine).
	runtime.LockOSThread()
	if set := generatorCPUs(); set.Count() > 0 {
		_ = unix.SchedSetaffinity(0, &set)
	}
	start := time.Now()
	const batch = 64
	for sent < max {
		select {
		case <-stop:
			return sent, full, time.Since(start), nil
		default:
		}
		now := time.Now()
		if now.After(deadline) {
			break
		}
		if pps > 0 {
			// Pace: be no further ahead than the rate allows.
			due := start.Add(time.Duration(float64(sent) / float64(pps) * float64(time.Second)))
			if d := due.Sub(now); d > 0 {
				time.Sleep(d)
			}
		}
		for i := 0; i < batch && sent < max; i++ {
			_, werr := unix.Write(fd, frames[sent%len(frames)])
			if errors.Is(werr, unix.ENOBUFS) || errors.Is(werr, unix.EAGAIN) {
				full++
			} else if werr != nil {
				return sent, full, time.Since(start), werr
			}
			sent++
		}
	}
	return sent, full, time.Since(start), nil
}
