"""reconciler: a declarative reconciler for immutable EC2 fleets.

Data flows one way: load → evaluate → graph → refresh → plan → (render | save) → apply → state.
"""

__version__ = "0.1.0"
