"""HTTP: the JSON API, Twilio webhooks, the vanguard's one-tap page and the demo phones."""
