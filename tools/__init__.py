"""Developer tooling behind the Makefile: preflight checks and the synth benchmark."""
