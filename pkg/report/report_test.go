package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/steer-router/steer/pkg/fwd"
)

func TestTotalsBalance(t *testing.T) {
	var ca, cb fwd.LcoreCounters
	ca.Rx, ca.Tx = 10, 6
	ca.Dropped[fwd.DropBadChecksum] = 1
	ca.SlowPath[fwd.SlowARP] = 2
	cb.Rx, cb.Tx = 5, 5
	tot := Sum([]Lcore{FromCounters(1, -1, ca), FromCounters(2, 0, cb)})
	if tot.RxPackets != 15 || tot.TxPackets != 11 || tot.Dropped["bad_checksum"] != 1 || tot.SlowPath["arp"] != 2 {
		t.Errorf("totals %+v", tot)
	}
	if u := tot.Unaccounted(); u != 1 {
		t.Errorf("unaccounted = %d, want 1 (15 in, 11 out, 1 dropped, 2 slow)", u)
	}
	if _, ok := tot.Dropped["tx_full"]; !ok || len(tot.Dropped) != int(fwd.NumDropReasons) || len(tot.SlowPath) != int(fwd.NumSlowReasons) {
		t.Error("totals must list every reason, zeros included")
	}
	rep := &Report{Totals: tot, Mempool: Mempool{Size: 1023}}
	var out bytes.Buffer
	rep.Summary(&out)
	for _, w := range []string{"15 packets in, 11 forwarded", "bad_checksum=1", "arp=2", "1023 mbufs"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, out.String())
		}
	}
}
