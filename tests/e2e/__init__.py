"""End-to-end tests: the real npm jssdk client against the real server."""
