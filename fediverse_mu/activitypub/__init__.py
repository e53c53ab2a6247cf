"""Pure ActivityPub protocol code: vocabulary helpers, validation of incoming documents,
``parse_*`` (raw dict -> domain) and ``render_*`` (domain -> raw dict). No I/O."""
