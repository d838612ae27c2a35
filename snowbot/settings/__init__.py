"""The operator's config file and the options it checks, read on every floor."""
