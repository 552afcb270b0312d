"""The app's screens: views with setters, filled by ``ui.controller`` (or by sample data
for screenshots), and never calling the core themselves."""
