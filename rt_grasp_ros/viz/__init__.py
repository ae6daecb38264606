"""Pictures: grasp overlays and plots."""
