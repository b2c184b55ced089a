"""SavedModel export for TF Serving: numbered, atomically published versions."""
