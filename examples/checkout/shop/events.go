package shop

// Item is one line of an order.
type Item struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// CheckoutRequest is what a client posts to the gateway's /checkout.
type CheckoutRequest struct {
	// OrderID is the client's idempotency key; the gateway makes one when
	// it is empty.
	OrderID  string `json:"order_id,omitempty"`
	UserID   string `json:"user_id"`
	Items    []Item `json:"items"`
	Currency string `json:"currency"`
	Card     string `json:"card"`
}

// CheckoutResponse is the gateway's answer.
type CheckoutResponse struct {
	OrderID string `json:"order_id,omitempty"`
	TraceID string `json:"trace_id"`
	Error   string `json:"error,omitempty"`
}

// OrderPlaced is published on the orders topic, through the outbox.
type OrderPlaced struct {
	OrderID     string `json:"order_id"`
	UserID      string `json:"user_id"`
	AmountCents int64  `json:"amount_cents"`
	Currency    string `json:"currency"`
	Card        string `json:"card"`
}

// PaymentResult is published on the payments topic.
type PaymentResult struct {
	OrderID     string `json:"order_id"`
	UserID      string `json:"user_id"`
	AmountCents int64  `json:"amount_cents"`
	Currency    string `json:"currency"`
	Paid        bool   `json:"paid"`
	Reason      string `json:"reason,omitempty"`
}
