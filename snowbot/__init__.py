"""snowbot: run a city's volunteer snow-clearing effort in Telegram."""

__version__ = "0.1.0"
