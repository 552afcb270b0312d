"""Reusable widgets of the Index screen: treemap, regime gauge, price tile, NAV chart and
holdings table. Each takes plain model objects (``wallet_app.models``) and never calls the
core itself, so screens decide when data is fetched and widgets only display it."""
