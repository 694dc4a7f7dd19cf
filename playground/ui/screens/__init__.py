"""The app's screens: picker, run, compare, help."""
