package tracingtest_test

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// exampleT stands in for the *testing.T a real test passes.
type exampleT struct {
	failures int
	cleanups []func()
}

func (t *exampleT) Helper()                           {}
func (t *exampleT) Errorf(format string, args ...any) { t.failures++ }
func (t *exampleT) Fatalf(format string, args ...any) { t.failures++ }
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }

// done runs the cleanups, as the testing package does when a test ends.
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// OrderID is a business key as a company declares it: it travels.
var OrderID = tracing.NewStringKey("order.id", tracing.Travels())

// chargePayment is the code under test.
func chargePayment(ctx context.Context, orderID string) error {
	ctx = tracing.SetBusiness(ctx, OrderID.String(orderID))
	return tracing.Run(ctx, "checkout.charge_payment", func(ctx context.Context) error {
		return tracing.Run(ctx, "payments.call_provider", func(context.Context) error {
			return errors.New("card declined")
		})
	})
}

func Example() {
	t := &exampleT{}
	defer t.done()
	rec := tracingtest.New(t)

	err := chargePayment(context.Background(), "o-42")

	charge := rec.Span(t, "checkout.charge_payment")
	call := rec.Span(t, "payments.call_provider")
	fmt.Println("error:", err)
	fmt.Println("parent:", rec.AssertParent(t, charge, call))
	fmt.Println("names:", rec.AssertNames(t))
	fmt.Println("business:", rec.AssertBusiness(t, []attribute.Key{OrderID.Key()}))
	fmt.Println("status:", call.Status().Code)
	fmt.Println("no secrets:", rec.AssertNoSecrets(t))
	fmt.Println("all ended:", rec.AssertAllEnded(t))
	fmt.Println("failures:", t.failures)
	// Output:
	// error: card declined
	// parent: true
	// names: true
	// business: true
	// status: Error
	// no secrets: true
	// all ended: true
	// failures: 0
}

// accept is code under test that hands work to a background worker: it
// returns before the worker's span ends.
func accept(ctx context.Context, work chan<- context.Context) error {
	return tracing.Run(ctx, "orders.accept", func(ctx context.Context) error {
		work <- ctx
		return nil
	})
}

// fulfil is the background worker, as a Kafka consumer or an outbox relay
// would run it.
func fulfil(work <-chan context.Context) {
	for ctx := range work {
		_ = tracing.Run(ctx, "orders.fulfil", func(context.Context) error { return nil })
	}
}

// A span that ends on another goroutine, after the call under test
// returns, is waited for: WaitFor wakes when it is recorded, or fails the
// test after the wait timeout.
func ExampleRecorder_WaitFor() {
	t := &exampleT{}
	defer t.done()
	rec := tracingtest.New(t)
	work := make(chan context.Context, 1)
	defer close(work)
	go fulfil(work)

	err := accept(context.Background(), work)

	fulfilled := rec.WaitFor(t, "orders.fulfil")
	fmt.Println("error:", err)
	fmt.Println("ended:", !fulfilled.EndTime().IsZero())
	fmt.Println("parent:", rec.AssertParent(t, rec.Span(t, "orders.accept"), fulfilled))
	fmt.Println("ok:", rec.AssertOK(t, fulfilled))
	fmt.Println("failures:", t.failures)
	// Output:
	// error: <nil>
	// ended: true
	// parent: true
	// ok: true
	// failures: 0
}
