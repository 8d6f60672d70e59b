"""Federation between exchange nodes: signed change log, feeds, push wake-ups, pulls, apply, anti-entropy."""
