"""matplotlib figures and ipywidgets apps: views onto labkit results, with no logic of their own."""
