package config

import (
	"strings"
	"testing"
)

// TestEALArgs: arguments are resolved as EAL's getopt_long resolves them
// (unique prefixes of long options, short options glued to values or in
// clusters), and only allowed options with good values pass. The first
// cases are the hostile-testing findings of issue 16: each got past the
// old deny-list.
func TestEALArgs(t *testing.T) {
	cases := []struct {
		args []string
		at   int    // index of the problem, -1: none
		msg  string // in the message
	}{
		{[]string{"--file-pre=other"}, 0, "--file-prefix is set by steer from eal.file_prefix"},
		{[]string{"--vde=net_null9"}, 0, "--vdev is set by steer from ports[].device"},
		{[]string{"-d", "/tmp/evil.so"}, 0, "-d is not allowed (it loads a shared library"},
		{[]string{"-d/tmp/evil.so"}, 0, "-d is not allowed"},
		{[]string{"--help"}, 0, "--help is not allowed (it prints EAL's usage"},
		{[]string{"--hel"}, 0, "--help is not allowed"},
		{[]string{"-h"}, 0, "-h is not allowed"},
		{[]string{"--proc=secondary"}, 0, "--proc-type is not allowed"},
		{[]string{"-vd", "x.so"}, 0, "-d is not allowed"}, // a cluster: -v, then -d with a value
		{[]string{"-m512"}, 0, "-m is set by steer from eal.memory_mb"},
		{[]string{"-l", "0-1"}, 0, "-l is set by steer from eal.lcores"},
		{[]string{"--lc=0@0"}, 0, "--lcores is set by steer"},
		{[]string{"--no-p"}, 0, "--no-pci is set by steer"},
		{[]string{"--tr=x"}, 0, "ambiguous"},
		{[]string{"--bogus"}, 0, "not an EAL option"},
		{[]string{"-x"}, 0, "-x is not an EAL option"},
		{[]string{"--log-level=8", "stray"}, 1, "not an EAL option"},
		{[]string{"--"}, 0, "not an EAL option"},
		{[]string{"--iova-mode=ab"}, 0, `"ab": want pa or va`},
		{[]string{"--force-max-simd-bitwidth", "300"}, 0, "64, 128, 256 or 512"},
		{[]string{"-n"}, 0, "-n needs a value"},
		{[]string{"-nx"}, 0, `-n "x"`},
		{[]string{"--no-telemetry=1"}, 0, "takes no value"},
		{[]string{""}, 0, "empty"},
		// allowed
		{[]string{"-n", "4", "-r2", "-v", "--iova=va", "--log-level", "lib.eal:debug", "--log-level=8",
			"--no-tel", "--socket-mem=512,512", "--force-max-simd-bitwidth=512", "--huge-worker-stack",
			"--vfio-intr=msix", "--syslog", "daemon"}, -1, ""},
	}
	for _, c := range cases {
		ps := checkEALArgs(c.args)
		if c.at < 0 {
			if len(ps) != 0 {
				t.Errorf("%q: problems %+v, want none", c.args, ps)
			}
			continue
		}
		if len(ps) != 1 || ps[0].i != c.at || !strings.Contains(ps[0].msg, c.msg) {
			t.Errorf("%q: problems %+v, want one at %d saying %q", c.args, ps, c.at, c.msg)
		}
	}
}
