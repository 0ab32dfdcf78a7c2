module github.com/otelkit/otelkit/sqltrace/outbox

go 1.26.0

require (
	github.com/jackc/pgx/v5 v5.12.0
	github.com/otelkit/otelkit v0.0.0-00010101000000-000000000000
	github.com/otelkit/otelkit/httptrace v0.0.0-00010101000000-000000000000
	github.com/otelkit/otelkit/internal/kafkaerr v0.0.0-00010101000000-000000000000
	github.com/otelkit/otelkit/internal/kafkatest v0.0.0-00010101000000-000000000000
	github.com/otelkit/otelkit/internal/pgtest v0.0.0-00010101000000-000000000000
	github.com/otelkit/otelkit/kafkatrace v0.0.0-00010101000000-000000000000
	github.com/otelkit/otelkit/sdk v0.0.0-00010101000000-000000000000
	github.com/twmb/franz-go v1.22.2
	github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c
	github.com/twmb/franz-go/pkg/kmsg v1.15.0
	go.opentelemetry.io/contrib/propagators/b3 v1.47.0
	go.opentelemetry.io/otel v1.47.0
	go.opentelemetry.io/otel/metric v1.47.0
	go.opentelemetry.io/otel/sdk v1.47.0
	go.opentelemetry.io/otel/sdk/metric v1.47.0
	go.opentelemetry.io/otel/trace v1.47.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/felixge/httpsnoop v1.1.0 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/pierrec/lz4/v4 v4.1.33 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp v0.72.0 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/term v0.47.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace (
	github.com/otelkit/otelkit => ../..
	github.com/otelkit/otelkit/httptrace => ../../httptrace
	github.com/otelkit/otelkit/internal/kafkaerr => ../../internal/kafkaerr
	github.com/otelkit/otelkit/internal/kafkatest => ../../internal/kafkatest
	github.com/otelkit/otelkit/internal/pgtest => ../../internal/pgtest
	github.com/otelkit/otelkit/kafkatrace => ../../kafkatrace
	github.com/otelkit/otelkit/sdk => ../../sdk
)
