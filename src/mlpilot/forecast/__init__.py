"""Delivery and feasibility forecasts: the two uncertainties of an initiative, quantified."""
