package shop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/sqltrace/outbox"
	"github.com/otelkit/otelkit/tracing"
)

// ---- gateway ---------------------------------------------------------------

// gateway is the HTTP edge: it names the order, quotes it by calling
// pricing, inventory and recommendations in parallel, and places it with
// orders.
type gateway struct {
	s       svc
	client  *http.Client
	peers   Peers
	degrade bool
}

func (g *gateway) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", g.checkout)
	return mux
}

// checkout answers with the trace id in the body too (the traceresponse
// header carries it as well), so that a support ticket can quote it.
func (g *gateway) checkout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	resp := CheckoutResponse{TraceID: trace.SpanContextFromContext(ctx).TraceID().String()}
	var req CheckoutRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.UserID == "" || len(req.Items) == 0 {
		resp.Error = "bad request: need user_id and items"
		writeJSON(w, http.StatusBadRequest, resp)
		return
	}
	if req.OrderID == "" {
		req.OrderID = newOrderID()
	}
	resp.OrderID = req.OrderID
	ctx = tracing.SetBusiness(ctx, OrderID.String(req.OrderID), tracing.UserID.String(req.UserID),
		OrderItemCount.Int64(int64(len(req.Items))))
	g.s.log.InfoContext(ctx, "checkout started", "items", len(req.Items))

	amount, err := g.quote(ctx, req)
	if err != nil {
		g.s.log.ErrorContext(ctx, "checkout failed: quote", "err", err)
		resp.Error = err.Error()
		writeJSON(w, http.StatusBadGateway, resp)
		return
	}
	ctx = tracing.SetBusiness(ctx, OrderAmount.Float64(float64(amount)/100), OrderCurrency.String(req.Currency))
	place := PlaceOrder{OrderPlaced: OrderPlaced{OrderID: req.OrderID, UserID: req.UserID, AmountCents: amount,
		Currency: req.Currency, Card: req.Card}, Items: req.Items}
	status, body, err := call(httptrace.ContextWithURLTemplate(ctx, "/orders"), g.client, http.MethodPost, g.peers.Orders+"/orders", place)
	switch {
	case err != nil:
		resp.Error, status = err.Error(), http.StatusBadGateway
	case status != http.StatusCreated:
		resp.Error = strings.TrimSpace(string(body))
		if status >= 500 {
			status = http.StatusBadGateway
		}
	}
	if resp.Error != "" {
		g.s.log.ErrorContext(ctx, "checkout failed: orders", "status", status, "err", resp.Error)
	} else {
		g.s.log.InfoContext(ctx, "checkout accepted", "amount_cents", amount, "currency", req.Currency)
	}
	writeJSON(w, status, resp)
}

// quote fans out to pricing, inventory and recommendations in parallel.
// Recommendations are optional: when degrade is on, their failure is logged
// and the checkout goes on.
func (g *gateway) quote(ctx context.Context, req CheckoutRequest) (amount int64, err error) {
	err = tracing.Run(ctx, "checkout.quote", func(ctx context.Context) error {
		skus := make([]string, len(req.Items))
		for i, it := range req.Items {
			skus[i] = it.SKU
		}
		var wg sync.WaitGroup
		var priceErr, stockErr, recErr error
		wg.Go(func() {
			var p struct {
				AmountCents int64 `json:"amount_cents"`
			}
			priceErr = callJSON(httptrace.ContextWithURLTemplate(ctx, "/price"), g.client, http.MethodPost, g.peers.Pricing+"/price", req.Items, &p)
			amount = p.AmountCents
		})
		wg.Go(func() {
			stockErr = callJSON(httptrace.ContextWithURLTemplate(ctx, "/stock/availability"), g.client, http.MethodGet,
				g.peers.Inventory+"/stock/availability?skus="+url.QueryEscape(strings.Join(skus, ",")), nil, nil)
		})
		wg.Go(func() {
			// The user id goes in the body: a URL is recorded on every
			// span and access log of the call, and personal data has no
			// place there.
			recErr = callJSON(httptrace.ContextWithURLTemplate(ctx, "/recommendations"), g.client, http.MethodPost, g.peers.Recommendations+"/recommendations",
				RecommendationsRequest{UserID: req.UserID}, nil)
		})
		wg.Wait()
		if recErr != nil {
			if !g.degrade {
				return fmt.Errorf("recommendations: %w", recErr)
			}
			g.s.log.WarnContext(ctx, "recommendations unavailable, checkout goes on without them", "err", recErr)
		}
		return errors.Join(priceErr, stockErr)
	})
	return amount, err
}

func newOrderID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "ord_" + hex.EncodeToString(b[:])
}

// ---- pricing, recommendations -----------------------------------------------

type pricing struct{}

func (p pricing) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /price", p.price)
	return mux
}

func (pricing) price(w http.ResponseWriter, r *http.Request) {
	var items []Item
	if err := json.NewDecoder(r.Body).Decode(&items); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var total int64
	for _, it := range items {
		total += int64(it.Qty) * Price(it.SKU)
	}
	writeJSON(w, http.StatusOK, map[string]int64{"amount_cents": total})
}

// Price is the unit price of a SKU in cents.
func Price(sku string) int64 {
	h := fnv.New32a()
	h.Write([]byte(sku))
	return 100 + int64(h.Sum32()%4900)
}

// RecommendationsRequest is what the gateway posts to recommendations.
type RecommendationsRequest struct {
	UserID string `json:"user_id"`
}

type recommendations struct{ fail bool }

func (rc recommendations) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /recommendations", rc.recommend)
	return mux
}

func (rc recommendations) recommend(w http.ResponseWriter, r *http.Request) {
	var req RecommendationsRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.UserID == "" {
		http.Error(w, "need user_id", http.StatusBadRequest)
		return
	}
	if rc.fail {
		// The model backend is down: recommendations give up on it after a
		// short wait, as a client with a timeout does, so the failing call
		// overlaps its siblings in the fan-out rather than answering at once.
		select {
		case <-time.After(30 * time.Millisecond):
		case <-r.Context().Done():
		}
		http.Error(w, "recommendation model backend unavailable", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, []string{"sku-0042", "sku-0007"})
}

// ---- orders ----------------------------------------------------------------

// PlaceOrder is what the gateway posts to orders.
type PlaceOrder struct {
	OrderPlaced
	Items []Item `json:"items"`
}

// errOutOfStock is inventory's answer when an item is short.
var errOutOfStock = errors.New("out of stock")

// orders validates stock with inventory, then writes the order and its
// outbox event in one transaction.
type orders struct {
	s         svc
	pool      *pgxpool.Pool
	outbox    *outbox.Writer
	client    *http.Client
	inventory string
}

func (o *orders) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", o.place)
	return mux
}

func (o *orders) place(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req PlaceOrder
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := o.validateStock(ctx, req.Items); err != nil {
		o.s.log.ErrorContext(ctx, "order rejected", "err", err)
		status := http.StatusServiceUnavailable
		if errors.Is(err, errOutOfStock) {
			status = http.StatusConflict
		}
		http.Error(w, err.Error(), status)
		return
	}
	if err := o.save(ctx, req); err != nil {
		o.s.log.ErrorContext(ctx, "order not saved", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	o.s.log.InfoContext(ctx, "order saved")
	w.WriteHeader(http.StatusCreated)
}

// validateStock asks inventory. Its client times out an attempt that gets
// no answer in time and retries it (see inventoryClient).
func (o *orders) validateStock(ctx context.Context, items []Item) error {
	status, body, err := call(httptrace.ContextWithURLTemplate(ctx, "/stock/validate"), o.client, http.MethodPost, o.inventory+"/stock/validate", items)
	switch {
	case err != nil:
		return fmt.Errorf("inventory: %w", err)
	case status == http.StatusOK:
		return nil
	case status == http.StatusConflict:
		return fmt.Errorf("%w: %s", errOutOfStock, strings.TrimPrefix(strings.TrimSpace(string(body)), "out of stock: "))
	default:
		return fmt.Errorf("inventory: %d %s", status, strings.TrimSpace(string(body)))
	}
}

// inventoryRetries is how many times orders retries a failed stock check.
const inventoryRetries = 3

// inventoryClient is orders' client for inventory: an attempt that has no
// answer within timeout, or a 5xx answer, is retried inventoryRetries times.
// Each attempt is its own client span with http.request.resend_count.
func inventoryClient(s svc, timeout time.Duration) *http.Client {
	retryable := func(r *http.Request, resp *http.Response, err error) bool {
		if err != nil {
			s.log.WarnContext(r.Context(), "inventory attempt failed", "err", err)
			return !errors.Is(err, context.Canceled)
		}
		return resp.StatusCode >= 500
	}
	return s.client(func(t *http.Transport) { t.ResponseHeaderTimeout = timeout },
		httptrace.WithRetry(inventoryRetries, 10*time.Millisecond, retryable))
}

func (o *orders) save(ctx context.Context, req PlaceOrder) error {
	tx, err := o.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `INSERT INTO orders (id, user_id, amount_cents, currency) VALUES ($1, $2, $3, $4)`,
		req.OrderID, req.UserID, req.AmountCents, req.Currency); err != nil {
		return err
	}
	for _, it := range req.Items {
		if _, err := tx.Exec(ctx, `INSERT INTO order_items (order_id, sku, qty) VALUES ($1, $2, $3)`, req.OrderID, it.SKU, it.Qty); err != nil {
			return err
		}
	}
	payload, _ := json.Marshal(req.OrderPlaced)
	if err := o.outbox.Enqueue(ctx, tx, outbox.Message{Topic: TopicOrders, Key: []byte(req.OrderID), Value: payload}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// ---- inventory -------------------------------------------------------------

type inventory struct {
	s    svc
	pool *pgxpool.Pool
	slow bool
}

func (inv *inventory) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /stock/validate", inv.validateHandler)
	mux.HandleFunc("GET /stock/availability", inv.availability)
	return mux
}

func (inv *inventory) validateHandler(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var items []Item
	if err := json.NewDecoder(r.Body).Decode(&items); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	short, err := inv.validate(ctx, items)
	switch {
	case err != nil:
		inv.s.log.ErrorContext(ctx, "stock validation failed", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
	case short != "":
		inv.s.log.WarnContext(ctx, "out of stock", "sku", short)
		http.Error(w, "out of stock: "+short, http.StatusConflict)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func (inv *inventory) availability(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var n int
	err := tracing.Run(ctx, "inventory.check_availability", func(ctx context.Context) error {
		skus := strings.Split(r.URL.Query().Get("skus"), ",")
		return inv.pool.QueryRow(ctx, `SELECT count(DISTINCT sku) FROM stock WHERE sku = ANY($1) AND qty > 0`, skus).Scan(&n)
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"available": n})
}

// validate checks every line of the order against the stock, one query per
// SKU, and returns the first SKU that is short.
func (inv *inventory) validate(ctx context.Context, items []Item) (short string, err error) {
	err = tracing.Run(ctx, "inventory.validate_stock_levels", func(ctx context.Context) error {
		trace.SpanFromContext(ctx).SetAttributes(OrderItemCount.Int64(int64(len(items))))
		if inv.slow {
			// The incident: inventory is saturated and answers late.
			select {
			case <-time.After(3 * time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for _, it := range items {
			var available int
			if err := inv.pool.QueryRow(ctx, `SELECT coalesce(sum(qty), 0) FROM stock WHERE sku = $1`, it.SKU).Scan(&available); err != nil {
				return err
			}
			if available < it.Qty && short == "" {
				short = it.SKU
			}
		}
		return nil
	})
	return short, err
}

// ---- payments and the provider ---------------------------------------------

// ProviderKey is the payment provider's API key: it must never appear in
// clear in a span or a log line.
const ProviderKey = "sk_live_51Hc9xQ2mZ8trK4eVb7Nw"

// Provider API versions: the one the provider accepts, and the one a config
// change rolls out.
const (
	APIVersionStable = "2024-06-20"
	APIVersionNew    = "2025-01-15"
)

// DeclinedCard is a card number the provider declines.
const DeclinedCard = "4000000000000002"

type payments struct {
	s        svc
	kafka    *kgo.Client
	client   *http.Client
	provider string
	canary   bool
	n        atomic.Int64
}

func (p *payments) handle(ctx context.Context, r *kgo.Record) error {
	var ev OrderPlaced
	if err := json.Unmarshal(r.Value, &ev); err != nil {
		return fmt.Errorf("decode order event: %w", err)
	}
	res := PaymentResult{OrderID: ev.OrderID, UserID: ev.UserID, AmountCents: ev.AmountCents, Currency: ev.Currency, Paid: true}
	version := APIVersionStable
	if p.canary && p.n.Add(1)%7 == 3 {
		version = APIVersionNew // the config change, on one charge in seven
	}
	chargeErr := tracing.Run(ctx, "payments.charge", func(ctx context.Context) error {
		trace.SpanFromContext(ctx).SetAttributes(PaymentProviderName.String("fakepay"), keyAPIVersion.String(version),
			tracing.RedactAttr(keyProviderKey.String(ProviderKey)))
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.provider+"/v1/charges",
			strings.NewReader(url.Values{"amount": {fmt.Sprint(ev.AmountCents)}, "currency": {ev.Currency}, "card": {ev.Card}}.Encode()))
		req.Header.Set("Authorization", "Bearer "+ProviderKey)
		req.Header.Set("Provider-Version", version)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := p.client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		switch resp.StatusCode {
		case http.StatusOK:
			p.s.log.InfoContext(ctx, "payment captured", "amount_cents", ev.AmountCents, "api_version", version)
			return nil
		case http.StatusPaymentRequired:
			res.Paid, res.Reason = false, "card declined"
			p.s.log.InfoContext(ctx, "card declined", "api_version", version)
			return nil
		default:
			return fmt.Errorf("payment provider: %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		}
	})
	if chargeErr != nil {
		res.Paid, res.Reason = false, "payment error"
		p.s.log.ErrorContext(ctx, "charge failed", "err", chargeErr, "api_version", version)
	}
	out, _ := json.Marshal(res)
	if err := p.kafka.ProduceSync(ctx, &kgo.Record{Topic: TopicPayments, Key: []byte(ev.OrderID), Value: out}).FirstErr(); err != nil {
		return errors.Join(chargeErr, err)
	}
	return chargeErr
}

// providerClient is payments' client for the payment provider, which is
// outside the company: it is sent neither baggage nor trace context.
func providerClient(s svc, provider string) *http.Client {
	u, _ := url.Parse(provider)
	return s.client(nil, httptrace.WithTrustedHostFn(func(r *http.Request) bool {
		return r.URL.Host != u.Host && httptrace.InternalHost(r)
	}))
}

// newProvider is the fake external payment provider. It is not ours, so it is
// not instrumented: the trace shows it through payments' client span.
func newProvider() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+ProviderKey {
			http.Error(w, `{"error":"invalid_api_key"}`, http.StatusUnauthorized)
			return
		}
		if v := r.Header.Get("Provider-Version"); v != APIVersionStable {
			// Keys are scoped to an API version: the new one needs a new key.
			http.Error(w, `{"error":"invalid_api_key","detail":"key not valid for version `+v+`"}`, http.StatusUnauthorized)
			return
		}
		_ = r.ParseForm()
		if r.PostForm.Get("card") == DeclinedCard {
			http.Error(w, `{"error":"card_declined"}`, http.StatusPaymentRequired)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "captured"})
	})
}

// ---- notifications ---------------------------------------------------------

type notifications struct {
	s       svc
	failJPY bool
	done    func(orderID string)
}

func (n *notifications) handle(ctx context.Context, r *kgo.Record) error {
	var ev PaymentResult
	if err := json.Unmarshal(r.Value, &ev); err != nil {
		return fmt.Errorf("decode payment event: %w", err)
	}
	if n.done != nil {
		defer n.done(ev.OrderID)
	}
	return tracing.Run(ctx, "notifications.send_confirmation", func(ctx context.Context) error {
		body, err := n.render(ev)
		if err != nil {
			n.s.log.ErrorContext(ctx, "confirmation email not sent", "err", err)
			return err
		}
		// No recipient: the user id is personal data; order.id, which the
		// log handler adds, is enough to find the record.
		n.s.log.InfoContext(ctx, "confirmation email sent", "bytes", len(body))
		return nil
	})
}

// TemplateError is a confirmation email that could not be rendered.
type TemplateError struct {
	Template, Reason string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("render template %q: %s", e.Template, e.Reason)
}

func (n *notifications) render(ev PaymentResult) (string, error) {
	if n.failJPY && ev.Currency == "JPY" {
		return "", &TemplateError{Template: "order_confirmation", Reason: `no currency format for "JPY"`}
	}
	status := "is confirmed"
	if !ev.Paid {
		status = "could not be paid: " + ev.Reason
	}
	return fmt.Sprintf("Your order %s of %.2f %s %s.", ev.OrderID, float64(ev.AmountCents)/100, ev.Currency, status), nil
}

// ---- plumbing ---------------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// call sends v as JSON (when not nil) and returns the status and body.
func call(ctx context.Context, c *http.Client, method, url string, v any) (int, []byte, error) {
	var body io.Reader
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// callJSON is call that wants a 2xx and decodes the answer into out.
func callJSON(ctx context.Context, c *http.Client, method, url string, v, out any) error {
	status, b, err := call(ctx, c, method, url, v)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, url, status, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func kerrOf(code int16) error {
	if err := kerr.ErrorForCode(code); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return err
	}
	return nil
}
