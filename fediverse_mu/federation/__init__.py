"""Federation: HTTP signatures, the one signed and SSRF-safe HTTP transport, remote fetching,
the inbox (receive and process) and outgoing delivery. The only package that talks HTTP to
other servers."""
