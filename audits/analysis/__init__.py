"""Pure analysis over stored results: scoring models, history and league, fingerprints and diff,
the gate's decisions. No SQL and no browser: functions over dataclasses."""
