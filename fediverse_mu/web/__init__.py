"""The faces seen over HTTP: Mastodon client API, ActivityPub endpoints, HTML pages. Handlers
are thin: read input, call one service, render (Mastodon JSON, AS2 JSON or a template)."""
