"""The ``rt-grasp`` command line."""
