"""Derived views of an initiative, as plain data ready to print or serialise."""
