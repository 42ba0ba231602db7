"""PMHub's benchmark instrument: `make bench` (see bench/README.md and docs/performance.md)."""
