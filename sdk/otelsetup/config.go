package otelsetup

// config is the configuration of [Setup]. The SDK half (resource, exporters,
// sampler, propagators, metrics) lives in setupConfig; the conventions half
// (business keys, baggage copying, redaction, error-keeping sampling) lives in
// conventionsConfig.
type config struct {
	setup setupConfig
	conv  conventionsConfig
}

// Option configures [Setup].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }
