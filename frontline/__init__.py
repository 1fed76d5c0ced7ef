"""Frontline (一线): run a community emergency through the city's grids."""

__version__ = "0.1.0"
