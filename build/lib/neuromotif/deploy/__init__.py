"""neuromotif deploy side: compiler, bundle, backends (numpy / Lava) and the CLI."""
