package shop_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every service stops its goroutines on Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
