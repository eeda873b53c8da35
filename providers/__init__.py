"""Providers: the only code that talks to a cloud. `base` holds the protocol; `aws` implements it."""
