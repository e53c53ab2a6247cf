"""The Mastodon client REST API face (https://docs.joinmastodon.org/methods/)."""
