package batch

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// setenvNoNUL sets the variables of kv (name, value, ...) for the test,
// skipping inputs the environment cannot hold.
func setenvNoNUL(t *testing.T, kv ...string) {
	t.Helper()
	for i := 0; i < len(kv); i += 2 {
		if strings.ContainsRune(kv[i+1], 0) {
			t.Skip("NUL in an environment value")
		}
		t.Setenv(kv[i], kv[i+1])
	}
}

// FuzzBSPEnv: ConfigFromEnv refuses a malformed OTEL_BSP_* value with
// a VarError naming it, and what it accepts stays within bounds: a
// positive delay, a non-negative timeout, a queue of 1 to 1<<24 spans and
// a batch of 1 to the queue size, durations that did not overflow.
func FuzzBSPEnv(f *testing.F) {
	f.Add("", "", "", "")
	f.Add("5000", "30000", "2048", "512")
	f.Add("0", "-1", "0", "4096")
	f.Add("9223372036854", "9223372036855", "99999999999", "1")
	f.Add(" 10 ", "1e3", "0x10", "+5")
	f.Fuzz(func(t *testing.T, delay, timeout, queue, batch string) {
		setenvNoNUL(t, envBSPScheduleDelay, delay, envBSPExportTimeout, timeout, envBSPMaxQueueSize, queue,
			envBSPMaxExportBatchSize, batch)
		c, err := ConfigFromEnv()
		if err != nil {
			var ve *VarError
			if !errors.As(err, &ve) || !slices.Contains([]string{envBSPScheduleDelay, envBSPExportTimeout, envBSPMaxQueueSize, envBSPMaxExportBatchSize}, ve.Name) {
				t.Fatalf("error %v (%T) is not a VarError naming an OTEL_BSP_* variable", err, err)
			}
			return
		}
		if c.delay < time.Millisecond || c.timeout < 0 || c.maxQueue < 1 || c.maxQueue > 1<<24 ||
			c.maxBatch < 1 || c.maxBatch > c.maxQueue {
			t.Fatalf("accepted %+v", c)
		}
		for _, kv := range [][2]string{{delay, ""}, {timeout, ""}} {
			if v := strings.TrimSpace(kv[0]); v != "" {
				if ms, err := strconv.ParseInt(v, 10, 64); err != nil || ms < 0 {
					t.Fatalf("accepted duration %q", kv[0])
				}
			}
		}
		if v := strings.TrimSpace(delay); v != "" {
			ms, _ := strconv.ParseInt(v, 10, 64)
			if c.delay != time.Duration(ms)*time.Millisecond {
				t.Fatalf("delay %q read as %v", delay, c.delay)
			}
		}
	})
}
