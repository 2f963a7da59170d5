"""The client's namespaces and streams, written once; see the README beside this package."""
