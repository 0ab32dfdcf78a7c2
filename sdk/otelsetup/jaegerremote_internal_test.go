package otelsetup

import (
	"testing"
	"time"
)

func TestParseJaegerRemoteArgs(t *testing.T) {
	def := jaegerRemoteArgs{endpoint: defaultJaegerEndpoint, polling: time.Minute, initialRate: 0.001}
	for _, tc := range []struct {
		arg  string
		want jaegerRemoteArgs
	}{
		{"", def},
		{" , ", def},
		{"endpoint=http://jaeger:5778/sampling,pollingIntervalMs=5000,initialSamplingRate=0.25",
			jaegerRemoteArgs{"http://jaeger:5778/sampling", 5 * time.Second, 0.25}},
		{" initialSamplingRate = 1 , endpoint=https://jaeger.internal/sampling",
			jaegerRemoteArgs{"https://jaeger.internal/sampling", time.Minute, 1}},
		{"pollingIntervalMs=1", jaegerRemoteArgs{defaultJaegerEndpoint, time.Millisecond, 0.001}},
		{"initialSamplingRate=0", jaegerRemoteArgs{defaultJaegerEndpoint, time.Minute, 0}},
	} {
		got, err := parseJaegerRemoteArgs(tc.arg)
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.arg, got, err, tc.want)
		}
	}
}
