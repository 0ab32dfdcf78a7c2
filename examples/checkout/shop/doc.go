// Package shop is the example checkout system: the services, their wiring,
// the incidents they can be switched into, and a driver that places orders.
//
// It is the reference for using otelkit in services. Every service gets its
// own providers from otelsetup.Setup (with otelsetup.WithoutGlobals, since one
// process may host them all) and passes them to the instrumentation:
// httptrace for HTTP servers and clients, sqltrace for the pgx pools,
// sqltrace/outbox for the order event written in the order's transaction,
// kafkatrace for the producers and consumers, logcorr for the logs. The
// business code only passes contexts along and names its own steps with
// tracing.Run; the edge sets the order's business context once with
// tracing.SetBusiness, and baggage carries it to every other service.
//
// # Services
//
//	gateway          HTTP edge: POST /checkout; fans out to pricing, inventory
//	                 and recommendations in parallel, then calls orders
//	orders           POST /orders: asks inventory (with retries), then writes
//	                 the order and its outbox row in one transaction
//	outbox-relay     publishes outbox rows to the "orders" topic under the
//	                 trace context stored with each row
//	payments         consumes "orders", charges the payment provider over
//	                 HTTP, publishes to "payments"
//	payment-provider a fake of the external provider, not instrumented
//	inventory        POST /stock/validate, GET /stock/availability: stock queries
//	notifications    consumes "payments", sends the confirmation email
//	pricing          POST /price
//	recommendations  POST /recommendations (the user id in the body)
//
// [Start] runs any subset of them in one process; a service whose peers run
// elsewhere needs their base URLs in [Config.Peers] ([PeersOf] lists them,
// [CheckPeers] checks them, a missing one is a [*PeerError]). [Telemetry]
// collects their spans and logs; [Place], [System.Wait] and [Report] drive and show orders.
// [Scenarios] switches on the incidents of the scenario table.
package shop
