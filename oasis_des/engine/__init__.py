"""The discrete-event engine: SimPy time, activation schedules, the decision gateway."""
