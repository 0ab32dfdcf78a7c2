package httptrace_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Retries wait on timers and otelhttp ends client spans from body closes:
// nothing may outlive a test.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Idle keep-alive connections of http.DefaultTransport, which
		// the clients under test use.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}
