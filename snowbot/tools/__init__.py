"""Tools around the bot: the benchmark, the demo, the stand-in Bot API, `snowbot play`."""
