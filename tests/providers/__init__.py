"""Tests of providers/: the AWS provider against a real moto server over HTTP, and its pure parts."""
