"""Moving one region of a launch through its phases: the state machine, exposure ramps and their
delivery to the rollout target, the worker's next step, leases, and halt / resume / roll back.
"""
