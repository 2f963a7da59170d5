"""Features: what a product sells, optionally measured by a meter (SPEC § Features)."""
