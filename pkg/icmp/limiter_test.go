package icmp

import (
	"math"
	"sync"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func allowed(l *Limiter, n int) int {
	k := 0
	for range n {
		if l.Allow() {
			k++
		}
	}
	return k
}

func TestLimiterBurstThenRate(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	l := NewLimiter(10, 5, c.now)
	if got := allowed(l, 20); got != 5 {
		t.Fatalf("burst: %d allowed, want 5", got)
	}
	// 10/s: one token every 100 ms, no more.
	for i := range 30 {
		c.advance(100 * time.Millisecond)
		if got := allowed(l, 3); got != 1 {
			t.Fatalf("step %d: %d allowed, want 1", i, got)
		}
	}
	// Half a token is not enough; the other half completes it.
	c.advance(50 * time.Millisecond)
	if l.Allow() {
		t.Fatal("allowed on half a token")
	}
	c.advance(50 * time.Millisecond)
	if !l.Allow() {
		t.Fatal("two halves did not make a token")
	}
}

func TestLimiterRefillCapsAtBurst(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	l := NewLimiter(100, 3, c.now)
	allowed(l, 3)
	c.advance(time.Hour)
	if got := allowed(l, 10); got != 3 {
		t.Fatalf("after a long idle time: %d allowed, want the burst of 3", got)
	}
	c.advance(15 * time.Millisecond) // 1.5 tokens
	if got := allowed(l, 10); got != 1 {
		t.Fatalf("%d allowed, want 1", got)
	}
	c.advance(5 * time.Millisecond) // the kept half plus 0.5
	if got := allowed(l, 10); got != 1 {
		t.Fatalf("%d allowed, want 1", got)
	}
}

func TestLimiterSlowRate(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	l := NewLimiter(0.5, 1, c.now) // one every 2 s
	if !l.Allow() || l.Allow() {
		t.Fatal("burst of 1")
	}
	c.advance(1999 * time.Millisecond)
	if l.Allow() {
		t.Fatal("allowed before 2 s")
	}
	c.advance(time.Millisecond)
	if !l.Allow() {
		t.Fatal("not allowed after 2 s")
	}
}

func TestLimiterDisabledAndUnlimited(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	for _, r := range []float64{0, -1, math.Inf(-1), math.NaN()} {
		l := NewLimiter(r, 100, c.now)
		c.advance(time.Hour)
		if allowed(l, 10) != 0 {
			t.Errorf("rate %v allowed something", r)
		}
	}
	l := NewLimiter(math.Inf(1), 1, c.now)
	if allowed(l, 1000) != 1000 {
		t.Error("+Inf rate limited")
	}
}

func TestLimiterBurstBelowOne(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	l := NewLimiter(1, 0, c.now)
	if got := allowed(l, 5); got != 1 {
		t.Fatalf("burst 0: %d allowed, want 1", got)
	}
	c.advance(time.Second)
	if got := allowed(l, 5); got != 1 {
		t.Fatalf("%d allowed after 1 s, want 1", got)
	}
}

func TestLimiterClockBackwards(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	l := NewLimiter(1, 1, c.now)
	l.Allow()
	c.advance(-time.Hour)
	if l.Allow() {
		t.Fatal("a backwards step refilled the bucket")
	}
	c.advance(time.Second) // refills from the new time, no hour-long stall
	if !l.Allow() {
		t.Fatal("stalled after a backwards step")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
	l := NewLimiter(1, 50, c.now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := allowed(l, 100)
			mu.Lock()
			n += k
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n != 50 {
		t.Fatalf("%d allowed in total, want the burst of 50", n)
	}
}

func TestLimiterRealClock(t *testing.T) {
	l := NewLimiter(1, 2, nil)
	if allowed(l, 5) != 2 {
		t.Fatal("real clock: burst not applied")
	}
}
