"""The same benchmark scenarios implemented for databridge and each peer server."""
