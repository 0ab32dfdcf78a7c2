//go:build !linux

package bench

import "time"

var start = time.Now()

// threadCPU falls back to wall-clock time where the thread CPU clock is not
// wired up: the paired benchmarks then compare wall time in interleaved
// blocks.
func threadCPU() time.Duration { return time.Since(start) }
