"""Planning: the plan vocabulary (`model`), the pure decision functions (`decide`) and the
planner that refreshes state and builds a Plan (`planner`)."""
