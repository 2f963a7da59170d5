"""Generated from protos/meterd/v1 by `make generate`. Do not edit."""
