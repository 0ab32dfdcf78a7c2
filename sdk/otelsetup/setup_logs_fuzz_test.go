package otelsetup

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzBLRPEnv: blrpFromEnv reports each bad OTEL_BLRP_* variable as a
// ConfigError naming it, and what it accepts is what the batch log record
// processor applies: a delay of at least 1 ms, a timeout of 0 or more, queue
// and batch sizes of at least 1, the batch never larger than the queue.
func FuzzBLRPEnv(f *testing.F) {
	f.Add("1000", "30000", "2048", "512")
	f.Add("0", "-1", "lots", "0")
	f.Add(" 5 ", "9223372036854775807", "99999999999", "4096")
	f.Add("1e3", "", "1", "1")
	f.Fuzz(func(t *testing.T, delay, timeout, queue, batch string) {
		fuzzSetenv(t, envBLRPScheduleDelay, delay, envBLRPExportTimeout, timeout,
			envBLRPMaxQueueSize, queue, envBLRPMaxExportBatchSize, batch)
		c, err := blrpFromEnv()
		bad := map[string]bool{}
		if err != nil {
			for _, ce := range fuzzConfigErrors(t, err, envBLRPScheduleDelay, envBLRPExportTimeout, envBLRPMaxQueueSize, envBLRPMaxExportBatchSize) {
				if bad[ce.Variable] {
					t.Fatalf("%s reported twice", ce.Variable)
				}
				bad[ce.Variable] = true
			}
		}
		accepted := func(name, v string, least int64) {
			if v = strings.TrimSpace(v); v == "" || bad[name] {
				return
			}
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < least || n > maxMillis {
				t.Fatalf("%s=%q accepted", name, v)
			}
		}
		accepted(envBLRPScheduleDelay, delay, 1)
		accepted(envBLRPExportTimeout, timeout, 0)
		accepted(envBLRPMaxQueueSize, queue, 1)
		accepted(envBLRPMaxExportBatchSize, batch, 1)
		if err == nil && (c.delay < time.Millisecond || c.timeout < 0 || c.maxQueue < 1 || c.maxBatch < 1 || c.maxBatch > c.maxQueue) {
			t.Fatalf("config %+v", c)
		}
	})
}
