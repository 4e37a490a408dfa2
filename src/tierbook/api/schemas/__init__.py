"""Input and output schemas per area; output schemas never carry an unmasked ID or phone."""
