package main

// The fairness phase's CPU-bound process: `steer-bench spin` (hidden) runs
// a tight loop and says how fast it went, so the share of a CPU it gets
// next to steer's lcore shows as its speed against its speed alone.

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// spinChunk iterations run between two looks at the clock (tens of
// microseconds): the clock costs nothing against them.
const spinChunk = 1 << 14

// spinMain is `steer-bench spin --seconds N [--every D]`: a tight loop for
// N seconds that prints "progress <unix ns> <iterations>" every D and at
// its end "<rate> iterations/s". It never touches memory: only the CPU
// time it is given counts.
func spinMain(args []string) int {
	fs := flag.NewFlagSet("spin", flag.ContinueOnError)
	secs := fs.Float64("seconds", 3, "how long to spin")
	every := fs.Duration("every", 100*time.Millisecond, "how often to print progress")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *secs <= 0 || *every <= 0 {
		fmt.Fprintln(os.Stderr, "spin: --seconds and --every must be positive")
		return 2
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	rate := spin(seconds(*secs), *every, w)
	fmt.Fprintf(w, "%.0f iterations/s\n", rate)
	return 0
}

// spinSink keeps the loop's result alive so the compiler cannot drop it.
var spinSink uint64

// spin runs the loop for d, writing progress lines to w every interval,
// and returns its iterations per second.
func spin(d, every time.Duration, w io.Writer) float64 {
	start := time.Now()
	end, next := start.Add(d), start.Add(every)
	x, n := uint64(1), uint64(0)
	progress := func(at time.Time) {
		fmt.Fprintf(w, "progress %d %d\n", at.UnixNano(), n)
		if f, ok := w.(*bufio.Writer); ok {
			f.Flush()
		}
	}
	progress(start)
	for {
		for range spinChunk {
			x = x*6364136223846793005 + 1442695040888963407 // one LCG step: a dependent multiply-add
		}
		n += spinChunk
		now := time.Now()
		if !now.Before(next) || !now.Before(end) {
			progress(now)
			next = next.Add(every)
		}
		if !now.Before(end) {
			spinSink = x
			return float64(n) / now.Sub(start).Seconds()
		}
	}
}

// spinPoint is one progress line: iterations done by a moment.
type spinPoint struct {
	At    time.Time
	Iters uint64
}

// parseSpin reads the progress lines of spin's output (other lines are
// ignored).
func parseSpin(out string) []spinPoint {
	var pts []spinPoint
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "progress" {
			continue
		}
		ns, err1 := strconv.ParseInt(f[1], 10, 64)
		n, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 == nil && err2 == nil {
			pts = append(pts, spinPoint{time.Unix(0, ns), n})
		}
	}
	return pts
}

// spinRate is the iterations per second between the first progress point
// at or after from and the last one at or before to: the spinner's speed
// over a window the bench chose (0 when the window holds fewer than two
// points).
func spinRate(pts []spinPoint, from, to time.Time) float64 {
	first, last := -1, -1
	for i, p := range pts {
		if first < 0 && !p.At.Before(from) {
			first = i
		}
		if !p.At.After(to) {
			last = i
		}
	}
	if first < 0 || last <= first {
		return 0
	}
	a, z := pts[first], pts[last]
	return float64(z.Iters-a.Iters) / z.At.Sub(a.At).Seconds()
}
