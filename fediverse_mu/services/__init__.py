"""Use cases (accounts, tokens, the instance, later posting, following, groups, places…).
Services never do HTTP and never import a face; they write their change and its jobs in one
transaction and announce what happened on the event bus."""
