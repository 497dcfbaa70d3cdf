"""Customer intelligence: order aggregates, RFM, lifecycle stage, BG/NBD + Gamma-Gamma predictions, audiences."""
