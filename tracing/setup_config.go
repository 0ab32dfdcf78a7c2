package tracing

// setupConfig holds the SDK options of [Setup].
type setupConfig struct{}
