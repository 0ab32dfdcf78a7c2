package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Placed is one order the driver placed and what came of it.
type Placed struct {
	Request  CheckoutRequest
	Status   int
	Response CheckoutResponse
	// TraceID is read from the gateway's traceresponse header.
	TraceID trace.TraceID
	Err     error
	// Settled is set by [System.Wait] when the order's notification was
	// handled, with or without success.
	Settled bool
}

// Accepted reports whether the gateway took the order.
func (p Placed) Accepted() bool { return p.Err == nil && p.Status == http.StatusCreated }

// DemoOrders is the handful of orders `go run ./examples/checkout` places:
// normal ones, a declined card, an order that is out of stock, a JPY order,
// and a large order when the slow-stock incident is on.
func DemoOrders(sc Scenarios) []CheckoutRequest {
	orders := []CheckoutRequest{
		{UserID: "u-1001", Currency: "EUR", Card: "4242424242424242", Items: items(3, 1)},
		{UserID: "u-1002", Currency: "USD", Card: DeclinedCard, Items: items(2, 1)},
		{UserID: "u-1003", Currency: "EUR", Card: "4242424242424242", Items: []Item{{SKU: "sku-0100", Qty: 5000}}},
		{UserID: "u-1004", Currency: "JPY", Card: "4242424242424242", Items: items(3, 2)},
	}
	if sc.PaymentConfig || sc.FixedPartitions {
		for i := range 6 {
			orders = append(orders, CheckoutRequest{UserID: fmt.Sprintf("u-20%02d", i), Currency: "EUR",
				Card: "4242424242424242", Items: items(2, 1)})
		}
	}
	if sc.SlowStock {
		orders = append(orders, CheckoutRequest{UserID: "u-1005", Currency: "EUR", Card: "4242424242424242", Items: items(47, 1)})
	}
	return orders
}

// items returns n distinct order lines of qty each.
func items(n, qty int) []Item {
	out := make([]Item, n)
	for i := range out {
		out[i] = Item{SKU: fmt.Sprintf("sku-%04d", (i*37+11)%CatalogSize), Qty: qty}
	}
	return out
}

// Place posts each order to the gateway at base, concurrency at a time.
func Place(ctx context.Context, base string, orders []CheckoutRequest, concurrency int) []Placed {
	if concurrency < 1 {
		concurrency = 1
	}
	out := make([]Placed, len(orders))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, o := range orders {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = placeOne(ctx, base, o)
		})
	}
	wg.Wait()
	return out
}

func placeOne(ctx context.Context, base string, o CheckoutRequest) Placed {
	p := Placed{Request: o}
	b, _ := json.Marshal(o)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/checkout", bytes.NewReader(b))
	if err != nil {
		p.Err = err
		return p
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.Err = err
		return p
	}
	defer resp.Body.Close()
	p.Status = resp.StatusCode
	_ = json.NewDecoder(resp.Body).Decode(&p.Response)
	p.TraceID = TraceIDOf(resp.Header.Get("traceresponse"))
	return p
}

// TraceIDOf parses the trace id out of a traceresponse (or traceparent)
// header value; the zero id when it does not parse.
func TraceIDOf(v string) trace.TraceID {
	parts := strings.Split(v, "-")
	if len(parts) != 4 {
		return trace.TraceID{}
	}
	id, err := trace.TraceIDFromHex(parts[1])
	if err != nil {
		return trace.TraceID{}
	}
	return id
}

// Wait waits until every accepted order is settled (its notification was
// handled) or until timeout: an order lost on the way never settles.
func (sys *System) Wait(placed []Placed, timeout time.Duration) {
	deadline := time.After(timeout)
	expired := false
	for i, p := range placed {
		if !p.Accepted() {
			continue
		}
		settled := sys.Settled(p.Response.OrderID)
		if !expired {
			select {
			case <-settled:
			case <-deadline:
				expired = true
			}
		}
		select {
		case <-settled:
			placed[i].Settled = true
		default:
		}
	}
}

// Report writes, for each order, its outcome, its trace as a waterfall and
// its log lines.
func Report(w io.Writer, tel *Telemetry, placed []Placed) error {
	ids := make([]trace.TraceID, len(placed))
	for i, p := range placed {
		ids[i] = p.TraceID
	}
	if err := tel.AwaitTraces(2*time.Second, ids...); err != nil {
		return err
	}
	for i, p := range placed {
		outcome := fmt.Sprint(p.Status)
		if p.Err != nil {
			outcome = p.Err.Error()
		} else if p.Response.Error != "" {
			outcome += " " + p.Response.Error
		} else if !p.Settled {
			outcome += ", but no confirmation email was handled: look for where the trace ends"
		}
		fmt.Fprintf(w, "\n━━ order %d/%d  %s  user=%s  items=%d  %s  →  %s\n   trace_id=%s\n\n",
			i+1, len(placed), p.Response.OrderID, p.Request.UserID, len(p.Request.Items), p.Request.Currency, outcome, p.TraceID)
		if err := render(w, tel.Spans.Trace(p.TraceID)); err != nil {
			return err
		}
		fmt.Fprintf(w, "\n   log lines with trace_id=%s:\n", p.TraceID)
		for _, l := range tel.Logs.Trace(p.TraceID) {
			fmt.Fprintf(w, "   %s\n", l)
		}
	}
	return nil
}
