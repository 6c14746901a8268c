package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/steer-router/steer/pkg/trafgen"
)

// TestSignals: steer without --exit-on-idle keeps forwarding until
// SIGTERM or SIGINT, then stops cleanly: exit 0, a complete stats file,
// every packet in the output pcaps. Readiness is polled through the DPDK
// telemetry socket (ethdev ipackets of both ports), never slept on.
func TestSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) { stopBySignal(t, sig) })
	}
}

func stopBySignal(t *testing.T, sig os.Signal) {
	lanMAC, wanMAC := PortMACs(t)
	b := NewBed(t)
	lanIn := gen(t, trafgen.Flows{SrcMAC: LanHostMAC, DstMAC: lanMAC, Src: lanHosts, Dst: remote,
		Flows: 50, PacketsPerFlow: 40, TTL: 64, Mix: "imix", Seed: 30})
	wanIn := gen(t, trafgen.Flows{SrcMAC: WanPeerMAC, DstMAC: wanMAC, Src: remote, Dst: netip.PrefixFrom(lanHost, 32),
		Flows: 50, PacketsPerFlow: 40, FirstFlow: 1000, TTL: 64, Size: 64, Seed: 31})
	b.WritePcap("lan-in.pcap", lanIn)
	b.WritePcap("wan-in.pcap", wanIn)
	cfg := b.WriteConfig(Standard())
	stats := b.Path("stats.json")

	p := b.Start("run", "--config", cfg, "--stats-file", stats)
	// lan is port 0 and wan port 1 (vdev order).
	want := []uint64{uint64(len(lanIn)), uint64(len(wanIn))}
	Eventually(t, 30*time.Second, func() (bool, string) {
		if p.Exited() {
			t.Fatalf("steer exited on its own before %v\n%s", sig, p.Wait())
		}
		for port, n := range want {
			got, err := b.EthdevRx(port)
			if err != nil {
				return false, fmt.Sprintf("telemetry: %v", err)
			}
			if got != n {
				return false, fmt.Sprintf("port %d received %d of %d packets", port, got, n)
			}
		}
		return true, ""
	})
	if p.Exited() {
		t.Fatalf("steer exited on its own before %v\n%s", sig, p.Wait())
	}
	p.Signal(sig)
	r := p.Wait()
	if r.Code != 0 {
		t.Fatalf("after %v: want exit 0\n%s", sig, r)
	}
	s := b.ReadStats(stats)
	checkAllForwarded(t, b, s, lanMAC, wanMAC, len(lanIn), len(wanIn))
	checkOutputs(t, b, lanMAC, wanMAC, lanIn, wanIn)
	if t.Failed() {
		t.Logf("%s", r)
	}
}
